"""The durable outbox: accepted signed messages, the transactions that carry them, their fate.

`Outbox` is the interface the relayer and the intake use; `SqliteOutbox` fills it with SQLite
(WAL, synchronous=FULL: an accepted message survives a crash of the process or the machine).
A PostgreSQL backend for several gateway replicas fills the same interface.

Exactly once: a message moves accepted → submitted (with the hash of a signed transaction that
is stored *before* it is broadcast) → confirmed or failed. After a crash the relayer finds the
stored transaction and re-broadcasts the same bytes or reads its receipt; the contracts' signer
nonces make a second inclusion impossible anyway.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from eth_utils import keccak

from returntrace.kinds import KINDS

from .connections import ThreadReaders, WriteTransaction, chunks, write_lock

# Which contract's nonces a message kind consumes (returntrace/kinds.py).
CONTRACT_OF_KIND = {name: kind.contract for name, kind in KINDS.items()}


@dataclass(frozen=True)
class Message:
    id: str  # 0x EIP-712 digest: the same signed message always has the same id
    kind: str
    signer: str
    nonce: int
    deadline: int
    item_count: int
    body: dict[str, Any]
    status: str  # accepted | submitted | confirmed | failed
    tx_hash: str | None
    block: int | None
    error: str | None
    accepted_at: float
    updated_at: float

    @classmethod
    def candidate(
        cls, id: str, kind: str, signer: str, nonce: int, deadline: int, item_count: int, body: dict[str, Any]
    ) -> Message:
        """A message before the outbox accepts it: `accept` stamps its times (the status is "accepted")."""
        return cls(id, kind, signer, nonce, deadline, item_count, body, "accepted", None, None, None, 0.0, 0.0)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "signer": self.signer,
            "nonce": self.nonce,
            "items": self.item_count,
            "status": self.status,
            "txHash": self.tx_hash,
            "block": self.block,
            "error": self.error,
            "acceptedAt": self.accepted_at,
            "updatedAt": self.updated_at,
        }


@dataclass(frozen=True)
class SentTransaction:
    tx_hash: str
    relayer_nonce: int
    raw: str
    message_ids: list[str]


class NonceConflict(Exception):
    """Another message from the signer already holds this nonce, or the nonce skips ahead."""

    def __init__(self, expected: int, provided: int) -> None:
        super().__init__(f"nonce {provided} is not the signer's next nonce {expected}")
        self.expected, self.provided = expected, provided


class UnitConflict(Exception):
    """A live commissioning already creates this unit."""

    def __init__(self, unit_id: str) -> None:
        super().__init__(f"unit {unit_id} is already being commissioned")
        self.unit_id = unit_id


# What a queued message will do to a unit, recorded with it so that the intake refuses what the
# chain would refuse once it is mined: "close" (an event that closes the unit), "pack" (an ADD puts
# the unit in a parcel), "fill" (an ADD puts units in this parcel). Created units: message_units.
MARKS = ("close", "pack", "fill")


class Outbox(Protocol):
    def accept(
        self, message: Message, chain_nonce: int, units: Iterable[str] = (), marks: Iterable[tuple[str, str]] = ()
    ) -> tuple[Message, bool]: ...
    def is_pending_unit(self, unit_id: str) -> bool: ...
    def evidence_referenced(self, digests: list[str], statuses: tuple[str, ...]) -> set[str]: ...
    def defect_claims(self, digest: str | None = None) -> list[tuple[int, str]]: ...
    def marked(self, unit_ids: Iterable[str], mark: str) -> set[str]: ...
    def enqueue(self, message: Message) -> tuple[Message, bool]: ...
    def get(self, message_id: str) -> Message | None: ...
    def next_nonce(self, kind: str, signer: str, chain_nonce: int) -> int: ...
    def pending(self, limit_items: int) -> list[Message]: ...
    def record_transaction(self, tx: SentTransaction) -> None: ...
    def unfinished_transactions(self) -> list[SentTransaction]: ...
    def confirm_transaction(self, tx_hash: str, block: int, follow_ups: Iterable[Message] = ()) -> None: ...
    def drop_transaction(self, tx_hash: str, requeue: bool) -> None: ...
    def fail(self, message_ids: Iterable[str], reason: str) -> None: ...
    def max_relayer_nonce(self) -> int | None: ...
    def depth(self) -> dict[str, int]: ...
    def close(self) -> None: ...


# Nonces are uint256 and deadlines uint64 on-chain, past SQLite's signed 64-bit INTEGER (increaseNonce
# can push a signer beyond 2**63; 2**64-1 is the usual "never expires" deadline). They are stored as
# zero-padded decimal TEXT of a fixed width, whose lexical order is their numeric order, so that
# MAX(nonce) and the live-nonce index keep working.
NONCE_DIGITS = len(str(2**256 - 1))  # 78
DEADLINE_DIGITS = len(str(2**64 - 1))  # 20


_MESSAGES = f"""(
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    contract TEXT NOT NULL,
    signer TEXT NOT NULL,
    nonce TEXT NOT NULL CHECK (length(nonce) = {NONCE_DIGITS}),
    deadline TEXT NOT NULL CHECK (length(deadline) = {DEADLINE_DIGITS}),
    item_count INTEGER NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    tx_hash TEXT,
    block INTEGER,
    error TEXT,
    accepted_at REAL NOT NULL,
    updated_at REAL NOT NULL
)"""

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS messages {_MESSAGES};
-- One live message per (contract, signer, nonce): the guard against accepting a nonce twice.
CREATE UNIQUE INDEX IF NOT EXISTS messages_live_nonce ON messages(contract, signer, nonce) WHERE status != 'failed';
CREATE INDEX IF NOT EXISTS messages_status ON messages(status, seq);
CREATE TABLE IF NOT EXISTS transactions (
    tx_hash TEXT PRIMARY KEY,
    relayer_nonce INTEGER NOT NULL,
    raw TEXT NOT NULL,
    message_ids TEXT NOT NULL,
    status TEXT NOT NULL,
    block INTEGER,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS transactions_status ON transactions(status);
-- Units that accepted commissionings create: events for them may be accepted before they are mined.
CREATE TABLE IF NOT EXISTS message_units (
    unit_id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL
);
-- The deployment (chain id and contract addresses, JSON) whose contracts the messages here are signed for.
CREATE TABLE IF NOT EXISTS outbox_deployment (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    deployment TEXT NOT NULL
);
-- The evidence digests accepted messages carry (EVIDENCE_OF): uploads they keep (api/store/evidence/staging.py).
CREATE TABLE IF NOT EXISTS message_evidence (
    digest TEXT NOT NULL,
    message_id TEXT NOT NULL,
    PRIMARY KEY (digest, message_id)
);
-- What queued messages will do to units (MARKS): counted while the message is accepted or submitted.
CREATE TABLE IF NOT EXISTS message_marks (
    unit_id TEXT NOT NULL,
    mark TEXT NOT NULL,
    message_id TEXT NOT NULL,
    PRIMARY KEY (unit_id, mark, message_id)
);
"""

# Every non-zero `evidence` field of the bodies of the messages `{which}` selects (events' own, a claim's, an
# inspection's), as message_evidence rows: run for each accepted message, and once over an outbox written before.
EVIDENCE_OF = (
    "INSERT OR IGNORE INTO message_evidence (digest, message_id) SELECT DISTINCT lower(f.value), m.id"
    " FROM messages m, json_tree(m.body) f WHERE m.{which} AND f.key = 'evidence' AND f.type = 'text'"
    " AND ltrim(substr(f.value, 3), '0') != ''"
)

_COLUMNS = "id, kind, signer, nonce, deadline, item_count, body, status, tx_hash, block, error, accepted_at, updated_at"


def _fixed(value: int, digits: int) -> str:
    """`value` as zero-padded decimal of `digits` digits (the schema bounds what reaches here)."""
    if not 0 <= value < 10**digits:
        raise ValueError(f"{value} does not fit in {digits} decimal digits")
    return f"{value:0{digits}d}"


def _row_to_message(row: tuple) -> Message:
    return Message(
        id=row[0],
        kind=row[1],
        signer=row[2],
        nonce=int(row[3]),
        deadline=int(row[4]),
        item_count=row[5],
        body=json.loads(row[6]),
        status=row[7],
        tx_hash=row[8],
        block=row[9],
        error=row[10],
        accepted_at=row[11],
        updated_at=row[12],
    )


class SqliteOutbox:
    """SQLite outbox shared by the request threads, the relayer and the indexer of one process."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        listed = self._db.execute("SELECT 1 FROM sqlite_master WHERE name = 'message_evidence'").fetchone()
        self._db.executescript(_SCHEMA)
        self._migrate()
        if not listed:  # messages accepted before their evidence was listed (idempotent: another process may too)
            self._db.execute(EVIDENCE_OF.format(which="id IS NOT NULL"))
        self._lock = write_lock(path)  # every writer of this file in the process
        self._readers = ThreadReaders(path)

    def _migrate(self) -> None:
        """An outbox written before nonces and deadlines were TEXT (INTEGER columns) is rebuilt once,
        in one transaction, keeping every row and its seq (the relaying order). SQLite cannot change
        a column's type in place, and an INTEGER column would turn a long decimal text into a REAL."""

        def integer_columns() -> bool:
            types = {row[1]: row[2].upper() for row in self._db.execute("PRAGMA table_info(messages)")}
            return types.get("nonce") == "INTEGER"

        if not integer_columns():
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            if integer_columns():  # another process may have migrated it meanwhile
                self._db.execute(f"CREATE TABLE messages_text_numbers {_MESSAGES}")
                self._db.execute(
                    f"INSERT INTO messages_text_numbers (seq, {_COLUMNS}, contract)"
                    f" SELECT seq, id, kind, signer, printf('%0{NONCE_DIGITS}d', nonce), "
                    f"printf('%0{DEADLINE_DIGITS}d', deadline),"
                    " item_count, body, status, tx_hash, block, error, accepted_at, updated_at, contract FROM messages"
                )
                self._db.execute("DROP TABLE messages")  # and its indexes, made again below
                self._db.execute("ALTER TABLE messages_text_numbers RENAME TO messages")
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.executescript(_SCHEMA)

    def _tx(self, write: bool = True, urgent: bool = True):
        """A write transaction on the shared connection under the file's write lock (urgent: the
        relayer's, served before the intake's accepts), or a read transaction on this thread's own
        connection: reads (the relayer's queue, message polls, /readyz) never wait for a writer."""
        return WriteTransaction(self._db, self._lock, urgent) if write else self._readers.transaction()

    def writes_held(self) -> WriteTransaction:
        """This file's write lock (the process's and the database's), held: no message or document is
        accepted until it is released (Staging.sweep decides which staged files nothing references)."""
        return self._tx(urgent=False)

    def accept(
        self, message: Message, chain_nonce: int, units: Iterable[str] = (), marks: Iterable[tuple[str, str]] = ()
    ) -> tuple[Message, bool]:
        """Stores a checked message once. Returns (the stored message, whether it is new).

        The nonce must be the signer's next one: the chain's nonce, or one past the signer's
        last live message here. Raises NonceConflict otherwise. `units` are the unit ids a
        commissioning creates; `marks` (unit id, mark) what the message does to units (MARKS).
        The row is made before the write lock is taken: every other writer waits while it is held."""
        contract = CONTRACT_OF_KIND[message.kind]
        fields = (
            message.id,
            message.kind,
            contract,
            message.signer,
            _fixed(message.nonce, NONCE_DIGITS),
            _fixed(message.deadline, DEADLINE_DIGITS),
            message.item_count,
            json.dumps(message.body),
        )
        units, mark_rows = list(units), [(u, mark, message.id) for u, mark in marks]
        with self._tx(urgent=False) as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM messages WHERE id = ?", (message.id,)).fetchone()
            if row:
                return _row_to_message(row), False
            expected = self._next_nonce(db, contract, message.signer, chain_nonce)
            if message.nonce != expected:
                raise NonceConflict(expected, message.nonce)
            now = time.time()
            db.execute(
                "INSERT INTO messages (id, kind, contract, signer, nonce, deadline, item_count, body, status, "
                "accepted_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'accepted', ?, ?)",
                (*fields, now, now),
            )
            for u in units:
                try:
                    db.execute("INSERT INTO message_units (unit_id, message_id) VALUES (?, ?)", (u, message.id))
                except sqlite3.IntegrityError as exc:
                    raise UnitConflict(u) from exc
            db.executemany(
                "INSERT OR IGNORE INTO message_marks (unit_id, mark, message_id) VALUES (?, ?, ?)", mark_rows
            )
            db.execute(EVIDENCE_OF.format(which="id = ?"), (message.id,))
        return (
            replace(message, status="accepted", tx_hash=None, block=None, error=None, accepted_at=now, updated_at=now),
            True,
        )

    @staticmethod
    def _next_nonce(db: sqlite3.Connection, contract: str, signer: str, chain_nonce: int) -> int:
        """One past the signer's last live message, or the chain's nonce if that is higher. A
        confirmed message counts: the chain nonce was read before this transaction, and the relayer
        may have confirmed the signer's last message since (the read is then one behind)."""
        (last,) = db.execute(
            "SELECT MAX(nonce) FROM messages WHERE contract = ? AND signer = ? AND status != 'failed'",
            (contract, signer),
        ).fetchone()
        return chain_nonce if last is None else max(chain_nonce, int(last) + 1)

    def evidence_referenced(self, digests: list[str], statuses: tuple[str, ...]) -> set[str]:
        """Those of `digests` (0x-hex) that a message in one of `statuses` carries as evidence."""
        found: set[str] = set()
        marks = ", ".join("?" * len(statuses))
        with self._tx(write=False) as db:
            for chunk in chunks(sorted({d.lower() for d in digests})):
                rows = db.execute(
                    f"SELECT DISTINCT e.digest FROM message_evidence e JOIN messages m ON m.id = e.message_id"
                    f" WHERE m.status IN ({marks}) AND e.digest IN ({', '.join('?' * len(chunk))})",
                    (*statuses, *chunk),
                )
                found.update(row[0] for row in rows)
        return found

    def defect_claims(self, digest: str | None = None) -> list[tuple[int, str]]:
        """(order id, photo digest) of every DefectClaim accepted here that has not failed (on its way or
        confirmed), in acceptance order; with `digest` (0x-hex), those naming it."""
        sql = (
            "SELECT json_extract(m.body, '$.orderId'), e.digest FROM message_evidence e"
            " JOIN messages m ON m.id = e.message_id WHERE m.kind = 'DefectClaim' AND m.status != 'failed'"
        )
        with self._tx(write=False) as db:
            if digest is None:
                rows = db.execute(sql + " ORDER BY m.seq").fetchall()
            else:
                rows = db.execute(sql + " AND e.digest = ? ORDER BY m.seq", (digest.lower(),)).fetchall()
        return [(int(order_id), evidence) for order_id, evidence in rows]

    def next_nonce(self, kind: str, signer: str, chain_nonce: int) -> int:
        with self._tx(write=False) as db:
            return self._next_nonce(db, CONTRACT_OF_KIND[kind], signer, chain_nonce)

    def is_pending_unit(self, unit_id: str) -> bool:
        """True while an accepted or submitted commissioning creates this unit."""
        with self._tx(write=False) as db:
            row = db.execute(
                "SELECT 1 FROM message_units u JOIN messages m ON m.id = u.message_id WHERE u.unit_id = ? AND "
                "m.status IN ('accepted', 'submitted', 'confirmed')",
                (unit_id,),
            ).fetchone()
        return row is not None

    def marked(self, unit_ids: Iterable[str], mark: str) -> set[str]:
        """Which of these units a queued (accepted or submitted) message marks with `mark`; for
        "close" a confirmed one too, since a closed unit never reopens (the reader may still hold a
        read from before the close for its TTL). A failed message never happened."""
        ids = sorted(set(unit_ids))
        out: set[str] = set()
        with self._tx(write=False) as db:
            for chunk in chunks(ids):
                out.update(
                    r[0]
                    for r in db.execute(
                        f"SELECT k.unit_id FROM message_marks k JOIN messages m ON m.id = k.message_id"
                        f" WHERE k.mark = ? AND k.unit_id IN ({', '.join('?' * len(chunk))})"
                        " AND (m.status IN ('accepted', 'submitted') OR (k.mark = 'close' AND m.status = 'confirmed'))",
                        [mark, *chunk],
                    )
                )
        return out

    def get(self, message_id: str) -> Message | None:
        with self._tx(write=False) as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM messages WHERE id = ?", (message_id,)).fetchone()
        return _row_to_message(row) if row else None

    def pending(self, limit_items: int) -> list[Message]:
        """Accepted messages in acceptance order, up to `limit_items` items (at least one message)."""
        out: list[Message] = []
        total = 0
        with self._tx(write=False) as db:
            for row in db.execute(f"SELECT {_COLUMNS} FROM messages WHERE status = 'accepted' ORDER BY seq"):
                m = _row_to_message(row)
                if out and total + m.item_count > limit_items:
                    break
                out.append(m)
                total += m.item_count
        return out

    def record_transaction(self, tx: SentTransaction) -> None:
        """Stores a signed transaction and marks its messages submitted, before it is broadcast."""
        now = time.time()
        with self._tx() as db:
            db.execute(
                "INSERT INTO transactions (tx_hash, relayer_nonce, raw, message_ids, status, created_at) VALUES "
                "(?, ?, ?, ?, 'sent', ?)",
                (tx.tx_hash, tx.relayer_nonce, tx.raw, json.dumps(tx.message_ids), now),
            )
            db.executemany(
                "UPDATE messages SET status = 'submitted', tx_hash = ?, updated_at = ? WHERE id = ? AND status = "
                "'accepted'",
                [(tx.tx_hash, now, mid) for mid in tx.message_ids],
            )

    def unfinished_transactions(self) -> list[SentTransaction]:
        with self._tx(write=False) as db:
            rows = db.execute(
                "SELECT tx_hash, relayer_nonce, raw, message_ids FROM transactions WHERE status = 'sent' ORDER BY "
                "relayer_nonce"
            ).fetchall()
        return [SentTransaction(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def confirm_transaction(self, tx_hash: str, block: int, follow_ups: Iterable[Message] = ()) -> None:
        """Marks the transaction mined and its messages confirmed; `follow_ups` (the gateway's own
        messages the confirmation calls for) are stored in the same database transaction."""
        now = time.time()
        with self._tx() as db:
            db.execute("UPDATE transactions SET status = 'mined', block = ? WHERE tx_hash = ?", (block, tx_hash))
            db.execute(
                "UPDATE messages SET status = 'confirmed', block = ?, updated_at = ? WHERE tx_hash = ? AND status "
                "= 'submitted'",
                (block, now, tx_hash),
            )
            for m in follow_ups:
                self._insert_own(db, m, now)

    def enqueue(self, message: Message) -> tuple[Message, bool]:
        """Stores one of the gateway's own (unsigned) messages once, keyed by its id. Returns (the
        stored message, whether it is new); a failed one stays failed."""
        with self._tx(urgent=False) as db:
            created = self._insert_own(db, message, time.time())
            row = db.execute(f"SELECT {_COLUMNS} FROM messages WHERE id = ?", (message.id,)).fetchone()
            return _row_to_message(row), created

    @staticmethod
    def _insert_own(db: sqlite3.Connection, m: Message, now: float) -> bool:
        cur = db.execute(
            "INSERT INTO messages (id, kind, contract, signer, nonce, deadline, item_count, body, status, "
            "accepted_at, updated_at)"
            " VALUES (?, ?, 'gateway', ?, ?, ?, ?, ?, 'accepted', ?, ?) ON CONFLICT DO NOTHING",
            (
                m.id,
                m.kind,
                m.signer,
                _fixed(m.nonce, NONCE_DIGITS),
                _fixed(m.deadline, DEADLINE_DIGITS),
                m.item_count,
                json.dumps(m.body),
                now,
                now,
            ),
        )
        return cur.rowcount == 1

    def drop_transaction(self, tx_hash: str, requeue: bool) -> None:
        """The transaction will never be mined (or reverted): its messages go back to the queue
        (`requeue`) for the relayer to check one by one, or stay as they were marked."""
        now = time.time()
        with self._tx() as db:
            db.execute("UPDATE transactions SET status = 'dropped' WHERE tx_hash = ?", (tx_hash,))
            if requeue:
                db.execute(
                    "UPDATE messages SET status = 'accepted', tx_hash = NULL, updated_at = ? WHERE tx_hash = ? "
                    "AND status = 'submitted'",
                    (now, tx_hash),
                )

    def fail(self, message_ids: Iterable[str], reason: str) -> None:
        now = time.time()
        ids = list(message_ids)
        with self._tx() as db:
            db.executemany(
                "UPDATE messages SET status = 'failed', error = ?, updated_at = ? WHERE id = ? AND status IN "
                "('accepted', 'submitted')",
                [(reason, now, mid) for mid in ids],
            )
            db.executemany("DELETE FROM message_units WHERE message_id = ?", [(mid,) for mid in ids])

    def max_relayer_nonce(self) -> int | None:
        with self._tx(write=False) as db:
            (n,) = db.execute("SELECT MAX(relayer_nonce) FROM transactions WHERE status != 'archived'").fetchone()
        return n

    def bind(self, deployment: dict[str, Any]) -> bool:
        """Ties the outbox to one deployment (`{"chainId", contract name: address}`).

        Signed messages name their contract (the EIP-712 domain's verifyingContract), so a gateway
        that switches manifests first relays everything it accepted under the old one: while any
        message or transaction of another deployment is unfinished, raises OutboxNotDrained (run the
        gateway on the old manifest until `/readyz` shows an empty queue). A drained outbox is
        rebound: the old messages stay readable (GET /v1/messages/{id}) under their old deployment,
        out of the new one's nonce accounting and of its units (what they created or closed). An
        outbox written before bindings existed counts as another deployment's. Returns True if it was rebound."""
        key = json.dumps(deployment, sort_keys=True)
        with self._tx() as db:
            row = db.execute("SELECT deployment FROM outbox_deployment WHERE id = 1").fetchone()
            if row is not None and row[0] == key:
                return False
            (count,) = db.execute("SELECT COUNT(*) FROM messages").fetchone()
            if row is None and count == 0:  # a new outbox
                db.execute("INSERT INTO outbox_deployment (id, deployment) VALUES (1, ?)", (key,))
                return False
            old = row[0] if row else "unbound"
            (unfinished,) = db.execute(
                "SELECT COUNT(*) FROM messages WHERE status IN ('accepted', 'submitted')"
            ).fetchone()
            (sent,) = db.execute("SELECT COUNT(*) FROM transactions WHERE status = 'sent'").fetchone()
            if unfinished or sent:
                raise OutboxNotDrained(
                    f"the outbox holds {unfinished} messages and {sent} transactions not yet on-chain, signed for "
                    f"deployment {old}: "
                    "run the gateway with that deployment's manifest until /readyz shows an empty queue, then "
                    "switch manifests"
                )
            tag = (
                "@" + keccak(text=old).hex()[:16]
            )  # the old deployment's messages keep their rows, under their own key
            db.execute("UPDATE messages SET contract = contract || ? WHERE instr(contract, '@') = 0", (tag,))
            db.execute("UPDATE transactions SET status = 'archived'")
            # What those messages did to units (created, closed, packed) is about the old registry's
            # units: under the new one the same ids are other units, created and closed by its own messages.
            db.execute("DELETE FROM message_units")
            db.execute("DELETE FROM message_marks")
            db.execute("INSERT OR REPLACE INTO outbox_deployment (id, deployment) VALUES (1, ?)", (key,))
            return True

    def depth(self) -> dict[str, int]:
        with self._tx(write=False) as db:
            rows = db.execute("SELECT status, COUNT(*) FROM messages GROUP BY status").fetchall()
        counts = {"accepted": 0, "submitted": 0, "confirmed": 0, "failed": 0}
        counts.update(dict(rows))
        return counts

    def close(self) -> None:
        self._readers.close()
        with self._lock:
            self._db.close()


class OutboxNotDrained(RuntimeError):
    """The outbox holds messages signed for another deployment that are not on-chain yet."""
