"""Index rows as the lifecycle records they state, and units named by the index's keys.

The views rebuild every hash chain from exactly the rows they show (`record_of`, `rebuild`): each
struct hash is recomputed from the row's fields, never taken from the index. `unit_ref` names a
unit by the index's GTIN and serial only when they hash to its id.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from returntrace import gs1, history
from returntrace.history import LifecycleRecord


def bytes32(value: str | None) -> bytes:
    return bytes.fromhex(value[2:]) if value else bytes(32)


def record_of(unit: dict[str, Any], row: dict[str, Any]) -> LifecycleRecord:
    """The lifecycle record an index row states (commissionings take GTIN and serial from the unit
    row; aggregation links carry their parcel's SSCC, action and child ids)."""
    commission = row["kind"] == "commission"
    aggregation = row["kind"] == "aggregation"
    return LifecycleRecord(
        unit_id=bytes32(row["unit_id"]),
        kind=row["kind"],
        signer=row["signer"],
        biz_step=int(row["biz_step"]),
        disposition=int(row["disposition"]),
        location=int(row["location"]),
        event_time=int(row["event_time"]),
        evidence=bytes32(row["evidence"]),
        biz_transaction=bytes32(row["biz_transaction"]),
        gtin=int(unit["gtin"]) if commission else None,
        serial=unit["serial"] if commission else None,
        block=int(row["block"]),
        tx_hash=row["tx_hash"],
        log_index=int(row["log_index"]),
        sscc=int(row["sscc"]) if aggregation else None,
        child_ids=tuple(bytes32(c) for c in json.loads(row["child_ids"])) if aggregation else (),
        action=int(row["action"]) if aggregation else 0,
    )


def rebuild(unit: dict[str, Any], rows: Iterable[dict[str, Any]]) -> int:
    """The head the registry must hold if these index rows are the unit's true history."""
    chain = history.chain_records([record_of(unit, row) for row in rows])
    return chain[-1] if chain else 0


def names(key: tuple[str, str], unit_id: str) -> bool:
    """Whether (GTIN, serial) is the name of `unit_id`: its GS1 unit id hashes to it."""
    try:
        return "0x" + gs1.unit_id(key[0], key[1]).hex() == unit_id
    except (gs1.GS1Error, ValueError, TypeError):
        return False


def unit_ref(unit_id: str, keys: dict[str, tuple[str, str]], public_url: str) -> dict[str, Any]:
    """A unit proved by its id, named by the index's GTIN and serial only when they hash to that
    id (gs1.unit_id): an altered idx_units row cannot put another product's name on it."""
    found = keys.get(unit_id)
    if not found or not names(found, unit_id):
        return {"unitId": unit_id, "gtin": None, "serial": None, "link": None, "nameVerified": False}
    return {
        "unitId": unit_id,
        "gtin": found[0],
        "serial": found[1],
        "link": gs1.digital_link(public_url, found[0], found[1]),
        "nameVerified": True,
    }
