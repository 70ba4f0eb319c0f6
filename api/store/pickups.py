"""Door-to-door pickup bookings: an off-chain record per order of when the carrier collects the
return, under the order's RMA reference (ReturnEscrow.rmaRef), which the carrier's signed pickup scan
carries on-chain. The buyer's street address is never stored here: only `address_ref`, an opaque
reference the buyer's and the carrier's own systems resolve. One booking per order.
"""

from __future__ import annotations

import secrets
import sqlite3
from pathlib import Path
from typing import Any

from .connections import SqliteFile, schema_columns

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pickups (
    id TEXT PRIMARY KEY,
    order_id INTEGER NOT NULL UNIQUE,
    unit_id TEXT NOT NULL,
    rma_ref TEXT NOT NULL,
    buyer TEXT NOT NULL,
    carrier TEXT NOT NULL,
    address_ref TEXT NOT NULL,
    window_from INTEGER NOT NULL,
    window_until INTEGER NOT NULL,
    destination TEXT NOT NULL,
    card TEXT NOT NULL,
    booked_at INTEGER NOT NULL,
    booked_block INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS pickups_carrier ON pickups (carrier, window_from);
"""
COLUMNS = schema_columns(_SCHEMA)["pickups"]


class AlreadyBooked(Exception):
    def __init__(self, booking: dict[str, Any]) -> None:
        super().__init__(f"order {booking['order_id']} already has pickup {booking['id']}")
        self.booking = booking


class PickupStore(SqliteFile):
    """The bookings, in the gateway's database file (a table of their own beside the outbox's)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA)

    def book(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Stores a booking (its id made here); AlreadyBooked with the existing one if the order has one."""
        row = {"id": "pk_" + secrets.token_hex(10), **fields}
        with self._tx() as db:
            existing = _one(db, "order_id", fields["order_id"])
            if existing is not None:
                raise AlreadyBooked(existing)
            db.execute(
                f"INSERT INTO pickups ({', '.join(COLUMNS)}) VALUES ({', '.join(':' + c for c in COLUMNS)})", row
            )
        return row

    def get(self, booking_id: str) -> dict[str, Any] | None:
        return _one(self._read(), "id", booking_id)

    def of_carrier(self, carrier: str, limit: int = 500) -> list[dict[str, Any]]:
        """The carrier's bookings, the earliest window first."""
        rows = (
            self._read()
            .execute(
                f"SELECT {', '.join(COLUMNS)} FROM pickups WHERE carrier = ? ORDER BY window_from, id LIMIT ?",
                (carrier, limit),
            )
            .fetchall()
        )
        return [dict(zip(COLUMNS, r, strict=True)) for r in rows]


def _one(db: sqlite3.Connection, column: str, value: Any) -> dict[str, Any] | None:
    row = db.execute(f"SELECT {', '.join(COLUMNS)} FROM pickups WHERE {column} = ?", (value,)).fetchone()
    return dict(zip(COLUMNS, row, strict=True)) if row else None
