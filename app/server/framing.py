"""How a request is framed, the same for both parsers, and the answer when it is not.

httptools (llhttp) and h11 each accept bytes the other refuses, so every rule below is checked
for both, and the same bytes get the same answer (``tests/servers/byte_sequences.py`` is the
table, with the RFC section deciding each). A refused request is answered, then the connection
is closed: what follows it is never read as a request.

- the head (request line and headers) is at most ``max_head_bytes``: else 431, or 414 when
  the request line alone is longer;
- the request line is ``method SP request-target SP HTTP/1.x`` (RFC 9112 §3): else 400;
  another major version is 505; a higher minor one is served as HTTP/1.1 (RFC 9110 §2.5); a
  method the app does not implement is 501 (RFC 9110 §9.1); an absolute-form target is
  served, its authority taking the place of ``Host`` (RFC 9112 §3.2.2); a fragment is 400;
- lines end in CRLF, no header line is folded (RFC 9112 §2.2, §5.2), no field value holds a
  control character (RFC 9110 §5.5): else 400;
- an HTTP/1.1 request has exactly one ``Host``, and a valid one (RFC 9112 §3.2): else 400;
- one ``Content-Length`` line with one value (RFC 9110 §8.6 lets a recipient refuse repeated
  equal values: it does); the only transfer coding is ``chunked``, optional whitespace around
  it allowed, and never beside ``Content-Length`` (RFC 9112 §6.1, §6.3): else 400;
- a chunk-size is hex digits of a value below 2^64 (leading zeros allowed), followed by ``;``
  (an extension) or CRLF (RFC 9112 §7.1: no whitespace before the CRLF): else 400;
- trailer fields (RFC 9112 §7.1.2) follow the header rules, never ``Content-Length`` or
  ``Transfer-Encoding``, and are bounded with the head's limit (431); they are then
  discarded: never request headers (RFC 9110 §6.5.1).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

HEAD_END = b"\r\n\r\n"
# uri-host [ ":" port ] (RFC 3986 §3.2.2, zone ids RFC 6874): an IP literal or a reg-name.
_HOST = re.compile(rb"(\[[0-9A-Za-z:.%_~\-]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]*)(?::([0-9]{0,5}))?")
_BARE_LF = re.compile(rb"(?<!\r)\n")
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # in a field value: HTAB only
_CONTENT_LENGTH = re.compile(rb"\ncontent-length[ \t]*:([^\r\n]*)", re.IGNORECASE)
_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_REQUEST_LINE = re.compile(rb"(%s) ([^ ]+) HTTP/([0-9])\.[0-9]" % _TOKEN)
_METHOD = re.compile(rb"(%s) " % _TOKEN)
_ABSOLUTE = re.compile(rb"https?://([^/?#]*)([^#]*)", re.IGNORECASE)
# What the app's routes answer (any other method is 501; a route without it says 405).
_USUAL_VERSIONS = frozenset((b"HTTP/1.1", b"HTTP/1.0"))
IMPLEMENTED = frozenset((b"GET", b"HEAD", b"POST", b"PUT", b"PATCH", b"DELETE", b"OPTIONS"))


class Refusal(NamedTuple):
    """An answer the server gives itself: status and the JSON error's detail."""

    status: int
    detail: str


INVALID = Refusal(400, "Invalid HTTP request")
NOT_IMPLEMENTED = Refusal(501, "Method not implemented")
VERSION_NOT_SUPPORTED = Refusal(505, "HTTP version not supported")
HEAD_TOO_LARGE = Refusal(431, "Request header fields too large")
LINE_TOO_LONG = Refusal(414, "Request line too long")
TRAILERS_TOO_LARGE = Refusal(431, "Request trailer fields too large")


def head_pieces(tail: bytes, data: bytes) -> Iterator[bytes]:
    """``data`` cut after each CRLF CRLF (where a head can end); ``tail``: the last 3 bytes
    received before it, in case one spans the two."""
    start = 0
    spanning = (tail + data[:3]).find(HEAD_END)
    if spanning >= 0:
        start = spanning + len(HEAD_END) - len(tail)
        yield data[:start]
    while (end := data.find(HEAD_END, start)) >= 0:
        yield data[start : end + len(HEAD_END)]
        start = end + len(HEAD_END)
    if start < len(data):
        yield data[start:]


def oversized(limit: int, size: int, line_ended: bool) -> Refusal | None:
    """The answer for a head of ``size`` bytes so far (None while it fits ``limit``);
    ``line_ended``: its request line ended within the limit."""
    if size <= limit:
        return None
    return HEAD_TOO_LARGE if line_ended else LINE_TOO_LONG


def _valid_host(value: bytes) -> bool:
    found = _HOST.fullmatch(value)
    return found is not None and int(found.group(2) or 0) <= 0xFFFF


def head_problem(http_version: str, headers: Iterable[tuple[bytes, bytes]]) -> Refusal | None:
    """What is wrong with a parsed head (header names in lower case), or None."""
    hosts: list[bytes] = []
    codings: list[bytes] = []
    has_length = False
    for name, value in headers:
        if name == b"host":
            hosts.append(value.strip())
        elif name == b"transfer-encoding":
            codings.append(value.strip(b" \t").lower())
        elif name == b"content-length":
            has_length = True
    if len(hosts) > 1 or (http_version != "1.0" and not hosts):
        return INVALID
    if hosts and not _valid_host(hosts[0]):
        return INVALID
    if codings and (has_length or codings != [b"chunked"]):
        return INVALID
    return None


def request_line_problem(line: bytes, *, whole: bool = True) -> Refusal | None:
    """What is wrong with a request line (without its CRLF), or None. A line not yet whole
    (``whole=False``: no CRLF received) is judged by its method alone, once that has ended."""
    if whole:  # the usual line first, without a regular expression (it is on every request)
        method, _, rest = line.partition(b" ")
        target, _, version = rest.partition(b" ")
        usual = version in _USUAL_VERSIONS and target[:1] == b"/"
        if usual and method in IMPLEMENTED and b"#" not in target:
            return None
    found = _REQUEST_LINE.fullmatch(line) if whole else None
    if found is None:
        begun = _METHOD.match(line)
        if begun is not None and begun.group(1) not in IMPLEMENTED:
            return NOT_IMPLEMENTED
        return INVALID if whole else None
    method, target, major = found.groups()
    if major != b"1":
        return VERSION_NOT_SUPPORTED
    if method not in IMPLEMENTED:
        return NOT_IMPLEMENTED
    if b"#" in target or not (target[:1] == b"/" or target == b"*" or _ABSOLUTE.match(target)):
        return INVALID  # origin-form, absolute-form or asterisk-form (RFC 9112 §3.2)
    return None


def raw_head_problem(head: bytes) -> Refusal | None:
    """The rules llhttp applies while parsing a head and h11 does not: bare LF, folded lines,
    control characters in a field value, repeated ``Content-Length`` lines or a list in one."""
    if _BARE_LF.search(head) or b"\n " in head or b"\n\t" in head or _CONTROL.search(head):
        return INVALID
    lengths = _CONTENT_LENGTH.findall(head)
    if len(lengths) > 1 or (lengths and b"," in lengths[0]):
        return INVALID
    return None


Headers = list[tuple[bytes, bytes]]


def from_absolute_form(target: bytes, headers: Headers) -> tuple[bytes, Headers] | Refusal | None:
    """For an absolute-form target, its origin-form (path and query) and the headers with its
    authority as ``Host`` (RFC 9112 §3.2.2); 400 for an authority that is not a valid host
    or holds userinfo (RFC 9110 §4.2.4); None for any other target."""
    found = None if target[:1] == b"/" else _ABSOLUTE.fullmatch(target)
    if found is None:
        return None
    authority, path = found.groups()
    if b"@" in authority or not authority or not _valid_host(authority):
        return INVALID
    hosts = [(name, value) for name, value in headers if name != b"host"]
    return (path if path.startswith(b"/") else b"/" + path), [*hosts, (b"host", authority)]


def unpadded_head(method: bytes, target: bytes, version: str, headers: Headers) -> bytes:
    """The head of a parsed request again, its field values without surrounding whitespace."""
    lines = [b"%s %s HTTP/%s" % (method, target, version.encode())]
    lines += [name + b": " + value.strip(b" \t") for name, value in headers]
    return b"\r\n".join(lines) + HEAD_END


def trailers_size(fields: Iterable[tuple[bytes, bytes]]) -> int:
    """The size the trailer section's limit counts: each field as ``name: value`` CRLF."""
    return sum(len(name) + len(value) + 4 for name, value in fields)


def trailer_problem(section: bytes) -> Refusal | None:
    """What is wrong with a trailer section received so far (from the line after the last
    chunk on), or None: the header rules, and no framing field."""
    start = 0
    while (end := section.find(b"\n", start)) >= 0:
        line = section[start : end + 1]
        if not line.endswith(b"\r\n") or line[:1] in (b" ", b"\t") or _CONTROL.search(line):
            return INVALID
        if line == b"\r\n":
            return None
        name = line.partition(b":")[0].lower()
        if name in (b"content-length", b"transfer-encoding"):
            return INVALID
        start = end + 1
    return None
