"""TLS handshakes in memory (``ssl.MemoryBIO`` pairs, no sockets), standard library only.

``handshake`` serves the unit tests. Run as a script by the Lambda bundle's own Python with only
the bundle on ``sys.path`` (``tests/infra/test_bundle.py``), it probes the store's TLS context
there: ``python -I -S -B tls_probe.py <bundle> <cases.json>`` prints one JSON object.
"""

from __future__ import annotations

import json
import ssl
import sys
from typing import Any

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


def probe(cases: list[dict[str, str]]) -> dict[str, Any]:
    """The store's context as the bundle builds it, then one handshake per case: a server whose
    leaf names a root as its issuer (``leaf``, ``key``), and whether the client's store holds
    that root (``root``, DER in hex) afterwards."""
    import certifi

    from app.store.dynamodb.tls import client_context

    created = client_context().cert_store_stats()
    results = []
    for case in cases:
        client = client_context()
        try:
            handshake(client, server_context(case["leaf"], case["key"]))
            error = None
        except ssl.SSLError as raised:
            error = type(raised).__name__
        loaded = client.get_ca_certs(binary_form=True)
        results.append({"error": error, "loaded": bytes.fromhex(case["root"]) in loaded})
    return {
        "cafile": certifi.where(),
        "created": created,
        "httpx_imported": "httpx" in sys.modules,
        "cases": results,
    }


if __name__ == "__main__":
    bundle, cases_file = sys.argv[1:]
    sys.path.insert(0, bundle)
    with open(cases_file, encoding="utf-8") as cases:
        print(json.dumps(probe(json.load(cases))))
