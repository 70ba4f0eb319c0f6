"""What the consumer page says of a unit view built by hand (tests/views.py): the law behind a
refund, a pending settlement, steps in chain order, a contested grade, amounts (moved from
tests/api/test_resolver.py, which serves the same views through a running gateway)."""

from __future__ import annotations

import dataclasses

from api.http.pages.consumer_page import REASON_TEXT, STATUS_TEXT, Currency, build_page, format_amount
from returntrace.escrow import OrderStatus, ReturnReason
from tests.views import BRAND, CARRIER, CID, T0, entry, escrow_event, returned_view


def test_statutory_refund_names_the_law():
    page = build_page(returned_view(statutory=True), party=True)
    rows = {r.term: r.value for r in page.return_rows}
    assert rows["Decided by"].startswith("EU consumer law (Directive 2011/83/EU")


def test_inspected_not_yet_settled():
    page = build_page(returned_view(settled=False), party=True)
    rows = {r.term: r.value for r in page.return_rows}
    assert rows["Status"].startswith("Inspected") and rows["Grade"] == "B — opened but unused"
    assert "Refund" not in rows and [s.label for s in page.steps][-1] == "Inspected"


def test_escrow_steps_without_event_times_use_the_block_time():
    view = returned_view()
    for e in view.return_status.events:
        e["time"] = None
    page = build_page(view, party=True, block_time=lambda block: T0 + 5 * 86_400 if block == 110 else None)
    assert [s.label for s in page.steps][-2:] == ["Refunded", "Donated"]
    refunded = page.steps[-2]
    assert refunded.when == "8 May 2026, 09:20 UTC" and refunded.when_iso == "2026-05-08T09:20:00Z"
    assert "Return requested" in [s.label for s in page.steps]  # from requested_at


def test_timeline_follows_chain_order_not_time():
    """Two events in the same second (the issue's blocks 53 and 54): the return request, mined first,
    comes first; and a scan signed earlier but mined after the request stays after it."""
    view = returned_view()
    rs = view.return_status
    pickup = view.timeline[4]
    requested = next(e for e in rs.events if e["name"] == "ReturnRequested")
    requested.update(block=pickup.block - 1, time=pickup.event_time, logIndex=3)  # same second, one block earlier
    labels = [s.label for s in build_page(view, party=True).steps]
    assert labels.index("Return requested") == labels.index("Picked up for return") - 1
    requested.update(
        block=pickup.block, logIndex=pickup.log_index + 1, time=pickup.event_time + 3600
    )  # same block, after the scan
    pickup.event_time -= 7200  # signed two hours earlier, recorded before the request in the same block
    labels = [s.label for s in build_page(view, party=True).steps]
    assert labels.index("Picked up for return") == labels.index("Return requested") - 1


def test_contested_grade_and_the_arbiters_decision():
    view = returned_view()
    rs = view.return_status
    buyer, arbiter, decide_by = "0x" + "f" * 40, "0x" + "9" * 40, T0 + 18 * 86_400 + 900
    rs.events[-1:] = [
        escrow_event("OrderDisputed", 109, 4 * 86_400 + 900, by=buyer, decideBy=decide_by),
        escrow_event(
            "DisputeResolved",
            111,
            5 * 86_400,
            arbiter=arbiter,
            facts=4,
            grade=3,
            reason="0x" + b"facts_corrected".hex().ljust(64, "0"),
        ),
        escrow_event("OrderSettled", 111, 5 * 86_400, log_index=2, path=1, grade=3),
    ]
    # What UnitViews makes of those events (api/read/orders.py): who opened it, until when, the arbiter's facts.
    rs.dispute = {
        "openedBy": "buyer",
        "account": buyer,
        "decideBy": decide_by,
        "time": T0 + 4 * 86_400 + 900,
        "pending": False,
        "lapsed": False,
        "resolution": {
            "arbiter": arbiter,
            "facts": ["used"],
            "grade": "C",
            "diminishedValue": "0",
            "reason": "facts_corrected",
            "evidence": CID,
            "time": T0 + 5 * 86_400,
            "txHash": "0x" + "6f" * 32,
        },
    }
    rs.settlement.grade, rs.settlement.refund, rs.settlement.points, rs.settlement.disposition = (
        "C",
        "0",
        str(3 * 10**17),
        "recycle",
    )
    rs.settlement.block, rs.settlement.log_index = 111, 2  # the OrderSettled after the ruling
    page = build_page(view, party=True)
    steps = {s.label: s for s in page.steps}
    assert steps["Inspected"].grade == "B"  # what the inspector claimed
    contested = steps["Grade contested by the buyer"]
    assert contested.when == "7 May 2026, 09:35 UTC"
    assert contested.lines == [
        "An independent arbiter decides by 21 May 2026, 09:35 UTC; if it does not, the attested facts decide."
    ]
    decided = steps["Arbiter decided"]
    assert decided.grade == "C" and decided.grade_meaning == "used" and decided.evidence_cid == CID
    assert decided.lines == ["Facts as the arbiter found them: Used", "Reason: Facts corrected"]
    assert [s.label for s in page.steps][-5:] == [
        "Inspected",
        "Grade contested by the buyer",
        "Arbiter decided",
        "Compensated with store points",
        "Donated",
    ]
    assert steps["Compensated with store points"].lines == [
        "Store points worth 0.30 ETH",
        "The unit goes to: recycling",
    ]
    rows = {r.term: r.value for r in page.return_rows}
    assert rows["Grade"] == "C — used" and rows["Refund"] == "0.00 ETH" and rows["Store points"] == "worth 0.30 ETH"


def _page_text(page) -> str:
    """Every word the page's order sections and timeline hold."""
    rows = page.return_rows + page.return_options
    return " ".join([f"{r.term} {r.value}" for r in rows] + [line for s in page.steps for line in s.lines])


def test_the_public_page_shows_the_lifecycle_but_no_amount_and_no_reason():
    """Issue 11 §3: a second-hand owner scanning the code sees the lifecycle and that the rules settled
    the refund; the price (1.00 ETH), the refund (0.80 ETH), the merchant's 0.25 ETH and the reason
    are the order's parties' only."""
    view = returned_view()
    party, public = build_page(view, party=True), build_page(view)
    assert "0.80 ETH" in _page_text(party) and "No longer needed" in _page_text(party)  # the figures exist
    text = _page_text(public)
    for figure in ("1.00 ETH", "0.80 ETH", "0.25 ETH", "ETH", "No longer needed", "Reason"):
        assert figure not in text, figure
    assert [s.label for s in public.steps] == [s.label for s in party.steps]  # the same lifecycle
    rows = {r.term: r.value for r in public.return_rows}
    assert rows["Refund"] == "The refund was settled by the market's return rules."
    assert rows["Grade"] == "B — opened but unused" and rows["Where the unit goes"] == "A local charity (donated)"
    assert "Paid" not in rows and "Reason for return" not in rows and not public.party and party.party


def test_the_public_page_shows_no_quote_while_a_return_is_possible():
    view = returned_view(settled=False)
    view.return_status.return_options = {"closesAt": T0, "refund": str(9 * 10**17), "voucher": str(95 * 10**16)}
    view.return_status.return_options["exchangeOffered"] = True
    assert "0.90 ETH" in _page_text(build_page(view, party=True))
    assert build_page(view).return_options == [] and "ETH" not in _page_text(build_page(view))


def test_format_amount():
    eth, usd = Currency("ETH", 18), Currency("tUSD", 6)
    assert format_amount(10**18, eth) == "1.00 ETH"
    assert format_amount("1234500000000000000000", eth) == "1,234.50 ETH"
    assert format_amount(1, eth) == "0.000000000000000001 ETH"
    assert format_amount(0, usd) == "0.00 tUSD"
    assert format_amount(745_000, usd) == "0.745 tUSD"


def test_the_page_has_words_for_every_order_status_and_return_reason():
    """The escrow model's keys are what the page looks up: a status or reason the contracts add gets its words here."""
    assert set(STATUS_TEXT) == set(OrderStatus.keys()) - {OrderStatus.NONE.key}
    assert set(REASON_TEXT) == set(ReturnReason.keys())


def test_a_step_without_a_label_is_named_by_the_registry_vocabulary():
    timeline = [
        entry(1, "commissioning", "", "active", "brand", BRAND, 0),
        entry(2, "departing", "", "in_transit", "carrier", CARRIER, 3600),
    ]
    view = dataclasses.replace(returned_view(), timeline=timeline, return_status=None)
    assert [s.label for s in build_page(view, party=True).steps] == ["Made", "Departed"]
