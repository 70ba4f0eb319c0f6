"""The outbox stores uint256 nonces and uint64 deadlines losslessly, keeps their numeric order for
MAX(nonce) and the live-nonce index, and opens an outbox written with INTEGER columns (before this
storage) without losing a row, its order or its numbers."""

from __future__ import annotations

import json
import sqlite3

import pytest

from api.store.outbox import Message, NonceConflict, SqliteOutbox

SIGNER = "0x" + "11" * 20

# The messages table as the first releases created it (nonce and deadline INTEGER).
OLD_MESSAGES = """
CREATE TABLE messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    contract TEXT NOT NULL,
    signer TEXT NOT NULL,
    nonce INTEGER NOT NULL,
    deadline INTEGER NOT NULL,
    item_count INTEGER NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    tx_hash TEXT,
    block INTEGER,
    error TEXT,
    accepted_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE UNIQUE INDEX messages_live_nonce ON messages(contract, signer, nonce) WHERE status != 'failed';
CREATE INDEX messages_status ON messages(status, seq);
"""


def _message(i: int, nonce: int, deadline: int = 2**64 - 1, kind: str = "EventBatch") -> Message:
    return Message(
        id=f"0x{i:064x}",
        kind=kind,
        signer=SIGNER,
        nonce=nonce,
        deadline=deadline,
        item_count=1,
        body={"nonce": nonce, "deadline": deadline},
        status="accepted",
        tx_hash=None,
        block=None,
        error=None,
        accepted_at=0.0,
        updated_at=0.0,
    )


def test_nonces_past_2_63_keep_their_numeric_order(tmp_path):
    outbox = SqliteOutbox(tmp_path / "o.sqlite3")
    try:
        # 9 → 10 → 11 digits and across 2**63 and up to the top of uint256: MAX(nonce) must follow the numbers.
        for i, chain_nonce in enumerate([9, 99, 2**63 - 1, 10**20 - 1, 2**256 - 3]):
            first, created = outbox.accept(_message(2 * i, chain_nonce), chain_nonce)
            second, _ = outbox.accept(_message(2 * i + 1, chain_nonce + 1), chain_nonce)
            assert created and (first.nonce, second.nonce) == (chain_nonce, chain_nonce + 1)
            assert outbox.next_nonce("EventBatch", SIGNER, chain_nonce) == chain_nonce + 2
            assert outbox.get(first.id).deadline == 2**64 - 1
            with pytest.raises(NonceConflict) as refused:
                outbox.accept(_message(100 + i, chain_nonce + 1), chain_nonce)
            assert refused.value.expected == chain_nonce + 2
        assert [m.nonce for m in outbox.pending(100)][-2:] == [2**256 - 3, 2**256 - 2]
        assert outbox.get(f"0x{9:064x}").public()["nonce"] == 2**256 - 2  # a JSON number, as before
    finally:
        outbox.close()


def test_the_live_nonce_index_holds_for_text_nonces(tmp_path):
    path = tmp_path / "o.sqlite3"
    SqliteOutbox(path).close()
    db = sqlite3.connect(path)
    row = ("EventBatch", "registry", SIGNER, f"{2**63:078d}", f"{2**64 - 1:020d}", 1, "{}", "accepted", 0.0, 0.0)
    insert = (
        "INSERT INTO messages (id, kind, contract, signer, nonce, deadline, item_count, body, status, "
        "accepted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    db.execute(insert, ("0xa", *row))
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(insert, ("0xb", *row))  # the same live nonce twice
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(insert, ("0xc", *row[:3], str(2**63 + 1), *row[4:]))  # an unpadded nonce would break the order
    db.close()


def test_an_outbox_with_integer_columns_is_migrated_on_open(tmp_path):
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(OLD_MESSAGES)
    old = [  # seq, id, status, nonce, deadline
        (1, "0x01", "confirmed", 0, 1_800_000_000),
        (2, "0x02", "failed", 1, 1_800_000_000),
        (3, "0x03", "accepted", 1, 2**62),
        (4, "0x04", "accepted", 2**63 - 1, 2**63 - 1),
    ]
    for seq, mid, status, nonce, deadline in old:
        db.execute(
            "INSERT INTO messages VALUES (?, ?, 'EventBatch', 'registry', ?, ?, ?, 1, ?, ?, NULL, NULL, NULL, "
            "1.0, 2.0)",
            (seq, mid, SIGNER, nonce, deadline, json.dumps({"nonce": nonce}), status),
        )
    db.commit()
    db.close()

    outbox = SqliteOutbox(path)
    try:
        for _seq, mid, status, nonce, deadline in old:
            m = outbox.get(mid)
            assert (m.status, m.nonce, m.deadline, m.body, m.accepted_at) == (
                status,
                nonce,
                deadline,
                {"nonce": nonce},
                1.0,
            )
        assert [m.id for m in outbox.pending(10)] == ["0x03", "0x04"]  # relaying order kept
        assert outbox.next_nonce("EventBatch", SIGNER, 0) == 2**63
        # A signer whose chain nonce went past 2**63 (no float holds 2**63 + 7 exactly).
        new, created = outbox.accept(_message(5, 2**63 + 7), 2**63 + 7)
        assert created and outbox.get(new.id).nonce == 2**63 + 7
        assert outbox.next_nonce("EventBatch", SIGNER, 0) == 2**63 + 8
        assert [m.id for m in outbox.pending(10)] == ["0x03", "0x04", new.id]
        with pytest.raises(NonceConflict):
            outbox.accept(_message(6, 2**63 + 7), 0)
    finally:
        outbox.close()

    db = sqlite3.connect(path)
    try:
        types = {r[1]: r[2] for r in db.execute("PRAGMA table_info(messages)")}
        assert (types["nonce"], types["deadline"]) == ("TEXT", "TEXT")
        assert db.execute("SELECT seq FROM messages WHERE id = ?", (new.id,)).fetchone()[0] == 5
        indexes = {r[1] for r in db.execute("PRAGMA index_list(messages)")}
        assert {"messages_live_nonce", "messages_status"} <= indexes
        assert db.execute("SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'messages_text%'").fetchone()[0] == 0
    finally:
        db.close()
    SqliteOutbox(path).close()  # opening a migrated outbox again changes nothing
