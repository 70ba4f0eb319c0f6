"""The message kinds the gateway serves and relays, one entry each: its library part
(returntrace/kinds.py: EIP-712 type, signer field, contract, hence domain and nonce space), its
OpenAPI summary and request body, the contract function the relayer calls, the gas bound per item,
whether confirming it may queue a follow-up (a refund on receipt), and the intake's check of it. Its
HTTP path, route name and batching follow from the library part. The routes, the intake, the
relayer, the outbox and /v1/eip712 all read this table; adding a kind is one entry here plus its
checks (docs/contributors.md, Adding a message kind).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from returntrace import kinds

from .intake import Intake, Marks
from .schemas import (
    AggregationBatchIn,
    CommissionBatchIn,
    DecommissionBatchIn,
    DefectClaimIn,
    EventBatchIn,
    InspectionIn,
    ReturnRequestIn,
)

# An intake check: (intake, signer, normalized message, chain time) -> what the message does to
# units (None: nothing).
Check = Callable[[Intake, str, dict[str, Any], int], Marks | None]


@dataclass(frozen=True)
class MessageKind:
    kind: kinds.Kind
    summary: str  # the route's OpenAPI summary
    body: type[BaseModel]
    call: str  # the function of `kind.contract` the relayer calls
    check: Check
    gas_per_item: int | None = None  # the gas bound per item that spares a simulation; None: estimated each time
    follows_up: bool = False  # confirming it may make an order's refund on receipt releasable

    def __post_init__(self) -> None:
        # The path rule below fits names of whole capitalised words with a regular plural; an acronym
        # ("RMAUpdate") or "Delivery" would get a mangled path: such a kind needs the rule extended first.
        stem = self.name.removesuffix("Batch")
        if not re.fullmatch(r"(?:[A-Z][a-z]+)+", stem) or stem.endswith(("y", "s", "x", "ch", "sh")):
            raise ValueError(f"{self.name}: MessageKind.path does not derive a path for this name")

    @property
    def name(self) -> str:
        return self.kind.name

    @property
    def contract(self) -> str:
        return self.kind.contract

    @property
    def batches(self) -> bool:
        """Consecutive messages of the kind go in one call, as a list (a registry batch: record,
        commission, aggregate and decommission take `Signed…Batch[]`); else one per transaction."""
        return self.kind.item is not None

    @property
    def path(self) -> str:
        """POST here (/v1/eip712 publishes it): the collection named after the kind, "ReturnRequest"
        -> /v1/return-requests, "EventBatch" -> /v1/events."""
        return "/v1/" + "-".join(self._words) + "s"

    @property
    def route(self) -> str:
        """The route's name (its OpenAPI operationId stem): post_events for a batch, post_return_request
        for a single message."""
        return "post_" + "_".join(self._words) + ("s" if self.batches else "")

    @property
    def _words(self) -> list[str]:
        """The kind's name in lower-case words, without "Batch": "ReturnRequest" -> return, request."""
        return [w.lower() for w in re.findall(r"[A-Z][a-z]*", self.name.removesuffix("Batch"))]


# Gas per item: the bounds api/write/relayer.py measured (GAS_BASE); aggregations are estimated, as
# their cost grows with the children.
KINDS: dict[str, MessageKind] = {
    k.name: k
    for k in (
        MessageKind(
            kinds.KINDS["EventBatch"],
            summary="Lifecycle events signed by one actor (EventBatch)",
            body=EventBatchIn,
            call="record",
            gas_per_item=30_000,
            follows_up=True,
            check=Intake._check_EventBatch,
        ),
        MessageKind(
            kinds.KINDS["CommissionBatch"],
            summary="Units commissioned by their brand (CommissionBatch)",
            body=CommissionBatchIn,
            call="commission",
            gas_per_item=60_000,
            check=Intake._check_CommissionBatch,
        ),
        MessageKind(
            kinds.KINDS["AggregationBatch"],
            summary="Units packed into or unpacked from SSCC parcels (AggregationBatch)",
            body=AggregationBatchIn,
            call="aggregate",
            check=Intake._check_AggregationBatch,
        ),
        MessageKind(
            kinds.KINDS["DecommissionBatch"],
            summary="Units of its stock a brand takes out of circulation (DecommissionBatch)",
            body=DecommissionBatchIn,
            call="decommission",
            gas_per_item=60_000,
            check=Intake._check_DecommissionBatch,
        ),
        MessageKind(
            kinds.KINDS["Inspection"],
            summary="An inspector's signed attestation",
            body=InspectionIn,
            call="submitInspection",
            check=Intake._check_Inspection,
        ),
        MessageKind(
            kinds.KINDS["ReturnRequest"],
            summary="A buyer's signed return request",
            body=ReturnRequestIn,
            call="requestReturnBySig",
            follows_up=True,
            check=Intake._check_ReturnRequest,
        ),
        MessageKind(
            kinds.KINDS["DefectClaim"],
            summary="A buyer's signed defect claim with evidence, relayed to the ReissueDesk",
            body=DefectClaimIn,
            call="claimDefectBySig",
            check=Intake._check_DefectClaim,
        ),
    )
}
