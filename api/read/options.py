"""What the buyer of a unit can do now, computed from the chain at one stated block (issue 11 §2).

    desk = ReturnDesk(chain, reads, reader, outbox, paths)
    found = desk.options(unit_id, buyer, reason="size_fit")   # OptionsFound: block, order, options, why

Every amount is the escrow's own (`quote` per grade, with the facts that give that grade), every
deadline the escrow's or the law's window (`returnWindowCloses`; the statutory period is
ReturnPolicies.periodEnd of the law's days from the delivery), read at the block stated with the
answer; the one sum outside the contracts is Policy.exchange_voucher (returntrace/escrow). Only
options the contract would accept now appear: an Active, delivered order inside its return period
for a return, an exchange only where the policy offers one, a dispute only in the statuses that
take one. Each option names the signed message it leads to, with its EIP-712 typed data filled in
(the coarse on-chain reason of returntrace/reasons.py, the buyer's next nonce, a deadline an hour
ahead), for the buyer to read and sign as is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from returntrace.escrow import Facts, Grade, Order, OrderStatus, Remedy, ReturnReason, Settlement
from returntrace.i18n import N_
from returntrace.reasons import coarse

from ..chain.blocks import BlockRef
from ..chain.client import Chain
from ..chain.proofs import BlockReads
from ..chain.reader import ChainReader
from ..store.outbox import Outbox

SIGNATURE_VALIDITY = 3600  # seconds a prefilled message stays valid for signing
ZERO_ADDRESS = "0x" + "00" * 20

# Facts that give each grade under the presets (what an inspector would attest of such a return).
GRADE_FACTS: dict[Grade, int] = {
    Grade.A: Facts.SEAL_INTACT | Facts.PACKAGING_INTACT,  # unopened
    Grade.B: Facts.PACKAGING_INTACT,  # opened, unused
    Grade.C: Facts.USED,  # used
}
GRADE_CONDITION = {Grade.A: N_("unopened, seal intact"), Grade.B: N_("opened, unused"), Grade.C: N_("used")}

# The order options are shown in, per assistant reason (None: no reason recognised). Kinds that an
# order does not allow now are left out; "person" is always there, first when a person must answer.
DEFAULT_ORDER = ("exchange", "withdrawal", "policy_return", "refund_on_receipt", "dispute", "person")
ORDER_BY_REASON: dict[str | None, tuple[str, ...]] = {
    None: DEFAULT_ORDER,
    "size_fit": DEFAULT_ORDER,
    "baby_rejected": DEFAULT_ORDER,
    "defective": ("reissue", "withdrawal", "policy_return", "refund_on_receipt", "exchange", "dispute", "person"),
    "wrong_item": ("replacement", "withdrawal", "policy_return", "refund_on_receipt", "exchange", "dispute", "person"),
    "damaged_in_transit": (
        "replacement",
        "withdrawal",
        "policy_return",
        "refund_on_receipt",
        "exchange",
        "dispute",
        "person",
    ),
    "changed_mind": ("withdrawal", "policy_return", "refund_on_receipt", "exchange", "dispute", "person"),
    "not_as_described": ("withdrawal", "policy_return", "refund_on_receipt", "exchange", "dispute", "person"),
    "late_delivery": ("withdrawal", "policy_return", "refund_on_receipt", "exchange", "dispute", "person"),
    # A child's health: a person answers, nothing is resolved automatically.
    "safety_concern": ("person",),
}


@dataclass
class OptionsFound:
    """The desk's answer for a unit: the block it read, the order (None: none), the options and,
    when there are none but a person, why."""

    block: BlockRef | None
    order_id: int | None = None
    order: Order | None = None
    options: list[dict[str, Any]] = field(default_factory=list)
    why: str | None = None  # a code: no_order, not_delivered, return_window_closed, order_not_active, safety_concern


def prefilled(chain: Chain, paths: dict[str, str], kind: str, message: dict[str, Any]) -> dict[str, Any]:
    """A signed message to offer: its kind, where it is posted and its eth_signTypedData_v4 JSON, filled in."""
    return {"kind": kind, "post": paths[kind], "typedData": chain.domain_for(kind).typed_data(kind, message)}


def person_first(options: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The options with the person first: when a person must answer, they are the first choice offered."""
    return sorted(options, key=lambda o: o["kind"] != "person")


class NotBuyer(Exception):
    """The account named as the buyer did not buy the unit's order."""


def _amounts(s: Settlement) -> dict[str, str]:
    return {"refund": str(s.refund), "points": str(s.points)}


def person_option() -> dict[str, Any]:
    """The buyer may always ask for a person."""
    return {
        "kind": "person",
        "statutory": False,
        "title": N_("Talk to a person"),
        "gets": None,
        "must": N_("Describe what happened; a person from the shop answers you."),
        "deadline": None,
        "message": None,
    }


class ReturnDesk:
    def __init__(
        self, chain: Chain, reads: BlockReads, reader: ChainReader, outbox: Outbox, paths: dict[str, str]
    ) -> None:
        # `paths`: where each signed kind is posted (api/write/kinds.py, which this room may not import).
        self.chain, self.reads, self.reader, self.outbox, self.paths = chain, reads, reader, outbox, paths

    def unit_exists(self, unit_id: bytes, at: BlockRef) -> bool:
        return self.reads.exists(unit_id, at)

    def latest(self) -> BlockRef:
        return self.reads.latest()

    def options(self, unit_id: bytes, at: BlockRef, buyer: str | None, reason: str | None) -> OptionsFound:
        """The options of the unit's latest order at `at` for `buyer`, ordered for `reason`. Raises
        NotBuyer for another account; for no buyer, names the order and offers nothing (`buyer_required`)."""
        order_id = self.reads.last_order_of(unit_id, at)
        if not order_id:
            return OptionsFound(at, why="no_order")
        order = self.reads.order(order_id, at)
        found = OptionsFound(at, order_id, order)
        if buyer is None:
            found.why = "buyer_required"
            return found
        if order.buyer.lower() != buyer.lower():
            raise NotBuyer(f"order {order_id} of this unit was bought by another account")
        offered = self._offered(order_id, order, at, found, reason)
        order_of = ORDER_BY_REASON.get(reason, DEFAULT_ORDER)
        if reason == "safety_concern":
            found.why = "safety_concern"
        kinds = [k for k in order_of if k in offered]
        if "person" not in kinds:
            kinds.append("person")
        found.options = [offered.get(k) or person_option() for k in kinds]
        return found

    # ------------------------------------------------------------------ what the contract accepts now

    def _offered(
        self, order_id: int, order: Order, at: BlockRef, found: OptionsFound, reason: str | None
    ) -> dict[str, dict[str, Any]]:
        if order.status == OrderStatus.RETURN_REQUESTED:
            found.why = "order_not_active"
            return {"dispute": self._dispute(order_id, "openDispute", None)}
        if order.status == OrderStatus.INSPECTED:  # the buyer may contest the grade while the window is open
            found.why = "order_not_active"
            if self.reads.block_time(at) > order.dispute_deadline:
                return {}
            return {"dispute": self._dispute(order_id, "contest", order.dispute_deadline)}
        if order.status != OrderStatus.ACTIVE:
            found.why = "order_not_active"
            return {}
        closes = self.reads.window_closes(order_id, at)
        now = self.reads.block_time(at)
        if closes == 0:
            found.why = "not_delivered"
            return {}
        if now > closes:
            found.why = "return_window_closed"
            return {}
        policy = self.reads.policy(order.market, order.policy_version)
        quotes = {g: self.reads.quote(order_id, g, facts, at) for g, facts in GRADE_FACTS.items()}
        currency = "native" if order.currency == ZERO_ADDRESS else order.currency
        nonce = self._next_nonce(order.buyer)
        sign = _Signer(self, order_id, order.buyer, now + SIGNATURE_VALIDITY, nonce, reason)
        by_grade = [{"grade": g.name, "condition": GRADE_CONDITION[g], **_amounts(q)} for g, q in quotes.items()]
        offered: dict[str, dict[str, Any]] = {}
        statutory = quotes[Grade.A].statutory
        if statutory:
            law = self.reads.law(order.market, at)
            delivered = self.reads.delivered_at(order_id, at)
            ends = self.reads.period_end(order.market, delivered, law.withdrawal_days, at) + order.window_extension
            offered["withdrawal"] = {
                "kind": "withdrawal",
                "statutory": True,
                "title": N_("Withdraw from the purchase (your legal right, no reason needed)"),
                "gets": {"currency": currency, "byGrade": by_grade},
                "must": N_(
                    "Send the item back within the period; you need not give any reason (the law gives you "
                    "%(days)s days from delivery). The model withdrawal form is provided."
                ),
                "mustValues": {"days": law.withdrawal_days},
                "deadline": ends,
                "message": sign.return_request(ReturnReason.WITHDRAWAL, Remedy.REFUND),
                "withdrawalForm": True,
            }
        else:
            offered["policy_return"] = {
                "kind": "policy_return",
                "statutory": False,
                "title": N_("Return it under the shop's return policy"),
                "gets": {"currency": currency, "byGrade": by_grade},
                "must": N_("Send the item back; what you get depends on its condition when inspected."),
                "deadline": closes,
                "message": sign.return_request(None, Remedy.REFUND),
            }
        if policy.exchange_offered:
            offered["exchange"] = {
                "kind": "exchange",
                "statutory": False,
                "title": N_("Exchange it for store credit (with a bonus)"),
                "gets": {
                    "currency": currency,  # the voucher is store points worth this much of the order's currency
                    "bonusBps": policy.exchange_bonus_bps,
                    "byGrade": [
                        {
                            "grade": g.name,
                            "condition": GRADE_CONDITION[g],
                            "voucher": str(policy.exchange_voucher(q.refund)),
                        }
                        for g, q in quotes.items()
                    ],
                },
                "must": N_(
                    "Send the item back; you receive store points worth the refund plus the bonus, for another "
                    "size, colour or product."
                ),
                "deadline": closes,
                "message": sign.return_request(None, Remedy.EXCHANGE),
            }
        if policy.refund_on_return:
            centers = self.reads.return_centers(order.market, at)
            if centers:
                offered["refund_on_receipt"] = {
                    "kind": "refund_on_receipt",
                    "statutory": statutory,
                    "title": N_("Drop it at a local return center and get the refund there"),
                    "gets": {"currency": currency, **_amounts(quotes[Grade.A])},
                    "returnCenters": [f"{gln:013d}" for gln in centers],
                    "must": N_(
                        "Bring the unopened item to an accredited return center; the refund is released when it "
                        "scans it in."
                    ),
                    "deadline": closes,
                    "message": sign.return_request(ReturnReason.WITHDRAWAL if statutory else None, Remedy.REFUND),
                }
        if order.claim_rejected:  # the desk takes one claim per order: the return stays open, not another claim
            return offered
        claim = sign.defect_claim()
        offered["reissue"] = {
            "kind": "reissue",
            "statutory": False,
            "title": N_("Get a new one sent without returning the faulty one first"),
            "gets": {"replacementUnit": True},
            "must": N_(
                "Upload a photo or video of the defect, private to this order (POST /v1/evidence?order=%(order)s, "
                "signed in as the buyer), and sign the claim with its digest."
            ),
            "mustValues": {"order": order_id},  # a public upload would be anyone's: the claim names it on-chain
            "deadline": closes,
            "message": claim,
        }
        offered["replacement"] = {
            "kind": "replacement",
            "statutory": False,
            "title": N_("Get the right item (or an undamaged one) sent"),
            "gets": {"replacementUnit": True},
            "must": N_(
                "Upload a photo of what arrived, private to this order (POST /v1/evidence?order=%(order)s, signed "
                "in as the buyer), and sign the claim with its digest; the shop sends a replacement."
            ),
            "mustValues": {"order": order_id},
            "deadline": closes,
            "message": claim,
        }
        return offered

    def _dispute(self, order_id: int, function: str, deadline: int | None) -> dict[str, Any]:
        return {
            "kind": "dispute",
            "statutory": False,
            "title": N_("Ask the arbiter to decide (dispute)"),
            "gets": None,
            "must": N_("Send the transaction from your wallet; an independent arbiter decides on the facts."),
            "deadline": deadline,
            "message": {
                "kind": "transaction",
                "to": self.chain.escrow.address,
                "function": f"{function}(uint256)",
                "args": [order_id],
            },
        }

    def _next_nonce(self, buyer: str) -> dict[str, int]:
        """The buyer's next nonce per kind as the gateway counts it (chain nonce + queued messages)."""
        out = {}
        for kind, contract in (("ReturnRequest", "escrow"), ("DefectClaim", "desk")):
            out[kind] = self.outbox.next_nonce(kind, buyer, self.reader.nonce(contract, buyer))
        return out


@dataclass
class _Signer:
    """Builds the prefilled signed messages of one order's options."""

    desk: ReturnDesk
    order_id: int
    buyer: str
    deadline: int
    nonces: dict[str, int]
    reason: str | None  # the assistant's code (None: none recognised)

    def _typed(self, kind: str, message: dict[str, Any]) -> dict[str, Any]:
        return prefilled(self.desk.chain, self.desk.paths, kind, message)

    def return_request(self, reason: ReturnReason | None, remedy: Remedy) -> dict[str, Any]:
        """A ReturnRequest; `reason` None: the assistant's reason, coarsened (returntrace/reasons.py)."""
        on_chain = reason if reason is not None else coarse(self.reason)
        signed = self._typed(
            "ReturnRequest",
            {
                "buyer": self.buyer,
                "orderId": self.order_id,
                "reason": int(on_chain),
                "remedy": int(remedy),
                "nonce": self.nonces["ReturnRequest"],
                "deadline": self.deadline,
            },
        )
        signed["reason"] = {"code": int(on_chain), "name": on_chain.key}
        signed["remedy"] = remedy.key
        return signed

    def defect_claim(self) -> dict[str, Any]:
        """A DefectClaim whose evidence (the digest of the uploaded photo) the buyer fills in."""
        signed = self._typed(
            "DefectClaim",
            {
                "buyer": self.buyer,
                "orderId": self.order_id,
                "evidence": "0x" + "00" * 32,
                "nonce": self.nonces["DefectClaim"],
                "deadline": self.deadline,
            },
        )
        signed["fill"] = ["evidence"]
        return signed
