"""The unit's latest order as its views show it (ReturnStatus): its state from the index row and the
escrow's (and the reissue desk's) events, its settlement as the escrow's parts, and each claim the
index makes about it proved on-chain at the indexed block (api/chain/proofs.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from returntrace.escrow import Facts, Grade, Order, Remedy, ReturnReason, UnitDisposition
from returntrace.evidence_files import EvidenceNames
from returntrace.logs import DecodedLog
from returntrace.policies import MARKET_NAMES

from ..chain.blocks import at
from ..chain.guard import ChainUnavailable
from ..chain.proofs import BlockReads
from ..store.index import SETTLEMENT_EVENTS
from . import settlements
from .indexer import json_safe
from .rows import bytes32, unit_ref
from .views import ReturnStatus, Settlement

ZERO_ADDRESS = "0x" + "00" * 20


def reason_text(value: str | bytes) -> str:
    """An arbiter's reason code (bytes32: ASCII, right-padded with zero bytes) as text; hex if it is not one."""
    raw = bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)
    text = raw.rstrip(b"\0")
    if text and all(32 <= b < 127 for b in text):
        return text.decode("ascii")
    return "0x" + raw.hex()


def _grade(value: int | None) -> str | None:
    return Grade(value).name if value else None


def reissue_unfulfilled(order_events: list[dict[str, Any]]) -> bool:
    """The order's reissue went unfulfilled: its replacement link no longer holds (the unit went back to stock)."""
    return any(e["name"] == "ReissueUnfulfilled" for e in order_events)


def _terms(order: Order) -> tuple[Any, ...]:
    """What `_prove_order` compares of `ReturnEscrow.order` besides its state, as the index row holds it."""
    return (
        "0x" + order.unit_id.hex(),
        order.buyer,
        order.market,
        order.currency,
        order.price,
        order.delivery_fee,
        order.return_shipping_fee,
        int(order.reason),
        int(order.remedy),
        order.in_withdrawal,
    )


def _log_args(entry: DecodedLog | None) -> tuple[str, dict[str, Any]] | None:
    """A log's name and args as the index keeps them (JSON), to compare with an index row's copy."""
    return None if entry is None else (entry.name, json.loads(json.dumps(json_safe(entry.args))))


def _settled_by(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The order's latest settling log (SETTLEMENT_EVENTS), if it was settled."""
    return next((e for e in reversed(events) if e["name"] in SETTLEMENT_EVENTS), None)


class OrderViews:
    """Builds a unit's ReturnStatus; `links` (the deployment's state at the indexed block) proves it
    on-chain (None: nothing is proved)."""

    def __init__(self, links: BlockReads | None, evidence: EvidenceNames, public_url: str) -> None:
        self.links, self.evidence, self.public_url = links, evidence, public_url

    def return_status(self, o: dict[str, Any], events: list[dict[str, Any]]) -> ReturnStatus:
        """The order's state from its index row and escrow events; its settlement as the escrow's parts."""
        inspection = None
        if o["inspector"]:
            # What the inspector attested, from its own log: the order's facts and diminished value are
            # the arbiter's once it corrected them (DisputeResolved), which the dispute shows apart.
            submitted = next((e for e in reversed(events) if e["name"] == "InspectionSubmitted"), None)
            attested = (
                submitted["args"]
                if submitted is not None
                else {"facts": o["facts"], "diminishedValue": o["diminished_value"]}
            )
            inspection = {
                "inspector": o["inspector"],
                "facts": Facts.names(int(attested["facts"] or 0)),
                "claimedGrade": _grade(o["claimed_grade"]),
                "derivedGrade": _grade(o["derived_grade"]),
                "diminishedValue": None if attested["diminishedValue"] is None else str(attested["diminishedValue"]),
                "evidence": self.evidence.name(o["inspection_evidence"]),
            }
        settled_by = _settled_by(events)
        settlement = None
        if settled_by is not None:
            parts = settlements.parts_json(o, events, settled_by)
            where = {
                "tx_hash": settled_by["tx_hash"],
                "block": settled_by["block"],
                "log_index": settled_by["log_index"],
                "parts": parts,
            }
            if (
                o["status"] == "cancelled"
            ):  # never delivered: the buyer got everything back, the unit stays with the brand
                settlement = Settlement(
                    None, False, parts["refund"], "0", "0", UnitDisposition.RESTOCK.name.lower(), **where
                )
            elif o["status"] in ("completed", "reissued"):  # no return: the merchant is paid, the buyer keeps the unit
                settlement = Settlement(None, False, "0", parts["merchantAmount"], "0", "kept", **where)
            elif o["status"] in ("refunded", "settled"):
                # Paid before any inspection: the unit's fate waits for one (DispositionDecided), unless the
                # unit was closed or kept (a failed reissue): nothing comes back to decide on.
                decided = o["settled_disposition"] is not None
                fate = (
                    UnitDisposition(o["settled_disposition"]).name.lower()
                    if decided
                    else "kept"
                    if parts["kind"] in ("unit_closed", "reissue_failed")
                    else "pending"
                )
                settlement = Settlement(
                    _grade(o["grade"]) if decided else None,
                    bool(o["statutory"]),
                    parts["refund"],
                    parts["merchantAmount"],
                    parts["points"],
                    fate,
                    **where,
                )
        reason = o["reason"]
        return ReturnStatus(
            order_id=o["order_id"],
            market=MARKET_NAMES.get(o["market"], str(o["market"])),
            status=o["status"],
            currency="native" if o["currency"] == ZERO_ADDRESS else o["currency"],
            price=o["price"],
            delivery_fee=o["delivery_fee"],
            reason=ReturnReason.key_of(reason) if reason is not None else None,
            requested_at=o["requested_at"],
            in_withdrawal=None if o["in_withdrawal"] is None else bool(o["in_withdrawal"]),
            inspection=inspection,
            settlement=settlement,
            events=[
                {
                    "name": e["name"],
                    "block": e["block"],
                    "logIndex": e["log_index"],
                    "time": e["block_time"],
                    "txHash": e["tx_hash"],
                    "args": e["args"],
                }
                for e in events
            ],
        )

    def add_details(
        self,
        rs: ReturnStatus,
        o: dict[str, Any],
        events: list[dict[str, Any]],
        keys: dict,
        block: int | None,
        block_hash: str | None = None,
    ) -> None:
        def last(name: str) -> dict[str, Any] | None:
            found = [e for e in events if e["name"] == name]
            return found[-1] if found else None

        requested = last("ReturnRequested")
        if requested is not None:
            rs.remedy = Remedy.EXCHANGE.key if int(o["remedy"] or 0) == Remedy.EXCHANGE else Remedy.REFUND.key
        released = last("RefundReleasedOnReceipt")
        if released is not None and rs.settlement is not None:
            rs.refund_on_receipt = {
                "location": f"{int(released['args']['location']):013d}",
                "refund": rs.settlement.refund,
                "points": rs.settlement.points,
                "block": released["block"],
                "txHash": released["tx_hash"],
                "time": released["block_time"],
            }
        voucher = (rs.settlement.parts or {}).get("voucher") if rs.settlement is not None else None
        if rs.remedy == "exchange" and voucher not in (None, "0"):
            rs.voucher_points = voucher
        disputed = last("OrderDisputed")
        if disputed is not None:
            by = disputed["args"]["by"]
            who = "inspection_mismatch" if int(by, 16) == 0 else "buyer" if by == o["buyer"] else "merchant"
            resolved, lapsed = last("DisputeResolved"), last("DisputeLapsed")
            rs.dispute = {
                "openedBy": who,
                "account": None if who == "inspection_mismatch" else by,
                "decideBy": int(disputed["args"]["decideBy"]),
                "time": disputed["block_time"],
                "pending": o["status"] == "disputed",
                "lapsed": lapsed is not None,
                "resolution": None,
            }
            if resolved is not None:
                a = resolved["args"]
                rs.dispute["resolution"] = {
                    "arbiter": a["arbiter"],
                    "facts": Facts.names(int(a["facts"])),
                    "grade": _grade(int(a["grade"])),
                    "diminishedValue": str(a["diminishedValue"]),
                    "reason": reason_text(a["reason"]),
                    "evidence": self.evidence.name(a["evidence"]),
                    "time": resolved["block_time"],
                    "txHash": resolved["tx_hash"],
                }
        if o["status"] == "return_requested" and self.links is not None:
            try:
                sent = self.links.dispatched_at(o["order_id"], at(block, block_hash))
            except ChainUnavailable:
                sent = None
            rs.dispatched_at = sent or None
        if (
            rs.settlement is not None
            and rs.settlement.disposition == "pending"
            and o["status"] == "settled"
            and o["derived_grade"]
            and self.links
        ):
            try:  # settled on a lone first opinion (its second never came): its facts' grade terms send the unit
                terms = self.links.policy(o["market"], o["policy_version"]).grade_terms(int(o["derived_grade"]))
                rs.settlement.disposition = UnitDisposition(terms.disposition).name.lower()
            except ChainUnavailable:
                pass
        if self.links is not None:
            settled_by = _settled_by(events)
            rs.proof = self._prove_order(o, settled_by, block, block_hash)
        second = last("SecondInspectionRequired")
        if second is not None:
            rs.second_inspection = {
                "firstOrganization": f"{int(second['args']['firstOrganization']):013d}",
                "pending": o["status"] == "second_inspection",
            }
        claimed = last("DefectClaimed")
        if claimed is not None:
            decided = last("DefectClaimDecided")
            claim_lapsed = (
                last("DefectClaimLapsed") is not None
            )  # nobody decided in time: the claim became a return at the merchant's expense
            auto = bool(claimed["args"].get("autoApproved"))
            rs.defect_claim = {
                "evidence": self.evidence.name(claimed["args"].get("evidence")),
                "autoApproved": auto,
                "decided": decided is not None or auto or claim_lapsed,
                "approved": auto or bool(decided and decided["args"].get("approved")),
                "returnedUndecided": claim_lapsed,
                "time": claimed["block_time"],
                "block": claimed["block"],
            }
        unfulfilled = last("ReissueUnfulfilled")
        linked = None if unfulfilled is not None else last("ReplacementLinked")  # the replacement went back to stock
        completed = last("ReissueCompleted")
        if claimed is not None and (rs.defect_claim or {}).get("approved"):
            reissue: dict[str, Any] = {
                "replacement": None,
                "verified": False,
                "reason": None,
                "deliveredAt": None,
                "unfulfilled": unfulfilled is not None,
                "returnWaived": bool(unfulfilled and unfulfilled["args"].get("returnWaived")),
            }
            if linked is not None:
                replacement = linked["args"]["replacementUnitId"]
                reissue["replacement"] = unit_ref(replacement, keys, self.public_url)
                reissue["verified"], reissue["reason"] = self._prove(
                    lambda links: links.replacement_of(o["order_id"], at(block, block_hash)),
                    bytes32(replacement),
                    f"ReissueDesk.reissue({o['order_id']}).replacement",
                    block,
                )
            if completed is not None:
                reissue["deliveredAt"] = int(completed["args"]["deliveredAt"])
            rs.reissue = reissue
        if o["status"] == "active" and self.links is not None:
            rs.return_options = self.links.return_options(o, at(block, block_hash))

    def _prove_order(
        self, o: dict[str, Any], settled_by: dict[str, Any] | None, block: int | None, block_hash: str | None
    ) -> dict[str, Any]:
        """The index's status, facts and grade of the order, and the terms the view shows (its unit, buyer,
        market, currency, amounts, reason, remedy), against `ReturnEscrow.order` at the indexed block; and the
        index's copy of the log that settled it against the escrow's own log at its place."""
        at_block = at(block, block_hash)
        expected = (o["status"], int(o["facts"] or 0), int(o["grade"] or 0))
        # Awaiting a second house or an arbiter, the escrow holds the inspection's claim as the order's grade
        # (or none, where two houses must agree): the index keeps it as the claim the view shows, no grade yet.
        interim = o["status"] in ("second_inspection", "disputed") and o["grade"] is None
        claim = int(o["claimed_grade"] or 0)

        def state(links: BlockReads) -> tuple[str, int, int]:
            status, facts, grade = links.order_state(o["order_id"], at_block)
            return status, facts, 0 if interim and grade in (0, claim) else grade

        verified, reason = self._prove(
            state,
            expected,
            f"ReturnEscrow.order({o['order_id']}) (status, facts, grade)",
            block,
        )
        if verified:  # a row moved to another unit, or repriced, keeps the on-chain status, facts and grade
            verified, reason = self._prove(
                lambda links: _terms(links.order(o["order_id"], at_block)),
                (
                    o["unit_id"].lower(),
                    o["buyer"],
                    int(o["market"]),
                    o["currency"],
                    int(o["price"]),
                    int(o["delivery_fee"]),
                    int(o["return_shipping_fee"]),
                    int(o["reason"] or 0),
                    int(o["remedy"] or 0),
                    bool(o["in_withdrawal"]),
                ),
                f"ReturnEscrow.order({o['order_id']}) (unit, buyer, market, currency, price, delivery fee, "
                "return shipping fee, reason, remedy, in withdrawal)",
                block,
            )
        if verified and settled_by is not None:  # its parts adding up proves nothing: the index may alter them all
            verified, reason = self._prove(
                lambda links: _log_args(
                    links.escrow_log(int(settled_by["block"]), int(settled_by["log_index"]), at_block)
                ),
                (settled_by["name"], settled_by["args"]),
                f"{settled_by['name']} (the escrow's log {settled_by['block']}:{settled_by['log_index']})",
                block,
            )
        return {"verified": verified, "block": block, "reason": reason}

    def _prove(
        self, read: Callable[[BlockReads], Any], expected: Any, what: str, block: int | None
    ) -> tuple[bool, str | None]:
        if self.links is None:
            return False, "chain unreachable: no on-chain reader"
        try:
            onchain = read(self.links)
        except ChainUnavailable as exc:
            return False, f"chain unreachable: {exc}"
        if onchain != expected:
            return False, f"mismatch: {what} on-chain at block {block} is {onchain!r}, not what the index holds"
        return True, None

    def replacement_for(
        self, unit_id: bytes, replaced: dict[str, Any], keys: dict, block: int | None, block_hash: str | None = None
    ) -> dict[str, Any]:
        order_id = int(replaced["order_id"])
        verified, reason = self._prove(
            lambda links: links.last_order_of(unit_id, at(block, block_hash)),
            order_id,
            "ReturnEscrow.lastOrderOf(unit)",
            block,
        )
        return {
            "orderId": order_id,
            "original": unit_ref(replaced["args"]["originalUnitId"], keys, self.public_url),
            "verified": verified,
            "reason": reason,
            "block": replaced["block"],
            "txHash": replaced["tx_hash"],
        }
