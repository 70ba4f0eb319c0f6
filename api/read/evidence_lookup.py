"""Evidence as the views name it: the CID when the evidence store holds the file, else the 0x digest.

On-chain an event carries only the 32-byte sha2-256 digest inside the evidence file's CIDv1
(api/store/evidence/cid.py). The store (Services.evidence, an api.store.evidence.EvidenceStore) maps it
back to a CID (`cid_for_digest`); this wraps that lookup with a cache for the pages, and checks
for the integrity report that the file is there and still hashes to its CID (`check`).
"""

from __future__ import annotations

import time
from typing import Any

from ..store.evidence import cid as cidlib

MISS_TTL = 5.0  # seconds a digest the store did not know is not asked about again


class EvidenceNames:
    def __init__(self, store: Any = None) -> None:
        self.store = store
        self._hits: dict[str, str] = {}
        self._misses: dict[str, float] = {}

    def _lookup(self, digest: bytes) -> str | None:
        return self.store.cid_for_digest(digest)  # EvidenceStore: raw or dag-pb CID held locally, else None

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
