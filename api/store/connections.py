"""How the gateway's threads share a SQLite database file (WAL): one write lock per file in the
process, one read-only connection per reading thread.

SQLite lets one connection write at a time, and writers that queue on its own lock sleep in its
busy handler (1, 2, 5, 10 … 100 ms steps) past the moment it frees. So the writers of a file in
this process (for the outbox: the intake's accepts, the relayer's records and confirmations) take
turns on one lock per file instead, which wakes the next at once and serves the workers' writes
before the intake's: sixteen clients posting at once keep a queue of accepts (each an fsync) that
the relayer's two writes per transaction would otherwise wait behind for hundreds of milliseconds,
and what the relayer confirms is what the clients wait for. (The index has a file of its own: its
writer is another process: Worker.start_in_process.) Readers need no lock: with a connection of their own per
thread, a read never waits for a writer (a request polling a message, the relayer reading its
queue, a page reading the index while the indexer writes).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any


class WriteLock:
    """A lock whose urgent holders (the relayer's and the indexer's writes) go before ordinary ones
    that wait (the intake's accepts); `with lock:` is an ordinary hold."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._held = False
        self._urgent_waiting = 0

    def acquire(self, urgent: bool = False) -> None:
        with self._cond:
            if urgent:
                self._urgent_waiting += 1
                while self._held:
                    self._cond.wait()
                self._urgent_waiting -= 1
            else:
                while self._held or self._urgent_waiting:
                    self._cond.wait()
            self._held = True

    def release(self) -> None:
        with self._cond:
            self._held = False
            self._cond.notify_all()

    @contextmanager
    def hold(self, urgent: bool = False) -> Iterator[None]:
        self.acquire(urgent)
        try:
            yield
        finally:
            self.release()

    def __enter__(self) -> None:
        self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


_write_locks: dict[Path, WriteLock] = {}
BUSY_TIMEOUT_MS = 30_000  # how long a SqliteFile's writer waits for another connection's lock
_write_locks_guard = threading.Lock()


def write_lock(path: Path) -> WriteLock:
    """The process's write lock of a database file, shared by every writer of that file."""
    with _write_locks_guard:
        return _write_locks.setdefault(Path(path).resolve(), WriteLock())


class ThreadReaders:
    """One read-only connection per reading thread of a database file: a read never waits for a writer."""

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
                with suppress(sqlite3.ProgrammingError):
                    db.close()
            self._all.clear()


class WriteTransaction:
    """`with` block: one SQLite write transaction under the file's write lock, taking the
    database's own write lock at BEGIN (IMMEDIATE)."""

    def __init__(self, db: sqlite3.Connection, lock: WriteLock, urgent: bool) -> None:
        self._db, self._lock, self._urgent = db, lock, urgent

    def __enter__(self) -> sqlite3.Connection:
        self._lock.acquire(self._urgent)
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise
        return self._db

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self._db.execute("ROLLBACK" if exc_type else "COMMIT")
        finally:
            self._lock.release()


def chunks(items: list[Any], n: int = 500) -> Iterator[list[Any]]:
    """`items` in slices of at most `n`: an IN (...) list within SQLite's bound parameters per statement."""
    for i in range(0, len(items), n):
        yield items[i : i + n]


def schema_columns(schema: str) -> dict[str, tuple[str, ...]]:
    """The tables a schema script creates, in its order, each with its columns in theirs: read from
    the script (run on an empty in-memory database; SQLite's own tables left out), so a store's
    statements name the columns its schema declares instead of a list restated beside it."""
    db = sqlite3.connect(":memory:")
    try:
        db.executescript(schema)
        names = db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid")
        tables = [t for (t,) in names if not t.startswith("sqlite_")]
        return {t: tuple(c[1] for c in db.execute(f"PRAGMA table_info({t})")) for t in tables}
    finally:
        db.close()


class SqliteFile:
    """A small store's database file: one writing connection (WAL, synchronous=FULL) behind the
    file's write lock, and a read-only connection per reading thread."""

    def __init__(self, path: Path, schema: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._lock = write_lock(path)
        with self._lock:
            before = {name for (name,) in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            self._db.executescript(schema)
        # The schema's tables this open made: a store fills a table added to a file written before it.
        self.created = frozenset(schema_columns(schema)) - before
        self._readers = ThreadReaders(path)

    def _tx(self) -> WriteTransaction:
        """A write transaction, taken under the file's write lock."""
        return WriteTransaction(self._db, self._lock, urgent=False)

    def _read(self) -> sqlite3.Connection:
        return self._readers.connection()

    def close(self) -> None:
        self._readers.close()
        self._db.close()
