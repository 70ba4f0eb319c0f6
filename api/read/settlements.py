"""Every settlement of an order as its parts, from the escrow's own event.

`OrderSettled` carries the whole IReturnPolicies.Settlement struct; `returntrace.escrow.settlement` names
its parts and checks that they add up. Parts that do not (a copy of the log altered in the index)
are marked `verified: false` and shown only as the totals.
"""

from __future__ import annotations

from typing import Any

from returntrace.escrow import Grade, UnitDisposition, settlement


def _location(events: list[dict[str, Any]], event: dict[str, Any]) -> int | None:
    """The return center whose receiving scan released a refund on receipt: the
    RefundReleasedOnReceipt log just before `event` in its transaction."""
    for e in events:
        if (
            e["name"] == "RefundReleasedOnReceipt"
            and e["tx_hash"] == event["tx_hash"]
            and int(e["log_index"]) < int(event["log_index"])
        ):
            return int(e["args"]["location"])
    return None


def basis(order: dict[str, Any], b: settlement.Breakdown) -> str | None:
    """What decided the price's refund of a graded settlement: the law ("statutory"), the grade terms
    after the buyer lost the statutory right by the unit's state ("right_lost": an opened hygiene
    seal, or use where the law requires good condition), or the policy alone ("policy")."""
    if not b.grade:
        return None
    if b.statutory:
        return "statutory"
    return "right_lost" if order.get("in_withdrawal") else "policy"


def parts_json(order: dict[str, Any], events: list[dict[str, Any]], event: dict[str, Any]) -> dict[str, Any]:
    """The settlement `event` (an idx_escrow_events row of `order` named in SETTLEMENT_EVENTS) as JSON
    parts, amounts as decimal strings in base units: {event, kind, verified, currency, price,
    deliveryFee, priceRefunded, deliveryRefunded, deductions: [{reason, amount}], refund, points,
    voucher, exchangeBonus, merchantAmount, grade, statutory, basis, disposition, location, block, logIndex,
    txHash}. `kind` is the escrow's settlement path (or completed, cancelled)."""
    b = settlement.from_event(event["name"], event["args"], int(order["price"]), int(order["delivery_fee"]))
    out: dict[str, Any] = {
        "event": event["name"],
        "kind": b.kind,
        "currency": order["currency"],
        "price": str(b.price),
        "deliveryFee": str(b.delivery_fee),
        "refund": str(b.refund),
        "merchantAmount": str(b.merchant_amount),
        "points": str(b.points),
        "block": int(event["block"]),
        "logIndex": int(event["log_index"]),
        "txHash": event["tx_hash"],
    }
    location = _location(events, event) if b.kind == "on_receipt" else None
    if location is not None:
        out["location"] = f"{location:013d}"
    if not b.consistent:
        return {**out, "verified": False, "deductions": None}
    return {
        **out,
        "verified": True,
        "priceRefunded": str(b.price_refunded),
        "deliveryRefunded": str(b.delivery_refunded),
        "deductions": [{"reason": d.reason, "amount": str(d.amount)} for d in b.deductions],
        "voucher": str(b.voucher),
        "exchangeBonus": str(b.exchange_bonus),
        "grade": Grade(b.grade).name if b.grade else None,
        "statutory": b.statutory,
        "basis": basis(order, b),
        "disposition": UnitDisposition(b.disposition).name.lower() if b.disposition is not None else None,
    }
