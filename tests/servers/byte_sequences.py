"""The one table of how `python -m app.server` answers a byte sequence, on both parsers.

Each row is what a client sends, the statuses it gets back, and the rule (RFC 9112 / RFC 9110
section) that decides it; ``app/server/framing.py`` states the rules. The test sends every
sequence followed by ``CANARY`` (a GET /health) and a half-close, and reads until the server
closes: a sequence the server refuses ends the connection, so its statuses end without the
canary's 200 (nothing after a refused request is read as a request). An empty tuple: the
request was never complete, so nothing is answered."""

from __future__ import annotations

from typing import NamedTuple


class Case(NamedTuple):
    name: str
    sent: bytes
    statuses: tuple[int, ...]
    rule: str


CANARY = b"GET /health HTTP/1.1\r\nhost: t\r\n\r\n"
ORDER = b'{"order":[{"product":"latte","size":"big"}]}'
HEALTH = b"GET /health HTTP/1.1\r\nhost: t\r\n"
CHUNK = b"%x\r\n%s\r\n" % (len(ORDER), ORDER)


def get(line: bytes = b"GET /health HTTP/1.1", *fields: bytes) -> bytes:
    return b"\r\n".join([line, *fields]) + b"\r\n\r\n"


def post(*fields: bytes, body: bytes = ORDER) -> bytes:
    head = [b"POST /orders HTTP/1.1", b"host: t", b"content-type: application/json", *fields]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def sized(*lengths: bytes) -> bytes:
    return post(*(b"content-length: " + length for length in lengths))


def chunked(body: bytes = CHUNK + b"0\r\n\r\n", coding: bytes = b"chunked") -> bytes:
    return post(b"transfer-encoding: " + coding, body=body)


def trailers(*lines: bytes) -> bytes:
    return chunked(CHUNK + b"0\r\n" + b"".join(line + b"\r\n" for line in lines) + b"\r\n")


def chunk_line(line: bytes) -> bytes:
    return chunked(line + b"\r\n" + ORDER + b"\r\n0\r\n\r\n")


LEN = b"%d" % len(ORDER)
LINE = "RFC 9112 §3 (request-line = method SP request-target SP HTTP-version)"
VERSION = "RFC 9110 §2.5, §15.6.6 (another major version: 505; a higher minor one: as 1.1)"
METHOD = "RFC 9110 §9.1 (a method the server does not implement: 501)"
ABSOLUTE = "RFC 9112 §3.2.2 (absolute-form: accepted; its authority replaces Host)"
HOST = "RFC 9112 §3.2 (exactly one valid Host in HTTP/1.1)"
FIELD = "RFC 9112 §5, RFC 9110 §5.5 (field-name: field-value, no CTL, no whitespace before ':')"
LINES = "RFC 9112 §2.2, §5.2 (lines end in CRLF; obs-fold refused)"
LENGTH = "RFC 9112 §6.3, RFC 9110 §8.6 (one Content-Length, 1*DIGIT; repeats refused)"
CODING = "RFC 9112 §6.1, §6.3 (chunked alone, OWS allowed; never beside Content-Length)"
CHUNKS = "RFC 9112 §7.1 (chunk-size = 1*HEXDIG below 2^64; then ';' ext or CRLF)"
TRAILERS = "RFC 9112 §7.1.2, RFC 9110 §6.5 (field rules, no framing field; discarded)"
BOUNDED = "trailer fields bounded like a head (ServerLimits.max_head_bytes): 431"
SERVED = "a valid request: served"

TABLE = [
    # the request line
    Case("origin-form", get(b"GET /health HTTP/1.1", b"host: t"), (200, 200), SERVED),
    Case("http-1.0", get(b"GET /health HTTP/1.0"), (200,), "RFC 9112 §9.3 (1.0: close)"),
    Case("http-1.2", get(b"GET /health HTTP/1.2", b"host: t"), (200, 200), VERSION),
    Case("http-1.9", get(b"GET /health HTTP/1.9", b"host: t"), (200, 200), VERSION),
    Case("http-1.2-no-host", get(b"GET /health HTTP/1.2"), (400,), HOST),
    Case("http-2.0", get(b"GET /health HTTP/2.0", b"host: t"), (505,), VERSION),
    Case("http-0.0", get(b"GET /health HTTP/0.0"), (505,), VERSION),
    Case("h2-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", (505,), VERSION),
    Case("http-0.9-no-version", get(b"GET /health"), (400,), LINE),
    Case("http-3-no-minor", get(b"GET /health HTTP/3", b"host: t"), (400,), LINE),
    Case("lower-case-version", get(b"GET /health http/1.1", b"host: t"), (400,), LINE),
    Case("unknown-method", get(b"FOO /health HTTP/1.1", b"host: t"), (501,), METHOD),
    Case("lower-case-method", get(b"get /health HTTP/1.1", b"host: t"), (501,), METHOD),
    Case("propfind", get(b"PROPFIND /health HTTP/1.1", b"host: t"), (501,), METHOD),
    Case("trace", get(b"TRACE /health HTTP/1.1", b"host: t"), (501,), METHOD),
    Case("connect", get(b"CONNECT t:443 HTTP/1.1", b"host: t:443"), (501,), METHOD),
    Case("unknown-method-unfinished", b"FOO /health HTTP/1.1\r\n", (501,), METHOD),
    Case("patch", get(b"PATCH /health HTTP/1.1", b"host: t"), (405, 200), "app: 405"),
    Case("absolute-form", get(b"GET http://t/health HTTP/1.1", b"host: t"), (200, 200), ABSOLUTE),
    Case(
        "absolute-form-other-host",
        get(b"GET http://other/health HTTP/1.1", b"host: t"),
        (200, 200),
        ABSOLUTE,
    ),
    Case(
        "absolute-form-https-query",
        get(b"GET https://t:443/health?x=1 HTTP/1.1", b"host: t"),
        (200, 200),
        ABSOLUTE,
    ),
    Case(
        "absolute-form-upper",
        get(b"GET HTTP://T/health HTTP/1.1", b"host: t"),
        (200, 200),
        ABSOLUTE,
    ),
    Case("absolute-form-no-host", get(b"GET http://t/health HTTP/1.1"), (400,), HOST),
    Case("absolute-form-no-path", get(b"GET http://t HTTP/1.1", b"host: t"), (404, 200), ABSOLUTE),
    Case(
        "absolute-form-userinfo",
        get(b"GET http://u@t/health HTTP/1.1", b"host: t"),
        (400,),
        "RFC 9110 §4.2.4 (userinfo: an error)",
    ),
    Case("absolute-form-bad-port", get(b"GET http://t:99999/ HTTP/1.1", b"host: t"), (400,), HOST),
    Case("absolute-form-ftp", get(b"GET ftp://t/health HTTP/1.1", b"host: t"), (400,), LINE),
    Case("asterisk-form", get(b"OPTIONS * HTTP/1.1", b"host: t"), (404, 200), "RFC 9112 §3.2.4"),
    Case("fragment", get(b"GET /health#x HTTP/1.1", b"host: t"), (400,), "RFC 9112 §3.2"),
    Case("two-spaces", get(b"GET  /health HTTP/1.1", b"host: t"), (400,), LINE),
    Case("tab-separator", get(b"GET\t/health HTTP/1.1", b"host: t"), (400,), LINE),
    Case("space-after-version", get(b"GET /health HTTP/1.1 ", b"host: t"), (400,), LINE),
    Case("space-before-method", get(b" GET /health HTTP/1.1", b"host: t"), (400,), LINE),
    Case("space-in-target", get(b"GET /he alth HTTP/1.1", b"host: t"), (400,), LINE),
    Case("nul-in-target", get(b"GET /he\x00alth HTTP/1.1", b"host: t"), (400,), LINE),
    Case("utf-8-in-target", get(b"GET /h\xc3\xa9 HTTP/1.1", b"host: t"), (400,), LINE),
    Case(
        "one-empty-line-first",
        b"\r\n" + get(b"GET /health HTTP/1.1", b"host: t"),
        (200, 200),
        "RFC 9112 §2.2 (ignored)",
    ),
    Case(
        "two-empty-lines-first",
        b"\r\n\r\n" + get(b"GET /health HTTP/1.1", b"host: t"),
        (200, 200),
        "RFC 9112 §2.2 (ignored)",
    ),
    Case("only-empty-lines", b"\r\n\r\n", (200,), "RFC 9112 §2.2 (ignored)"),
    Case("bare-lf-first", b"\n" + get(b"GET /health HTTP/1.1", b"host: t"), (400,), LINES),
    Case("not-http", b"\x16\x03\x01 hello\r\n\r\n", (400,), LINE),
    # Host and header fields
    Case("no-host", get(), (400,), HOST),
    Case("two-hosts", get(b"GET /health HTTP/1.1", b"host: a", b"host: b"), (400,), HOST),
    Case("port-too-big", get(b"GET /health HTTP/1.1", b"host: t:99999"), (400,), HOST),
    Case("space-in-host", get(b"GET /health HTTP/1.1", b"host: a b"), (400,), HOST),
    Case("empty-host", get(b"GET /health HTTP/1.1", b"host: "), (200, 200), HOST),
    Case("http-1.0-no-host", get(b"GET /health HTTP/1.0"), (200,), HOST),
    Case("ip-literal", get(b"GET /health HTTP/1.1", b"host: [::1]:8000"), (200, 200), HOST),
    Case("port-65535", get(b"GET /health HTTP/1.1", b"host: t:65535"), (200, 200), HOST),
    Case("empty-port", get(b"GET /health HTTP/1.1", b"host: t:"), (200, 200), HOST),
    Case("zone-id", get(b"GET /health HTTP/1.1", b"host: [fe80::1%25eth0]"), (200, 200), HOST),
    Case("bare-lf", b"GET /health HTTP/1.1\nhost: t\n\n", (400,), LINES),
    Case("one-bare-lf", HEALTH.replace(b"t\r\n", b"t\nx: y\r\n") + b"\r\n", (400,), LINES),
    Case("bare-cr", HEALTH + b"x: a\rb\r\n\r\n", (400,), LINES),
    Case("obs-fold", HEALTH + b"x-a: 1\r\n 2\r\n\r\n", (400,), LINES),
    Case("obs-fold-tab", HEALTH + b"x-a: 1\r\n\t2\r\n\r\n", (400,), LINES),
    Case("space-first-field", b"GET /health HTTP/1.1\r\n host: t\r\n\r\n", (400,), LINES),
    Case("space-before-colon", HEALTH + b"x-a : 1\r\n\r\n", (400,), FIELD),
    Case("tab-before-colon", HEALTH + b"x-a\t: 1\r\n\r\n", (400,), FIELD),
    Case("no-colon", HEALTH + b"x-a\r\n\r\n", (400,), FIELD),
    Case("empty-name", HEALTH + b": v\r\n\r\n", (400,), FIELD),
    Case("bad-name", HEALTH + b"x(a): v\r\n\r\n", (400,), FIELD),
    Case("nul-in-value", HEALTH + b"x-a: a\x00b\r\n\r\n", (400,), FIELD),
    Case("control-in-value", HEALTH + b"x-a: a\x01b\r\n\r\n", (400,), FIELD),
    Case("del-in-value", HEALTH + b"x-a: a\x7fb\r\n\r\n", (400,), FIELD),
    Case("tab-in-value", HEALTH + b"x-a: a\tb\r\n\r\n", (200, 200), FIELD),
    Case("obs-text-in-value", HEALTH + b"x-a: a\xe9b\r\n\r\n", (200, 200), FIELD),
    Case("empty-value", HEALTH + b"x-a:\r\n\r\n", (200, 200), FIELD),
    # Content-Length
    Case("content-length", sized(LEN), (201, 200), SERVED),
    Case("two-equal-content-lengths", sized(LEN, LEN), (400,), LENGTH),
    Case("two-content-lengths", sized(LEN, b"5"), (400,), LENGTH),
    Case("content-length-list", sized(LEN + b", " + LEN), (400,), LENGTH),
    Case("negative-content-length", sized(b"-1"), (400,), LENGTH),
    Case("plus-content-length", sized(b"+" + LEN), (400,), LENGTH),
    Case("hex-content-length", sized(b"0x2d"), (400,), LENGTH),
    Case("space-in-content-length", sized(b"4 5"), (400,), LENGTH),
    Case("huge-content-length", sized(b"9" * 23), (400,), LENGTH),
    Case("empty-content-length", sized(b""), (400,), LENGTH),
    Case("leading-zero-content-length", sized(b"0" + LEN), (201, 200), LENGTH),
    Case("tab-after-content-length", sized(LEN + b"\t"), (201, 200), LENGTH),
    Case("content-length-shorter", sized(b"2"), (422, 400), LENGTH),
    Case("get-with-a-body", HEALTH + b"content-length: 3\r\n\r\nabc", (200, 200), LENGTH),
    # Transfer-Encoding
    Case("chunked", chunked(), (201, 200), SERVED),
    Case(
        "chunked-and-content-length",
        chunked().replace(b"\r\n\r\n", b"\r\ncontent-length: 5\r\n\r\n", 1),
        (400,),
        CODING,
    ),
    Case("chunked-tab", chunked(coding=b"chunked\t"), (201, 200), CODING),
    Case("chunked-space", chunked(coding=b"chunked "), (201, 200), CODING),
    Case("chunked-space-tab-space", chunked(coding=b"chunked \t "), (201, 200), CODING),
    Case("tab-chunked", chunked(coding=b"\tchunked"), (201, 200), CODING),
    Case("upper-case-chunked", chunked(coding=b"CHUNKED"), (201, 200), CODING),
    Case(
        "chunked-tab-pipelined", sized(LEN) + chunked(coding=b"chunked\t"), (201, 201, 200), CODING
    ),
    Case("gzip-chunked", chunked(coding=b"gzip, chunked"), (400,), CODING),
    Case("chunked-chunked", chunked(coding=b"chunked, chunked"), (400,), CODING),
    Case("chunked-identity", chunked(coding=b"chunked, identity"), (400,), CODING),
    Case("identity", chunked(coding=b"identity"), (400,), CODING),
    Case("empty-coding", chunked(coding=b""), (400,), CODING),
    Case("xchunked", chunked(coding=b"xchunked"), (400,), CODING),
    Case("chunked-vertical-tab", chunked(coding=b"chunked\x0b"), (400,), CODING),
    Case(
        "two-transfer-encodings",
        chunked().replace(b"\r\n\r\n", b"\r\ntransfer-encoding: chunked\r\n\r\n", 1),
        (400,),
        CODING,
    ),
    Case("chunked-http-1.0", chunked().replace(b"HTTP/1.1", b"HTTP/1.0"), (201,), CODING),
    # chunks
    Case("upper-case-hex", chunk_line(b"%X" % len(ORDER)), (201, 200), CHUNKS),
    Case("16-hex-digits", chunk_line(b"%016x" % len(ORDER)), (201, 200), CHUNKS),
    Case("17-hex-digits-leading-zeros", chunk_line(b"%017x" % len(ORDER)), (201, 200), CHUNKS),
    Case("40-hex-digits-leading-zeros", chunk_line(b"%040x" % len(ORDER)), (201, 200), CHUNKS),
    Case("17-significant-hex-digits", chunk_line(b"1%016x" % len(ORDER)), (400,), CHUNKS),
    Case("past-64-bits", chunk_line(b"10000000000000000"), (400,), CHUNKS),
    Case("space-after-size", chunk_line(b"%x " % len(ORDER)), (400,), CHUNKS),
    Case("tab-after-size", chunk_line(b"%x\t" % len(ORDER)), (400,), CHUNKS),
    Case("space-before-size", chunk_line(b" %x" % len(ORDER)), (400,), CHUNKS),
    Case("extension", chunk_line(b"%x;a=b" % len(ORDER)), (201, 200), CHUNKS),
    Case("quoted-extension", chunk_line(b'%x;a="b c"' % len(ORDER)), (201, 200), CHUNKS),
    Case("spaces-around-extension", chunk_line(b"%x ; a = b" % len(ORDER)), (400,), CHUNKS),
    Case("negative-size", chunk_line(b"-1"), (400,), CHUNKS),
    Case("0x-size", chunk_line(b"0x2d"), (400,), CHUNKS),
    Case("empty-size", chunk_line(b""), (400,), CHUNKS),
    Case(
        "bare-lf-after-size", chunked(b"%x\n%s\r\n0\r\n\r\n" % (len(ORDER), ORDER)), (400,), CHUNKS
    ),
    Case(
        "bare-lf-after-data", chunked(b"%x\r\n%s\n0\r\n\r\n" % (len(ORDER), ORDER)), (400,), CHUNKS
    ),
    Case("no-crlf-after-data", chunked(b"%x\r\n%s0\r\n\r\n" % (len(ORDER), ORDER)), (400,), CHUNKS),
    Case("bare-lf-after-last-chunk", chunked(CHUNK + b"0\n\r\n"), (400,), CHUNKS),
    Case("huge-chunk-unfinished", chunk_line(b"f" * 16), (), CHUNKS),
    # trailers
    Case("trailer", trailers(b"x-t: 1"), (201, 200), TRAILERS),
    Case("trailer-host", trailers(b"host: x"), (201, 200), TRAILERS),
    Case("bare-lf-ending-trailers", chunked(CHUNK + b"0\r\n\n"), (400,), TRAILERS),
    Case("bare-lf-in-trailer", trailers(b"x-t: 1\n"), (400,), TRAILERS),
    Case("bare-lf-between-trailers", trailers(b"x-t: 1\nx-u: 2"), (400,), TRAILERS),
    Case("folded-trailer", trailers(b"x-t: 1", b" 2"), (400,), TRAILERS),
    Case("trailer-no-colon", trailers(b"x-t"), (400,), TRAILERS),
    Case("trailer-space-before-colon", trailers(b"x-t : 1"), (400,), TRAILERS),
    Case("trailer-nul", trailers(b"x-t: a\x00b"), (400,), TRAILERS),
    Case("trailer-control", trailers(b"x-t: a\x01b"), (400,), TRAILERS),
    Case("trailer-content-length", trailers(b"content-length: 5"), (400,), TRAILERS),
    Case("trailer-transfer-encoding", trailers(b"transfer-encoding: chunked"), (400,), TRAILERS),
    Case("one-20-kb-trailer", trailers(b"x-t: " + b"a" * 20_000), (431,), BOUNDED),
    Case("1500-trailers", trailers(*[b"x-t: aaaaaaaaaaaaaa"] * 1500), (431,), BOUNDED),
    Case("15-kb-of-trailers", trailers(*[b"x-t: aaaaaaaaaaaaaa"] * 600), (201, 200), BOUNDED),
    # pipelining and smuggling
    Case(
        "three-pipelined",
        get(b"GET /health HTTP/1.1", b"host: t") * 3,
        (200, 200, 200, 200),
        SERVED,
    ),
    Case(
        "refused-behind-three-pipelined",
        sized(LEN) * 3 + get(b"FOO /health HTTP/1.1", b"host: t"),
        (201, 201, 201, 501),
        METHOD,
    ),
    Case(
        "smuggled-behind-content-length-and-chunked",
        post(b"content-length: 5", b"transfer-encoding: chunked", body=b"0\r\n\r\n") + sized(LEN),
        (400,),
        CODING,
    ),
    Case(
        "expect-100-continue",
        sized(LEN).replace(b"\r\n\r\n", b"\r\nexpect: 100-continue\r\n\r\n", 1),
        (100, 201, 200),
        "RFC 9110 §10.1.1",
    ),
    Case(
        "h2c-upgrade",
        get(
            b"GET /health HTTP/1.1",
            b"host: t",
            b"connection: upgrade, http2-settings",
            b"upgrade: h2c",
            b"http2-settings: AAMAAABkAAQAAP__",
        ),
        (200, 200),
        "RFC 9110 §7.8 (an upgrade the server does not take: served as HTTP/1.1)",
    ),
]
