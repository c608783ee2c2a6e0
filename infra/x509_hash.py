"""OpenSSL's subject-name hash of a certificate in pure Python: the file names of a hashed CA
directory (``capath``), as ``openssl x509 -subject_hash`` prints them and ``openssl rehash``
writes them.

What ``X509_NAME_hash_ex`` computes (OpenSSL ``crypto/x509/x_name.c``): the Name in canonical
form (``x509_name_canon``: every string value as a UTF8String, trimmed, each inner run of ASCII
whitespace one space, ASCII letters lowercased; each RDN a DER SET; the RDNs concatenated
without the Name's SEQUENCE header), its SHA-1, the first four bytes read little-endian.
Standard library only: the bundler runs it on any machine, without the ``openssl`` CLI.
"""

from __future__ import annotations

import hashlib

SEQUENCE, SET, UTF8_STRING = 0x30, 0x31, 0x0C
_EXPLICIT_VERSION = 0xA0  # tbsCertificate's [0] EXPLICIT Version
# The string types OpenSSL canonicalizes (ASN1_MASK_CANON), by universal tag, and how each
# decodes (ASN1_STRING_to_UTF8). Values of any other type are kept as they are.
_CANONICAL_CODECS = {
    0x0C: "utf-8",  # UTF8String
    0x13: "latin-1",  # PrintableString
    0x14: "latin-1",  # T61String (taken as Latin-1, as OpenSSL does)
    0x16: "latin-1",  # IA5String
    0x1A: "latin-1",  # VisibleString
    0x1C: "utf-32-be",  # UniversalString
    0x1E: "utf-16-be",  # BMPString
}


def subject_hash(certificate: bytes) -> str:
    """The subject-name hash of a DER certificate: 8 lowercase hex digits."""
    return name_hash(subject_name(certificate))


def name_hash(name: bytes) -> str:
    """The hash of a DER Name (what ``X509_NAME_hash_ex`` gives): 8 lowercase hex digits."""
    digest = hashlib.sha1(canonical_name(name), usedforsecurity=False).digest()
    return f"{int.from_bytes(digest[:4], 'little'):08x}"


def subject_name(certificate: bytes) -> bytes:
    """The subject Name of a DER certificate, as its DER bytes (tag, length and content)."""
    certificate_tag, start, _ = _element(certificate, 0)
    tbs_tag, offset, tbs_end = _element(certificate, start)
    if certificate_tag != SEQUENCE or tbs_tag != SEQUENCE:
        raise ValueError("not a DER X.509 certificate")
    fields: list[tuple[int, int]] = []  # (tag, offset) of tbsCertificate's fields
    while offset < tbs_end and len(fields) < 6:
        tag, _, end = _element(certificate, offset)
        fields.append((tag, offset))
        offset = end
    if fields and fields[0][0] == _EXPLICIT_VERSION:
        fields.pop(0)
    # serialNumber, signature, issuer, validity, subject
    if len(fields) < 5 or fields[4][0] != SEQUENCE:
        raise ValueError("certificate without a subject Name")
    _, at = fields[4]
    _, _, end = _element(certificate, at)
    return certificate[at:end]


def canonical_name(name: bytes) -> bytes:
    """``x509_name_canon``: the RDNs' canonical SETs, concatenated (empty for an empty Name)."""
    tag, start, end = _element(name, 0)
    if tag != SEQUENCE or end != len(name):
        raise ValueError("not a DER Name")
    rdns = []
    for rdn_tag, rdn_start, rdn_end in _children(name, start, end):
        if rdn_tag != SET:
            raise ValueError("a Name's RDN is not a SET")
        attributes = []
        for ava_tag, ava_start, ava_end in _children(name, rdn_start, rdn_end):
            if ava_tag != SEQUENCE:
                raise ValueError("an RDN's attribute is not a SEQUENCE")
            (oid_tag, oid_start, oid_end), value = _children(name, ava_start, ava_end)
            oid = _encode(oid_tag, name[oid_start:oid_end])
            attributes.append(_encode(SEQUENCE, oid + _canonical_value(name, *value)))
        rdns.append(_encode(SET, b"".join(sorted(attributes))))  # DER orders a SET OF
    return b"".join(rdns)


def _canonical_value(data: bytes, tag: int, start: int, end: int) -> bytes:
    codec = _CANONICAL_CODECS.get(tag)
    if codec is None:
        return _encode(tag, data[start:end])
    text = data[start:end].decode(codec).encode()
    # bytes.split() splits at runs of ASCII whitespace (space \t \n \v \f \r) and drops them at
    # both ends; bytes.lower() lowers ASCII letters only, as OpenSSL's canonical form does.
    return _encode(UTF8_STRING, b" ".join(text.split()).lower())


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    """The (tag, content start, end) of each element in ``data[start:end]``."""
    children = []
    while start < end:
        child = _element(data, start)
        children.append(child)
        start = child[2]
    if start != end:
        raise ValueError("a DER element overruns its parent")
    return children


def _element(data: bytes, offset: int) -> tuple[int, int, int]:
    """The DER element at ``offset``: its tag, where its content starts and where it ends."""
    if offset + 2 > len(data):
        raise ValueError("truncated DER")
    tag, first = data[offset], data[offset + 1]
    if tag & 0x1F == 0x1F:
        raise ValueError("multi-byte DER tags are not used in a Name")
    start = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or start + count > len(data):
            raise ValueError("indefinite or truncated DER length")
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    if start + length > len(data):
        raise ValueError("truncated DER")
    return tag, start, start + length


def _encode(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes((tag, length)) + content
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size + content
