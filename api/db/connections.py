"""How the gateway's threads share a SQLite database file (WAL): one write lock per file in the
process, one read-only connection per reading thread.

The outbox and the index live in one file, and SQLite lets one connection write at a time. Writers
that queue on SQLite's own lock sleep in its busy handler (1, 2, 5, 10 … 100 ms steps) past the
moment it frees, so the outbox's writers (the intake's accepts, the relayer's records and
confirmations) and the indexer's take turns on one Python lock per file instead, which wakes the
next at once. Readers need no lock: with a connection of their own per thread, a read never waits
for a writer (a request polling a message, the relayer reading its queue, a page reading the index
while the indexer writes).
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


_write_locks: dict[Path, threading.Lock] = {}
_write_locks_guard = threading.Lock()


def write_lock(path: Path) -> threading.Lock:
    """The process's write lock of a database file, shared by every writer of that file."""
    with _write_locks_guard:
        return _write_locks.setdefault(Path(path).resolve(), threading.Lock())


class ThreadReaders:
    def __init__(self, path: Path, timeout: float = 30) -> None:
        self.path, self.timeout = path, timeout
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def connection(self) -> sqlite3.Connection:
        """This thread's read-only connection, opened on first use."""
        db = getattr(self._local, "db", None)
        if db is None:
            if self._closed:
                raise sqlite3.ProgrammingError(f"{self.path.name} is closed")
            db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=self.timeout)
            db.execute("PRAGMA query_only = 1")
            self._local.db = db
            with self._lock:
                self._all.append(db)
        return db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees the same committed state."""
        db = self.connection()
        db.execute("BEGIN")
        try:
            yield db
        finally:
            db.execute("COMMIT")

    def close(self) -> None:
        self._closed = True
        with self._lock:
            for db in self._all:
                try:
                    db.close()
                except sqlite3.ProgrammingError:
                    pass
            self._all.clear()
