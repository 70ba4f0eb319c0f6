"""Staged evidence: uploads that nothing references yet, kept for a while and within a budget.

Anyone may upload evidence (`POST /v1/evidence`), so the store's disk is bounded by what is accepted:
a file counts as *referenced* once its digest is carried by a signed message the gateway accepted (the
outbox's messages, the signed documents' CIDs) or by a record the indexer took from the chain. Until
then it is *staged*: listed here with its size and when it was uploaded, and

- kept for `ttl` seconds (RT_EVIDENCE_STAGING_TTL) from its last upload, then deleted by `sweep` unless
  a reference turned up meanwhile (it is then released: kept for good, no longer counted);
- counted against `max_bytes` (RT_EVIDENCE_STAGING_MAX_BYTES), all clients together: an upload that
  would pass it is refused with 507 `staging_full` and `Retry-After` (when the oldest staged file
  expires), before any of it is written.

There is no timer: `sweep` runs on every upload and at start (Services.start), at the time `clock`
says (tests pass their own). Files held before staging existed are not listed here and stay.

The list is a SQLite file in the evidence folder (``staging.sqlite3``), beside the files it is about.
A row is written before its file and deleted after it, so no file of an upload escapes the list; one
lock in the process orders an upload of a file against the sweep deleting that same file, and the sweep
holds the accepting database's write lock from its check of references to its last deletion.
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
    staged_at REAL NOT NULL     -- the last upload of the file
);
CREATE INDEX IF NOT EXISTS staged_by_time ON staged (staged_at);
"""

# Given 0x-hex digests, the ones a signed message or an indexed record carries.
References = Callable[[list[str]], set[str]]


@dataclass(frozen=True)
class Staged:
    """An upload's outcome: what was stored, and until when it is kept (None: referenced, kept for good)."""

    evidence: StoredEvidence
    expires_at: float | None


class Staging(SqliteFile):
    def __init__(
        self,
        store: EvidenceStore,
        references: References,
        ttl: float,
        max_bytes: int,
        hold: Callable[[], AbstractContextManager[object]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(store.folder / "staging.sqlite3", _SCHEMA)
        self.store, self.references, self.ttl, self.max_bytes, self.clock = store, references, ttl, max_bytes, clock
        self.hold = hold  # the write lock of the file where messages and documents are accepted
        self._files = threading.Lock()  # an upload of a file and the sweep's deletion of it, one at a time

    def put(self, data: bytes, content_type: str, publish: bool = True) -> Staged:
        """Stores `data` (EvidenceStore.put) staged unless its digest is referenced already. Raises 507
        `staging_full` when the staged files and this one would pass `max_bytes`; nothing is written then."""
        content_type = normalize_content_type(content_type)
        check_content(data, content_type)  # a refusal here leaves no row behind
        self.sweep()
        cid = cids.cid_v1(data)
        digest = "0x" + cids.digest_of(cid).hex()
        now = self.clock()
        with self._files:
            staged = self._stage(cid, digest, len(data), now)
            try:
                stored = self.store.put(data, content_type, publish=publish)
            except BaseException:
                if staged == "new":
                    self._forget([cid])
                raise
        return Staged(stored, now + self.ttl if staged else None)

    def _stage(self, cid: str, digest: str, size: int, now: float) -> str | None:
        """Lists the upload, or renews its time if it is listed: "new" or "renewed"; None when its digest
        is referenced or the file is held unlisted (released, or from before staging): kept for good."""
        listed = self._past(cid, float("inf"))
        if not listed and self.store.has(cid):
            return None
        if digest in self.references([digest]):
            self._forget([cid])
            return None
        with self._tx() as db:
            if listed:
                db.execute("UPDATE staged SET staged_at = max(staged_at, ?) WHERE cid = ?", (now, cid))
                return "renewed"
            used, oldest = db.execute("SELECT coalesce(sum(size), 0), min(staged_at) FROM staged").fetchone()
            if used + size > self.max_bytes:
                wait = (oldest + self.ttl - now) if oldest is not None else self.ttl
                raise ApiError(
                    507,
                    "staging_full",
                    f"{used} bytes of uploads that no signed message references yet are waiting; {size} more "
                    f"would pass the gateway's {self.max_bytes}. Try again later",
                    headers={"Retry-After": retry_after(wait), "Cache-Control": "no-store"},
                    stagedBytes=used,
                    maxBytes=self.max_bytes,
                )
            db.execute(
                "INSERT INTO staged (cid, digest, size, staged_at) VALUES (?, ?, ?, ?)", (cid, digest, size, now)
            )
        return "new"

    def expires_at(self, cid: str) -> float | None:
        """When a staged file is deleted unless referenced first; None if it is not staged."""
        row = self._read().execute("SELECT staged_at FROM staged WHERE cid = ?", (cid,)).fetchone()
        return None if row is None else row[0] + self.ttl

    def staged_bytes(self) -> int:
        return self._read().execute("SELECT coalesce(sum(size), 0) FROM staged").fetchone()[0]

    def sweep(self) -> int:
        """Deletes the staged files past their time that nothing references, releases the referenced
        ones (kept for good); returns how many files were deleted."""
        cutoff = self.clock() - self.ttl
        due = self._read().execute("SELECT cid, digest FROM staged WHERE staged_at <= ?", (cutoff,)).fetchall()
        if not due:
            return 0
        # No message or document naming one of them is accepted between the check and the deletion (in
        # any process: the database's own write lock); an upload may have renewed one meanwhile.
        with self._files, self.hold():
            referenced = self.references(sorted({digest for _, digest in due}))
            gone = [c for c, digest in due if digest not in referenced and self._past(c, cutoff)]
            for cid in gone:
                self.store.delete(cid)
        self._forget([c for c, digest in due if digest in referenced])  # released: kept for good
        self._forget(gone)
        return len(gone)

    def _past(self, cid: str, cutoff: float) -> bool:
        """Whether `cid` is staged, last uploaded at or before `cutoff`."""
        row = self._read().execute("SELECT staged_at FROM staged WHERE cid = ?", (cid,)).fetchone()
        return row is not None and row[0] <= cutoff

    def _forget(self, cids_: Iterable[str]) -> None:
        rows = [(c,) for c in cids_]
        if rows:
            with self._tx() as db:
                db.executemany("DELETE FROM staged WHERE cid = ?", rows)
