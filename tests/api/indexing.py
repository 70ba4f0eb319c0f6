"""Helpers for the indexer and auditor tests: a unit's journey through the gateway, raw index rows."""

from __future__ import annotations

import sqlite3
from typing import Any

from brownie import chain

from returntrace.vocab import BizStep, Disposition

JOURNEY = (
    ("brand", BizStep.SHIPPING, Disposition.IN_TRANSIT),
    ("carrier", BizStep.DEPARTING, Disposition.IN_TRANSIT),
    ("carrier", BizStep.CUSTOMS_CLEARING, Disposition.IN_TRANSIT),
    ("carrier", BizStep.DELIVERING, Disposition.DELIVERED),
)


def journey(gateway, serials: list[str], steps=JOURNEY, pause: int = 0) -> list[bytes]:
    """Commissioned by the brand, then one signed scan per step over all units (relayed through
    the gateway): shipped, departed, cleared customs, delivered by default. `pause` seconds of
    chain time pass between steps."""
    units = gateway.commission(*serials)
    gateway.relay()
    for actor, step, disposition in steps:
        if pause:
            chain.sleep(pause)
        r = gateway.post(
            "/v1/events", gateway.events_body(actor, [gateway.event(u, step, actor, disposition) for u in units])
        )
        assert r.status_code == 202, r.text
        gateway.relay()
    return units


def rows(gateway, sql: str, *params: Any) -> list[tuple]:
    db = sqlite3.connect(gateway.services.settings.index_database)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def execute(gateway, sql: str, *params: Any) -> None:
    """Writes to the gateway's index behind its back (a tampering operator, a broken disk)."""
    db = sqlite3.connect(gateway.services.settings.index_database)
    try:
        db.execute(sql, params)
        db.commit()
    finally:
        db.close()
