"""A unit's history rebuilt from TraceRegistry logs alone, checked against its on-chain record.

Needs nothing but a JSON-RPC node and the registry's ABI: no database, no gateway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import eip712, hashchain


@dataclass
class UnitHistory:
    unit_id: bytes
    events: list[dict[str, Any]] = field(default_factory=list)
    rebuilt_record: int = 0
    onchain_record: int = 0
    block: int = 0

    @property
    def verified(self) -> bool:
        return self.onchain_record != 0 and self.rebuilt_record == self.onchain_record

    @property
    def count(self) -> int:
        return hashchain.count_of(self.onchain_record)


def event_message(name: str, args: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The signed item (primary type, fields) that a registry log records."""
    if name == "UnitCommissioned":
        return "Commission", {n: args[n] for _, n in eip712.TYPES["Commission"]}
    if name == "EventRecorded":
        return "LifecycleEvent", {n: args[n] for _, n in eip712.TYPES["LifecycleEvent"]}
    raise ValueError(f"not a lifecycle log: {name}")


def fetch(registry: Any, unit_id: bytes, from_block: int = 0, to_block: int | str = "latest") -> UnitHistory:
    """Rebuilds the history of `unit_id` from `registry` (a web3 contract) logs between the blocks.

    `from_block` should be the registry's deployment block. The on-chain record is read at
    `to_block`, so logs and record describe the same state.
    """
    w3 = registry.w3
    block = w3.eth.get_block(to_block)["number"]
    logs = []
    for event_name in ("UnitCommissioned", "EventRecorded"):
        event = getattr(registry.events, event_name)
        for log in event.get_logs(from_block=from_block, to_block=block, argument_filters={"unitId": unit_id}):
            logs.append(log)
    logs.sort(key=lambda log: (log["blockNumber"], log["logIndex"]))

    history = UnitHistory(unit_id=bytes(unit_id), block=block)
    record = 0
    for log in logs:
        primary, message = event_message(log["event"], dict(log["args"]))
        signer = log["args"]["signer"]
        record = hashchain.link(record, signer, eip712.struct_hash(primary, message))
        if primary == "Commission":
            message["unitId"] = bytes(unit_id)
        history.events.append(
            {
                "event": log["event"],
                "signer": signer,
                "seq": hashchain.count_of(record),
                "record": record,
                "tx": log["transactionHash"].hex(),
                "block": log["blockNumber"],
                "log_index": log["logIndex"],
                **message,
            }
        )
    history.rebuilt_record = record
    history.onchain_record = registry.functions.unitRecord(unit_id).call(block_identifier=block)
    return history
