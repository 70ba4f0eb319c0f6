"""Evidence files as the chain names them: the layout of an evidence folder, a file checked
against its CID, digests named by CIDs, and the evidence part of an integrity report.

On-chain an event carries only the 32-byte sha2-256 digest inside the evidence file's CIDv1
(returntrace/cid.py). The gateway's store (api.store.evidence.EvidenceStore) writes files in the
layout below and the auditor reads a copy of that folder with `EvidenceFolder`, read-only; both
name a digest by its CID and check the bytes with `EvidenceNames`, and report with `evidence_report`.

    <folder>/blobs/<last 2 chars of CID>/<CID>        the bytes, exactly as uploaded
    <folder>/blobs/<last 2 chars of CID>/<CID>.json   {"contentType": ..., "size": ...}
"""

from __future__ import annotations

import enum
import time
from pathlib import Path
from typing import Any

from . import cid as cidlib

MISS_TTL = 5.0  # seconds a digest the store did not know is not asked about again


class IntegrityStatus(enum.Enum):
    OK = "ok"
    MISSING = "missing"
    CORRUPTED = "corrupted"


def blob_paths(blobs: Path, cid: str) -> tuple[Path, Path]:
    """(the file, its metadata) of `cid` under a store's blobs folder."""
    shard = blobs / cid[-2:]
    return shard / cid, shard / f"{cid}.json"


def local_status(cid: str, blob: Path) -> IntegrityStatus:
    """Whether the file at `blob` is there and its bytes still hash to `cid`."""
    try:
        hasher = cidlib.CidHasher()
        with blob.open("rb") as f:
            while piece := f.read(1 << 20):
                hasher.update(piece)
    except FileNotFoundError:
        return IntegrityStatus.MISSING
    return IntegrityStatus.OK if hasher.finalize() == cid else IntegrityStatus.CORRUPTED


class EvidenceFolder:
    """An evidence store's folder, read only (the auditor's copy): nothing is created or repaired."""

    def __init__(self, folder: Path) -> None:
        self.blobs = Path(folder) / "blobs"

    def cid_for_digest(self, digest: bytes) -> str | None:
        if len(digest) != cidlib.SHA2_256_LEN or not any(digest):
            return None
        return next((c for c in cidlib.candidate_cids(digest) if blob_paths(self.blobs, c)[0].is_file()), None)

    def check(self, cid: str) -> IntegrityStatus:
        return local_status(cid, blob_paths(self.blobs, cid)[0])


class EvidenceNames:
    """Digests named by the CIDs of the files a store (an EvidenceStore or an EvidenceFolder) holds,
    with a cache for the pages; `check` re-hashes the file for the integrity report."""

    def __init__(self, store: Any = None) -> None:
        self.store = store
        self._hits: dict[str, str] = {}
        self._misses: dict[str, float] = {}

    def _lookup(self, digest: bytes) -> str | None:
        return self.store.cid_for_digest(digest)  # raw or dag-pb CID held locally, else None

    def cid(self, digest_hex: str | None) -> str | None:
        """The CID of the evidence file with this digest, if the store holds it."""
        if not digest_hex or self.store is None:
            return None
        hit = self._hits.get(digest_hex)
        if hit is not None:
            return hit
        if self._misses.get(digest_hex, 0.0) > time.monotonic():
            return None
        try:
            found = self._lookup(bytes.fromhex(digest_hex[2:]))
        except Exception:  # a store that fails must not break a page: show the digest
            found = None
        if found:
            self._hits[digest_hex] = found
        else:
            if len(self._misses) > 100_000:
                self._misses.clear()
            self._misses[digest_hex] = time.monotonic() + MISS_TTL
        return found

    def name(self, digest_hex: str | None) -> str | None:
        """CID if known, else the 0x digest; None for no evidence."""
        if not digest_hex:
            return None
        return self.cid(digest_hex) or digest_hex

    def check(self, digest_hex: str) -> dict[str, Any]:
        """{"digest", "cid", "status"}: status "ok" (the file is stored and hashes to its CID),
        "missing" (the store has no file for the digest), "corrupt" (the stored bytes no longer
        match) or "error" (the store failed)."""
        try:
            found = self._lookup(bytes.fromhex(digest_hex[2:]))
        except Exception as exc:
            return {"digest": digest_hex, "cid": None, "status": "error", "detail": f"{type(exc).__name__}: {exc}"}
        if not found:
            return {"digest": digest_hex, "cid": None, "status": "missing"}
        if cidlib.digest_of(found) != bytes.fromhex(digest_hex[2:]):
            return {
                "digest": digest_hex,
                "cid": found,
                "status": "corrupt",
                "detail": "the store's CID does not carry the on-chain digest",
            }
        try:
            status = self.store.check(found).value  # IntegrityStatus ok / missing / corrupted: the bytes re-hashed
        except Exception as exc:
            return {"digest": digest_hex, "cid": found, "status": "error", "detail": f"{type(exc).__name__}: {exc}"}
        if status == "ok":
            return {"digest": digest_hex, "cid": found, "status": "ok"}
        if status == "missing":
            return {"digest": digest_hex, "cid": found, "status": "missing"}
        return {
            "digest": digest_hex,
            "cid": found,
            "status": "corrupt",
            "detail": "the stored bytes no longer hash to the CID",
        }


def evidence_report(
    names: EvidenceNames | None, digests: list[dict[str, Any]], reason: str = "no evidence store configured"
) -> dict[str, Any]:
    """What the gateway's integrity report and the auditor CLI say of the evidence: every digest the
    chain references (`digests`: [{"digest", "references"}]) checked against the store behind `names`
    (None: not checked, for `reason`); each one missing or corrupt listed with where it is referenced."""
    if names is None or names.store is None:
        return {"checked": False, "reason": reason, "referenced": len(digests)}
    counts = {"ok": 0, "missing": 0, "corrupt": 0, "error": 0}
    problems = []
    for d in digests:
        result = names.check(d["digest"])
        counts[result["status"]] += 1
        if result["status"] != "ok":
            problems.append({**result, "references": d["references"]})
    return {
        "checked": True,
        "referenced": len(digests),
        "present": counts["ok"],
        "missing": counts["missing"],
        "corrupt": counts["corrupt"] + counts["error"],
        "problems": problems,
    }
