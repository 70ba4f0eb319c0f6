"""Shipping for returns (issue 11 §4): carriers' rate cards as signed documents, quotes for an order's
return leg stated at a block (sorted, marked, each with its proof), the combined parcel of a buyer's
open returns and its saving, and a door-to-door pickup whose carrier scan is the escrow's proof of
dispatch."""

from __future__ import annotations

from dataclasses import replace

import pytest
from brownie import chain
from eth_account import Account
from eth_account.messages import encode_typed_data

from returntrace import eip712
from returntrace.policies import EU
from returntrace.shipping import Service
from returntrace.vocab import BizStep, Disposition, Role
from scripts import deploy
from scripts.builder import rma_ref
from tests.api.people import as_, sign_in
from tests.api.test_parcels import aggregation
from tests.support import MARKET_EU, MARKET_US, Status, err, opens_after

DAY = 86_400
BANDS = {  # carrier -> (bands as (maxGrams, price in cents), transit days)
    "carrier": ([(1000, 450), (5000, 690), (20000, 1290)], 4),
    "carrier2": ([(1000, 520), (5000, 640), (20000, 1090)], 2),
}


@pytest.fixture(scope="module")
def carrier2(deployment, admin) -> deploy.Signer:
    """A second accredited carrier."""
    signer = deploy.test_signer("carrier2", int(Role.CARRIER), "950600000022")
    admin.transfer(signer.account, "10 ether", silent=True)
    deploy.accredit(deployment.registry, admin, [signer])
    return signer


@pytest.fixture
def center(deployment, admin, actors):
    """The warehouse's site accredited as the EU's return center: where EU returns go."""
    w = actors["warehouse"]
    deployment.registry.setReturnCenter(w.gln, w.gln, 1 << MARKET_EU, {"from": admin})
    return w.gln


def card(gateway, who, service=Service.DROP_OFF, bands=None, days=None, **fields):
    """A signed rate card from the EU to any EU return center, valid for 30 days from now."""
    own_bands, own_days = BANDS.get(who if isinstance(who, str) else who.name, BANDS["carrier"])
    now = chain.time()
    message = {
        "originMarkets": 1 << MARKET_EU,
        "destination": 0,
        "destinationMarket": MARKET_EU,
        "service": int(service),
        "currency": "EUR",
        "bands": [{"maxGrams": g, "price": p} for g, p in (bands or own_bands)],
        "transitDays": days or own_days,
        "validFrom": now - 60,
        "validUntil": now + 30 * DAY,
        **fields,
    }
    return gateway.builder.document("RateCard", who, **message)


def publish(gateway, who, **fields) -> dict:
    r = gateway.post("/v1/documents/RateCard", card(gateway, who, **fields))
    assert r.status_code == 201, r.text
    return r.json()


def quotes(gateway, order_id, grams=800, status=200):
    r = gateway.client.get(f"/v1/orders/{order_id}/shipping-quotes", params={"weightGrams": grams})
    assert r.status_code == status, r.text
    return r.json()


def requested(shop, market=MARKET_EU, buyer="buyer") -> int:
    order_id = shop.buy(market=market, buyer=buyer)
    shop.deliver(order_id)
    shop.request_return(order_id, buyer=buyer)
    return order_id


# ------------------------------------------------------------------ quotes


def test_quotes_are_sorted_by_price_and_speed_with_the_marks_and_each_proved(gateway, shop, center, carrier2):
    slow = publish(gateway, "carrier")
    fast = publish(gateway, carrier2)
    order_id = requested(shop)
    answer = quotes(gateway, order_id, grams=800)

    # 800 g: band one. carrier 4.50 EUR in 4 days, carrier2 5.20 EUR in 2 days.
    assert [(q["carrier"], q["price"], q["transitDays"]) for q in answer["byPrice"]] == [
        (gateway.actors["carrier"].address, 450, 4),
        (carrier2.address, 520, 2),
    ]
    assert [q["carrier"] for q in answer["bySpeed"]] == [carrier2.address, gateway.actors["carrier"].address]
    marks = {q["carrier"]: (q["cheapest"], q["fastest"]) for q in answer["byPrice"]}
    assert marks == {gateway.actors["carrier"].address: (True, False), carrier2.address: (False, True)}
    assert answer["leg"] == {"originMarket": "EU", "destinations": [{"gln": f"{center:013d}", "kind": "return_center"}]}
    assert answer["reason"] is None and answer["sources"] == ["signed-rate-card"]

    # 3 kg: band two, where carrier2 is also the cheaper.
    heavier = quotes(gateway, order_id, grams=3000)["byPrice"]
    assert [(q["carrier"], q["price"], q["cheapest"], q["fastest"]) for q in heavier] == [
        (carrier2.address, 640, True, True),
        (gateway.actors["carrier"].address, 690, False, False),
    ]

    # Each quote names its signed card and the block the carrier's accreditation was read at.
    block = answer["block"]["number"]
    for q, doc in ((answer["byPrice"][0], slow), (answer["byPrice"][1], fast)):
        assert q["proof"]["document"] == doc["id"] and q["proof"]["carrierAccreditedAtBlock"] == block
        served = gateway.client.get(q["proof"]["url"]).json()
        recovered = Account.recover_message(
            encode_typed_data(full_message=served["typedData"]), signature=served["signature"]
        )
        assert recovered == q["carrier"]
        roles, _ = gateway.d.registry.actor(q["carrier"], block_identifier=block)
        assert roles & Role.CARRIER


def test_a_forged_card_or_one_signed_for_another_deployment_is_refused_and_never_quoted(
    gateway, shop, center, actors, deployment
):
    stranger = actors["stranger"]
    forged = card(gateway, "carrier")
    forged["signature"] = card(gateway, stranger)["signature"]  # the carrier's card, the stranger's signature
    r = gateway.post("/v1/documents/RateCard", forged)
    assert (r.status_code, r.json()["error"]) == (401, "invalid_signature"), r.text

    message = card(gateway, "carrier")["message"]
    key = actors["carrier"].key
    for domain in (
        eip712.Domain("ReturnTrace Documents", "1", chain.id + 1, deployment.registry.address),  # another chain
        eip712.Domain("ReturnTrace Documents", "1", chain.id, deployment.escrow.address),  # another contract
        deployment.domain_of("registry"),  # a contract's own domain
    ):
        body = {"message": message, "signature": "0x" + domain.sign(key, "RateCard", message).hex()}
        r = gateway.post("/v1/documents/RateCard", body)
        assert (r.status_code, r.json()["error"]) == (401, "invalid_signature"), (domain, r.text)

    # A card signed by an accredited actor who is not a carrier.
    r = gateway.post("/v1/documents/RateCard", card(gateway, "warehouse"))
    assert (r.status_code, r.json()["error"]) == (403, "not_authorised"), r.text

    answer = quotes(gateway, requested(shop))
    assert answer["byPrice"] == [] and answer["excluded"] == []
    assert answer["reason"] == "no valid card of an accredited carrier serves this lane for this weight"


def test_a_card_that_prices_nothing_or_has_expired_is_refused_when_posted(gateway):
    r = gateway.post("/v1/documents/RateCard", card(gateway, "carrier", bands=[(5000, 1), (1000, 2)]))
    assert (r.status_code, r.json()["error"]) == (422, "invalid_card"), r.text
    now = chain.time()
    r = gateway.post("/v1/documents/RateCard", card(gateway, "carrier", validFrom=now - 100, validUntil=now - 50))
    assert (r.status_code, r.json()["error"]) == (400, "expired_card"), r.text


def test_a_carrier_not_accredited_at_the_block_and_an_expired_card_are_left_out_with_the_reason(
    gateway, shop, center, carrier2, deployment, admin
):
    now = chain.time()
    publish(gateway, "carrier", validUntil=now + DAY)
    publish(gateway, carrier2)
    order_id = requested(shop)
    before = quotes(gateway, order_id)
    assert len(before["byPrice"]) == 2

    deployment.registry.setActor(carrier2.address, 0, carrier2.gln, {"from": admin})  # the accreditor revokes
    answer = quotes(gateway, order_id)
    assert [q["carrier"] for q in answer["byPrice"]] == [gateway.actors["carrier"].address]
    assert [(e["carrier"], e["reason"]) for e in answer["excluded"]] == [(carrier2.address, "carrier_not_accredited")]
    # What the registry said at each stated block: a carrier before the revocation, nothing after it.
    registry = deployment.registry
    assert registry.actor(carrier2.address, block_identifier=before["block"]["number"])[0] & Role.CARRIER
    assert registry.actor(carrier2.address, block_identifier=answer["block"]["number"])[0] == 0

    chain.sleep(DAY + 60)
    chain.mine()
    answer = quotes(gateway, order_id)
    assert answer["byPrice"] == []
    assert sorted(e["reason"] for e in answer["excluded"]) == ["carrier_not_accredited", "expired"]


def test_a_newer_card_of_the_same_lane_replaces_the_older(gateway, shop, center):
    publish(gateway, "carrier", bands=[(5000, 700)])
    chain.sleep(5)
    chain.mine()
    publish(gateway, "carrier", bands=[(5000, 650)])
    publish(gateway, "carrier", service=Service.PICKUP, bands=[(5000, 990)], days=5)  # another lane: kept
    answer = quotes(gateway, requested(shop))
    assert sorted((q["service"], q["price"]) for q in answer["byPrice"]) == [("drop-off", 650), ("pickup", 990)]


def test_bad_requests_get_a_reason_and_a_lane_nobody_serves_an_empty_answer(gateway, shop, center):
    publish(gateway, "carrier")
    order_id = requested(shop)
    for path, status, code in (
        ("/v1/orders/99999/shipping-quotes?weightGrams=800", 404, "unknown_order"),
        ("/v1/orders/0/shipping-quotes?weightGrams=800", 404, "unknown_order"),
        (f"/v1/orders/{order_id}/shipping-quotes?weightGrams=0", 400, "invalid_weight"),
        (f"/v1/orders/{order_id}/shipping-quotes?weightGrams=70001", 400, "invalid_weight"),
        (f"/v1/orders/{order_id}/shipping-quotes", 422, "invalid_request"),
        (f"/v1/orders/{order_id}/shipping-quotes?weightGrams=heavy", 422, "invalid_request"),
        (f"/v1/orders/{2**70}/shipping-quotes?weightGrams=800", 400, "out_of_range"),
    ):
        r = gateway.client.get(path)
        assert (r.status_code, r.json()["error"]) == (status, code), (path, r.text)

    too_heavy = quotes(gateway, order_id, grams=25_000)
    assert too_heavy["byPrice"] == [] and [e["reason"] for e in too_heavy["excluded"]] == ["too_heavy"]

    # A US order: no return center for the US and no card to the merchant's own site.
    us = quotes(gateway, requested(shop, market=MARKET_US))
    assert us["byPrice"] == [] and us["leg"]["destinations"][0]["kind"] == "merchant"
    assert us["reason"] == "no valid card of an accredited carrier serves this lane for this weight"

    settled = shop.buy(market=MARKET_EU)
    shop.deliver(settled)
    chain.sleep(shop.d.escrow.returnWindowCloses(settled) - chain.time() + 60)
    shop.d.escrow.release(settled, {"from": shop.relayer})
    r = gateway.client.get(f"/v1/orders/{settled}/shipping-quotes", params={"weightGrams": 800})
    assert (r.status_code, r.json()["error"], r.json()["orderStatus"]) == (409, "order_not_active", "completed")


# ------------------------------------------------------------------ combined returns


def signed_in(gateway, who) -> dict[str, str]:
    """The header of a Sign-In with Ethereum session of the actor `who` (a name or a Signer)."""
    return as_(sign_in(gateway.client, gateway.actors[who] if isinstance(who, str) else who))


def _combined(gateway, buyer, weights, status=200, who="buyer"):
    gateway.services.indexer.index_once()
    r = gateway.client.get(
        f"/v1/buyers/{buyer}/combined-returns",
        params=[("weight", f"{o}:{g}") for o, g in weights.items()],
        headers=signed_in(gateway, who),
    )
    assert r.status_code == status, r.text
    return r.json()


def test_open_returns_to_one_center_are_offered_as_one_parcel_with_the_saving(gateway, shop, center, carrier2, actors):
    publish(gateway, "carrier")
    publish(gateway, carrier2)
    a, b, c = requested(shop), requested(shop), requested(shop)
    other_buyers = requested(shop, buyer="buyer2")
    buyer = actors["buyer"].address

    answer = _combined(gateway, buyer, {a: 800, b: 3000})
    # Alone: a (800 g) cheapest at carrier's 4.50, b (3 kg) at carrier2's 6.40; together (3.8 kg): 6.40.
    (offer,) = answer["offers"]
    assert (offer["currency"], offer["orders"], offer["totalGrams"]) == ("EUR", [a, b], 3800)
    assert {int(o): (q["carrier"], q["price"]) for o, q in offer["singles"].items()} == {
        a: (actors["carrier"].address, 450),
        b: (carrier2.address, 640),
    }
    assert (offer["singlesTotal"], offer["combined"]["price"], offer["saving"]) == (450 + 640, 640, 450)
    assert offer["combined"]["carrier"] == carrier2.address
    assert offer["parcel"]["unitIds"] == ["0x" + shop.unit(o).hex() for o in (a, b)]
    assert offer["destination"] == f"{center:013d}"
    assert answer["excluded"] == [{"orderId": c, "reason": "weight_unknown"}]
    # Shown to the buyer signed in only.
    assert _combined(gateway, buyer, {a: 800, b: 3000}, status=403, who="buyer2")["error"] == "not_buyer"
    anonymous = gateway.client.get(f"/v1/buyers/{buyer}/combined-returns", params=[("weight", f"{a}:800")])
    assert (anonymous.status_code, anonymous.json()["error"]) == (401, "not_signed_in")

    # Another buyer's return is not this buyer's to combine.
    answer = _combined(gateway, buyer, {a: 800, other_buyers: 800})
    assert (
        answer["offers"] == []
        and {"orderId": other_buyers, "reason": "not_an_open_return_of_this_buyer"} in (answer["excluded"])
    )


def test_the_offered_parcel_packed_by_the_carrier_proves_each_returns_dispatch(gateway, shop, center, actors):
    publish(gateway, "carrier")
    a, b = requested(shop), requested(shop)
    (offer,) = _combined(gateway, actors["buyer"].address, {a: 800, b: 800})["offers"]
    assert offer["saving"] == 450 + 450 - 690  # two 800 g parcels in band one, one 1.6 kg parcel in band two

    units = [bytes.fromhex(u[2:]) for u in offer["parcel"]["unitIds"]]
    packing = aggregation(gateway, "carrier", units, disposition=int(Disposition.RETURNED))
    r = gateway.post(offer["parcel"]["post"], packing)
    assert r.status_code == 202, r.text
    gateway.relay()
    escrow = shop.d.escrow
    assert escrow.dispatchedAt(a) == escrow.dispatchedAt(b) == packing["aggregations"][0]["eventTime"]
    answer = _combined(gateway, actors["buyer"].address, {a: 800, b: 800})
    assert answer["openReturns"] == [] and answer["offers"] == []


def test_a_dispatched_return_is_no_longer_open_and_bad_weights_are_refused(gateway, shop, center, actors):
    publish(gateway, "carrier")
    a, b = requested(shop), requested(shop)
    pickup = gateway.event(
        shop.unit(b), BizStep.ACCEPTING, "carrier", Disposition.IN_TRANSIT, bizTransaction=rma_ref(shop.d.escrow, b)
    )
    assert gateway.post("/v1/events", gateway.events_body("carrier", [pickup])).status_code == 202
    gateway.relay()
    answer = _combined(gateway, actors["buyer"].address, {a: 800, b: 800})
    assert answer["openReturns"] == [{"orderId": a, "weightGrams": 800}] and answer["offers"] == []
    assert answer["reason"] == "no two open returns to one destination are cheaper sent together"

    me = signed_in(gateway, "buyer")
    for params, code in (([("weight", "x")], "invalid_weight"), ([("weight", f"{a}:0")], "invalid_weight")):
        r = gateway.client.get(f"/v1/buyers/{actors['buyer'].address}/combined-returns", params=params, headers=me)
        assert (r.status_code, r.json()["error"]) == (400, code), r.text
    r = gateway.client.get("/v1/buyers/0x1234/combined-returns", headers=me)
    assert (r.status_code, r.json()["error"]) == (400, "invalid_address")


# ------------------------------------------------------------------ pickup


@pytest.fixture
def pickup_policy(policies, admin):
    """The EU policy collecting returns at the door (a new version: orders placed from now on)."""
    policies.setPolicy(MARKET_EU, replace(EU, free_pickup=True).as_tuple(), {"from": admin})


def _book(gateway, order_id, buyer="buyer", carrier="carrier", start=None, hours=4, status=201, **extra):
    start = chain.time() + 3600 if start is None else start
    body = {
        "carrier": gateway.actors[carrier].address if carrier in gateway.actors else carrier,
        "addressRef": "addrbook:4711",
        "windowFrom": start,
        "windowUntil": start + hours * 3600,
        **extra,
    }
    r = gateway.client.post(f"/v1/orders/{order_id}/pickups", json=body, headers=signed_in(gateway, buyer))
    assert r.status_code == status, r.text
    return r.json()


def test_a_booked_pickup_is_proved_by_the_carriers_scan_and_the_buyer_may_claim_from_it(
    gateway, shop, center, pickup_policy, actors
):
    publish(gateway, "carrier", service=Service.PICKUP)
    order_id = requested(shop)
    booking = _book(gateway, order_id)
    buyer = signed_in(gateway, "buyer")
    assert (
        booking["rmaRef"]
        == "0x" + rma_ref(shop.d.escrow, order_id).hex()
        == "0x" + shop.d.escrow.rmaRef(order_id).hex()
    )
    assert booking["card"]["document"] and booking["addressRef"] == "addrbook:4711"
    status = gateway.client.get(f"/v1/pickups/{booking['id']}", headers=buyer).json()["onChain"]
    assert (status["status"], status["scan"], status["dispatchedAt"]) == ("booked", None, None)
    carrier = signed_in(gateway, "carrier")
    listed = gateway.client.get(f"/v1/carriers/{actors['carrier'].address}/pickups", headers=carrier).json()
    assert [p["id"] for p in listed["pickups"]] == [booking["id"]]
    assert gateway.client.get(f"/v1/pickups/{booking['id']}", headers=carrier).status_code == 200
    # Nobody else sees the booking or the carrier's list.
    stranger = signed_in(gateway, "stranger")
    assert gateway.client.get(f"/v1/pickups/{booking['id']}", headers=stranger).status_code == 404
    assert gateway.client.get(f"/v1/pickups/{booking['id']}").json()["error"] == "not_signed_in"
    r = gateway.client.get(f"/v1/carriers/{actors['carrier'].address}/pickups", headers=buyer)
    assert (r.status_code, r.json()["error"]) == (403, "not_carrier")

    # The carrier collects in the window and posts its signed pickup scan under the RMA through the gateway.
    chain.sleep(2 * 3600)
    chain.mine()
    gateway.services.reader.now.clear()  # the intake's cached chain time, a second old, predates the sleep
    scan = gateway.event(
        shop.unit(order_id),
        BizStep.ACCEPTING,
        "carrier",
        Disposition.IN_TRANSIT,
        bizTransaction=booking["rmaRef"],
    )
    r = gateway.post("/v1/events", gateway.events_body("carrier", [scan]))
    assert r.status_code == 202, r.text
    gateway.relay()
    assert gateway.client.get(r.headers["Location"]).json()["status"] == "confirmed"

    status = gateway.client.get(f"/v1/pickups/{booking['id']}", headers=buyer).json()["onChain"]
    escrow = shop.d.escrow
    assert status["status"] == "collected" and status["scan"]["onChain"] and status["scan"]["byBookedCarrier"]
    assert status["dispatchedAt"] == escrow.dispatchedAt(order_id) == scan["eventTime"]
    assert status["scan"]["organization"] == f"{actors['carrier'].gln:013d}"
    due = status["dispatchedRefundClaimableFrom"]
    assert due == scan["eventTime"] + EU.delivery_timeout + EU.max_relay_delay + 1

    # The parcel never arrives: from that second the buyer claims the refund the scan earns, not one before.
    tx = opens_after(
        due - 1,
        err("ReturnEscrowWindowOpen", order_id, due - 1),
        lambda: escrow.claimDispatchedRefund(order_id, {"from": actors["buyer"].account}),
    )
    assert tx.events["OrderSettled"]["path"] == 6  # Dispatched
    assert escrow.order(order_id)["status"] == Status.REFUNDED
    status = gateway.client.get(f"/v1/pickups/{booking['id']}", headers=buyer).json()["onChain"]
    assert (status["orderStatus"], status["dispatchedRefundClaimableFrom"]) == ("refunded", None)


def test_a_pickup_is_booked_only_under_a_policy_that_collects_at_the_door(gateway, shop, center, policies, admin):
    publish(gateway, "carrier", service=Service.PICKUP)
    before = requested(shop)  # bought under the EU preset: the buyer sends the return themselves
    r = _book(gateway, before, status=409)
    assert r["error"] == "no_free_pickup" and "does not collect returns at the door" in r["detail"]

    policies.setPolicy(MARKET_EU, replace(EU, free_pickup=True).as_tuple(), {"from": admin})
    after = requested(shop)
    assert _book(gateway, after)["orderId"] == after
    assert _book(gateway, before, status=409)["error"] == "no_free_pickup"  # an order keeps its policy version


def test_pickup_refusals(gateway, shop, center, carrier2, pickup_policy, actors):
    publish(gateway, "carrier", service=Service.PICKUP)
    publish(gateway, carrier2)  # drop-off only
    order_id = requested(shop)
    assert _book(gateway, order_id, buyer="buyer2", status=403)["error"] == "not_buyer"
    assert _book(gateway, order_id, carrier=carrier2.address, status=409)["error"] == "no_pickup_card"
    assert _book(gateway, order_id, start=chain.time() - 60, status=400)["error"] == "invalid_window"
    assert _book(gateway, order_id, hours=48, status=400)["error"] == "invalid_window"
    assert _book(gateway, order_id, start=chain.time() + 15 * DAY, status=400)["error"] == "invalid_window"
    now = chain.time()
    street = {
        "carrier": actors["carrier"].address,
        "addressRef": "12 Rue de la Paix, Paris",
        "windowFrom": now + 3600,
        "windowUntil": now + 7200,
    }
    r = gateway.client.post(f"/v1/orders/{order_id}/pickups", json=street, headers=signed_in(gateway, "buyer"))
    assert (r.status_code, r.json()["error"]) == (422, "invalid_request")  # an address is not a reference to one
    street["addressRef"] = "addrbook:4711"
    r = gateway.post(f"/v1/orders/{order_id}/pickups", street)
    assert (r.status_code, r.json()["error"]) == (401, "not_signed_in")

    booked = _book(gateway, order_id)
    r = _book(gateway, order_id, status=409)
    assert (r["error"], r["pickup"]) == ("already_booked", booked["id"])
    assert gateway.client.get("/v1/pickups/pk_nothing", headers=signed_in(gateway, "buyer")).status_code == 404

    active = shop.buy(market=MARKET_EU)
    shop.deliver(active)
    assert _book(gateway, active, status=409)["error"] == "no_open_return"
    assert _book(gateway, 99999, status=404)["error"] == "unknown_order"


def test_a_carrier_revoked_after_signing_in_no_longer_sees_the_bookings_or_their_address_references(
    gateway, shop, center, pickup_policy, deployment, admin, actors
):
    publish(gateway, "carrier", service=Service.PICKUP)
    booking = _book(gateway, requested(shop))
    carrier, buyer = signed_in(gateway, "carrier"), signed_in(gateway, "buyer")
    listing = f"/v1/carriers/{actors['carrier'].address}/pickups"
    assert [p["id"] for p in gateway.client.get(listing, headers=carrier).json()["pickups"]] == [booking["id"]]

    c = actors["carrier"]
    deployment.registry.setActor(c.address, 0, c.gln, {"from": admin})  # the accreditor revokes the carrier
    r = gateway.client.get(listing, headers=carrier)  # the session opened before the revocation
    assert (r.status_code, r.json()["error"]) == (403, "not_carrier") and "addrbook" not in r.text
    r = gateway.client.get(f"/v1/pickups/{booking['id']}", headers=carrier)
    assert (r.status_code, r.json()["error"]) == (404, "unknown_pickup") and "addrbook" not in r.text
    assert gateway.client.get(f"/v1/pickups/{booking['id']}", headers=buyer).json()["addressRef"] == "addrbook:4711"


def test_a_pickup_window_must_end_before_the_merchant_may_call_the_return_unsent(gateway, shop, center, pickup_policy):
    publish(gateway, "carrier", service=Service.PICKUP, validUntil=chain.time() + 60 * DAY)
    order_id = requested(shop)
    late = shop.d.escrow.order(order_id)["requestedAt"] + EU.delivery_timeout
    chain.sleep(late - chain.time() - 5 * DAY)
    chain.mine()
    r = _book(gateway, order_id, start=late - 3600, hours=2, status=409)
    assert (r["error"], r["latest"]) == ("window_too_late", late)
    assert _book(gateway, order_id, start=late - 3 * 3600, hours=3)["windowUntil"] == late


def test_the_leg_follows_the_return_centers_accredited_at_the_stated_block(gateway, shop, center, deployment, admin):
    publish(gateway, "carrier")
    order_id = requested(shop)
    leg = quotes(gateway, order_id)["leg"]
    assert leg["destinations"] == [{"gln": f"{center:013d}", "kind": "return_center"}]

    deployment.registry.setReturnCenter(center, center, 0, {"from": admin})  # the accreditor withdraws it
    answer = quotes(gateway, order_id)
    merchant_org = deployment.registry.actor(shop.d.escrow.order(order_id)["merchant"])[1]
    assert answer["leg"]["destinations"] == [{"gln": f"{merchant_org:013d}", "kind": "merchant"}]
    assert answer["byPrice"] == []  # the card serves the market's return centers, not the merchant's site
