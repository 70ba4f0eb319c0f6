"""Kubo-identical CIDs for evidence files, in pure Python (hashlib only).

`cid_v1(data)` returns the CID that `ipfs add --cid-version 1 FILE` prints for the same bytes
with Kubo's defaults, which that flag implies:

* chunker ``size-262144``: the file is cut into 256 KiB chunks (the last one shorter);
* raw leaves (implied by CIDv1): every chunk is a block of codec ``raw`` (0x55);
* a file of one chunk (<= 262144 bytes, the empty file included) *is* that raw block, so its
  CID is ``CIDv1(raw, sha2-256(bytes))`` -- ``bafkrei...``;
* a larger file gets a balanced DAG of dag-pb (0x70) UnixFS ``File`` nodes with at most 174
  links each: the leaves are grouped 174 at a time into parents, the parents 174 at a time
  into grandparents, and so on until one root is left -- ``bafybei...``. Kubo's balanced
  builder (boxo ``ipld/unixfs/importer/balanced``) fills the tree left to right, depth first,
  which gives the same tree as this bottom-up grouping for every file size;
* sha2-256 multihashes, CIDv1 rendered in multibase base32 lower case without padding (``b``).

A dag-pb node is encoded as Kubo writes it (the canonical dag-pb form, Links before Data):

    PBNode  { repeated PBLink Links = 2; optional bytes Data = 1; }
    PBLink  { optional bytes Hash = 1; optional string Name = 2; optional uint64 Tsize = 3; }
    Data    { Type = 1 (File = 2); filesize = 3; repeated blocksizes = 4 (not packed) }

Every link carries ``Name = ""`` (written, zero length) and ``Tsize`` = the cumulative size of
the child's DAG (a raw leaf: its length; a node: its encoded size plus its links' Tsizes).
``blocksizes`` are the file bytes under each child; an internal node has no ``Data`` bytes.

On chain, the 32-byte ``evidence`` word is the sha2-256 digest inside the CID (`digest_of`).
For a single-chunk file that is the sha2-256 of the file itself, and the CID can be rebuilt
from it (`cid_from_digest(d)` -> ``CIDv1(raw, d)``). For a larger file it is the digest of the
dag-pb *root node*, not of the file: rebuild it with ``cid_from_digest(d, DAG_PB)``; which codec
applies cannot be read off the digest (try `candidate_cids` against a store), and checking it
needs the file (or the DAG) to recompute the root.

Checked (tests/api/test_evidence.py) against CIDs a real Kubo daemon produced in Kubo's own test
suite (test/cli/add_test.go: CIDv0 and CIDv1 vectors, one- and two-level DAGs, via the keyword
parameters of `CidHasher`), against aleph-cid, and against a Helia node (tools/ipfs-node).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

CHUNK_SIZE = 262_144  # Kubo's default chunker, size-262144
MAX_LINKS = 174  # Kubo's default links per node in the balanced layout (helpers.DefaultLinksPerBlock)

RAW = 0x55
DAG_PB = 0x70
SHA2_256 = 0x12
SHA2_256_LEN = 32

UNIXFS_FILE = 2

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58_ALPHABET)}

__all__ = [
    "CHUNK_SIZE",
    "MAX_LINKS",
    "RAW",
    "DAG_PB",
    "SHA2_256",
    "Cid",
    "InvalidCid",
    "CidHasher",
    "cid_v1",
    "parse",
    "digest_of",
    "cid_from_digest",
    "candidate_cids",
    "encode_cid",
]


class InvalidCid(ValueError):
    """The string is not a CID this module can read (malformed, or an unsupported flavour)."""


# ---------------------------------------------------------------------------------------------
# varints, multibase, CID bytes


def _varint(n: int) -> bytes:
    if n < 0:
        raise ValueError("varint of a negative number")
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    for i in range(pos, min(len(buf), pos + 9)):
        b = buf[i]
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            if b == 0 and i > pos:
                raise InvalidCid("non-minimal varint")
            return value, i + 1
        shift += 7
    raise InvalidCid("truncated or overlong varint")


def _b32encode(raw: bytes) -> str:
    return base64.b32encode(raw).decode("ascii").rstrip("=").lower()


def _b32decode(text: str) -> bytes:
    if not text or any(c not in "abcdefghijklmnopqrstuvwxyz234567" for c in text):
        raise InvalidCid("not base32 (RFC 4648, lower case, no padding)")
    padded = text.upper() + "=" * (-len(text) % 8)
    try:
        raw = base64.b32decode(padded)
    except (ValueError, binascii.Error) as exc:
        raise InvalidCid(f"bad base32: {exc}") from None
    if _b32encode(raw) != text:  # rejects non-canonical trailing bits
        raise InvalidCid("non-canonical base32")
    return raw


def _b58decode(text: str) -> bytes:
    n = 0
    for c in text:
        if c not in _B58_INDEX:
            raise InvalidCid("not base58btc")
        n = n * 58 + _B58_INDEX[c]
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\x00" * (len(text) - len(text.lstrip("1"))) + body


def _b58encode(raw: bytes) -> str:
    n = int.from_bytes(raw, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = _B58_ALPHABET[r] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\x00"))) + out


@dataclass(frozen=True)
class Cid:
    """A parsed CID: version, content codec and a sha2-256 (or other) multihash."""

    version: int
    codec: int
    hash_code: int
    digest: bytes

    @property
    def multihash(self) -> bytes:
        return _varint(self.hash_code) + _varint(len(self.digest)) + self.digest

    def to_bytes(self) -> bytes:
        if self.version == 0:
            return self.multihash
        return _varint(1) + _varint(self.codec) + self.multihash

    def __str__(self) -> str:
        if self.version == 0:
            return _b58encode(self.multihash)
        return "b" + _b32encode(self.to_bytes())

    @property
    def is_kubo_v1_file(self) -> bool:
        """A CID that `ipfs add --cid-version 1` can produce for a file (raw or dag-pb, sha2-256)."""
        return (
            self.version == 1
            and self.codec in (RAW, DAG_PB)
            and self.hash_code == SHA2_256
            and len(self.digest) == SHA2_256_LEN
        )


def encode_cid(codec: int, digest: bytes, hash_code: int = SHA2_256) -> str:
    """The base32 CIDv1 string for a codec and a digest."""
    return str(Cid(1, codec, hash_code, bytes(digest)))


def parse(text: str) -> Cid:
    """Parse a CID string: CIDv0 (``Qm...``, base58btc) or CIDv1 in base32 (``b...``) or
    base58btc (``z...``). Raises `InvalidCid` on anything else or on trailing bytes."""
    if not isinstance(text, str) or not text:
        raise InvalidCid("empty CID")
    if len(text) > 512:
        raise InvalidCid("CID too long")
    if len(text) == 46 and text.startswith("Qm"):
        raw = _b58decode(text)
        if len(raw) != 34 or raw[0] != SHA2_256 or raw[1] != SHA2_256_LEN:
            raise InvalidCid("CIDv0 must be a sha2-256 multihash")
        return Cid(0, DAG_PB, SHA2_256, raw[2:])
    prefix, body = text[0], text[1:]
    if prefix == "b":
        raw = _b32decode(body)
    elif prefix == "z":
        raw = _b58decode(body)
    else:
        raise InvalidCid(f"unsupported multibase prefix {prefix!r} (use base32 'b...')")
    version, pos = _read_varint(raw, 0)
    if version != 1:
        raise InvalidCid(f"unsupported CID version {version}")
    codec, pos = _read_varint(raw, pos)
    hash_code, pos = _read_varint(raw, pos)
    length, pos = _read_varint(raw, pos)
    digest = raw[pos:]
    if len(digest) != length:
        raise InvalidCid("multihash length does not match its digest")
    if hash_code == SHA2_256 and length != SHA2_256_LEN:
        raise InvalidCid("sha2-256 digest must be 32 bytes")
    return Cid(1, codec, hash_code, bytes(digest))


def digest_of(cid: str) -> bytes:
    """The 32-byte sha2-256 digest inside a CID -- the ``bytes32 evidence`` that goes on chain.

    For a raw CID (single-chunk file) it is sha2-256 of the file; for a dag-pb CID it is the
    digest of the UnixFS root node (see the module docstring)."""
    parsed = parse(cid)
    if parsed.hash_code != SHA2_256:
        raise InvalidCid("not a sha2-256 CID")
    return parsed.digest


def cid_from_digest(digest: bytes, codec: int = RAW) -> str:
    """Rebuild the CIDv1 from an on-chain digest: raw (single-chunk files) by default, or
    ``DAG_PB`` for a multi-chunk file's root node."""
    if len(digest) != SHA2_256_LEN:
        raise InvalidCid("a sha2-256 digest is 32 bytes")
    if codec not in (RAW, DAG_PB):
        raise InvalidCid("codec must be raw or dag-pb")
    return encode_cid(codec, digest)


def candidate_cids(digest: bytes) -> tuple[str, str]:
    """Both CIDs an on-chain digest can stand for: (raw, dag-pb)."""
    return cid_from_digest(digest, RAW), cid_from_digest(digest, DAG_PB)


# ---------------------------------------------------------------------------------------------
# protobuf (only what dag-pb / UnixFS need)


def _pb_bytes(field: int, value: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(value)) + value


def _pb_uint(field: int, value: int) -> bytes:
    return _varint(field << 3) + _varint(value)


def _unixfs_file(filesize: int, blocksizes: list[int]) -> bytes:
    # Type=File, no Data bytes (internal node), filesize, blocksizes (proto2, not packed).
    out = _pb_uint(1, UNIXFS_FILE) + _pb_uint(3, filesize)
    for size in blocksizes:
        out += _pb_uint(4, size)
    return out


@dataclass(frozen=True)
class _Child:
    cid: bytes  # binary CID
    tsize: int  # cumulative DAG size (Tsize of the link to it)
    filesize: int  # file bytes below it


def _dag_pb_node(children: list[_Child]) -> bytes:
    out = b""
    for child in children:  # Links (field 2) first, in file order, as Kubo writes them
        link = _pb_bytes(1, child.cid) + _pb_bytes(2, b"") + _pb_uint(3, child.tsize)
        out += _pb_bytes(2, link)
    data = _unixfs_file(sum(c.filesize for c in children), [c.filesize for c in children])
    return out + _pb_bytes(1, data)


def _binary_cid(codec: int, block: bytes) -> bytes:
    return bytes([1, codec, SHA2_256, SHA2_256_LEN]) + hashlib.sha256(block).digest()


class CidHasher:
    """Streaming form of `cid_v1`: ``update()`` with the file's bytes in any pieces, then
    ``finalize()``. Memory stays at one chunk plus ~40 bytes per chunk.

    The keyword arguments exist to check this builder against Kubo's own test vectors, which
    use other profiles (``legacy-cid-v0``: CIDv0 and dag-pb leaves; ``test-cid-v1``: 1 MiB
    chunks); evidence always uses the defaults, i.e. ``ipfs add --cid-version 1``."""

    def __init__(
        self,
        *,
        chunk_size: int = CHUNK_SIZE,
        max_links: int = MAX_LINKS,
        raw_leaves: bool = True,
        cid_version: int = 1,
    ) -> None:
        if chunk_size < 1 or max_links < 2 or cid_version not in (0, 1):
            raise ValueError("bad DAG parameters")
        if cid_version == 0 and raw_leaves:
            raise ValueError("CIDv0 cannot address raw leaves")
        self._chunk_size, self._max_links = chunk_size, max_links
        self._raw_leaves, self._cid_version = raw_leaves, cid_version
        self._buffer = bytearray()
        self._leaves: list[_Child] = []
        self._size = 0
        self._done = False

    @property
    def size(self) -> int:
        return self._size

    def update(self, data: bytes) -> None:
        if self._done:
            raise RuntimeError("hasher already finalized")
        self._size += len(data)
        self._buffer += data
        while len(self._buffer) > self._chunk_size:  # keep the last (maybe only) chunk buffered
            self._leaf(bytes(self._buffer[: self._chunk_size]))
            del self._buffer[: self._chunk_size]

    def _cid(self, codec: int, block: bytes) -> bytes:
        if self._cid_version == 0:  # a CIDv0 is the bare multihash of a dag-pb block
            return bytes([SHA2_256, SHA2_256_LEN]) + hashlib.sha256(block).digest()
        return _binary_cid(codec, block)

    def _leaf(self, chunk: bytes) -> None:
        if self._raw_leaves:
            self._leaves.append(_Child(self._cid(RAW, chunk), len(chunk), len(chunk)))
            return
        # A dag-pb leaf: UnixFS File with the bytes inline (no Data field when empty).
        data = _pb_uint(1, UNIXFS_FILE) + (_pb_bytes(2, chunk) if chunk else b"") + _pb_uint(3, len(chunk))
        block = _pb_bytes(1, data)
        self._leaves.append(_Child(self._cid(DAG_PB, block), len(block), len(chunk)))

    def _render(self, cid: bytes) -> str:
        return _b58encode(cid) if self._cid_version == 0 else "b" + _b32encode(cid)

    def finalize(self) -> str:
        if self._done:
            raise RuntimeError("hasher already finalized")
        self._done = True
        self._leaf(bytes(self._buffer))  # the last chunk, or the only (possibly empty) one
        level = self._leaves
        while len(level) > 1:  # a single leaf is the root (Kubo's balanced layout corner case)
            parents = []
            for i in range(0, len(level), self._max_links):
                group = level[i : i + self._max_links]
                block = _dag_pb_node(group)
                parents.append(
                    _Child(
                        self._cid(DAG_PB, block),
                        len(block) + sum(c.tsize for c in group),
                        sum(c.filesize for c in group),
                    )
                )
            level = parents
        return self._render(level[0].cid)


def cid_v1(data: bytes) -> str:
    """The CID Kubo's ``ipfs add --cid-version 1`` assigns to these bytes (see module doc)."""
    hasher = CidHasher()
    hasher.update(data)
    return hasher.finalize()
