"""TLS handshakes in memory (``ssl.MemoryBIO`` pairs, no sockets), standard library only."""

from __future__ import annotations

import ssl

HOSTNAME = "orders.test"
_ROUNDS = 10  # a TLS 1.2 or 1.3 handshake needs fewer flights than this


def handshake(client: ssl.SSLContext, server: ssl.SSLContext, hostname: str = HOSTNAME) -> None:
    """Complete a handshake between the two contexts, or raise the error either side raised
    (``ssl.SSLCertVerificationError`` when the client rejects the server's chain)."""
    client_in, client_out, server_in, server_out = (ssl.MemoryBIO() for _ in range(4))
    ends = [
        (client.wrap_bio(client_in, client_out, server_hostname=hostname), client_out, server_in),
        (server.wrap_bio(server_in, server_out, server_side=True), server_out, client_in),
    ]
    pending = [True, True]
    for _ in range(_ROUNDS):
        for index, (end, outgoing, peer) in enumerate(ends):
            if pending[index]:
                try:
                    end.do_handshake()
                    pending[index] = False
                except ssl.SSLWantReadError:
                    pass
            peer.write(outgoing.read())
        if not any(pending):
            return
    raise RuntimeError("the handshake did not complete")


def server_context(certificate: str, key: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    return context
