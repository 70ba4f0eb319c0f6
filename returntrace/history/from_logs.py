"""Histories fetched from a node alone (eth_getLogs and the registry's state at one block): every
chain in a block range, one unit's chain with its parcels', one parcel's, and the actors' roles."""

from __future__ import annotations

from typing import Any

from eth_utils import event_abi_to_log_topic

from .. import gs1, logs
from .parcels import parcel_contents, via_parcels
from .records import LifecycleRecord, RecordReader, chain_records
from .state import read_parcel_sizes, read_parents, read_records
from .timeline import Roles
from .verify import ParcelHistory, UnitHistory, parcel_history_of


def collect(
    registry: Any, from_block: int, to_block: int, step: int = 5000
) -> tuple[dict[bytes, list[LifecycleRecord]], Roles]:
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
    out: list[bytes] = []
    for _, _, raw in logs.iter_ranges(w3, [registry.address], from_block, last, step, topics=[topic]):
        out.extend(bytes(e.args["unitId"]) for e in logs.decoded(decoder, raw))
    return out


def _topic(registry: Any, name: str) -> str:
    abi = next(e for e in registry.abi if e.get("type") == "event" and e["name"] == name)
    return "0x" + event_abi_to_log_topic(abi).hex()


def _chain_logs(
    registry: Any,
    decoder: logs.LogDecoder,
    names: list[str],
    chain_id: bytes,
    from_block: int,
    to_block: int,
    step: int,
) -> list[Any]:
    """Decoded logs of the given events whose first indexed field is `chain_id`, in chain order."""
    topics = [[_topic(registry, n) for n in names], "0x" + bytes(chain_id).hex()]
    out: list[Any] = []
    for _, _, raw in logs.iter_ranges(registry.w3, [registry.address], from_block, to_block, step, topics=topics):
        out.extend(logs.decoded(decoder, raw))
    return out


def chains_of(
    registry: Any, unit_id: bytes, from_block: int, to_block: int, step: int = 50_000
) -> tuple[list[LifecycleRecord], dict[bytes, list[LifecycleRecord]]]:
    """One unit's chain records and those of every parcel it was packed in, from logs filtered by
    their ids: the unit's commissioning, events and UnitAggregated links, the parcels' events and
    AggregationRecorded logs (whose content the unit's aggregation links need)."""
    decoder = logs.LogDecoder({registry.address: registry.abi})
    own = _chain_logs(
        registry, decoder, ["UnitCommissioned", "EventRecorded", "UnitAggregated"], unit_id, from_block, to_block, step
    )
    parcel_ids = list(dict.fromkeys(bytes(e.args["parcelId"]) for e in own if e.name == "UnitAggregated"))
    parcel_logs = {
        p: _chain_logs(registry, decoder, ["EventRecorded", "AggregationRecorded"], p, from_block, to_block, step)
        for p in parcel_ids
    }
    merged = sorted(
        [*own, *(e for entries in parcel_logs.values() for e in entries if e.name == "AggregationRecorded")],
        key=lambda e: (e.block, e.log_index),
    )
    records = [r for r in RecordReader().read_all(merged) if r.unit_id == bytes(unit_id)]
    parcels = {p: list(RecordReader().read_all(entries)) for p, entries in parcel_logs.items()}
    return records, parcels


def parcel_records(
    registry: Any, parcel_id: bytes, from_block: int, to_block: int, step: int = 50_000
) -> list[LifecycleRecord]:
    """One parcel's chain records: its aggregations and the lifecycle events recorded on it."""
    decoder = logs.LogDecoder({registry.address: registry.abi})
    return list(
        RecordReader().read_all(
            _chain_logs(
                registry, decoder, ["EventRecorded", "AggregationRecorded"], parcel_id, from_block, to_block, step
            )
        )
    )


def roles_over_time(registry: Any, from_block: int, to_block: int, step: int = 50_000) -> Roles:
    """The actors' roles over time, from ActorUpdated logs."""
    decoder = logs.LogDecoder({registry.address: registry.abi})
    roles = Roles()
    for _, _, raw in logs.iter_ranges(
        registry.w3, [registry.address], from_block, to_block, step, topics=[_topic(registry, "ActorUpdated")]
    ):
        for e in logs.decoded(decoder, raw):
            roles.update(e.args["account"], e.args["roles"], e.block, e.log_index)
    return roles


def fetch(registry: Any, unit_id: bytes, from_block: int = 0, to_block: int | str = "latest") -> UnitHistory:
    """Rebuilds the history of `unit_id` from `registry` (a web3 contract) logs between the blocks
    and reads its record at `to_block`, so logs and record describe the same state. `from_block`
    should be the registry's deployment block."""
    block = registry.w3.eth.get_block(to_block)["number"]
    records, parcel_chains = chains_of(registry, unit_id, from_block, block)
    chain = chain_records(records)
    onchain = read_records(registry, [bytes(unit_id), *parcel_chains], block)
    # Only the parcels' chains matter for the unit's history: their contents (parentOf, parcelSize) are not read.
    parcels = {
        p: ParcelHistory(p, block, rs, (chain_records(rs) or [0])[-1], onchain[p]) for p, rs in parcel_chains.items()
    }
    return UnitHistory(
        bytes(unit_id),
        block,
        records,
        chain[-1] if chain else 0,
        onchain[bytes(unit_id)],
        parcels,
        via_parcels(records, parcel_chains),
    )


def parcel_history(
    registry: Any, parcel_id: bytes, block: int, records: list[LifecycleRecord], onchain: int
) -> ParcelHistory:
    """A parcel's chain `records` (from logs or from an index) against its on-chain record `onchain`,
    and the content they leave against parentOf and parcelSize read at `block`."""
    contents = parcel_contents(records)
    parents = read_parents(registry, contents, block) if contents else {}
    size = read_parcel_sizes(registry, [parcel_id], block)[parcel_id]
    return parcel_history_of(parcel_id, block, records, onchain, parents, size)


def fetch_parcel(registry: Any, sscc: int | str, from_block: int = 0, to_block: int | str = "latest") -> ParcelHistory:
    """Rebuilds a parcel's chain and content from `registry` logs and checks both against the
    registry's state at `to_block` (unitRecord, parcelSize, parentOf of each member)."""
    parcel_id = gs1.parcel_id(sscc)
    block = registry.w3.eth.get_block(to_block)["number"]
    records = parcel_records(registry, parcel_id, from_block, block)
    return parcel_history(registry, parcel_id, block, records, read_records(registry, [parcel_id], block)[parcel_id])
