"""Content-addressed evidence store: an embedded store on disk, optionally mirrored to IPFS.

Files (inspection photos, reports) are addressed by the CID Kubo's ``ipfs add --cid-version 1``
gives them (`returntrace.cid.cid_v1`); that CID's digest is what goes on chain. Layout::

    <folder>/blobs/<last 2 chars of CID>/<CID>        the bytes, exactly as uploaded
    <folder>/blobs/<last 2 chars of CID>/<CID>.json   {"contentType": ..., "size": ...}
    <folder>/tmp/                                    files being written (same file system)
    <folder>/quarantine/                             copies that failed verification

Writes go to a temporary file that is fsynced and then renamed over the final name, so a
reader sees a whole file or none; putting the same bytes again changes nothing (the content
type recorded first is kept: the CID names the bytes, not their label). Every read re-hashes
the bytes and compares them with the CID before returning them.

With ``ipfs_api`` set (a multiaddr such as ``/ip4/127.0.0.1/tcp/5001/http`` or a URL such as
``http://127.0.0.1:5001``), `put` also adds and pins the bytes on that node through
``ipfshttpclient.Client`` (not ``ipfshttpclient.connect()``, which refuses Kubo >= 0.8) with
the options that ``ipfs add --cid-version 1`` implies, and insists that the node's CID equals
ours, unless the file is not to be published (`put(..., publish=False)`: evidence private to an
order; a node serves what it holds to whoever asks by CID, and the CID follows from the digest on
chain). `get` falls back to the node when the local copy is missing or corrupted, verifies what
the node sent, and repairs the local copy.

Errors are `EvidenceError` subclasses, each with an HTTP ``status`` and a stable ``code`` that
the routes return as they are.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from returntrace import cid as cids
from returntrace.evidence_files import IntegrityStatus, blob_paths, local_status

log = logging.getLogger("returntrace.evidence")

# What evidence may be: inspection photos, PDF reports, plain-text notes and JSON records.
ALLOWED_CONTENT_TYPES = frozenset({"image/jpeg", "image/png", "application/pdf", "text/plain", "application/json"})
_CHARSET_TYPES = frozenset({"text/plain", "application/json"})
_MAGIC = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "application/pdf": (b"%PDF-",),
}
REMOTE_TIMEOUT = 60.0  # seconds for one call to the IPFS node
DEFAULT_MAX_BYTES = 10 * 1024 * 1024  # as Settings.max_upload_bytes; readers (audits) need no limit


# ---------------------------------------------------------------------------------------------
# errors


class EvidenceError(Exception):
    """Base of the store's errors: ``status`` is the HTTP answer, ``code`` a stable reason."""

    status = 400
    code = "evidence_error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidEvidenceCid(EvidenceError):
    """Not a CID, or not one that ``ipfs add --cid-version 1`` makes (CIDv1, raw or dag-pb,
    sha2-256)."""

    status, code = 400, "invalid_cid"


class UnsupportedContentType(EvidenceError):
    status, code = 415, "unsupported_media_type"


class ContentTypeMismatch(UnsupportedContentType):
    """The bytes are not what the declared content type says (e.g. a "PNG" without the PNG
    signature, JSON that does not parse)."""

    code = "content_type_mismatch"


class EvidenceTooLarge(EvidenceError):
    status, code = 413, "too_large"


class EvidenceNotFound(EvidenceError):
    status, code = 404, "not_found"


class EvidenceCorrupted(EvidenceError):
    """The stored copy no longer hashes to its CID (and no IPFS node could supply a good one).

    Answered as 410 Gone: the verified content is no longer available from this gateway, the
    client can do nothing to change that by retrying or rephrasing, and the bytes we hold are
    deliberately not served. It is not 404 (we did hold it; the CID is on record) nor 409 (no
    request conflicts with anything); a 5xx would invite blind retries."""

    status, code = 410, "evidence_corrupted"


class RemoteNodeError(EvidenceError):
    """The configured IPFS node failed or could not be reached."""

    status, code = 502, "ipfs_node_error"


class RemoteCidMismatch(RemoteNodeError):
    """The IPFS node computed another CID for the same bytes, or returned bytes that do not
    hash to the CID asked for."""

    code = "ipfs_cid_mismatch"


# ---------------------------------------------------------------------------------------------
# content types


def normalize_content_type(value: str | None) -> str:
    """``type/subtype`` in lower case, keeping only a ``charset`` for text/plain and JSON.
    Raises `UnsupportedContentType` for anything outside `ALLOWED_CONTENT_TYPES`."""
    if not value:
        raise UnsupportedContentType("a Content-Type is required", allowed=sorted(ALLOWED_CONTENT_TYPES))
    essence, _, params = value.partition(";")
    essence = essence.strip().lower()
    if essence not in ALLOWED_CONTENT_TYPES:
        raise UnsupportedContentType(
            f"content type {essence or value!r} is not accepted as evidence",
            allowed=sorted(ALLOWED_CONTENT_TYPES),
        )
    if essence in _CHARSET_TYPES:
        for param in params.split(";"):
            name, _, val = param.partition("=")
            if name.strip().lower() == "charset" and val.strip():
                return f"{essence}; charset={val.strip().strip(chr(34)).lower()}"
    return essence


def check_content(data: bytes, content_type: str) -> None:
    """Refuse bytes that are plainly not of the declared type (`ContentTypeMismatch`)."""
    essence = content_type.split(";", 1)[0]
    magic = _MAGIC.get(essence)
    if magic is not None and not data.startswith(magic):
        raise ContentTypeMismatch(f"the bytes are not a {essence} file (bad signature)")
    if essence == "application/json":
        try:
            json.loads(data)
        except ValueError as exc:
            raise ContentTypeMismatch(f"the bytes are not valid JSON: {exc}") from None


# ---------------------------------------------------------------------------------------------
# the store


@dataclass(frozen=True)
class StoredEvidence:
    cid: str
    size: int
    content_type: str
    pinned_remote: bool

    @property
    def digest(self) -> bytes:
        """The 32 bytes that go on chain as ``evidence`` (see `returntrace.cid.digest_of`)."""
        return cids.digest_of(self.cid)

    @property
    def digest_hex(self) -> str:
        return "0x" + self.digest.hex()


def to_multiaddr(addr: str) -> str:
    """``/ip4/…/tcp/…/http`` as it is, or an ``http(s)://host:port`` URL as a multiaddr."""
    addr = addr.strip()
    if addr.startswith("/"):
        return addr
    url = urllib.parse.urlsplit(addr)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ValueError(f"IPFS API address must be a multiaddr or an http(s) URL: {addr!r}")
    if url.path.rstrip("/") not in ("", "/api/v0"):
        raise ValueError(f"IPFS API URL must not have a path other than /api/v0: {addr!r}")
    host = url.hostname
    port = url.port or (443 if url.scheme == "https" else 80)
    if ":" in host:
        proto = "ip6"
    elif host.replace(".", "").isdigit():
        proto = "ip4"
    else:
        proto = "dns"
    return f"/{proto}/{host}/tcp/{port}/{url.scheme}"


class EvidenceStore:
    """See the module docstring. Thread-safe: every write is a rename of a finished file."""

    def __init__(self, folder: Path, ipfs_api: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self.ipfs_api = to_multiaddr(ipfs_api) if ipfs_api else None
        self._blobs = self.folder / "blobs"
        self._tmp = self.folder / "tmp"
        self._quarantine = self.folder / "quarantine"
        for d in (self._blobs, self._tmp, self._quarantine):
            d.mkdir(parents=True, exist_ok=True)
        self._client: Any = None

    # -- public API ---------------------------------------------------------------------------

    def put(self, data: bytes, content_type: str, publish: bool = True) -> StoredEvidence:
        """Store ``data``; return its CID. Idempotent. Raises `EvidenceTooLarge`,
        `UnsupportedContentType` / `ContentTypeMismatch`, and with a node `RemoteNodeError` /
        `RemoteCidMismatch` (the local copy is kept: it is correct, and a retry is cheap).
        ``publish=False`` keeps the bytes off the node (stored here only, ``pinned_remote`` False)."""
        if len(data) > self.max_bytes:
            raise EvidenceTooLarge(
                f"evidence is {len(data)} bytes; the limit is {self.max_bytes}",
                maxBytes=self.max_bytes,
            )
        content_type = normalize_content_type(content_type)
        check_content(data, content_type)
        cid = cids.cid_v1(data)
        blob, meta = self._paths(cid)
        if self._local_status(cid, blob) is not IntegrityStatus.OK:
            if blob.exists():
                self._quarantine_file(cid, blob)
            self._write_atomic(blob, data)
        stored_type = self._read_meta(meta).get("contentType")
        if stored_type is None:
            self._write_atomic(meta, json.dumps({"contentType": content_type, "size": len(data)}).encode())
            stored_type = content_type
        pinned = False
        if self.ipfs_api and publish:
            self._push(cid, data)
            pinned = True
        return StoredEvidence(cid, len(data), stored_type, pinned)

    def get(self, cid: str) -> tuple[bytes, str]:
        """The verified bytes and content type. Raises `InvalidEvidenceCid`, `EvidenceNotFound`,
        `EvidenceCorrupted`, and with a node `RemoteNodeError` / `RemoteCidMismatch`."""
        cid = self.canonical(cid)
        blob, meta = self._paths(cid)
        content_type = self._read_meta(meta).get("contentType", "application/octet-stream")
        try:
            data = blob.read_bytes()
        except FileNotFoundError:
            data = None
        if data is not None and cids.cid_v1(data) == cid:
            return data, content_type
        if data is not None:
            log.error("evidence %s: local copy does not match its CID", cid)
            if not self.ipfs_api:
                raise EvidenceCorrupted(
                    f"the stored copy of {cid} no longer matches its CID and is not served",
                    cid=cid,
                )
            self._quarantine_file(cid, blob)
        elif not self.ipfs_api:
            raise EvidenceNotFound(f"no evidence with CID {cid}", cid=cid)
        data = self._fetch(cid)
        self._write_atomic(blob, data)  # repair / cache the local copy
        return data, content_type

    def delete(self, cid: str) -> None:
        """Removes the local copy and its label, and unpins it on the node (its garbage collection frees it):
        staged uploads that nothing referenced in time (api/store/evidence/staging.py)."""
        cid = self.canonical(cid)
        blob, meta = self._paths(cid)
        for path in (blob, meta):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        _fsync_dir(blob.parent)
        if self.ipfs_api:
            import ipfshttpclient.exceptions as ipfs_errors

            try:
                self._ipfs().pin.rm(cid)
            except ipfs_errors.Error as exc:  # not pinned (a private file), or the node is away: the local copy is gone
                log.warning("evidence %s: the IPFS node did not unpin it: %s", cid, exc)

    def pinned(self, cid: str) -> bool:
        """Whether the IPFS node holds ``cid`` pinned (False without a node). Raises `RemoteNodeError`
        when the node fails."""
        cid = self.canonical(cid)
        answer = self._pin_call(cid, "list the pins of", lambda pin: pin.ls(cid, type="recursive"))
        return answer is not None and cid in answer["Keys"]

    def unpublish(self, cid: str) -> bool:
        """Unpins ``cid`` on the IPFS node, keeping the local copy: a file that became private to an order
        (the node serves whatever it holds to anyone asking by CID; its garbage collection, ``ipfs repo
        gc``, frees the blocks). True if the node had it pinned; False without a node or when it was not
        pinned. Raises `RemoteNodeError` when the node fails."""
        cid = self.canonical(cid)
        return self._pin_call(cid, "unpin", lambda pin: pin.rm(cid)) is not None

    def _pin_call(self, cid: str, what: str, call: Callable[[Any], Any]) -> Any | None:
        """`call(node.pin)`'s answer; None without a node, or when the node says ``cid`` is not pinned (Kubo's
        error, not a failure). Raises `RemoteNodeError` for any other error or an unreachable node."""
        if not self.ipfs_api:
            return None
        import ipfshttpclient.exceptions as ipfs_errors

        try:
            return call(self._ipfs().pin)
        except ipfs_errors.ErrorResponse as exc:
            if "not pinned" in str(exc).lower():
                return None
            raise RemoteNodeError(f"the IPFS node did not {what} {cid}: {exc}", cid=cid) from None
        except ipfs_errors.Error as exc:
            raise RemoteNodeError(f"the IPFS node could not be reached: {exc}", cid=cid) from None

    def has(self, cid: str) -> bool:
        """Whether a local copy exists (not verified; see `verify`)."""
        return self._paths(self.canonical(cid))[0].is_file()

    def check(self, cid: str) -> IntegrityStatus:
        """Local integrity of one CID, for integrity reports (the node is not asked)."""
        cid = self.canonical(cid)
        return self._local_status(cid, self._paths(cid)[0])

    def verify(self, cid: str) -> bool:
        """True when the local copy exists and hashes to its CID."""
        return self.check(cid) is IntegrityStatus.OK

    def cids(self) -> Iterator[str]:
        """Every CID with a local copy (in no particular order)."""
        for shard in self._blobs.iterdir():
            if shard.is_dir():
                for path in shard.iterdir():
                    if path.suffix != ".json" and path.is_file():
                        yield path.name

    def cid_for_digest(self, digest: bytes | str) -> str | None:
        """The CID of a locally held file whose on-chain ``evidence`` word is ``digest`` (32
        bytes or 0x-hex), trying the raw CID (single-chunk files) and the dag-pb one; None
        when neither is here (or for the all-zero "no evidence" word)."""
        return next(iter(self.cids_for_digest(digest)), None)

    def cids_for_digest(self, digest: bytes | str) -> list[str]:
        """Every locally held file whose CID carries ``digest`` (the raw CID first, then the dag-pb
        one; two only if someone stored a file that is another's dag-pb root); [] for a word that
        is no digest, or the all-zero one."""
        if isinstance(digest, str):
            try:
                digest = bytes.fromhex(digest.removeprefix("0x"))
            except ValueError:
                return []
        if len(digest) != cids.SHA2_256_LEN or not any(digest):
            return []
        return [c for c in cids.candidate_cids(digest) if self.has(c)]

    def content_type(self, cid: str) -> str | None:
        cid = self.canonical(cid)
        return self._read_meta(self._paths(cid)[1]).get("contentType")

    @staticmethod
    def canonical(cid: str) -> str:
        """The base32 CIDv1 string for ``cid``; `InvalidEvidenceCid` unless it is a CID that
        ``ipfs add --cid-version 1`` can produce."""
        try:
            parsed = cids.parse(cid)
        except cids.InvalidCid as exc:
            raise InvalidEvidenceCid(f"malformed CID {cid!r}: {exc}") from None
        if not parsed.is_kubo_v1_file:
            raise InvalidEvidenceCid(f"{cid!r} is not an evidence CID (CIDv1, raw or dag-pb, sha2-256)")
        return str(parsed)

    # -- local files ----------------------------------------------------------------------------

    def _paths(self, cid: str) -> tuple[Path, Path]:
        return blob_paths(self._blobs, cid)

    @staticmethod
    def _local_status(cid: str, blob: Path) -> IntegrityStatus:
        return local_status(cid, blob)

    @staticmethod
    def _read_meta(meta: Path) -> dict[str, Any]:
        try:
            value = json.loads(meta.read_bytes())
        except (FileNotFoundError, ValueError):
            return {}
        return value if isinstance(value, dict) else {}

    def _write_atomic(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self._tmp, prefix=path.name[:16] + ".")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        _fsync_dir(path.parent)

    def _quarantine_file(self, cid: str, blob: Path) -> None:
        target = self._quarantine / f"{cid}.{time.time_ns()}"
        with contextlib.suppress(FileNotFoundError):
            os.replace(blob, target)
            log.warning("evidence %s: moved the corrupted copy to %s", cid, target)

    # -- the IPFS node --------------------------------------------------------------------------

    def _ipfs(self) -> Any:
        if self._client is None:
            import ipfshttpclient  # imported lazily: only needed with a node

            # Client(), not connect(): connect() refuses every Kubo release since 0.8.
            self._client = ipfshttpclient.Client(self.ipfs_api, timeout=REMOTE_TIMEOUT)
        return self._client

    def _push(self, cid: str, data: bytes) -> None:
        import ipfshttpclient.exceptions as ipfs_errors

        # Spelled out rather than left to the node's config: these are what
        # `ipfs add --cid-version 1` implies with Kubo's default Import settings.
        opts = {
            "cid-version": "1",
            "raw-leaves": "true",
            "chunker": f"size-{cids.CHUNK_SIZE}",
            "trickle": "false",
            "hash": "sha2-256",
            "pin": "true",
        }
        try:
            remote = self._ipfs().add_bytes(data, opts=opts)
        except ipfs_errors.Error as exc:
            raise RemoteNodeError(f"the IPFS node did not add {cid}: {exc}", cid=cid) from None
        if remote != cid:
            log.error("evidence %s: the IPFS node assigned %s", cid, remote)
            raise RemoteCidMismatch(
                f"the IPFS node assigned {remote} to bytes whose CID is {cid}",
                cid=cid,
                remoteCid=str(remote),
            )

    def _fetch(self, cid: str) -> bytes:
        import ipfshttpclient.exceptions as ipfs_errors

        try:
            # offline: the node must already hold what it pinned; do not search the network.
            data = self._ipfs().cat(cid, offline=True, length=self.max_bytes + 1)
        except ipfs_errors.ErrorResponse as exc:
            text = str(exc).lower()
            if "not found" in text or "could not find" in text:
                raise EvidenceNotFound(f"no evidence with CID {cid}", cid=cid) from None
            raise RemoteNodeError(f"the IPFS node failed to return {cid}: {exc}", cid=cid) from None
        except ipfs_errors.Error as exc:
            raise RemoteNodeError(f"the IPFS node could not be reached: {exc}", cid=cid) from None
        if cids.cid_v1(data) != cid:
            log.error("evidence %s: the IPFS node returned bytes with another CID", cid)
            raise RemoteCidMismatch(f"the IPFS node returned bytes that do not match {cid}", cid=cid)
        return data


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
