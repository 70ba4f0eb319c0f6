"""Integers at the edges of their types: every signed message kind with the "never expires" deadline
2**64-1, signers whose on-chain nonce `increaseNonce` pushed past 2**63, and auditor queries, path
parameters and forged cursors with numbers SQLite's INTEGER cannot hold (400 out_of_range, never 500)."""

from __future__ import annotations

import base64

import pytest
from brownie import chain

from api.http.routes.audit import _fingerprint
from api.store.index import EventFilter
from returntrace.escrow import Facts, Grade
from returntrace.vocab import BizStep, Disposition
from tests.api.test_parcels import aggregation
from tests.support import GTIN_INT, MARKET_EU, ZERO32, Status

NEVER = 2**64 - 1  # the largest uint64 deadline: "never expires"
HUGE = [2**63, 2**64, 10**30]


def _confirmed(gateway, path, body) -> dict:
    """Posts, relays and returns the confirmed message's public state."""
    r = gateway.post(path, body)
    assert r.status_code == 202, r.text
    gateway.relay()
    state = gateway.client.get(f"/v1/messages/{r.json()['id']}").json()
    assert state["status"] == "confirmed", state
    return state


# ---------------------------------------------------------------------------------------------
# signed fields: stored losslessly


def test_registry_messages_with_the_largest_deadline_are_accepted_and_relayed(gateway, registry):
    (unit,) = gateway.commission("NEVER-0")
    gateway.relay()
    commission = gateway.commission_body(["NEVER-1"], deadline=NEVER)
    _confirmed(gateway, "/v1/commissions", commission)
    events = gateway.events_body(
        "carrier", [gateway.event(unit, BizStep.DEPARTING, "carrier", Disposition.IN_TRANSIT)], deadline=NEVER
    )
    _confirmed(gateway, "/v1/events", events)
    item = aggregation(gateway, "carrier", [unit])["aggregations"][0]
    _confirmed(
        gateway, "/v1/aggregations", gateway.body("AggregationBatch", "carrier", aggregations=[item], deadline=NEVER)
    )
    assert registry.eventCount(unit) == 3
    stored = gateway.services.outbox.get(gateway.post("/v1/events", events).json()["id"])
    assert stored.deadline == NEVER and stored.body["deadline"] == NEVER


def test_escrow_and_desk_messages_with_the_largest_deadline_are_accepted_and_relayed(gateway, shop, escrow):
    returned = shop.returned(market=MARKET_EU)
    inspection = gateway.inspection_body(returned, Facts.SEAL_INTACT | Facts.PACKAGING_INTACT, Grade.A, deadline=NEVER)
    _confirmed(gateway, "/v1/inspections", inspection)
    assert escrow.order(returned)["status"] == Status.SETTLED  # grade A: settled at once

    delivered = shop.buy(market=MARKET_EU)
    shop.deliver(delivered)
    _confirmed(
        gateway,
        "/v1/return-requests",
        gateway.body("ReturnRequest", "buyer", orderId=delivered, reason=0, remedy=0, deadline=NEVER),
    )
    assert escrow.order(delivered)["status"] == Status.RETURN_REQUESTED

    claimed = shop.buy(market=MARKET_EU)
    shop.deliver(claimed)
    _confirmed(
        gateway,
        "/v1/defect-claims",
        gateway.body("DefectClaim", "buyer", orderId=claimed, evidence="0x" + "ab" * 32, deadline=NEVER),
    )
    assert escrow.order(claimed)["status"] == Status.REISSUE_APPROVED


def test_a_signer_pushed_past_2_63_by_increase_nonce_still_posts(gateway, registry, actors):
    carrier = actors["carrier"]
    a, b = gateway.commission("NONCE-A", "NONCE-B")
    gateway.relay()
    registry.increaseNonce(2**63 - 1, {"from": carrier.account})
    assert gateway.nonce("EventBatch", "carrier") == 2**63 - 1
    ids = []
    # Three queued messages across the 2**63 boundary: the next nonce counts the queued ones.
    for unit, step in ((a, BizStep.DEPARTING), (b, BizStep.DEPARTING), (a, BizStep.CUSTOMS_CLEARING)):
        body = gateway.events_body("carrier", [gateway.event(unit, step, "carrier", Disposition.IN_TRANSIT)])
        r = gateway.post("/v1/events", body)
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])
    assert [gateway.client.get(f"/v1/messages/{i}").json()["nonce"] for i in ids] == [2**63 - 1, 2**63, 2**63 + 1]
    assert gateway.nonce("EventBatch", "carrier") == 2**63 + 2
    # The same nonce twice is still refused while the first is queued.
    again = gateway.events_body(
        "carrier", [gateway.event(b, BizStep.CUSTOMS_CLEARING, "carrier", Disposition.IN_TRANSIT)], nonce=2**63
    )
    r = gateway.post("/v1/events", again)
    assert (r.status_code, r.json()["error"], r.json()["expected"]) == (409, "nonce_conflict", 2**63 + 2), r.text
    gateway.relay()
    assert {gateway.client.get(f"/v1/messages/{i}").json()["status"] for i in ids} == {"confirmed"}
    assert registry.getNonce(carrier.address) == 2**63 + 2


def test_a_signer_at_the_top_of_uint256_still_posts(gateway, escrow, shop, actors):
    buyer = actors["buyer"]
    order_id = shop.buy(market=MARKET_EU)
    shop.deliver(order_id)
    escrow.increaseNonce(2**256 - 2, {"from": buyer.account})
    body = gateway.body("ReturnRequest", "buyer", orderId=order_id, reason=0, remedy=0, deadline=NEVER)
    assert body["nonce"] == 2**256 - 2
    state = _confirmed(gateway, "/v1/return-requests", body)
    assert state["nonce"] == 2**256 - 2
    assert escrow.getNonce(buyer.address) == 2**256 - 1
    assert gateway.nonce("ReturnRequest", "buyer") == 2**256 - 1


def test_nonces_and_deadlines_beyond_their_solidity_types_are_422(gateway):
    (unit,) = gateway.commission("BEYOND")
    for field, value in (("nonce", 2**256), ("deadline", 2**64), ("nonce", -1), ("deadline", -1)):
        body = gateway.events_body("carrier", [gateway.event(unit, BizStep.DEPARTING, "carrier")])
        body[field] = value
        r = gateway.post("/v1/events", body)
        assert (r.status_code, r.json()["error"]) == (422, "invalid_request"), (field, value, r.text)


def test_a_signed_order_id_past_the_index_is_400_out_of_range(gateway):
    body = gateway.body("ReturnRequest", "buyer", orderId=2**63, reason=0, remedy=0)
    r = gateway.post("/v1/return-requests", body)
    assert (r.status_code, r.json()["error"]) == (400, "out_of_range"), r.text


def test_location_zero_is_refused_as_the_chain_refuses_it(gateway):
    """GLN 0 passes the mod-10 check digit, but GS1.isValidGln refuses it: the intake must too (the
    property tests drew it: accepted, then failed on-chain with TraceRegistryInvalidGln)."""
    unit = {"gtin": GTIN_INT, "serial": "GLN-ZERO", "location": 0, "eventTime": chain.time(), "evidence": ZERO32}
    r = gateway.post("/v1/commissions", gateway.body("CommissionBatch", "brand", units=[unit]))
    assert (r.status_code, r.json()["error"]) == (400, "invalid_gln"), r.text


# ---------------------------------------------------------------------------------------------
# query and path parameters, cursors: 400 out_of_range


def _out_of_range(r) -> None:
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "out_of_range", r.text


@pytest.mark.parametrize("param", ["fromBlock", "toBlock", "from", "to", "limit"])
def test_audit_numbers_the_store_cannot_hold_are_400_out_of_range(gateway, param):
    for value in HUGE:
        for path in ("/v1/audit/events", "/v1/audit/epcis"):
            _out_of_range(gateway.client.get(path, params={param: str(value)}))


def _answer(r) -> tuple[int, str | None]:
    return r.status_code, r.json().get("error")


def test_times_below_the_store_and_at_the_ends_of_datetime(gateway):
    for path in ("/v1/audit/events", "/v1/audit/epcis"):
        for param in ("from", "to"):
            for text in (str(-(2**63) - 1), "1" * 5000, "-" + "9" * 5000):
                _out_of_range(gateway.client.get(path, params={param: text}))
            for text in (str(-(2**63)), str(2**63 - 1), "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"):
                assert gateway.client.get(path, params={param: text}).status_code == 200, text
            # Not numbers: "²".isdigit() is True, but int() refuses it.
            for text in ("99999-01-01", "²", "--5", "٣"):
                assert _answer(gateway.client.get(path, params={param: text})) == (400, "invalid_time"), text


def test_biz_steps_that_are_not_ascii_numbers_or_too_large_are_400(gateway):
    for path in ("/v1/audit/events", "/v1/audit/epcis"):
        for text in ("²", "٣", "1" * 5000):
            assert _answer(gateway.client.get(path, params={"bizStep": text}))[0] == 400, text
        assert _answer(gateway.client.get(path, params={"bizStep": "1" * 5000})) == (400, "out_of_range")
        assert _answer(gateway.client.get(path, params={"bizStep": "²"})) == (400, "invalid_biz_step")


def test_order_ids_the_store_cannot_hold_are_400_out_of_range(gateway):
    for value in HUGE:
        _out_of_range(gateway.client.post(f"/v1/orders/{value}/release-refund-on-receipt"))
    r = gateway.client.post("/v1/orders/0/release-refund-on-receipt")
    assert (r.status_code, r.json()["error"]) == (400, "invalid_order"), r.text


def test_a_forged_cursor_with_huge_numbers_is_400(gateway):
    f = EventFilter(block_from=1)
    for block, log_index in [(2**63, 0), (0, 2**63), (10**30, 10**30), (-(2**63) - 1, 0)]:
        cursor = base64.urlsafe_b64encode(f"{block}.{log_index}.{_fingerprint(f)}".encode()).decode().rstrip("=")
        for path in ("/v1/audit/events", "/v1/audit/epcis"):
            _out_of_range(gateway.client.get(path, params={"fromBlock": 1, "cursor": cursor}))
    # The same forgery with numbers in range is a valid position: the page after it (empty here).
    cursor = base64.urlsafe_b64encode(f"{2**63 - 1}.0.{_fingerprint(f)}".encode()).decode().rstrip("=")
    r = gateway.client.get("/v1/audit/events", params={"fromBlock": 1, "cursor": cursor})
    assert r.status_code == 200 and r.json()["events"] == [], r.text
