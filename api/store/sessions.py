"""Sign-In with Ethereum's server side state: the nonces handed out (each used once, within minutes)
and the sessions they opened. A session's token is never stored, only its SHA-256: a copy of the
file opens no session."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

from .connections import SqliteFile

_SCHEMA = """
CREATE TABLE IF NOT EXISTS siwe_nonces (
    nonce TEXT PRIMARY KEY,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_siwe_nonces_expiry ON siwe_nonces (expires_at);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    chain_id INTEGER NOT NULL,
    message_digest TEXT NOT NULL,
    issued_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_sessions_expiry ON sessions (expires_at);
"""


@dataclass(frozen=True)
class Session:
    account: str  # checksummed
    chain_id: int
    message_digest: str  # 0x keccak of the signed EIP-4361 text: what the account signed to open it
    issued_at: float
    expires_at: float


class NoncesExhausted(Exception):
    """As many unexpired nonces are out as the store keeps: none is handed out until some expire."""

    def __init__(self, most: int, wait: float) -> None:
        super().__init__(f"{most} sign-in nonces are out")
        self.wait = wait  # seconds until the first of them expires


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore(SqliteFile):
    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA)

    def add_nonce(self, nonce: str, ttl: float, most: int) -> float:
        """Records a nonce handed out; returns when it expires. Expired ones are dropped on the way. With
        `most` unexpired nonces out already, stores nothing and raises NoncesExhausted: each client's rate
        is limited in front of this, and this bounds the file however many addresses ask."""
        now = time.time()
        with self._tx() as db:
            db.execute("DELETE FROM siwe_nonces WHERE expires_at < ?", (now,))
            out, first_expiry = db.execute("SELECT COUNT(*), MIN(expires_at) FROM siwe_nonces").fetchone()
            if out >= most:
                raise NoncesExhausted(most, first_expiry - now)
            db.execute("INSERT INTO siwe_nonces (nonce, expires_at) VALUES (?, ?)", (nonce, now + ttl))
        return now + ttl

    def use_nonce(self, nonce: str) -> bool:
        """Consumes a nonce: True once for a nonce handed out and not expired, False ever after."""
        with self._tx() as db:
            row = db.execute("DELETE FROM siwe_nonces WHERE nonce = ? RETURNING expires_at", (nonce,)).fetchone()
        return row is not None and row[0] >= time.time()

    def open(self, token: str, session: Session) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM sessions WHERE expires_at < ?", (time.time(),))
            db.execute(
                "INSERT INTO sessions (token_hash, account, chain_id, message_digest, issued_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    _hash(token),
                    session.account,
                    session.chain_id,
                    session.message_digest,
                    session.issued_at,
                    session.expires_at,
                ),
            )

    def get(self, token: str) -> Session | None:
        """The live session of `token`, None if unknown, ended or expired."""
        row = (
            self._read()
            .execute(
                "SELECT account, chain_id, message_digest, issued_at, expires_at FROM sessions "
                "WHERE token_hash = ? AND expires_at > ?",
                (_hash(token), time.time()),
            )
            .fetchone()
        )
        return Session(*row) if row else None

    def end(self, token: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM sessions WHERE token_hash = ?", (_hash(token),))
