"""The return desk's reason code each buyer confirmed when signing a return request, per order.

The signed ReturnRequest carries only the escrow's coarse reason; the nine codes stay off-chain
(returntrace/reasons.py). The code alone is kept — never the buyer's text — in the cases' file (the
people's data), for good, as the cases keep theirs (docs/people.md: the codes say nothing about the
person). The return analytics read it (api/read/analytics.py); without one, the coarse reason.
"""

from __future__ import annotations

import time
from pathlib import Path

from .connections import SqliteFile, chunks

_SCHEMA = """
CREATE TABLE IF NOT EXISTS return_reason_codes (
    order_id INTEGER PRIMARY KEY,
    code TEXT NOT NULL,
    buyer TEXT NOT NULL,
    recorded_at REAL NOT NULL
);
"""


class ReasonCodeStore(SqliteFile):
    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA)

    def record(self, order_id: int, code: str, buyer: str) -> None:
        """The buyer's confirmed code for the order; a later signing (a request re-signed) replaces it."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO return_reason_codes (order_id, code, buyer, recorded_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (order_id) DO UPDATE SET code = excluded.code, recorded_at = excluded.recorded_at",
                (order_id, code, buyer, time.time()),
            )

    def codes(self, order_ids: list[int]) -> dict[int, str]:
        """{order_id: code} of the orders among these with a recorded code."""
        out: dict[int, str] = {}
        db = self._read()
        for chunk in chunks(order_ids):
            out.update(
                db.execute(
                    f"SELECT order_id, code FROM return_reason_codes WHERE order_id IN ({', '.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
            )
        return out
