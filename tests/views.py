"""Unit views built by hand (api.views objects, no index, no chain): a unit through a full EU
return, for the consumer page's tests (tests/unit/test_consumer_page.py renders them,
tests/api/test_resolver.py serves them through the resolver)."""

from __future__ import annotations

import re
from html import unescape

from api.read.views import ReturnStatus, Settlement, TimelineEntry, UnitView, Verification
from returntrace import gs1
from tests.support import GTIN

CID = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am"
T0 = 1_777_800_000  # 3 May 2026, 09:20 UTC
# What browsers send as Accept (the resolver answers them with the page).
CHROME = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8"
# The timeline of a unit made, shipped, cleared, delivered, returned, inspected, refunded and donated: what
# returned_view shows, and what the browser test's chain scenario of the same lifecycle must show too.
RETURNED_LABELS = [
    "Made",
    "Shipped",
    "Cleared customs",
    "Delivered",
    "Return requested",
    "Picked up for return",
    "Received at return center",
    "Inspected",
    "Refunded",
    "Donated",
]
SAFARI = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
BRAND, CARRIER, WAREHOUSE, INSPECTOR, CHARITY = ("0x" + c * 40 for c in "abcde")


def entry(seq, step, label, disposition, role, signer, dt, **kw) -> TimelineEntry:
    fields = dict(
        seq=seq,
        step=step,
        label=label,
        step_uri=f"urn:test:{step}",
        disposition=disposition,
        disposition_uri=None,
        location="9506000000018",
        event_time=T0 + dt,
        signer=signer,
        signer_role=role,
        evidence=None,
        biz_transaction=None,
        tx_hash="0x" + f"{seq:02x}" * 32,
        block=100 + seq,
        log_index=0,
    )
    fields.update(kw)
    return TimelineEntry(**fields)


def escrow_event(name, block, dt, log_index=1, **args) -> dict:
    return {
        "name": name,
        "block": block,
        "logIndex": log_index,
        "time": T0 + dt,
        "txHash": "0x" + f"{block:02x}" * 32,
        "args": {"orderId": 7, **args},
    }


def returned_view(
    gtin=GTIN, serial="SN-0001", *, verified=True, currency="native", statutory=False, settled=True
) -> UnitView:
    """A unit through a full EU return: made, shipped, cleared, delivered, returned, inspected B, refunded, donated."""
    timeline = [
        entry(1, "commissioning", "Made", "active", "brand", BRAND, 0),
        entry(2, "departing", "Shipped", "in_transit", "carrier", CARRIER, 3600),
        entry(3, "customs_clearing", "Cleared customs", "in_transit", "carrier", CARRIER, 7200),
        entry(4, "delivering", "Delivered", "delivered", "carrier", CARRIER, 86_400),
        entry(5, "accepting", "Picked up for return", "in_transit", "carrier", CARRIER, 3 * 86_400),
        entry(6, "receiving", "Received at return center", "returned", "warehouse", WAREHOUSE, 4 * 86_400),
        entry(7, "inspecting", "Inspected", "non_conformant", "inspector", INSPECTOR, 4 * 86_400 + 600, evidence=CID),
    ]
    settlement = None
    if settled:
        timeline.append(
            entry(8, "receiving", "Received by charity", "donated", "charity", CHARITY, 6 * 86_400, block=112)
        )
        settlement = Settlement(
            grade="B",
            statutory=statutory,
            refund=str(8 * 10**17),
            merchant_amount=str(25 * 10**16),
            points="0",
            disposition="donate",
            tx_hash="0x" + "6e" * 32,
            block=110,
            log_index=1,
        )
    status = ReturnStatus(
        order_id=7,
        market="EU",
        status="settled" if settled else "inspected",
        currency=currency,
        price=str(10**18),
        delivery_fee=str(5 * 10**16),
        reason="no_longer_needed",
        requested_at=T0 + 2 * 86_400,
        inspection={
            "inspector": INSPECTOR,
            "facts": ["packaging_intact"],
            "claimedGrade": "B",
            "derivedGrade": "B",
            "evidence": CID,
        },
        settlement=settlement,
        events=[
            escrow_event("OrderPlaced", 103, 3000),
            escrow_event("ReturnRequested", 104, 2 * 86_400),  # after the delivery scan (104, log 0), before the pickup
            escrow_event("InspectionSubmitted", 108, 4 * 86_400 + 700, grade=2),
            escrow_event("OrderInspected", 108, 4 * 86_400 + 700, grade=2),
        ]
        + ([escrow_event("OrderSettled", 110, 5 * 86_400, grade=2)] if settled else []),
    )
    verification = (
        Verification(True, 120, len(timeline), len(timeline), None)
        if verified
        else Verification(False, 120, 9, len(timeline), "the rebuilt history does not match the on-chain record")
    )
    return UnitView(
        unit_id="0x" + gs1.unit_id(gtin, serial).hex(),
        gtin=gtin,
        serial=serial,
        brand=BRAND,
        hygiene_sealed=True,
        digital_link=gs1.digital_link("http://127.0.0.1:8000", gtin, serial),
        timeline=timeline,
        return_status=status,
        verification=verification,
    )


def text_of(html: str) -> str:
    """The page's visible text, whitespace collapsed (what a reader or a screen reader gets)."""
    html = re.sub(r"<(style|head)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()
