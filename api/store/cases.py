"""The return desk's cases: one per order handed to a person, the buyer's own words kept apart (and
only with their consent, for a stated time), an append-only log of every action, the evidence
files private to an order's parties, and the product-safety notifications' outbox.

Codes (language, reason, confidence, handoff reasons) stay with the case for good; the texts are
the only personal data beyond the buyer's account, and are deleted on erasure or after the
retention period (api/write/cases.py). The log refuses updates and deletes (SQLite triggers).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .connections import BUSY_TIMEOUT_MS, SqliteFile, schema_columns

log = logging.getLogger("api.store.cases")
CHECKPOINT_WAIT_MS = 1000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id INTEGER,
    gtin TEXT,
    serial TEXT,
    unit_id TEXT,
    buyer TEXT,
    organization INTEGER NOT NULL,
    brand_organization INTEGER,
    market INTEGER,
    language TEXT,
    reason TEXT,
    confidence REAL,
    why TEXT NOT NULL,
    urgent INTEGER NOT NULL,
    history TEXT NOT NULL,
    status TEXT NOT NULL,
    opened_at REAL NOT NULL,
    due_at REAL NOT NULL,
    offer TEXT,
    dispute TEXT,
    closed_at REAL,
    outcome TEXT
);
CREATE INDEX IF NOT EXISTS idx_cases_organization ON cases (organization, status, due_at);
CREATE INDEX IF NOT EXISTS idx_cases_order ON cases (order_id, status);
CREATE INDEX IF NOT EXISTS idx_cases_buyer ON cases (buyer);
CREATE TABLE IF NOT EXISTS case_texts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    buyer TEXT NOT NULL,
    text TEXT NOT NULL,
    consent TEXT NOT NULL,
    stored_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_case_texts_buyer ON case_texts (buyer);
CREATE INDEX IF NOT EXISTS idx_case_texts_stored ON case_texts (stored_at);
CREATE TABLE IF NOT EXISTS case_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL,
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_case_log_case ON case_log (case_id, seq);
CREATE TRIGGER IF NOT EXISTS case_log_no_update BEFORE UPDATE ON case_log
    BEGIN SELECT RAISE(ABORT, 'the case log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS case_log_no_delete BEFORE DELETE ON case_log
    BEGIN SELECT RAISE(ABORT, 'the case log is append-only'); END;
CREATE TABLE IF NOT EXISTS private_evidence (
    cid TEXT NOT NULL,
    order_id INTEGER NOT NULL,
    uploaded_by TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (cid, order_id)
);
CREATE TABLE IF NOT EXISTS notifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL,
    organization INTEGER NOT NULL,
    contact TEXT,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at REAL NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    sent_at REAL
);
CREATE INDEX IF NOT EXISTS idx_notifications_status ON notifications (status, id);
"""

OPEN, OFFERED, ESCALATED, CLOSED = "open", "offered", "escalated", "closed"
SYSTEM = "gateway"  # the log's actor for what the gateway does by itself


@dataclass(frozen=True)
class NewCase:
    """What a handoff opens a case with (or joins the order's open case with)."""

    order_id: int | None
    gtin: str | None
    serial: str | None
    unit_id: str | None
    buyer: str | None
    organization: int  # who answers it: the merchant's organisation (the brand's for a unit without order)
    brand_organization: int | None
    market: int | None
    language: str | None
    reason: str | None
    confidence: float | None
    why: tuple[str, ...]
    urgent: bool
    history: dict[str, Any]  # the unit's verified history: its page and its on-chain record at a block
    due_at: float

    def row(self) -> dict[str, Any]:
        """{column: value} of the cases table, the JSON and boolean columns encoded as Case.of decodes them."""
        values = {f.name: getattr(self, f.name) for f in fields(NewCase)}
        values["why"] = json.dumps(list(self.why))
        values["urgent"] = int(self.urgent)
        values["history"] = json.dumps(self.history, sort_keys=True)
        return values


@dataclass(frozen=True)
class Case(NewCase):
    """A case as stored: the handoff's facts (joins add reasons and urgency, and may bring `due_at`
    forward), and what became of it."""

    id: int
    status: str
    opened_at: float
    offer: dict[str, Any] | None
    dispute: dict[str, Any] | None  # escalation: the prepared call, then the OrderDisputed log
    closed_at: float | None
    outcome: str | None

    @classmethod
    def of(cls, row: tuple[Any, ...]) -> Case:
        """The case a row selected with _CASE_COLUMNS holds."""
        values = dict(zip(_CASE_FIELDS, row, strict=True))
        values["why"] = tuple(json.loads(values["why"]))
        values["urgent"] = bool(values["urgent"])
        values["history"] = json.loads(values["history"])
        values["offer"] = json.loads(values["offer"]) if values["offer"] else None
        values["dispute"] = json.loads(values["dispute"]) if values["dispute"] else None
        return cls(**values)


# The cases table's columns are named as Case's fields.
_CASE_FIELDS = tuple(f.name for f in fields(Case))
_CASE_COLUMNS = ", ".join(_CASE_FIELDS)


@dataclass(frozen=True)
class LogEntry:
    seq: int
    case_id: int
    at: float
    actor: str
    action: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class Notification:
    id: int
    case_id: int
    organization: int
    contact: str | None
    subject: str
    body: str
    created_at: float
    status: str  # pending | sent | no_contact
    attempts: int
    last_error: str | None
    sent_at: float | None


def _log(db: Any, case_id: int, actor: str, action: str, detail: dict[str, Any], at: float) -> None:
    db.execute(
        "INSERT INTO case_log (case_id, at, actor, action, detail) VALUES (?, ?, ?, ?, ?)",
        (case_id, at, actor, action, json.dumps(detail, sort_keys=True)),
    )


class CaseStore(SqliteFile):
    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA)
        # A deleted text's bytes are overwritten, not left in free pages for a copy of the file to read.
        self._db.execute("PRAGMA secure_delete = ON")
        self.checkpoint_owed = False  # a checkpoint after an erasure that a reader held back (_forget_deleted)

    # ------------------------------------------------------------------ cases

    def open_or_join(
        self, new: NewCase, actor: str, text: str | None, consent: str | None, now: float | None = None
    ) -> tuple[Case, bool]:
        """The order's live case, joined by this handoff (its reasons added, urgency kept once set), or
        a new one; the buyer's text stored with its consent when given. True if opened."""
        now = time.time() if now is None else now
        with self._tx() as db:
            row = None
            if new.order_id is not None:
                row = db.execute(
                    f"SELECT {_CASE_COLUMNS} FROM cases WHERE order_id = ? AND status != ? ORDER BY id DESC LIMIT 1",
                    (new.order_id, CLOSED),
                ).fetchone()
            handoff = {"why": list(new.why), "language": new.language, "reason": new.reason}
            if row is not None:
                case = Case.of(row)
                why = tuple(dict.fromkeys(case.why + new.why))
                urgent = case.urgent or new.urgent
                due_at = min(case.due_at, new.due_at)
                db.execute(
                    "UPDATE cases SET why = ?, urgent = ?, due_at = ? WHERE id = ?",
                    (json.dumps(why), int(urgent), due_at, case.id),
                )
                _log(db, case.id, actor, "handoff_joined", handoff, now)
                case_id, opened = case.id, False
            else:
                row = {**new.row(), "status": OPEN, "opened_at": now}
                cur = db.execute(
                    f"INSERT INTO cases ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values())
                )
                case_id, opened = int(cur.lastrowid or 0), True
                _log(db, case_id, actor, "opened", handoff, now)
            if text is not None and new.buyer is not None and consent is not None:
                db.execute(
                    "INSERT INTO case_texts (case_id, buyer, text, consent, stored_at) VALUES (?, ?, ?, ?, ?)",
                    (case_id, new.buyer, text, consent, now),
                )
                _log(db, case_id, actor, "text_stored", {"consent": consent, "chars": len(text)}, now)
            case = Case.of(db.execute(f"SELECT {_CASE_COLUMNS} FROM cases WHERE id = ?", (case_id,)).fetchone())
        return case, opened

    def get(self, case_id: int) -> Case | None:
        row = self._read().execute(f"SELECT {_CASE_COLUMNS} FROM cases WHERE id = ?", (case_id,)).fetchone()
        return Case.of(row) if row else None

    def of_organization(self, organization: int, include_closed: bool = False) -> list[Case]:
        """An organisation's cases, the most urgent first, then by due time."""
        rows = (
            self._read()
            .execute(
                f"SELECT {_CASE_COLUMNS} FROM cases WHERE organization = ? AND (? OR status != ?) "
                "ORDER BY status = ?, urgent DESC, due_at, id",
                (organization, int(include_closed), CLOSED, CLOSED),
            )
            .fetchall()
        )
        return [Case.of(r) for r in rows]

    def of_buyer(self, buyer: str) -> list[Case]:
        rows = self._read().execute(f"SELECT {_CASE_COLUMNS} FROM cases WHERE buyer = ? ORDER BY id", (buyer,))
        return [Case.of(r) for r in rows.fetchall()]

    def update(
        self, case_id: int, actor: str, action: str, detail: dict[str, Any], now: float | None = None, **columns: Any
    ) -> Case:
        """Sets `columns` (status, offer, dispute, closed_at, outcome) and logs the action, in one transaction."""
        now = time.time() if now is None else now
        allowed = {"status", "offer", "dispute", "closed_at", "outcome"}
        if not set(columns) <= allowed:
            raise ValueError(f"columns {sorted(set(columns) - allowed)} are not updatable")
        values = {k: json.dumps(v, sort_keys=True) if k in ("offer", "dispute") else v for k, v in columns.items()}
        with self._tx() as db:
            if values:
                assignments = ", ".join(f"{k} = ?" for k in values)
                db.execute(f"UPDATE cases SET {assignments} WHERE id = ?", (*values.values(), case_id))
            _log(db, case_id, actor, action, detail, now)
            row = db.execute(f"SELECT {_CASE_COLUMNS} FROM cases WHERE id = ?", (case_id,)).fetchone()
        return Case.of(row)

    def log(self, case_id: int) -> list[LogEntry]:
        rows = self._read().execute(
            "SELECT seq, case_id, at, actor, action, detail FROM case_log WHERE case_id = ? ORDER BY seq", (case_id,)
        )
        return [LogEntry(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows.fetchall()]

    # ------------------------------------------------------------------ the buyers' texts

    def texts(self, case_id: int, stored_from: float | None = None) -> list[dict[str, Any]]:
        """The case's texts; with `stored_from`, only those stored from then on (within the retention period)."""
        rows = self._read().execute(
            "SELECT text, consent, stored_at FROM case_texts WHERE case_id = ? AND (? IS NULL OR stored_at >= ?) "
            "ORDER BY id",
            (case_id, stored_from, stored_from),
        )
        return [{"text": t, "consent": c, "storedAt": at} for t, c, at in rows.fetchall()]

    def _forget_deleted(self) -> None:
        """Moves the write-ahead log into the database and empties it: until then the database file keeps the
        deleted text as last checkpointed, and the log the pages that held it (secure_delete zeroes them in
        the pages written after the deletion, which reach the database only by a checkpoint). A reader on an
        older snapshot holds it back: it waits CHECKPOINT_WAIT_MS at most (under the write lock, every writer
        waits with it), then is owed to the next erasure or purge, and says so."""
        with self._lock:
            self._db.execute(f"PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}")
            try:
                busy, _, _ = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self.checkpoint_owed = bool(busy)
        if busy:
            log.warning("%s: a reader held the checkpoint back; erased words stay in its log until the next", self.path)

    def erase_texts(self, buyer: str, detail: dict[str, Any], now: float | None = None) -> dict[int, int]:
        """Deletes every text of `buyer` (their signed request); logs the erasure on each case of theirs,
        with `detail` (what proved the request). Case id -> texts erased."""
        now = time.time() if now is None else now
        with self._tx() as db:
            per_case = _count(
                db.execute("DELETE FROM case_texts WHERE buyer = ? RETURNING case_id", (buyer,)).fetchall()
            )
            for (case_id,) in db.execute("SELECT id FROM cases WHERE buyer = ?", (buyer,)).fetchall():
                _log(db, case_id, buyer, "texts_erased", {**detail, "texts": per_case.get(case_id, 0)}, now)
        if per_case or self.checkpoint_owed:
            self._forget_deleted()
        return per_case

    def purge_texts(self, older_than: float, now: float | None = None) -> int:
        """Deletes the texts stored before `older_than` (the retention period); logs it per case."""
        now = time.time() if now is None else now
        with self._tx() as db:
            erased = db.execute("DELETE FROM case_texts WHERE stored_at < ? RETURNING case_id", (older_than,))
            per_case = _count(erased.fetchall())
            for case_id, count in per_case.items():
                _log(db, case_id, SYSTEM, "texts_purged", {"texts": count, "storedBefore": older_than}, now)
        if per_case or self.checkpoint_owed:
            self._forget_deleted()
        return sum(per_case.values())

    # ------------------------------------------------------------------ private evidence

    def make_private(self, cid: str, order_id: int, uploaded_by: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO private_evidence (cid, order_id, uploaded_by, at) VALUES (?, ?, ?, ?)",
                (cid, order_id, uploaded_by, time.time()),
            )

    def private_orders(self, cid: str) -> list[int]:
        """The orders whose parties (and the auditors) alone may read `cid`; empty: public evidence."""
        rows = self._read().execute("SELECT order_id FROM private_evidence WHERE cid = ? ORDER BY order_id", (cid,))
        return [r[0] for r in rows.fetchall()]

    def make_public_private(self, cid: str, order_ids: list[int], by: str) -> bool:
        """Makes `cid` private to `order_ids` if it is public evidence now (bound to no order), in one
        transaction; False, changing nothing, if it is private to some order already: a file private to
        one order is never given to another's parties by this (a defect claim names a digest, not the
        bytes: anyone can name a photo's digest once it is on-chain)."""
        with self._tx() as db:
            if db.execute("SELECT 1 FROM private_evidence WHERE cid = ? LIMIT 1", (cid,)).fetchone():
                return False
            now = time.time()
            db.executemany(
                "INSERT INTO private_evidence (cid, order_id, uploaded_by, at) VALUES (?, ?, ?, ?)",
                [(cid, order_id, by, now) for order_id in sorted(set(order_ids))],
            )
        return True

    def private_cids(self) -> list[str]:
        """Every file private to some order."""
        rows = self._read().execute("SELECT DISTINCT cid FROM private_evidence ORDER BY cid")
        return [r[0] for r in rows.fetchall()]

    # ------------------------------------------------------------------ safety notifications

    def notify(self, case_id: int, organization: int, contact: str | None, subject: str, body: str) -> Notification:
        now = time.time()
        status = "pending" if contact else "no_contact"
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO notifications (case_id, organization, contact, subject, body, created_at, status) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (case_id, organization, contact, subject, body, now, status),
            )
            nid = int(cur.lastrowid or 0)
            _log(db, case_id, SYSTEM, "safety_notification_queued", {"notification": nid, "status": status}, now)
        found = self.notification(nid)
        assert found is not None
        return found

    def notification(self, nid: int) -> Notification | None:
        row = self._read().execute(f"SELECT {_NOTIFICATION_COLUMNS} FROM notifications WHERE id = ?", (nid,))
        found = row.fetchone()
        return Notification(*found) if found else None

    def notifications(self, case_id: int | None = None, status: str | None = None) -> list[Notification]:
        rows = self._read().execute(
            f"SELECT {_NOTIFICATION_COLUMNS} FROM notifications WHERE (? IS NULL OR case_id = ?) "
            "AND (? IS NULL OR status = ?) ORDER BY id",
            (case_id, case_id, status, status),
        )
        return [Notification(*r) for r in rows.fetchall()]

    def attempted(self, nid: int, error: str | None) -> None:
        """Records a delivery attempt: sent (no error) or still pending with the error."""
        now = time.time()
        with self._tx() as db:
            db.execute(
                "UPDATE notifications SET attempts = attempts + 1, last_error = ?, status = ?, sent_at = ? "
                "WHERE id = ?",
                (error, "pending" if error else "sent", None if error else now, nid),
            )


_NOTIFICATION_COLUMNS = ", ".join(schema_columns(_SCHEMA)["notifications"])


def _count(case_ids: list[tuple[int]]) -> dict[int, int]:
    out: dict[int, int] = {}
    for (case_id,) in case_ids:
        out[case_id] = out.get(case_id, 0) + 1
    return out
