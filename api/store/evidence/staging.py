"""Staged evidence: uploads that nothing references yet, kept for a while and within a budget.

Anyone may upload evidence (`POST /v1/evidence`), so the store's disk is bounded by what is accepted:
a file is *kept for good* once its digest is carried by a signed message the chain confirmed, a signed
document (its image and instruction CIDs) or a record the indexer took from the chain. Until then it is
*staged*: listed here with its size, who staged it and when it was first uploaded, and

- kept for `ttl` seconds (RT_EVIDENCE_STAGING_TTL) from its first upload (uploading it again does not
  renew it: bytes held past their time cost new bytes), then deleted by `sweep` unless a reference
  turned up meanwhile. A message still on its way (accepted or submitted) keeps the file while it is;
  a failed one keeps nothing, or a signer could keep any number of files with messages the chain refuses;
- counted against a budget: `max_bytes` (RT_EVIDENCE_STAGING_MAX_BYTES) for anonymous uploads and
  uploaders the gateway does not know, all together, and `account_bytes`
  (RT_EVIDENCE_STAGING_ACCOUNT_BYTES) for each signed-in account that is an accredited actor or an
  order's buyer (`owner`), so that strangers filling the shared budget do not keep a buyer's photos or
  an inspector's report out. An upload that would pass its budget is refused with 507 `staging_full`
  and `Retry-After` (when that budget's oldest file expires), before any of it is written.

There is no timer: `sweep` runs on every upload and at start (Services.start), at the time `clock`
says (tests pass their own). Files held before staging existed are not listed here and stay.

The list is a SQLite file in the evidence folder (``staging.sqlite3``), beside the files it is about.
A row is written before its file and deleted with it; one lock in the process orders an upload of a
file against the sweep deleting it, and the sweep holds the accepting database's write lock (`hold`)
from its check of references to its last deletion, so no message naming a file is accepted meanwhile.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from returntrace import cid as cids

from ...errors import ApiError
from ..buckets import retry_after
from ..connections import SqliteFile
from .store import EvidenceStore, StoredEvidence, check_content, normalize_content_type

_SCHEMA = """
CREATE TABLE IF NOT EXISTS staged (
    cid TEXT PRIMARY KEY,
    digest TEXT NOT NULL,       -- 0x-hex, as messages and the index carry it
    size INTEGER NOT NULL,
    owner TEXT NOT NULL,        -- the signed-in account whose budget it counts in; '': the shared one
    staged_at REAL NOT NULL     -- the first upload of the file
);
CREATE INDEX IF NOT EXISTS staged_by_time ON staged (staged_at);
CREATE INDEX IF NOT EXISTS staged_by_owner ON staged (owner, staged_at);
"""

SHARED = ""  # the owner of anonymous uploads and of accounts the gateway does not know


@dataclass(frozen=True)
class References:
    """Which of some 0x-hex digests are carried, and how firmly."""

    kept: set[str]  # by a confirmed message, a signed document or an indexed chain record: kept for good
    pending: set[str]  # only by messages still on their way: not deleted while they are


Referencer = Callable[[list[str]], References]


@dataclass(frozen=True)
class Staged:
    """An upload's outcome: what was stored, and until when it is kept (None: referenced, kept for good)."""

    evidence: StoredEvidence
    expires_at: float | None


class Staging(SqliteFile):
    def __init__(
        self,
        store: EvidenceStore,
        references: Referencer,
        ttl: float,
        max_bytes: int,
        hold: Callable[[], AbstractContextManager[object]],
        clock: Callable[[], float] = time.time,
        account_bytes: int | None = None,
    ) -> None:
        super().__init__(store.folder / "staging.sqlite3", _SCHEMA)
        self.store, self.references, self.ttl, self.max_bytes, self.clock = store, references, ttl, max_bytes, clock
        self.account_bytes = max_bytes if account_bytes is None else account_bytes
        self.hold = hold  # the write lock of the file where messages and documents are accepted
        self._files = threading.Lock()  # an upload of a file and the sweep's deletion of it, one at a time

    def put(self, data: bytes, content_type: str, publish: bool = True, owner: str = SHARED) -> Staged:
        """Stores `data` (EvidenceStore.put) staged in `owner`'s budget unless its digest is kept for good
        already. Raises 507 `staging_full` when that budget's staged files and this one would pass it;
        nothing is written then."""
        content_type = normalize_content_type(content_type)
        check_content(data, content_type)  # a refusal here leaves no row behind
        self.sweep()
        cid = cids.cid_v1(data)
        digest = "0x" + cids.digest_of(cid).hex()
        now = self.clock()
        with self._files:
            staged_at, new = self._stage(cid, digest, len(data), owner, now)
            try:
                stored = self.store.put(data, content_type, publish=publish)
            except BaseException:
                if new:
                    self._forget([cid])
                raise
        return Staged(stored, None if staged_at is None else staged_at + self.ttl)

    def _stage(self, cid: str, digest: str, size: int, owner: str, now: float) -> tuple[float | None, bool]:
        """Lists the upload unless it is listed already: (when it was first staged, whether listed now);
        (None, False) when its digest is kept for good or the file is held unlisted (released, or from
        before staging)."""
        listed = self._staged_at(cid)
        if listed is not None:
            return listed, False
        if self.store.has(cid):
            return None, False
        if digest in self.references([digest]).kept:
            return None, False
        budget = self.max_bytes if owner == SHARED else self.account_bytes
        with self._tx() as db:
            used, oldest = db.execute(
                "SELECT coalesce(sum(size), 0), min(staged_at) FROM staged WHERE owner = ?", (owner,)
            ).fetchone()
            if used + size > budget:
                wait = (oldest + self.ttl - now) if oldest is not None else self.ttl
                raise ApiError(
                    507,
                    "staging_full",
                    f"{used} bytes of uploads that no signed message references yet are waiting; {size} more "
                    f"would pass the gateway's {budget}. Try again later",
                    headers={"Retry-After": retry_after(wait), "Cache-Control": "no-store"},
                    stagedBytes=used,
                    maxBytes=budget,
                )
            db.execute(
                "INSERT INTO staged (cid, digest, size, owner, staged_at) VALUES (?, ?, ?, ?, ?)",
                (cid, digest, size, owner, now),
            )
        return now, True

    def expires_at(self, cid: str) -> float | None:
        """When a staged file is deleted unless referenced first; None if it is not staged."""
        staged_at = self._staged_at(cid)
        return None if staged_at is None else staged_at + self.ttl

    def _staged_at(self, cid: str) -> float | None:
        row = self._read().execute("SELECT staged_at FROM staged WHERE cid = ?", (cid,)).fetchone()
        return None if row is None else row[0]

    def staged_bytes(self) -> int:
        return self._read().execute("SELECT coalesce(sum(size), 0) FROM staged").fetchone()[0]

    def sweep(self) -> int:
        """Deletes the staged files past their time that nothing references, releases those kept for good;
        returns how many files were deleted."""
        cutoff = self.clock() - self.ttl
        past = "SELECT cid, digest FROM staged WHERE staged_at <= ?"
        if not self._read().execute(past + " LIMIT 1", (cutoff,)).fetchone():
            return 0
        # No message or document naming one of them is accepted between the check and the deletion (in
        # any process: the database's own write lock), and no upload of one lists it again meanwhile.
        with self._files, self.hold():
            due = self._read().execute(past, (cutoff,)).fetchall()
            refs = self.references(sorted({digest for _, digest in due}))
            gone = [c for c, digest in due if digest not in refs.kept and digest not in refs.pending]
            for cid in gone:
                self.store.delete(cid)
            self._forget([c for c, digest in due if digest in refs.kept] + gone)
        return len(gone)

    def _forget(self, cids_: Iterable[str]) -> None:
        rows = [(c,) for c in cids_]
        if rows:
            with self._tx() as db:
                db.executemany("DELETE FROM staged WHERE cid = ?", rows)
