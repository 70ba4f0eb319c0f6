"""Disputes as the gateway shows them (v2): who opened one and by when the arbiter decides, the
arbiter's ruling on the facts it found (settled "arbitrated"), and the arbiter's silence (the
attested facts decide: "arbiter_silent"), on the page, in its JSON and in the EPCIS export."""

from __future__ import annotations

import re

import brownie
from brownie import chain

from api.http.pages.consumer_page import format_time, humanize
from api.read import epcis
from returntrace.escrow import Facts, Grade
from returntrace.policies import EU
from tests.api.people import buyer_page
from tests.api.test_audit import _epcis_validator
from tests.api.test_resolver import text_of
from tests.support import GTIN, MARKET_EU, Status, err

REASON = "facts_corrected"
RULING = b"\x0a" * 32  # the digest of the arbiter's written ruling


def _contested(shop, escrow, actors, serial: str) -> tuple[int, int, int]:
    """A unit returned and graded B (EU: seal broken, unused); the buyer contests the grade.
    Returns (order id, the OrderDisputed decideBy, the contest's block time)."""
    order_id = shop.returned(market=MARKET_EU, serial=serial)
    shop.inspect(order_id, Facts.PACKAGING_INTACT, Grade.B)
    tx = escrow.contest(order_id, {"from": actors["buyer"].account})
    disputed = tx.events["OrderDisputed"]
    assert (disputed["orderId"], disputed["by"]) == (order_id, actors["buyer"].address)
    return order_id, disputed["decideBy"], tx.timestamp


def _json(gateway, serial: str) -> dict:
    gateway.services.indexer.index_once()
    return gateway.client.get(f"/01/{GTIN}/21/{serial}", headers={"accept": "application/json"}).json()["return_status"]


def _exported_settlement(gateway, order_id: int) -> dict:
    doc = gateway.client.get("/v1/audit/epcis", params={"limit": 1000}).json()
    assert not list(_epcis_validator().iter_errors(doc))
    (event,) = [
        e for e in doc["epcisBody"]["eventList"] if e["bizStep"] == epcis.SETTLING and e["rt:orderId"] == order_id
    ]
    return event


def test_a_contested_grade_the_arbiter_decides_on_the_facts_it_found(gateway, shop, escrow, actors):
    buyer, arbiter = actors["buyer"], actors["arbiter"]
    order_id, decide_by, contested_at = _contested(shop, escrow, actors, "DSP-RULED")
    rs = _json(gateway, "DSP-RULED")
    assert rs["status"] == "disputed"
    assert rs["dispute"] == {
        "openedBy": "buyer",
        "account": buyer.address,
        "decideBy": decide_by,
        "time": contested_at,
        "pending": True,
        "lapsed": False,
        "resolution": None,
    }
    assert decide_by == contested_at + EU.arbiter_timeout
    page = text_of(gateway.client.get(f"/01/{GTIN}/21/DSP-RULED").text)
    assert (
        "Grade contested by the buyer" in page
        and f"An independent arbiter decides by {format_time(decide_by)[0]}" in page
    )

    # The arbiter finds the unit used: grade C, whatever the inspector claimed.
    tx = escrow.resolveDispute(
        order_id, Facts.USED, 0, REASON.encode().ljust(32, b"\0"), RULING, {"from": arbiter.account}
    )
    assert tx.events["OrderSettled"]["path"] == 1  # Arbitrated
    rs = _json(gateway, "DSP-RULED")
    assert rs["status"] == "settled" and rs["inspection"]["facts"] == [
        "packaging_intact"
    ]  # the inspector's, kept as attested
    assert not rs["dispute"]["pending"] and not rs["dispute"]["lapsed"]
    resolution = rs["dispute"]["resolution"]
    assert (resolution["arbiter"], resolution["facts"], resolution["grade"], resolution["diminishedValue"]) == (
        arbiter.address,
        ["used"],
        "C",
        "0",
    )
    assert (resolution["reason"], resolution["evidence"], resolution["time"]) == (
        REASON,
        "0x" + RULING.hex(),
        tx.timestamp,
    )
    parts = rs["settlement"]["parts"]
    assert (parts["kind"], parts["verified"], parts["grade"]) == ("arbitrated", True, "C")
    assert rs["settlement"]["disposition"] == "recycle"
    page = text_of(buyer_page(gateway, f"/01/{GTIN}/21/DSP-RULED").text)
    assert (
        "Arbiter decided" in page
        and "Facts as the arbiter found them: Used" in page
        and f"Reason: {humanize(REASON)}" in page
    )
    assert "An independent arbiter, on the facts it found under the brand's grade C terms" in page
    assert _exported_settlement(gateway, order_id)["rt:settlement"]["rt:kind"] == "arbitrated"


def test_a_dispute_the_arbiter_let_lapse_settles_by_the_attested_facts(gateway, shop, escrow, actors):
    order_id, decide_by, _ = _contested(shop, escrow, actors, "DSP-LAPSED")
    chain.sleep(EU.arbiter_timeout + 60)
    chain.mine()
    with brownie.reverts(err("ReturnEscrowDisputeLapsed", order_id, decide_by)):  # too late for a ruling
        escrow.resolveDispute(
            order_id, Facts.USED, 0, REASON.encode().ljust(32, b"\0"), RULING, {"from": actors["arbiter"].account}
        )
    tx = escrow.settleLapsedDispute(order_id, {"from": actors["stranger"].account})
    assert tx.events["DisputeLapsed"]["decideBy"] == decide_by and escrow.order(order_id)["status"] == Status.SETTLED

    rs = _json(gateway, "DSP-LAPSED")
    assert rs["status"] == "settled"
    assert (
        rs["dispute"]["openedBy"],
        rs["dispute"]["decideBy"],
        rs["dispute"]["pending"],
        rs["dispute"]["lapsed"],
        rs["dispute"]["resolution"],
    ) == (
        "buyer",
        decide_by,
        False,
        True,
        None,
    )
    parts = rs["settlement"]["parts"]
    assert (parts["kind"], parts["verified"], parts["grade"]) == (
        "arbiter_silent",
        True,
        "B",
    )  # the inspector's facts decided
    assert rs["settlement"]["disposition"] == "donate"
    page = text_of(buyer_page(gateway, f"/01/{GTIN}/21/DSP-LAPSED").text)
    assert re.search(
        r"The arbiter did not decide in time \d+ \w+ \d{4}, \d\d:\d\d UTC The attested facts decide\.", page
    ), page
    assert "The arbiter did not decide in time: the inspector's attested facts" in page
    assert _exported_settlement(gateway, order_id)["rt:settlement"]["rt:kind"] == "arbiter_silent"
