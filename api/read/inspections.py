"""What an inspection of a returned order would do, before the inspector signs it (issue 12 §2).

    desk = InspectionDesk(chain, reads, reader, outbox, paths)
    preview = desk.preview(order_id, facts, diminished_value, inspector, desk.latest())

From the facts an inspector ticks: the grade ReturnPolicies derives from them (`deriveGrade`, the
grade the escrow checks the inspection's claim against), what the buyer and the merchant get (the
escrow's own `quote` at that grade, facts and diminished value), the order's grade terms from its
policy version, and the Inspection message prefilled for the inspector to sign as is (the next
nonce, a deadline an hour ahead, the evidence digest to fill in) with the INSPECTING scan of the
unit that goes with it (an EventBatch under the return's RMA reference, the same evidence). All read
at one stated block; nothing here recomputes the contracts' rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from returntrace import refs
from returntrace.escrow import Facts, Grade, Order, OrderStatus, Policy, Settlement
from returntrace.vocab import BizStep, Disposition

from ..chain.blocks import BlockRef
from ..chain.client import Chain
from ..chain.proofs import BlockReads
from ..chain.reader import ChainReader
from ..store.outbox import Outbox
from .options import SIGNATURE_VALIDITY, ZERO_ADDRESS, prefilled

MAX_DIMINISHED = 2**96 - 1  # Inspection.diminishedValue is a uint96
ZERO_EVIDENCE = "0x" + "00" * 32


class PreviewRefused(Exception):
    """The preview cannot be given: `code` says why (unknown_order, order_not_returned)."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


@dataclass(frozen=True)
class InspectionPreview:
    block: BlockRef
    order_id: int
    order: Order
    policy: Policy
    facts: int
    diminished_value: int
    grade: Grade  # what deriveGrade gives for the facts: the grade to claim
    settlement: Settlement  # the escrow's quote at that grade
    message: dict[str, Any] | None  # the prefilled Inspection (None: no inspector named)
    scan: dict[str, Any] | None = None  # the prefilled INSPECTING scan (EventBatch) that goes with it

    def as_json(self) -> dict[str, Any]:
        o, s = self.order, self.settlement
        currency = "native" if o.currency == ZERO_ADDRESS else o.currency
        return {
            "orderId": self.order_id,
            "block": {"number": self.block.number, "hash": self.block.hash},
            "status": o.status.key,
            "unitId": "0x" + o.unit_id.hex(),
            "market": o.market,
            "policyVersion": o.policy_version,
            "remedy": o.remedy.key,
            "currency": currency,
            "price": str(o.price),
            "deliveryFee": str(o.delivery_fee),
            "facts": {"bits": self.facts, "names": Facts.names(self.facts)},
            "diminishedValue": str(self.diminished_value),
            "grade": self.grade.name,
            # What follows a signed inspection claiming this grade (ReturnInspection.apply_).
            "then": self._then(),
            "buyer": {"refund": str(s.refund), "points": str(s.points), "voucher": str(s.voucher)},
            "merchant": {"amount": str(s.merchant_amount)},
            "statutory": s.statutory,
            "deducted": {
                "diminished": str(s.diminished),
                "returnShipping": str(s.shipping_deducted),
            },
            "disposition": s.disposition.key,
            "terms": self._terms(),
            "message": self.message,
            "scan": self.scan,
        }

    def _then(self) -> str:
        if self.order.status == OrderStatus.REFUNDED:
            return "disposition_only"  # refunded already: the inspection decides the unit's fate
        if self.order.status == OrderStatus.SECOND_INSPECTION:
            return "second_opinion"  # settles if it agrees with the first, else the arbiter decides
        return "settles" if self.grade == Grade.A else "buyer_may_contest"

    def _terms(self) -> dict[str, Any]:
        p = self.policy
        return {
            "packagingRequiredForA": p.packaging_required_for_a,
            "maxDiminishedBps": p.max_diminished_bps,
            "inspectionSla": p.inspection_sla,
            "disputeWindow": p.dispute_window,
            "byGrade": [
                {
                    "grade": g.name,
                    "refundBps": t.refund_bps,
                    "pointsBps": t.points_bps,
                    "merchantPaysReturnShipping": t.merchant_pays_return_shipping,
                    "disposition": t.disposition.key,
                }
                for g, t in ((g, p.grade_terms(g)) for g in (Grade.A, Grade.B, Grade.C))
            ],
        }


class InspectionDesk:
    def __init__(
        self, chain: Chain, reads: BlockReads, reader: ChainReader, outbox: Outbox, paths: dict[str, str]
    ) -> None:
        # `paths`: where each signed kind is posted (api/write/kinds.py, which this room may not import).
        self.chain, self.reads, self.reader, self.outbox, self.paths = chain, reads, reader, outbox, paths

    def latest(self) -> BlockRef:
        return self.reads.latest()

    def order_of(self, unit_id: bytes, at: BlockRef) -> int:
        """The unit's latest order at `at`: the one an inspection of the unit grades."""
        if not self.reads.exists(unit_id, at):
            raise PreviewRefused(404, "unknown_unit", f"no unit 0x{unit_id.hex()} is recorded at block {at.number}")
        order_id = self.reads.last_order_of(unit_id, at)
        if not order_id:
            raise PreviewRefused(409, "no_order", f"unit 0x{unit_id.hex()} was never sold through the escrow")
        return order_id

    def preview(
        self, order_id: int, facts: int, diminished_value: int, inspector: str | None, at: BlockRef
    ) -> InspectionPreview:
        """The preview of an inspection of `order_id` stating `facts`, at `at`. Raises PreviewRefused
        for no such order or one that takes no inspection now, ValueError for facts or a value out of range."""
        if not 0 <= facts <= Facts.ALL:
            raise ValueError(f"facts {facts} has bits beyond SEAL_INTACT|PACKAGING_INTACT|USED|DEFECTIVE (0-15)")
        if not 0 <= diminished_value <= MAX_DIMINISHED:
            raise ValueError(f"diminishedValue {diminished_value} is not a uint96")
        if not 1 <= order_id <= self.reads.order_count(at):
            raise PreviewRefused(404, "unknown_order", f"order {order_id} does not exist at block {at.number}")
        order = self.reads.order(order_id, at)
        if not order.awaits_inspection:
            raise PreviewRefused(
                409, "order_not_returned", f"order {order_id} is not awaiting inspection (status {order.status.key})"
            )
        grade = self.reads.derive_grade(order.market, order.policy_version, facts, at)
        settlement = self.reads.quote(order_id, grade, facts, at, diminished_value)
        message = scan = None
        if inspector is not None:
            deadline = self.reads.block_time(at) + SIGNATURE_VALIDITY
            scan = self._scan(order_id, order, grade, inspector, at, deadline)
            nonce = self.outbox.next_nonce("Inspection", inspector, self.reader.nonce("escrow", inspector))
            message = prefilled(
                self.chain,
                self.paths,
                "Inspection",
                {
                    "inspector": inspector,
                    "orderId": order_id,
                    "facts": facts,
                    "grade": int(grade),
                    "diminishedValue": diminished_value,
                    "evidence": ZERO_EVIDENCE,
                    "nonce": nonce,
                    "deadline": deadline,
                },
            )
            message["fill"] = ["evidence"]  # the digest of the uploaded evidence (docs/integrators.md)
        policy = self.reads.policy(order.market, order.policy_version)
        return InspectionPreview(at, order_id, order, policy, facts, diminished_value, grade, settlement, message, scan)

    def _scan(
        self, order_id: int, order: Order, grade: Grade, inspector: str, at: BlockRef, deadline: int
    ) -> dict[str, Any]:
        """The inspector's INSPECTING scan of the unit that goes with the attestation: under the return's
        RMA reference, at the inspector's organisation, conformant for grade A, with the same evidence."""
        _, organization = self.reads.actor(inspector, at)
        nonce = self.outbox.next_nonce("EventBatch", inspector, self.reader.nonce("registry", inspector))
        rma = refs.rma_ref(refs.order_ref(self.chain.chain_id, self.chain.escrow.address, order_id))
        event = {
            "unitId": "0x" + order.unit_id.hex(),
            "bizStep": int(BizStep.INSPECTING),
            "disposition": int(Disposition.CONFORMANT if grade == Grade.A else Disposition.NON_CONFORMANT),
            "location": organization,
            "eventTime": self.reads.block_time(at),
            "evidence": ZERO_EVIDENCE,
            "bizTransaction": "0x" + rma.hex(),
        }
        signed = prefilled(
            self.chain,
            self.paths,
            "EventBatch",
            {"signer": inspector, "events": [event], "nonce": nonce, "deadline": deadline},
        )
        signed["fill"] = ["events[0].evidence"]  # the same digest as the Inspection's
        return signed
