"""One link of a unit's (or parcel's) hash chain as its registry log states it, and the chain rebuilt
from such links: the struct hash each kind of link chains, and the record after each link."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from eth_utils import keccak

from .. import eip712, gs1, hashchain
from ..vocab import closes

ZERO32 = bytes(32)
_LIFECYCLE_TYPE_HASH = eip712.type_hash("LifecycleEvent")


@dataclass
class LifecycleRecord:
    """One link of a unit's (or parcel's) chain as its log states it: a commissioning, a lifecycle
    event, or an aggregation (the parcel's AggregationRecorded; a unit's copy of it carries the
    unit's id and the position of its UnitAggregated log)."""

    unit_id: bytes
    kind: str  # "commission" (UnitCommissioned), "event" (EventRecorded) or "aggregation"
    signer: str  # checksummed
    biz_step: int  # BizStep; COMMISSIONING (1) for a commissioning
    disposition: int  # Disposition; NONE (0) for a commissioning
    location: int  # GLN
    event_time: int
    evidence: bytes  # 32 bytes, zero: none
    biz_transaction: bytes  # 32 bytes, zero: none
    gtin: int | None = None  # commissioning only
    serial: str | None = None  # commissioning only
    block: int = 0
    tx_hash: str = ""
    log_index: int = 0
    sscc: int | None = None  # aggregation only
    child_ids: tuple[bytes, ...] = ()  # aggregation only
    action: int = 0  # aggregation only: AggregationAction

    @property
    def position(self) -> tuple[int, int]:
        """Where the log is in the chain's order: (block, log index)."""
        return (self.block, self.log_index)

    @property
    def parcel_id(self) -> bytes | None:
        """The parcel of an aggregation."""
        return gs1.parcel_id(self.sscc) if self.sscc is not None else None

    @property
    def closes(self) -> bool:
        """Whether this event closed its unit (the record's bit 31 after it)."""
        return self.kind != "commission" and closes(self.biz_step, self.disposition)

    def struct_hash(self) -> bytes:
        """The EIP-712 struct hash the registry chained for this item."""
        if self.kind == "commission":
            return eip712.struct_hash(
                "Commission",
                {
                    "gtin": self.gtin,
                    "serial": self.serial,
                    "location": self.location,
                    "eventTime": self.event_time,
                    "evidence": self.evidence,
                },
            )
        if self.kind == "aggregation":
            return eip712.struct_hash(
                "Aggregation",
                {
                    "sscc": self.sscc,
                    "childIds": list(self.child_ids),
                    "action": self.action,
                    "bizStep": self.biz_step,
                    "disposition": self.disposition,
                    "location": self.location,
                    "eventTime": self.event_time,
                    "evidence": self.evidence,
                    "bizTransaction": self.biz_transaction,
                },
            )
        return lifecycle_struct_hash(
            self.unit_id,
            self.biz_step,
            self.disposition,
            self.location,
            self.event_time,
            self.evidence,
            self.biz_transaction,
        )


def lifecycle_struct_hash(
    unit_id: bytes,
    biz_step: int,
    disposition: int,
    location: int,
    event_time: int,
    evidence: bytes,
    biz_transaction: bytes,
) -> bytes:
    """eip712.struct_hash("LifecycleEvent", …) with the static words written out directly: every
    field of a LifecycleEvent is one 32-byte word (uint8/64/40 left-padded), so no ABI encoder
    is needed. Ten times faster, which matters when auditing 100,000 events."""
    words = (
        _LIFECYCLE_TYPE_HASH
        + _word32(unit_id)
        + biz_step.to_bytes(32, "big")
        + disposition.to_bytes(32, "big")
        + location.to_bytes(32, "big")
        + event_time.to_bytes(32, "big")
        + _word32(evidence)
        + _word32(biz_transaction)
    )
    return keccak(words)


def _word32(value: bytes) -> bytes:
    value = bytes(value)
    if len(value) != 32:
        raise ValueError(f"expected 32 bytes, got {len(value)}")
    return value


def from_log(entry: Any) -> LifecycleRecord | None:
    """The lifecycle record of a decoded registry log (returntrace.logs.DecodedLog), else None."""
    a = entry.args
    if entry.name == "UnitCommissioned":  # step 1 (commissioning), no disposition, no business transaction
        return LifecycleRecord(
            unit_id=bytes(a["unitId"]),
            kind="commission",
            **_signed(a),
            biz_step=1,
            disposition=0,
            biz_transaction=ZERO32,
            gtin=int(a["gtin"]),
            serial=a["serial"],
            **_position(entry),
        )
    if entry.name == "EventRecorded":
        return LifecycleRecord(
            unit_id=bytes(a["unitId"]), kind="event", **_signed(a), **_stepped(a), **_position(entry)
        )
    if entry.name == "AggregationRecorded":
        return LifecycleRecord(
            unit_id=bytes(a["parcelId"]),
            kind="aggregation",
            **_signed(a),
            **_stepped(a),
            sscc=int(a["sscc"]),
            child_ids=tuple(bytes(c) for c in a["childIds"]),
            action=int(a["action"]),
            **_position(entry),
        )
    return None


def _signed(a: Any) -> dict[str, Any]:
    """What every signed scan's log carries: who, where, when, the evidence."""
    return {
        "signer": a["signer"],
        "location": int(a["location"]),
        "event_time": int(a["eventTime"]),
        "evidence": bytes(a["evidence"]),
    }


def _stepped(a: Any) -> dict[str, Any]:
    """An event's or an aggregation's step, disposition and business transaction."""
    return {
        "biz_step": int(a["bizStep"]),
        "disposition": int(a["disposition"]),
        "biz_transaction": bytes(a["bizTransaction"]),
    }


def _position(entry: Any) -> dict[str, Any]:
    return {"block": entry.block, "tx_hash": entry.tx_hash, "log_index": entry.log_index}


class RecordReader:
    """Turns decoded registry logs, in chain order, into chain records. A UnitAggregated log
    becomes the unit's copy of the aggregation its parcel's AggregationRecorded log (emitted just
    before it, in the same transaction) states in full; its struct hash must be the one the unit's
    log names. One whose content cannot be found is dropped, so that unit's chain does not verify."""

    def __init__(self) -> None:
        self._tx = ""
        self._aggregations: dict[bytes, LifecycleRecord] = {}

    def read(self, entry: Any) -> LifecycleRecord | None:
        if entry.tx_hash != self._tx:
            self._tx, self._aggregations = entry.tx_hash, {}
        if entry.name == "UnitAggregated":
            a = entry.args
            parcel = self._aggregations.get(bytes(a["aggregationHash"]))
            child = bytes(a["unitId"])
            if parcel is None or parcel.unit_id != bytes(a["parcelId"]) or child not in parcel.child_ids:
                return None
            return replace(parcel, unit_id=child, block=entry.block, tx_hash=entry.tx_hash, log_index=entry.log_index)
        record = from_log(entry)
        if record is not None and record.kind == "aggregation":
            self._aggregations[record.struct_hash()] = record
        return record

    def read_all(self, entries: Iterable[Any]) -> Iterator[LifecycleRecord]:
        for e in entries:
            r = self.read(e)
            if r is not None:
                yield r


def chain_records(records: list[LifecycleRecord]) -> list[int]:
    """The unit's record after each of its events, in order (the last one is the head)."""
    out, record = [], 0
    for r in records:
        record = hashchain.link(record, r.signer, r.struct_hash(), r.closes)
        out.append(record)
    return out
