"""A unit's history rebuilt from TraceRegistry logs alone, checked against its on-chain record.

Needs nothing but a JSON-RPC node and the registry's ABI: no database, no gateway.

Units travel in SSCC parcels. A parcel has a chain of its own (its id is a unit id): each
aggregation (ADD/DELETE) is one link in the parcel's chain and in each unit's, and lifecycle
events recorded on the parcel are links of the parcel's chain only. A unit's history is its own
chain plus the parcel's events recorded while it was packed (between its ADD and DELETE links),
each verified against the head of the chain it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Iterator

from eth_utils import event_abi_to_log_topic, keccak

from . import eip712, gs1, hashchain, logs
from .vocab import AggregationAction, BizStep, Disposition, closes, signer_role, step_label


# ---------------------------------------------------------------------------------------------
# Many units at once: what the gateway's indexer and the auditor CLI share.

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
                {"gtin": self.gtin, "serial": self.serial, "location": self.location, "eventTime": self.event_time, "evidence": self.evidence},
            )
        if self.kind == "aggregation":
            return eip712.struct_hash(
                "Aggregation",
                {
                    "sscc": self.sscc, "childIds": list(self.child_ids), "action": self.action, "bizStep": self.biz_step,
                    "disposition": self.disposition, "location": self.location, "eventTime": self.event_time,
                    "evidence": self.evidence, "bizTransaction": self.biz_transaction,
                },
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
    if entry.name == "AggregationRecorded":
        return LifecycleRecord(
            unit_id=bytes(a["parcelId"]), kind="aggregation", signer=a["signer"], biz_step=int(a["bizStep"]), disposition=int(a["disposition"]),
            location=int(a["location"]), event_time=int(a["eventTime"]), evidence=bytes(a["evidence"]), biz_transaction=bytes(a["bizTransaction"]),
            sscc=int(a["sscc"]), child_ids=tuple(bytes(c) for c in a["childIds"]), action=int(a["action"]), **common,
        )
    return None


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


def parcel_windows(records: list[LifecycleRecord], parcels: dict[bytes, list[LifecycleRecord]]) -> list[tuple[int, int | None, list[LifecycleRecord]]]:
    """When the unit whose chain `records` is was packed, decided by chain positions only (what the
    hash chains prove, not where the logs say they are): for each stay in a parcel, the index of its
    ADD link in `records`, the index of its DELETE link (None while still packed), and the parcel's
    lifecycle events between the parcel's own links with the same struct hashes, in the parcel
    chain's order. A link the parcel's chain lacks leaves that stay without events (the parcel's
    chain then does not verify either)."""
    out: list[tuple[int, int | None, list[LifecycleRecord]]] = []
    open_stay: tuple[int, bytes, bytes] | None = None  # (index of the ADD link, parcel id, its struct hash)

    def close(end: int | None, end_hash: bytes | None) -> None:
        start, parcel, start_hash = open_stay
        chain = parcels.get(parcel, [])
        hashes = [r.struct_hash() if r.kind == "aggregation" else None for r in chain]
        first = next((i for i, h in enumerate(hashes) if h == start_hash), None)
        last = None if end_hash is None or first is None else next((i for i in range(first + 1, len(chain)) if hashes[i] == end_hash), None)
        if first is None or (end_hash is not None and last is None):
            events: list[LifecycleRecord] = []
        else:
            events = [r for r in chain[first + 1 : last] if r.kind == "event"]
        out.append((start, end, events))

    for i, r in enumerate(records):
        if r.kind != "aggregation":
            continue
        if r.action == AggregationAction.ADD:
            open_stay = (i, r.parcel_id, r.struct_hash())
        elif r.action == AggregationAction.DELETE and open_stay is not None:
            close(i, r.struct_hash())
            open_stay = None
    if open_stay is not None:
        close(None, None)
    return out


def via_parcels(records: list[LifecycleRecord], parcels: dict[bytes, list[LifecycleRecord]]) -> list[LifecycleRecord]:
    """The parcels' lifecycle events recorded while the unit was packed in them, in chain order;
    each keeps its parcel's id as `unit_id` (the chain it belongs to)."""
    return [r for _, _, events in parcel_windows(records, parcels) for r in events]


def merged_timeline(records: list[LifecycleRecord], parcels: dict[bytes, list[LifecycleRecord]]) -> list[LifecycleRecord]:
    """The unit's own links in its chain's order with each parcel stay's events after its ADD link,
    in the parcel chain's order. Only where the unit has own links inside a stay (scanned on its
    own while packed) do the log positions interleave the two chains, each keeping its own order."""
    out: list[LifecycleRecord] = []
    windows = {start: (end, events) for start, end, events in parcel_windows(records, parcels)}
    i = 0
    while i < len(records):
        out.append(records[i])
        if i not in windows:
            i += 1
            continue
        end, events = windows[i]
        stop = len(records) if end is None else end
        own = records[i + 1 : stop]
        out.extend(_merge_by_position(own, events))
        i = stop
    return out


def _merge_by_position(a: list[LifecycleRecord], b: list[LifecycleRecord]) -> list[LifecycleRecord]:
    """Two chains' links interleaved by log position, each list keeping its own order."""
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        if b[j].position < a[i].position:
            out.append(b[j])
            j += 1
        else:
            out.append(a[i])
            i += 1
    return out + a[i:] + b[j:]


def parcel_contents(records: list[LifecycleRecord]) -> list[bytes]:
    """A parcel's units after its chain's aggregations, in packing order."""
    members: dict[bytes, None] = {}
    for r in records:
        if r.kind != "aggregation":
            continue
        for c in r.child_ids:
            if r.action == AggregationAction.ADD:
                members[c] = None
            else:
                members.pop(c, None)
    return list(members)


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


def timeline_entry(r: LifecycleRecord, seq: int, roles: int, via_sscc: int | None = None) -> dict[str, Any]:
    """One step of a unit's history as the consumer page and the auditor show it (the fields of
    api.views.TimelineEntry; `evidence` as the 0x digest). `via_sscc`: the event is the scan of a
    parcel (this SSCC) the unit was packed in, a link of the parcel's chain, not the unit's."""
    step = BizStep(r.biz_step) if r.biz_step in BizStep._value2member_map_ else None
    disposition = Disposition(r.disposition) if r.disposition in Disposition._value2member_map_ else None
    parcel = r.sscc if r.kind == "aggregation" else via_sscc
    label = step_label(r.biz_step, roles)
    if r.kind == "aggregation":
        label = "Packed in parcel" if r.action == AggregationAction.ADD else "Unpacked from parcel"
    return {
        "seq": seq,
        "step": step.name.lower() if step else str(r.biz_step),
        "label": label,
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
        "parcel": f"{parcel:018d}" if parcel is not None else None,
        "action": AggregationAction(r.action).name if r.kind == "aggregation" and r.action in AggregationAction._value2member_map_ else None,
        "via_parcel": via_sscc is not None,
        "log_index": r.log_index,
    }


def collect(registry: Any, from_block: int, to_block: int, step: int = 5000) -> tuple[dict[bytes, list[LifecycleRecord]], Roles]:
    """Every unit's and parcel's chain records in [from_block, to_block] from the registry's logs
    (one eth_getLogs per block range, not one per unit), grouped by chain in chain order, and the
    actors' roles over time. `registry` is a web3 contract."""
    address, abi = registry.address, registry.abi
    decoder = logs.LogDecoder({address: abi})
    units: dict[bytes, list[LifecycleRecord]] = {}
    roles = Roles()
    reader = RecordReader()
    for _, _, raw in logs.iter_ranges(registry.w3, [address], from_block, to_block, step):
        for entry in logs.decoded(decoder, raw):
            if entry.name == "ActorUpdated":
                roles.update(entry.args["account"], entry.args["roles"], entry.block, entry.log_index)
                continue
            record = reader.read(entry)
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
_PARENT_OF_SELECTOR = keccak(text="parentOf(bytes32)")[:4]
_PARCEL_SIZE_SELECTOR = keccak(text="parcelSize(bytes32)")[:4]


def read_records(registry: Any, ids: list[bytes], block: int | str, batch: int = 200) -> dict[bytes, int]:
    """`unitRecord(id)` of many units at `block`, in JSON-RPC batches where the node takes them."""
    return read_words(registry, _UNIT_RECORD_SELECTOR, ids, block, batch)


def read_parents(registry: Any, ids: list[bytes], block: int | str) -> dict[bytes, bytes]:
    """`parentOf(id)` of many units at `block`: the parcel each is packed in (zero bytes: none)."""
    return {u: w.to_bytes(32, "big") for u, w in read_words(registry, _PARENT_OF_SELECTOR, ids, block).items()}


def read_parcel_sizes(registry: Any, ids: list[bytes], block: int | str) -> dict[bytes, int]:
    """`parcelSize(id)` of many parcels at `block` (0 for an empty parcel or a unit)."""
    return read_words(registry, _PARCEL_SIZE_SELECTOR, ids, block)


def read_words(registry: Any, selector: bytes, ids: list[bytes], block: int | str, batch: int = 200) -> dict[bytes, int]:
    """A one-word view `selector(bytes32 id)` of many ids at `block` (a number or a tag such as
    "latest"), in JSON-RPC batches where the node takes them. `registry` is any web3 contract."""
    w3 = registry.w3
    tag = block if isinstance(block, str) else hex(block)
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


def integrity_report(block: int, checks: list[UnitCheck], events: int, parcels: list[UnitCheck] = ()) -> dict[str, Any]:
    """The integrity report both the gateway (/v1/audit/integrity) and the auditor CLI print.
    Parcels' chains are counted apart from units'; `events` counts the links of both."""
    mismatches = [c for c in checks if not c.verified]
    parcel_mismatches = [c for c in parcels if not c.verified]
    return {
        "block": block,
        "units": {"total": len(checks), "verified": len(checks) - len(mismatches), "mismatched": len(mismatches)},
        "parcels": {"total": len(parcels), "verified": len(parcels) - len(parcel_mismatches), "mismatched": len(parcel_mismatches)},
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


def _topic(registry: Any, name: str) -> str:
    abi = next(e for e in registry.abi if e.get("type") == "event" and e["name"] == name)
    return "0x" + event_abi_to_log_topic(abi).hex()


def _chain_logs(registry: Any, decoder: logs.LogDecoder, names: list[str], chain_id: bytes, from_block: int, to_block: int, step: int) -> list[Any]:
    """Decoded logs of the given events whose first indexed field is `chain_id`, in chain order."""
    topics = [[_topic(registry, n) for n in names], "0x" + bytes(chain_id).hex()]
    out: list[Any] = []
    for _, _, raw in logs.iter_ranges(registry.w3, [registry.address], from_block, to_block, step, topics=topics):
        out.extend(logs.decoded(decoder, raw))
    return out


def chains_of(registry: Any, unit_id: bytes, from_block: int, to_block: int, step: int = 50_000) -> tuple[list[LifecycleRecord], dict[bytes, list[LifecycleRecord]]]:
    """One unit's chain records and those of every parcel it was packed in, from logs filtered by
    their ids: the unit's commissioning, events and UnitAggregated links, the parcels' events and
    AggregationRecorded logs (whose content the unit's aggregation links need)."""
    decoder = logs.LogDecoder({registry.address: registry.abi})
    own = _chain_logs(registry, decoder, ["UnitCommissioned", "EventRecorded", "UnitAggregated"], unit_id, from_block, to_block, step)
    parcel_ids = list(dict.fromkeys(bytes(e.args["parcelId"]) for e in own if e.name == "UnitAggregated"))
    parcel_logs = {p: _chain_logs(registry, decoder, ["EventRecorded", "AggregationRecorded"], p, from_block, to_block, step) for p in parcel_ids}
    merged = sorted([*own, *(e for entries in parcel_logs.values() for e in entries if e.name == "AggregationRecorded")], key=lambda e: (e.block, e.log_index))
    records = [r for r in RecordReader().read_all(merged) if r.unit_id == bytes(unit_id)]
    parcels = {p: list(RecordReader().read_all(entries)) for p, entries in parcel_logs.items()}
    return records, parcels


def parcel_records(registry: Any, parcel_id: bytes, from_block: int, to_block: int, step: int = 50_000) -> list[LifecycleRecord]:
    """One parcel's chain records: its aggregations and the lifecycle events recorded on it."""
    decoder = logs.LogDecoder({registry.address: registry.abi})
    return list(RecordReader().read_all(_chain_logs(registry, decoder, ["EventRecorded", "AggregationRecorded"], parcel_id, from_block, to_block, step)))


def roles_over_time(registry: Any, from_block: int, to_block: int, step: int = 50_000) -> Roles:
    """The actors' roles over time, from ActorUpdated logs."""
    decoder = logs.LogDecoder({registry.address: registry.abi})
    roles = Roles()
    for _, _, raw in logs.iter_ranges(registry.w3, [registry.address], from_block, to_block, step, topics=[_topic(registry, "ActorUpdated")]):
        for e in logs.decoded(decoder, raw):
            roles.update(e.args["account"], e.args["roles"], e.block, e.log_index)
    return roles


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
    via_parcel: list[LifecycleRecord] = field(default_factory=list)  # parcel events while packed; unit_id is the parcel's

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


def fetch(registry: Any, unit_id: bytes, from_block: int = 0, to_block: int | str = "latest") -> UnitHistory:
    """Rebuilds the history of `unit_id` from `registry` (a web3 contract) logs between the blocks
    and reads its record at `to_block`, so logs and record describe the same state. `from_block`
    should be the registry's deployment block."""
    block = registry.w3.eth.get_block(to_block)["number"]
    records, parcel_chains = chains_of(registry, unit_id, from_block, block)
    chain = chain_records(records)
    onchain = read_records(registry, [bytes(unit_id), *parcel_chains], block)
    # Only the parcels' chains matter for the unit's history: their contents (parentOf, parcelSize) are not read.
    parcels = {p: ParcelHistory(p, block, rs, (chain_records(rs) or [0])[-1], onchain[p]) for p, rs in parcel_chains.items()}
    return UnitHistory(
        bytes(unit_id), block, records, chain[-1] if chain else 0, onchain[bytes(unit_id)], parcels, via_parcels(records, parcel_chains)
    )


def parcel_history(registry: Any, parcel_id: bytes, block: int, records: list[LifecycleRecord], onchain: int) -> ParcelHistory:
    """A parcel's chain `records` (from logs or from an index) against its on-chain record `onchain`,
    and the content they leave against parentOf and parcelSize read at `block`."""
    contents = parcel_contents(records)
    parents = read_parents(registry, contents, block) if contents else {}
    size = read_parcel_sizes(registry, [parcel_id], block)[parcel_id]
    return parcel_history_of(parcel_id, block, records, onchain, parents, size)


def parcel_history_of(parcel_id: bytes, block: int, records: list[LifecycleRecord], onchain: int, parents: dict[bytes, bytes], size: int) -> ParcelHistory:
    """parcel_history from values already read: each member's `parents` entry and the parcel's `size`."""
    chain = chain_records(records)
    contents = parcel_contents(records)
    on_chain = all(parents.get(m) == bytes(parcel_id) for m in contents)
    return ParcelHistory(parcel_id, block, records, chain[-1] if chain else 0, onchain, contents, size, on_chain)


def fetch_parcel(registry: Any, sscc: int | str, from_block: int = 0, to_block: int | str = "latest") -> ParcelHistory:
    """Rebuilds a parcel's chain and content from `registry` logs and checks both against the
    registry's state at `to_block` (unitRecord, parcelSize, parentOf of each member)."""
    parcel_id = gs1.parcel_id(sscc)
    block = registry.w3.eth.get_block(to_block)["number"]
    records = parcel_records(registry, parcel_id, from_block, block)
    return parcel_history(registry, parcel_id, block, records, read_records(registry, [parcel_id], block)[parcel_id])
