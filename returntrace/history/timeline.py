"""A history's steps as the consumer page and the auditor show them, with the role each was signed in."""

from __future__ import annotations

from typing import Any

from ..vocab import AggregationAction, BizStep, Disposition, signer_role, step_label
from .records import ZERO32, LifecycleRecord


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
    api.read.views.TimelineEntry; `evidence` as the 0x digest). `via_sscc`: the event is the scan of a
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
        "action": AggregationAction(r.action).name
        if r.kind == "aggregation" and r.action in AggregationAction._value2member_map_
        else None,
        "via_parcel": via_sscc is not None,
        "log_index": r.log_index,
    }
