"""The inspection station in headless Chromium, end to end to the settlement on-chain (issue 12 §2).

An accredited inspector (one of anvil's unlocked accounts: anvil signs for it) opens /station with the
injected EIP-1193 wallet of the return flow's test, signs in, types the returned unit's GS1 element
string, ticks the facts of an unopened unit, adds a photo (stored as evidence, its CID shown), reads the
grade the contract derives and what the buyer and the merchant get, signs the prefilled INSPECTING scan
and Inspection and follows them until the order settles with that grade. The screenshot goes to reports/station.png
(gitignored); `make screenshots` writes docs/screenshots/station.png (tests/api/screenshots.py).
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

from brownie import accounts, web3

from returntrace.escrow import Facts, Grade
from returntrace.vocab import Role
from scripts.gateway import wait_until
from tests.api.browser import Chromium, find_chromium
from tests.api.test_return_flow_browser import PROVIDER, Wallet, _until, flow_gateway  # noqa: F401
from tests.support import GTIN, MARKET_EU, Status

REPORTS = Path(__file__).resolve().parents[2] / "reports"
SEALED = Facts.SEAL_INTACT | Facts.PACKAGING_INTACT


def returned_and_indexed(http, shop, serial: str) -> int:
    """A unit returned and received, its history indexed and verified by the served gateway: its order."""
    order_id = shop.returned(market=MARKET_EU, serial=serial)

    def indexed() -> bool:
        r = http.get(f"/01/{GTIN}/21/{serial}", headers={"accept": "application/json"})
        return r.status_code == 200 and r.json()["verification"]["verified"]

    wait_until(indexed, 30, "the unit's history to be indexed", interval=0.1)
    return order_id


def returned_for_station(http, shop, registry, admin, actors, serial: str):
    """A unit returned and received, and an inspector among anvil's accounts (independent of both parties):
    (order id, inspector account)."""
    inspector = accounts[9]
    registry.setActor(inspector.address, Role.INSPECTOR, actors["inspector"].gln, {"from": admin})
    return returned_and_indexed(http, shop, serial), inspector


def inspect_in_browser(browser: Chromium, url: str, inspector: str, code: str, photo: Path) -> Wallet:
    """Opens the station, signs in as `inspector`, finds the unit by `code`, ticks an unopened unit's
    facts and adds `photo`; stops before signing."""
    assert browser.open(url, width=1000, height=900, scale=1.0, mobile=False) == 200
    _until(browser, "document.getElementById('station').dataset.ready === '1'", "the station's script")
    wallet = Wallet(browser, inspector)
    browser.evaluate("document.getElementById('connect').click()")
    wallet.answer("eth_requestAccounts")
    wallet.answer("personal_sign")
    _until(browser, "document.getElementById('find').disabled === false", "the wallet to sign in")
    browser.evaluate(f"document.getElementById('code').value = {json.dumps(code)}")
    browser.evaluate("document.getElementById('find').click()")
    _until(browser, "document.getElementById('inspect').hidden === false", "the unit and its order")
    for fact in ("seal_intact", "packaging_intact"):
        browser.evaluate(f"document.getElementById('fact-{fact}').click()")
    _until(browser, "document.getElementById('grade').dataset.grade === 'A'", "the grade of the ticked facts")
    field = browser.send("Runtime.evaluate", expression="document.getElementById('photos')")["result"]
    browser.send("DOM.setFileInputFiles", files=[str(photo)], objectId=field["objectId"])
    _until(browser, "document.querySelectorAll('#cids li').length === 1", "the photo to be stored")
    _until(browser, "document.getElementById('sign').disabled === false", "the message to sign")
    return wallet


def test_an_inspector_grades_a_return_in_the_browser_and_the_order_settles(
    flow_gateway, shop, escrow, registry, admin, actors, tmp_path
):
    find_chromium()  # fail first, and clearly, on a machine without Chromium
    http, base, _ = flow_gateway
    order_id, inspector = returned_for_station(http, shop, registry, admin, actors, "STATION-1")
    photo = http.get(f"/01/{GTIN}/21/STATION-1/qr.png").content  # any PNG stands in for the unit's photo
    (tmp_path / "unit.png").write_bytes(photo)

    with Chromium() as browser:
        browser.send("Runtime.addBinding", name="rtWallet")
        browser.send("Page.addScriptToEvaluateOnNewDocument", source=PROVIDER)
        wallet = inspect_in_browser(
            browser, f"{base}/station", inspector.address, f"(01){GTIN}(21)STATION-1", tmp_path / "unit.png"
        )
        unit_text = browser.evaluate("document.getElementById('unit').innerText")
        assert f"GTIN {GTIN} · serial STATION-1" in unit_text and f"Order {order_id} · return requested" in unit_text
        assert "History verified against the blockchain" in unit_text
        quote = escrow.quote(order_id, Grade.A, SEALED, 0)
        preview = browser.evaluate("document.getElementById('preview').innerText")
        eth = lambda v: f"{Decimal(v).scaleb(-18).normalize():f} ETH"  # noqa: E731
        assert f"The buyer gets {eth(quote['refund'])}" in preview
        assert f"The merchant gets {eth(quote['merchantAmount'])}" in preview
        assert "Signing settles the order at once." in preview
        photo_cid = browser.evaluate("document.querySelector('#cids li').innerText").split(": ")[1]

        browser.evaluate("document.getElementById('sign').click()")
        wallet.answer("eth_signTypedData_v4")  # the INSPECTING scan
        wallet.answer("eth_signTypedData_v4")  # the attestation
        _until(browser, "document.getElementById('order-status').dataset.state === 'settled'", "the settlement", 60)
        listed = browser.evaluate("[...document.querySelectorAll('#cids li')].map(li => li.innerText)")
        record_cid = listed[1].removeprefix("Evidence of this inspection: ")
        REPORTS.mkdir(exist_ok=True)
        browser.screenshot(REPORTS / "station.png")
        assert "The order is now: settled." in browser.evaluate("document.getElementById('order-status').innerText")

    scan, typed = wallet.signed
    assert typed["primaryType"] == "Inspection" and typed["message"]["facts"] == SEALED
    assert (
        scan["primaryType"] == "EventBatch" and scan["message"]["events"][0]["evidence"] == typed["message"]["evidence"]
    )
    o = escrow.order(order_id)
    assert (o["status"], o["grade"], o["facts"]) == (Status.SETTLED, Grade.A, SEALED)
    settled = web3.eth.contract(address=escrow.address, abi=escrow.abi).events.OrderSettled.get_logs(
        from_block=0, argument_filters={"orderId": order_id}
    )
    assert len(settled) == 1 and settled[0]["args"]["grade"] == Grade.A
    assert settled[0]["args"]["settlement"]["refund"] == quote["refund"]  # what the page said the buyer gets
    # The inspection's evidence is the stored record naming the photo.
    submitted = web3.eth.contract(address=escrow.address, abi=escrow.abi).events.InspectionSubmitted.get_logs(
        from_block=0, argument_filters={"orderId": order_id}
    )
    digest = submitted[0]["args"]["evidence"]
    assert "0x" + digest.hex().removeprefix("0x") == typed["message"]["evidence"]
    record = http.get(f"/v1/evidence/{record_cid}")
    assert record.status_code == 200 and hashlib.sha256(record.content).digest() == digest
    assert json.loads(record.content) == {
        "orderId": str(order_id),
        "unitId": "0x" + shop.unit(order_id).hex(),
        "facts": SEALED,
        "photos": [photo_cid],
    }
    assert http.get(f"/v1/evidence/{photo_cid}").content == photo
    view = http.get(f"/01/{GTIN}/21/STATION-1", headers={"accept": "application/json"}).json()
    (inspected,) = [e for e in view["timeline"] if e["step"] == "inspecting"]
    assert inspected["signer"] == inspector.address and inspected["evidence"] == record_cid
