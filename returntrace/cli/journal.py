"""The scan's write-ahead journal: every signed session is stored (and fsync'd) before it is posted.

A run signs a session, commits it here, then posts it; a run that is interrupted anywhere leaves
either a session that was never signed (its rows are signed by the next run) or a signed one in
the journal, which the next run posts again with the same bytes: the gateway knows a message by its
EIP-712 digest and answers a repeat with the one it queued (200), so nothing is queued twice, and no
row is ever signed a second time. A session the gateway refuses is `void` (its nonce was never
taken); the rows it refused are recorded as refusals, the others are signed again under the same
nonce, so at most one of the two signed sessions can ever be recorded on-chain.

SQLite with synchronous=FULL: a commit is on disk when it returns.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    nonce TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,      -- the signed JSON body, posted as stored
    lines TEXT NOT NULL,     -- JSON list of the input lines it signs, in item order
    state TEXT NOT NULL,     -- signed | accepted | confirmed | failed | void
    detail TEXT,
    tx TEXT,
    block INTEGER
);
CREATE TABLE IF NOT EXISTS refusals (line INTEGER PRIMARY KEY, reason TEXT NOT NULL);
"""


@dataclass
class Session:
    seq: int
    kind: str
    nonce: int
    id: str
    body: dict[str, Any]
    lines: list[int]
    state: str
    detail: str | None = None
    tx: str | None = None
    block: int | None = None


class JournalMismatch(ValueError):
    """The journal belongs to another input or signer."""


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def close_or_discard(self) -> None:
        """Closes the journal, removing its files when nothing was ever journalled in it: a run stopped
        before signing leaves nothing behind for the next run to trip over."""
        empty = not self.sessions() and not self.refusals()
        self.db.close()
        if empty:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def bind(self, **facts: str) -> None:
        """Ties the journal to its input and signer: a journal with sessions refuses another one."""
        known = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
        if self.sessions():
            for key, value in facts.items():
                if key in known and known[key] != value:
                    raise JournalMismatch(f"{key} was {known[key]}, now {value}")
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(facts.items()))

    def sessions(self) -> list[Session]:
        rows = self.db.execute(
            "SELECT seq, kind, nonce, id, body, lines, state, detail, tx, block FROM sessions ORDER BY seq"
        ).fetchall()
        return [
            Session(seq, kind, int(nonce), mid, json.loads(body), json.loads(lines), state, detail, tx, block)
            for seq, kind, nonce, mid, body, lines, state, detail, tx, block in rows
        ]

    def add(self, kind: str, nonce: int, message_id: str, body: dict[str, Any], lines: list[int]) -> Session:
        """Journals a signed session (committed, on disk) before anyone posts it."""
        with self.db:
            cur = self.db.execute(
                "INSERT INTO sessions (kind, nonce, id, body, lines, state) VALUES (?, ?, ?, ?, ?, 'signed')",
                (kind, str(nonce), message_id, json.dumps(body), json.dumps(lines)),
            )
        return Session(int(cur.lastrowid or 0), kind, nonce, message_id, body, lines, "signed")

    def update(self, session: Session, state: str, detail: str | None = None, **chain: Any) -> None:
        session.state, session.detail = state, detail
        session.tx, session.block = chain.get("tx", session.tx), chain.get("block", session.block)
        with self.db:
            self.db.execute(
                "UPDATE sessions SET state = ?, detail = ?, tx = ?, block = ? WHERE seq = ?",
                (state, detail, session.tx, session.block, session.seq),
            )

    def refuse(self, lines: list[int], reason: str) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO refusals VALUES (?, ?)", [(n, reason) for n in lines])

    def refusals(self) -> dict[int, str]:
        return dict(self.db.execute("SELECT line, reason FROM refusals").fetchall())

    def signed_lines(self) -> Iterator[int]:
        """Lines in a live (not void) session: signed once, never again."""
        for s in self.sessions():
            if s.state != "void":
                yield from s.lines
