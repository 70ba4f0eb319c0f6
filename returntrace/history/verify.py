"""A rebuilt chain against its on-chain record: why they differ, the integrity report over many
units, and one unit's or parcel's history with its parcels and their content."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import hashchain
from .parcels import merged_timeline, parcel_contents
from .records import LifecycleRecord, chain_records


@dataclass
class UnitCheck:
    """A unit's rebuilt chain against its on-chain record at one block."""

    unit_id: bytes
    gtin: str
    serial: str
    rebuilt_record: int
    onchain_record: int
    problem: str | None = None  # the history could not even be rebuilt (e.g. an unreadable index row)
    sscc: str | None = None  # a parcel's chain: its 18-digit SSCC (gtin and serial are empty)

    @property
    def verified(self) -> bool:
        return self.problem is None and self.onchain_record != 0 and self.rebuilt_record == self.onchain_record

    @property
    def reason(self) -> str | None:
        return self.problem or mismatch_reason(self.rebuilt_record, self.onchain_record)


def mismatch_reason(rebuilt: int, onchain: int, block: int | None = None) -> str | None:
    """Why a rebuilt chain does not match the on-chain record (None when it does)."""
    at = f" at block {block}" if block is not None else ""
    if onchain != 0 and rebuilt == onchain:
        return None
    n_rebuilt, n_chain = hashchain.count_of(rebuilt), hashchain.count_of(onchain)
    if onchain == 0:
        return f"mismatch: the registry has no such unit{at}"
    if n_rebuilt < n_chain:
        return f"mismatch: {n_chain} events on-chain{at}, {n_rebuilt} rebuilt: events are missing"
    if n_rebuilt > n_chain:
        return f"mismatch: {n_rebuilt} events rebuilt, {n_chain} on-chain{at}: events the chain does not have"
    return f"mismatch: the chain head differs with {n_chain} events on both sides{at}: an event was altered"


def integrity_report(
    block: int, checks: list[UnitCheck], events: int, parcels: Sequence[UnitCheck] = ()
) -> dict[str, Any]:
    """The integrity report both the gateway (/v1/audit/integrity) and the auditor CLI print.
    Parcels' chains are counted apart from units'; `events` counts the links of both."""
    mismatches = [c for c in checks if not c.verified]
    parcel_mismatches = [c for c in parcels if not c.verified]
    return {
        "block": block,
        "units": {"total": len(checks), "verified": len(checks) - len(mismatches), "mismatched": len(mismatches)},
        "parcels": {
            "total": len(parcels),
            "verified": len(parcels) - len(parcel_mismatches),
            "mismatched": len(parcel_mismatches),
        },
        "events": events,
        "mismatches": [
            {
                "unitId": "0x" + c.unit_id.hex(),
                **({"sscc": c.sscc} if c.sscc is not None else {"gtin": c.gtin, "serial": c.serial}),
                "reason": c.problem or mismatch_reason(c.rebuilt_record, c.onchain_record, block),
                "rebuiltCount": hashchain.count_of(c.rebuilt_record),
                "onchainCount": hashchain.count_of(c.onchain_record),
                "rebuiltRecord": hashchain.to_hex(c.rebuilt_record),
                "onchainRecord": hashchain.to_hex(c.onchain_record),
            }
            for c in sorted([*mismatches, *parcel_mismatches], key=lambda c: c.unit_id)
        ],
    }


@dataclass
class ParcelHistory:
    """A parcel's chain from the logs against its on-chain record, and its content against the
    registry's: the units its aggregations leave in it, each with parentOf == the parcel, as many
    as parcelSize — which proves the list is exactly the parcel's content."""

    parcel_id: bytes
    block: int
    events: list[LifecycleRecord] = field(default_factory=list)
    rebuilt_record: int = 0
    onchain_record: int = 0
    contents: list[bytes] = field(default_factory=list)
    onchain_size: int = 0
    contents_on_chain: bool = False  # every member's parentOf is this parcel

    @property
    def sscc(self) -> int | None:
        return next((r.sscc for r in self.events if r.kind == "aggregation"), None)

    @property
    def chain_verified(self) -> bool:
        return self.onchain_record != 0 and self.rebuilt_record == self.onchain_record

    @property
    def verified(self) -> bool:
        return self.chain_verified and self.contents_on_chain and len(self.contents) == self.onchain_size


@dataclass
class UnitHistory:
    """One unit's history from the logs, its rebuilt head and the on-chain record, at one block;
    with the parcels it travelled in and their events while it was packed."""

    unit_id: bytes
    block: int
    events: list[LifecycleRecord] = field(default_factory=list)
    rebuilt_record: int = 0
    onchain_record: int = 0
    parcels: dict[bytes, ParcelHistory] = field(default_factory=dict)
    via_parcel: list[LifecycleRecord] = field(
        default_factory=list
    )  # parcel events while packed; unit_id is the parcel's

    @property
    def own_verified(self) -> bool:
        return self.onchain_record != 0 and self.rebuilt_record == self.onchain_record

    @property
    def verified(self) -> bool:
        """Its own chain matches, and so does every parcel chain its history draws events from."""
        return self.own_verified and all(p.chain_verified for p in self.parcels.values())

    @property
    def count(self) -> int:
        return hashchain.count_of(self.onchain_record)

    def timeline(self) -> list[LifecycleRecord]:
        """Own events and parcel events in chain order (a parcel event's unit_id is its parcel's):
        each parcel's events after the unit's ADD link, in the parcel chain's order (merged_timeline)."""
        return merged_timeline(self.events, {p: h.events for p, h in self.parcels.items()})


def parcel_history_of(
    parcel_id: bytes, block: int, records: list[LifecycleRecord], onchain: int, parents: dict[bytes, bytes], size: int
) -> ParcelHistory:
    """parcel_history from values already read: each member's `parents` entry and the parcel's `size`."""
    chain = chain_records(records)
    contents = parcel_contents(records)
    on_chain = all(parents.get(m) == bytes(parcel_id) for m in contents)
    return ParcelHistory(parcel_id, block, records, chain[-1] if chain else 0, onchain, contents, size, on_chain)
