"""The message kinds the gateway serves and relays, one entry each: its library part
(returntrace/kinds.py: EIP-712 type, signer field, contract, hence domain and nonce space), its HTTP
path and request body, the contract function the relayer calls, whether consecutive messages of the
kind share a call, the gas bound per item, whether confirming it may queue a follow-up (a refund on
receipt), and the intake's check of it. The routes, the intake, the relayer, the outbox and
/v1/eip712 all read this table; adding a kind is one entry here plus its checks
(docs/contributors.md, Adding a message kind).
"""

from __future__ import annotations

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
    path: str  # POST here; /v1/eip712 publishes it
    summary: str  # the route's OpenAPI summary
    route: str  # the route's name (its OpenAPI operationId stem)
    body: type[BaseModel]
    call: str  # the function of `kind.contract` the relayer calls
    batches: bool  # consecutive messages of the kind go in one call, as a list; else one per transaction
    gas_per_item: int | None  # the gas bound per item that spares a simulation; None: estimated each time
    follows_up: bool  # confirming it may make an order's refund on receipt releasable
    check: Check

    @property
    def name(self) -> str:
        return self.kind.name

    @property
    def contract(self) -> str:
        return self.kind.contract


# Gas per item: the bounds api/write/relayer.py measured (GAS_BASE); aggregations are estimated, as
# their cost grows with the children.
KINDS: dict[str, MessageKind] = {
    k.name: k
    for k in (
        MessageKind(
            kinds.KINDS["EventBatch"],
            path="/v1/events",
            summary="Lifecycle events signed by one actor (EventBatch)",
            route="post_events",
            body=EventBatchIn,
            call="record",
            batches=True,
            gas_per_item=30_000,
            follows_up=True,
            check=Intake._check_EventBatch,
        ),
        MessageKind(
            kinds.KINDS["CommissionBatch"],
            path="/v1/commissions",
            summary="Units commissioned by their brand (CommissionBatch)",
            route="post_commissions",
            body=CommissionBatchIn,
            call="commission",
            batches=True,
            gas_per_item=60_000,
            follows_up=False,
            check=Intake._check_CommissionBatch,
        ),
        MessageKind(
            kinds.KINDS["AggregationBatch"],
            path="/v1/aggregations",
            summary="Units packed into or unpacked from SSCC parcels (AggregationBatch)",
            route="post_aggregations",
            body=AggregationBatchIn,
            call="aggregate",
            batches=True,
            gas_per_item=None,
            follows_up=False,
            check=Intake._check_AggregationBatch,
        ),
        MessageKind(
            kinds.KINDS["DecommissionBatch"],
            path="/v1/decommissions",
            summary="Units of its stock a brand takes out of circulation (DecommissionBatch)",
            route="post_decommissions",
            body=DecommissionBatchIn,
            call="decommission",
            batches=True,
            gas_per_item=60_000,
            follows_up=False,
            check=Intake._check_DecommissionBatch,
        ),
        MessageKind(
            kinds.KINDS["Inspection"],
            path="/v1/inspections",
            summary="An inspector's signed attestation",
            route="post_inspection",
            body=InspectionIn,
            call="submitInspection",
            batches=False,
            gas_per_item=None,
            follows_up=False,
            check=Intake._check_Inspection,
        ),
        MessageKind(
            kinds.KINDS["ReturnRequest"],
            path="/v1/return-requests",
            summary="A buyer's signed return request",
            route="post_return_request",
            body=ReturnRequestIn,
            call="requestReturnBySig",
            batches=False,
            gas_per_item=None,
            follows_up=True,
            check=Intake._check_ReturnRequest,
        ),
        MessageKind(
            kinds.KINDS["DefectClaim"],
            path="/v1/defect-claims",
            summary="A buyer's signed defect claim with evidence, relayed to the ReissueDesk",
            route="post_defect_claim",
            body=DefectClaimIn,
            call="claimDefectBySig",
            batches=False,
            gas_per_item=None,
            follows_up=False,
            check=Intake._check_DefectClaim,
        ),
    )
}
