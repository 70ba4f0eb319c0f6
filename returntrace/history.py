"""A unit's history rebuilt from TraceRegistry logs alone, checked against its on-chain record.

Needs nothing but a JSON-RPC node and the registry's ABI: no database, no gateway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_utils import event_abi_to_log_topic, keccak

from . import eip712, hashchain, logs
from .vocab import BizStep, Disposition, closes, signer_role, step_label


# ---------------------------------------------------------------------------------------------
# Many units at once: what the gateway's indexer and the auditor CLI share.

ZERO32 = bytes(32)
_LIFECYCLE_TYPE_HASH = eip712.type_hash("LifecycleEvent")


@dataclass
class LifecycleRecord:
    """One link of a unit's chain as its log states it: a commissioning or a lifecycle event."""

    unit_id: bytes
    kind: str  # "commission" (UnitCommissioned) or "event" (EventRecorded)
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

    @property
    def closes(self) -> bool:
        """Whether this event closed its unit (the record's bit 31 after it)."""
        return self.kind != "commission" and closes(self.biz_step, self.disposition)

    def struct_hash(self) -> bytes:
        """The EIP-712 struct hash the registry chained for this item."""
        if self.kind == "commission":
            return eip712.struct_hash(
                "Commission",
                {"gtin": self.gtin, "serial": self.serial, "location": self.location, "eventTime": self.event_time, "evidence": self.evidence},
            )
        return lifecycle_struct_hash(self.unit_id, self.biz_step, self.disposition, self.location, self.event_time, self.evidence, self.biz_transaction)


def lifecycle_struct_hash(unit_id: bytes, biz_step: int, disposition: int, location: int, event_time: int, evidence: bytes, biz_transaction: bytes) -> bytes:
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
    common = {"block": entry.block, "tx_hash": entry.tx_hash, "log_index": entry.log_index}
    if entry.name == "UnitCommissioned":
        return LifecycleRecord(
            unit_id=bytes(a["unitId"]), kind="commission", signer=a["signer"], biz_step=1, disposition=0, location=int(a["location"]),
            event_time=int(a["eventTime"]), evidence=bytes(a["evidence"]), biz_transaction=ZERO32, gtin=int(a["gtin"]), serial=a["serial"], **common,
        )
    if entry.name == "EventRecorded":
        return LifecycleRecord(
            unit_id=bytes(a["unitId"]), kind="event", signer=a["signer"], biz_step=int(a["bizStep"]), disposition=int(a["disposition"]),
            location=int(a["location"]), event_time=int(a["eventTime"]), evidence=bytes(a["evidence"]), biz_transaction=bytes(a["bizTransaction"]), **common,
        )
    return None


def chain_records(records: list[LifecycleRecord]) -> list[int]:
    """The unit's record after each of its events, in order (the last one is the head)."""
    out, record = [], 0
    for r in records:
        record = hashchain.link(record, r.signer, r.struct_hash(), r.closes)
        out.append(record)
    return out


class Roles:
    """Actor role bits over time, from ActorUpdated logs: the role an event was signed in."""

    def __init__(self) -> None:
        self._history: dict[str, list[tuple[tuple[int, int], int]]] = {}

    def update(self, account: str, roles: int, block: int, log_index: int) -> None:
        self._history.setdefault(account, []).append(((block, log_index), int(roles)))

    def at(self, account: str, block: int, log_index: int) -> int:
        roles = 0
        for position, value in self._history.get(account, ()):
            if position > (block, log_index):
                break
            roles = value
        return roles


def timeline_entry(r: LifecycleRecord, seq: int, roles: int) -> dict[str, Any]:
    """One step of a unit's history as the consumer page and the auditor show it (the fields of
    api.views.TimelineEntry; `evidence` as the 0x digest)."""
    step = BizStep(r.biz_step) if r.biz_step in BizStep._value2member_map_ else None
    disposition = Disposition(r.disposition) if r.disposition in Disposition._value2member_map_ else None
    return {
        "seq": seq,
        "step": step.name.lower() if step else str(r.biz_step),
        "label": step_label(r.biz_step, roles),
        "step_uri": step.uri if step else f"urn:returntrace:bizstep:{r.biz_step}",
        "disposition": disposition.name.lower() if disposition else None,
        "disposition_uri": disposition.uri if disposition else None,
        "location": f"{r.location:013d}",
        "event_time": r.event_time,
        "signer": r.signer,
        "signer_role": signer_role(r.biz_step, roles),
        "evidence": None if r.evidence == ZERO32 else "0x" + r.evidence.hex(),
        "biz_transaction": None if r.biz_transaction == ZERO32 else "0x" + r.biz_transaction.hex(),
        "tx_hash": r.tx_hash,
        "block": r.block,
    }


def collect(registry: Any, from_block: int, to_block: int, step: int = 5000) -> tuple[dict[bytes, list[LifecycleRecord]], Roles]:
    """Every unit's lifecycle records in [from_block, to_block] from the registry's logs (one
    eth_getLogs per block range, not one per unit), grouped by unit in chain order, and the
    actors' roles over time. `registry` is a web3 contract."""
    address, abi = registry.address, registry.abi
    decoder = logs.LogDecoder({address: abi})
    units: dict[bytes, list[LifecycleRecord]] = {}
    roles = Roles()
    for _, _, raw in logs.iter_ranges(registry.w3, [address], from_block, to_block, step):
        for entry in logs.decoded(decoder, raw):
            if entry.name == "ActorUpdated":
                roles.update(entry.args["account"], entry.args["roles"], entry.block, entry.log_index)
                continue
            record = from_log(entry)
            if record is not None:
                units.setdefault(record.unit_id, []).append(record)
    return units, roles


def unit_ids(registry: Any, from_block: int = 0, to_block: int | str = "latest", step: int = 5000) -> list[bytes]:
    """Every unit commissioned in the block range, in commissioning order (UnitCommissioned logs)."""
    w3 = registry.w3
    last = w3.eth.get_block(to_block)["number"] if isinstance(to_block, str) else to_block
    topic = _topic(registry, "UnitCommissioned")
    decoder = logs.LogDecoder({registry.address: registry.abi})
    out = []
    for _, _, raw in logs.iter_ranges(w3, [registry.address], from_block, last, step, topics=[topic]):
        out.extend(bytes(e.args["unitId"]) for e in logs.decoded(decoder, raw))
    return out


_UNIT_RECORD_SELECTOR = keccak(text="unitRecord(bytes32)")[:4]


def read_records(registry: Any, ids: list[bytes], block: int, batch: int = 200) -> dict[bytes, int]:
    """`unitRecord(id)` of many units at `block`, in JSON-RPC batches where the node takes them."""
    w3 = registry.w3
    selector = _UNIT_RECORD_SELECTOR
    tag = hex(block)
    out: dict[bytes, int] = {}

    def params(u: bytes) -> list[Any]:
        return [{"to": registry.address, "data": "0x" + (selector + bytes(u)).hex()}, tag]

    make_batch = getattr(w3.provider, "make_batch_request", None)
    for i in range(0, len(ids), batch):
        chunk = ids[i : i + batch]
        answers: list[Any] | None = None
        if make_batch is not None and len(chunk) > 1:
            try:
                responses = make_batch([("eth_call", params(u)) for u in chunk])
                if isinstance(responses, list) and len(responses) == len(chunk) and all("result" in r for r in responses):
                    answers = [r["result"] for r in sorted(responses, key=lambda r: int(r["id"]))]
            except (NotImplementedError, ValueError, TypeError, KeyError):
                answers = None
        if answers is None:
            answers = [logs.rpc(w3, "eth_call", params(u)) for u in chunk]
        for u, value in zip(chunk, answers):
            out[bytes(u)] = int(value, 16) if value not in ("0x", None) else 0
    return out


@dataclass
class UnitCheck:
    """A unit's rebuilt chain against its on-chain record at one block."""

    unit_id: bytes
    gtin: str
    serial: str
    rebuilt_record: int
    onchain_record: int
    problem: str | None = None  # the history could not even be rebuilt (e.g. an unreadable index row)

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


def integrity_report(block: int, checks: list[UnitCheck], events: int) -> dict[str, Any]:
    """The integrity report both the gateway (/v1/audit/integrity) and the auditor CLI print."""
    mismatches = [c for c in checks if not c.verified]
    return {
        "block": block,
        "units": {"total": len(checks), "verified": len(checks) - len(mismatches), "mismatched": len(mismatches)},
        "events": events,
        "mismatches": [
            {
                "unitId": "0x" + c.unit_id.hex(),
                "gtin": c.gtin,
                "serial": c.serial,
                "reason": c.problem or mismatch_reason(c.rebuilt_record, c.onchain_record, block),
                "rebuiltCount": hashchain.count_of(c.rebuilt_record),
                "onchainCount": hashchain.count_of(c.onchain_record),
                "rebuiltRecord": hashchain.to_hex(c.rebuilt_record),
                "onchainRecord": hashchain.to_hex(c.onchain_record),
            }
            for c in sorted(mismatches, key=lambda c: c.unit_id)
        ],
    }


def _topic(registry: Any, name: str) -> str:
    abi = next(e for e in registry.abi if e.get("type") == "event" and e["name"] == name)
    return "0x" + event_abi_to_log_topic(abi).hex()


def unit_records(registry: Any, unit_id: bytes, from_block: int, to_block: int, step: int = 50_000) -> tuple[list[LifecycleRecord], Roles]:
    """One unit's lifecycle records (logs filtered by its id, in chain order) and the actors' roles
    over time, from `registry` (a web3 contract) logs in [from_block, to_block]."""
    decoder = logs.LogDecoder({registry.address: registry.abi})
    topics = [[_topic(registry, "UnitCommissioned"), _topic(registry, "EventRecorded")], "0x" + bytes(unit_id).hex()]
    records: list[LifecycleRecord] = []
    for _, _, raw in logs.iter_ranges(registry.w3, [registry.address], from_block, to_block, step, topics=topics):
        records.extend(r for r in (from_log(e) for e in logs.decoded(decoder, raw)) if r is not None)
    roles = Roles()
    for _, _, raw in logs.iter_ranges(registry.w3, [registry.address], from_block, to_block, step, topics=[_topic(registry, "ActorUpdated")]):
        for e in logs.decoded(decoder, raw):
            roles.update(e.args["account"], e.args["roles"], e.block, e.log_index)
    return records, roles


@dataclass
class UnitHistory:
    """One unit's history from the logs, its rebuilt head and the on-chain record, at one block."""

    unit_id: bytes
    block: int
    events: list[LifecycleRecord] = field(default_factory=list)
    rebuilt_record: int = 0
    onchain_record: int = 0

    @property
    def verified(self) -> bool:
        return self.onchain_record != 0 and self.rebuilt_record == self.onchain_record

    @property
    def count(self) -> int:
        return hashchain.count_of(self.onchain_record)


def fetch(registry: Any, unit_id: bytes, from_block: int = 0, to_block: int | str = "latest") -> UnitHistory:
    """Rebuilds the history of `unit_id` from `registry` (a web3 contract) logs between the blocks
    and reads its record at `to_block`, so logs and record describe the same state. `from_block`
    should be the registry's deployment block."""
    block = registry.w3.eth.get_block(to_block)["number"]
    records, _ = unit_records(registry, unit_id, from_block, block)
    chain = chain_records(records)
    onchain = read_records(registry, [bytes(unit_id)], block)[bytes(unit_id)]
    return UnitHistory(bytes(unit_id), block, records, chain[-1] if chain else 0, onchain)
