"""The integrity report over the index: every indexed unit's and parcel's chain rebuilt from its
index rows against `unitRecord` at the indexed block (one block for all), and every evidence file
the index references against its CID. The auditor CLI (`returntrace audit`, returntrace/audit.py) prints the same report
from logs alone."""

from __future__ import annotations

from typing import Any

from returntrace import history
from returntrace.evidence_files import evidence_report

from ..chain.blocks import at
from .rows import rebuild


def integrity_report(index: Any, views: Any) -> dict[str, Any]:
    """Every indexed unit's chain rebuilt from its index rows against `unitRecord` at the indexed
    block (one block for all), plus the evidence files. Raises ChainUnavailable."""
    checks: list[history.UnitCheck] = []
    events = 0
    with index.read() as r:
        c = r.cursor()
        for unit, rows in r.units_with_events():
            events += len(rows)
            problem = None
            try:
                rebuilt = rebuild(unit, rows)
            except (ValueError, TypeError, OverflowError) as exc:
                rebuilt, problem = 0, f"mismatch: an index row cannot be read ({exc})"
            checks.append(
                history.UnitCheck(bytes.fromhex(unit["unit_id"][2:]), unit["gtin"], unit["serial"], rebuilt, 0, problem)
            )
        parcels: list[history.UnitCheck] = []
        for parcel, rows in r.parcels_with_events():
            events += len(rows)
            problem = None
            try:
                rebuilt = rebuild({}, rows)
            except (ValueError, TypeError, OverflowError) as exc:
                rebuilt, problem = 0, f"mismatch: an index row cannot be read ({exc})"
            parcels.append(
                history.UnitCheck(
                    bytes.fromhex(parcel["parcel_id"][2:]), "", "", rebuilt, 0, problem, sscc=f"{parcel['sscc']:018d}"
                )
            )
        digests = r.evidence_digests()
        orders = r.counts()["orders"]
    block = c.block if c else None
    if block is None or block < c.first_block:
        report = history.integrity_report(block if block is not None else 0, [], 0)
    else:
        onchain = views.reads.records([ch.unit_id for ch in [*checks, *parcels]], at(block))
        for ch in [*checks, *parcels]:
            ch.onchain_record = onchain.get(ch.unit_id, 0)
        report = history.integrity_report(block, checks, events, parcels)
    report["orders"] = orders
    report["evidence"] = evidence_report(views.evidence, digests)
    return report
