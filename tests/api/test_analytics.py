"""Return analytics end to end: orders placed, returned through the gateway, graded, refunded and
indexed; the figures asserted by hand from the chain's own records; a brand sees only its products,
an auditor every brand, anyone else nothing."""

from __future__ import annotations

import csv
import io

import pytest
from brownie import ZERO_ADDRESS, web3

from returntrace.escrow import Facts, Grade, Remedy, ReturnReason
from scripts import deploy
from scripts.builder import Offer
from tests.api.indexing import execute
from tests.api.people import as_, sign_in
from tests.support import GTIN, MARKET_EU

OTHER_GTIN_INT = int("09506000134413")  # brand2's product (check digit 3)
SEALED = Facts.SEAL_INTACT | Facts.PACKAGING_INTACT


@pytest.fixture
def gateway_settings(gateway_settings, actors):
    return gateway_settings.model_copy(update={"auditors": (actors["stranger"].address,)})


def _time_of(block: int) -> int:
    return int(web3.eth.get_block(block)["timestamp"])


def test_the_figures_of_a_brands_returns_by_hand(gateway, shop, deployment, actors, escrow):
    deploy.register_product(deployment, actors["brand2"], OTHER_GTIN_INT, 0, 1 << MARKET_EU)
    bought = [shop.buy(market=MARKET_EU) for _ in range(4)]
    b = shop.builder
    item = b.commission_item("THEIRS1", OTHER_GTIN_INT, location=actors["brand2"].gln)
    b.commission("brand2", [item])
    b.list_for_sale("THEIRS1", Offer(MARKET_EU, ZERO_ADDRESS, 10**18, 0, 10**16, gtin=OTHER_GTIN_INT), "brand2")
    theirs = b.purchase(b.unit_of(item)).return_value
    for order_id in bought[:2] + [theirs]:
        shop.deliver(order_id)
    # Two returns signed by the buyer and posted to the gateway: defective for a refund, no longer needed
    # for an exchange voucher (store points at the merchant, with the policy's bonus).
    for order_id, reason, remedy in (
        (bought[0], ReturnReason.DEFECTIVE, Remedy.REFUND),
        (bought[1], ReturnReason.NO_LONGER_NEEDED, Remedy.EXCHANGE),
    ):
        body = gateway.body("ReturnRequest", "buyer", orderId=order_id, reason=reason, remedy=remedy)
        r = gateway.post("/v1/return-requests", body)
        assert r.status_code == 202, r.text
    gateway.relay()
    for order_id in bought[:2]:
        shop.receive(order_id)
    # Graded by the inspector through the gateway: A (restocked) at once, B (donated) once the buyer accepts.
    for order_id, facts, grade in ((bought[0], SEALED, Grade.A), (bought[1], Facts.PACKAGING_INTACT, Grade.B)):
        r = gateway.post("/v1/inspections", gateway.inspection_body(order_id, facts, grade))
        assert r.status_code == 202, r.text
    gateway.relay()
    accepted = escrow.acceptInspection(bought[1], {"from": actors["buyer"].account})
    # The brand's settings: donated units recover half their price.
    brand = actors["brand"]
    settings = shop.builder.document(
        "ReturnAnalyticsSettings", "brand", baselineFrom=0, baselineTo=0, restockBps=10_000, donateBps=5_000,
        recycleBps=1_000, highReturnBps=2_000,
    )  # fmt: skip
    assert gateway.post("/v1/documents/ReturnAnalyticsSettings", settings).status_code == 201
    # The merchant (the brand, which listed) redeems 1000 of the buyer's points with their consent.
    consent = shop.builder.sign(
        "Redemption",
        deployment.domain_of("points"),
        "buyer",
        merchant=brand.address,
        currency=ZERO_ADDRESS,
        amount=1000,
    )
    m = consent.message
    deployment.points.redeem(
        m["holder"], ZERO_ADDRESS, 1000, m["nonce"], m["deadline"], consent.signature, {"from": brand.account}
    )
    gateway.services.indexer.index_once()
    # The return flow records the code the buyer confirmed for the second order (the first keeps the coarse reason).
    buyer = sign_in(gateway.client, actors["buyer"])
    code = f"/v1/orders/{bought[1]}/reason-code"
    assert gateway.client.put(code, json={"code": "changed_mind"}, headers=as_(buyer)).json()["code"] == "changed_mind"
    r = gateway.client.put(code, json={"code": "because"}, headers=as_(buyer))
    assert (r.status_code, r.json()["error"]) == (400, "invalid_reason_code")
    r = gateway.client.put(code, json={"code": "size_fit"}, headers=as_(sign_in(gateway.client, brand)))
    assert (r.status_code, r.json()["error"]) == (403, "not_buyer")

    # By hand, from the escrow's own logs (not the index).
    logs = web3.eth.contract(address=escrow.address, abi=escrow.abi).events
    settled = {}
    for order_id in bought[:2]:
        [log] = logs.OrderSettled.get_logs(from_block=0, argument_filters={"orderId": order_id})
        [asked] = logs.ReturnRequested.get_logs(from_block=0, argument_filters={"orderId": order_id})
        settled[order_id] = (log, _time_of(log["blockNumber"]) - _time_of(asked["blockNumber"]))
    assert settled[bought[1]][0]["transactionHash"].hex().removeprefix("0x") in accepted.txid
    price = escrow.order(bought[0])["price"]
    expected_cost = 0
    for order_id, rate in ((bought[0], 10_000), (bought[1], 5_000)):
        s = settled[order_id][0]["args"]["settlement"]
        fee = escrow.order(order_id)["returnShippingFee"]
        expected_cost += fee - s["shippingDeducted"] + s["refund"] + s["points"] - price * rate // 10_000

    token = sign_in(gateway.client, brand)
    r = gateway.client.get("/v1/analytics", headers=as_(token))
    assert r.status_code == 200, r.text
    f = r.json()
    assert (f["orders"], f["returns"], f["returnRate"]["rate"]) == (4, 2, 0.5)
    assert [g["key"] for g in f["byGtin"]] == [GTIN]  # brand2's order is not the brand's
    assert {x["key"]: x["returns"] for x in f["byReason"]} == {"defective": 1, "changed_mind": 1}
    assert f["gradeMix"]["grades"] == {"A": 1, "B": 1, "C": 0}
    waits = sorted(wait for _, wait in settled.values())
    assert f["timeToRefund"]["byMarket"] == [{"key": "0", "count": 2, "p50": waits[0], "p90": waits[1]}]
    assert f["costs"][ZERO_ADDRESS]["net"] == expected_cost
    assert f["costs"][ZERO_ADDRESS]["residualBy"]["donate"] == price // 2
    assert [g["gtin"] for g in f["highReturns"]] == [GTIN]  # 50 % > the brand's 20 %
    assert f["index"]["verified"] is True and f["index"]["orders"] == escrow.orderCount()
    assert f["settings"]["donate_bps"] == 5_000
    assert f["exchangeShare"] == {"returns": 2, "exchanges": 1, "share": 0.5}
    voucher = settled[bought[1]][0]["args"]["settlement"]
    assert f["membership"] == [
        {
            "merchant": brand.address,
            "currency": ZERO_ADDRESS,
            "gradePoints": voucher["points"] - voucher["voucher"],
            "exchangeBonus": voucher["bonus"],
            "redeemed": 1000,  # the merchant is the brand's own account: its redemptions are the brand's
            "redeemedReason": None,
            "issued": voucher["points"] - voucher["voucher"] + voucher["bonus"],
        }
    ]
    assert voucher["bonus"] > 0

    # CSV of one table, every row with the index block.
    r = gateway.client.get("/v1/analytics/return-rates", params={"format": "csv"}, headers=as_(token))
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {row["indexBlock"] for row in rows} == {str(f["index"]["block"])}
    assert [(row["key"], row["rate"]) for row in rows if row["dimension"] == "gtin"] == [(GTIN, "0.5")]

    # Someone else's data: 403; nobody signed in: 401; an auditor sees both brands.
    other = f"{OTHER_GTIN_INT:014d}"
    r = gateway.client.get("/v1/analytics", params={"gtin": other}, headers=as_(token))
    assert (r.status_code, r.json()["error"]) == (403, "not_your_product")
    r = gateway.client.get("/v1/analytics", params={"brand": actors["brand2"].address}, headers=as_(token))
    assert (r.status_code, r.json()["error"]) == (403, "not_your_brand")
    assert gateway.client.get("/v1/analytics").status_code == 401
    assert gateway.client.get("/v1/analytics", headers=as_(buyer)).json()["error"] == "not_a_brand"
    auditor = sign_in(gateway.client, actors["stranger"])
    every = gateway.client.get("/v1/analytics", headers=as_(auditor)).json()
    assert [g["key"] for g in every["byGtin"]] == sorted([GTIN, other]) and every["orders"] == 5

    # The leak: two brands selling through one merchant account. The escrow lists a unit only by its brand
    # today, so the shared merchant is written into the index (as a marketplace merchant would be): brand2
    # must not see the 1000 points the brand's buyer redeemed there; the auditor still does.
    execute(gateway, "UPDATE idx_orders SET merchant = ? WHERE order_id = ?", brand.address, theirs)
    token2 = sign_in(gateway.client, actors["brand2"])
    seen = gateway.client.get("/v1/analytics", headers=as_(token2)).json()["membership"]
    assert [(m["merchant"], m["redeemed"], m["redeemedReason"]) for m in seen] == [
        (brand.address, None, "merchant_not_the_brand")
    ]
    r = gateway.client.get("/v1/analytics/membership", params={"format": "csv"}, headers=as_(token2))
    assert [(row["redeemed"], row["redeemedReason"]) for row in csv.DictReader(io.StringIO(r.text))] == [
        ("", "merchant_not_the_brand")
    ]
    page2 = gateway.client.get("/desk/analytics", headers=as_(token2)).text
    points = page2.split('id="membership"', 1)[1].split("</table>", 1)[0]
    assert "not attributable" in points and ">1000<" not in points
    every = gateway.client.get("/v1/analytics", headers=as_(auditor)).json()
    assert [m["redeemed"] for m in every["membership"]] == [1000]

    # The dashboard: the brand's own GTIN only, its charts drawn inline, in the reader's language.
    page = gateway.client.get("/desk/analytics", headers={"accept": "text/html", **as_(token)})
    assert page.status_code == 200, page.text
    assert GTIN in page.text and other not in page.text and "<svg" in page.text and "<script" not in page.text
    german = gateway.client.get("/desk/analytics?lang=de", headers=as_(token))
    assert "Rücksendequote" in german.text
    assert "sign in" in gateway.client.get("/desk/analytics").text.lower()


def test_a_brand_revoked_after_signing_in_no_longer_reads_its_products_figures(gateway, deployment, admin, actors):
    brand = actors["brand"]
    gateway.services.indexer.index_once()  # the brand's registered GTINs
    token = sign_in(gateway.client, brand)
    assert gateway.client.get("/v1/analytics", headers=as_(token)).status_code == 200

    deployment.registry.setActor(brand.address, 0, brand.gln, {"from": admin})  # the accreditor revokes the brand
    for path in ("/v1/analytics", "/v1/analytics/return-rates", "/desk/analytics"):
        r = gateway.client.get(path, headers=as_(token))  # the session opened before the revocation
        assert (r.status_code, r.json()["error"]) == (403, "not_a_brand"), path
