"""The buyer's return flow in headless Chromium, end to end to the on-chain ReturnRequested event.

The page gets an EIP-1193 provider injected before its own script runs (`window.ethereum`); the
provider hands every request to this test through a DevTools binding, and the test answers as a
wallet would: `eth_requestAccounts` with the account it connects, `eth_signTypedData_v4` forwarded
to anvil's own `eth_signTypedData_v4` for that account (one of anvil's unlocked accounts, the buyer
here). The gateway runs its relayer and indexer in the background; its assistant is a double (the
flow is tested here, not the model). Needs Chromium (tests/api/browser.py says how to install it).
The screenshot goes to reports/return-flow.png (gitignored).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from brownie import accounts, chain, web3

from api.main import create_app
from api.store.reason_codes import ReasonCodeStore
from returntrace import cid as cids
from returntrace.escrow import Facts, Grade, Remedy, ReturnReason
from scripts.builder import listing_terms
from scripts.gateway import free_port, wait_until
from tests.api.browser import Chromium, find_chromium
from tests.api.processes import served
from tests.api.test_assistant_api import Says
from tests.support import DEFAULT_DELIVERY_FEE, DEFAULT_PRICE, GTIN, MARKET_EU, Status

REPORTS = Path(__file__).resolve().parents[2] / "reports"

# The injected wallet: each request becomes a promise the test settles through window.__rtAnswer.
PROVIDER = """
(() => {
  const pending = new Map();
  let next = 1;
  window.__rtAnswer = (id, result, error) => {
    const p = pending.get(id);
    pending.delete(id);
    if (error) { const e = new Error(error.message); e.code = error.code; p.reject(e); } else { p.resolve(result); }
  };
  window.ethereum = {
    request({ method, params }) {
      return new Promise((resolve, reject) => {
        const id = next++;
        pending.set(id, { resolve, reject });
        window.rtWallet(JSON.stringify({ id, method, params: params || [] }));
      });
    },
  };
})();
"""


@pytest.fixture
def flow_gateway(gateway_settings):
    """The gateway served on a loopback port, relayer and indexer on, with an assistant double that
    reads every text as size_fit unless told otherwise: (client, URL, the double)."""
    port = free_port()
    app = create_app(
        gateway_settings.replace(
            relay=True, index=True, public_url=f"http://127.0.0.1:{port}", batch_interval=0.05, index_interval=0.1
        )
    )
    said = Says("size_fit")  # a test may change what it says
    with served(app, port) as url, httpx.Client(base_url=url, timeout=10) as http:
        app.state.services = dataclasses.replace(app.state.services, assistant=said)
        yield http, url, said


class Wallet:
    """Answers the page's EIP-1193 requests as `account`, signing with anvil's own eth_signTypedData_v4
    and personal_sign (the sign-in's EIP-4361 text)."""

    def __init__(self, browser: Chromium, account: str) -> None:
        self.browser, self.account = browser, account
        self.signed: list[dict] = []

    def answer(self, expected_method: str) -> None:
        call = json.loads(self.browser.next_event("Runtime.bindingCalled")["payload"])
        assert call["method"] == expected_method, call
        if call["method"] == "eth_requestAccounts":
            result = [self.account]
        elif call["method"] == "personal_sign":
            text, signer = call["params"]
            assert signer.lower() == self.account.lower() and "wants you to sign in" in text
            reply = web3.provider.make_request("personal_sign", ["0x" + text.encode().hex(), self.account])
            assert "result" in reply, reply
            result = reply["result"]
        else:
            signer, typed = call["params"]
            assert signer.lower() == self.account.lower()
            self.signed.append(json.loads(typed))
            reply = web3.provider.make_request("eth_signTypedData_v4", [self.account, typed])
            assert "result" in reply, reply
            result = reply["result"]
        self.browser.evaluate(f"window.__rtAnswer({call['id']}, {json.dumps(result)}, null)")


def _until(browser: Chromium, expression: str, what: str, timeout: float = 30):
    return wait_until(lambda: browser.evaluate(expression), timeout, what, interval=0.1)


def _bought(shop, escrow, buyer, serial: str) -> int:
    """A unit listed in the EU, bought by `buyer` (one of anvil's accounts) and delivered: its order."""
    unit = shop.list_unit(market=MARKET_EU, serial=serial)
    order_id = escrow.purchase(
        unit, listing_terms(escrow, unit), False, {"from": buyer, "value": DEFAULT_PRICE + DEFAULT_DELIVERY_FEE}
    ).return_value
    shop.deliver(order_id)
    return order_id


def _sent(browser: Chromium) -> str:
    """The message's last state on the page, once recorded or refused."""
    _until(
        browser,
        "['confirmed', 'failed'].includes(document.getElementById('send-status').dataset.state)",
        "the message to be recorded",
        timeout=60,
    )
    return browser.evaluate("document.getElementById('send-status').dataset.state")


def _start(browser: Chromium, url: str, account: str, text: str) -> Wallet:
    """Opens the flow, connects `account` and asks for the options of `text`."""
    assert browser.open(url) == 200
    _until(browser, "document.getElementById('return-flow').dataset.ready === '1'", "the flow's script")
    wallet = Wallet(browser, account)
    browser.evaluate("document.getElementById('connect').click()")
    wallet.answer("eth_requestAccounts")
    wallet.answer("personal_sign")  # Sign-In with Ethereum: the options are the signed-in buyer's
    _until(browser, "document.getElementById('assess').disabled === false", "the wallet to sign in")
    browser.evaluate(f"document.getElementById('text').value = {json.dumps(text)}")
    browser.evaluate("document.getElementById('assess').click()")
    _until(
        browser,
        "document.getElementById('assess-status').innerText.length > 0 && "
        "!document.getElementById('assess-status').innerText.startsWith('Reading')",
        "the assessment",
    )
    return wallet


def test_the_buyer_signs_an_exchange_in_the_browser_and_it_reaches_the_chain(
    flow_gateway, shop, escrow, gateway_settings
):
    find_chromium()  # fail first, and clearly, on a machine without Chromium
    http, base, _ = flow_gateway
    buyer, stranger = accounts[6], accounts[7]  # anvil's own unlocked accounts: anvil signs for them
    order_id = _bought(shop, escrow, buyer, "FLOW-1")
    url = f"{base}/return/{GTIN}/FLOW-1"
    schema = http.get("/v1/eip712").json()["messages"]["ReturnRequest"]

    with Chromium() as browser:
        browser.send("Runtime.addBinding", name="rtWallet")
        browser.send("Page.addScriptToEvaluateOnNewDocument", source=PROVIDER)

        # Someone else's wallet sees no amounts and no option to sign.
        _start(browser, url, stranger.address, "it does not fit")
        status = browser.evaluate("document.getElementById('assess-status').innerText")
        assert "did not buy this unit" in status
        assert browser.evaluate("document.querySelectorAll('#options li').length") == 0

        # The buyer: the options in order, with the quoted amounts, then the exchange confirmed and signed.
        wallet = _start(browser, url, buyer.address, "the body is too small for my baby")
        titles = browser.evaluate("[...document.querySelectorAll('#options h3')].map(h => h.innerText)")
        assert titles[0].startswith("Exchange") and any("legal right" in t for t in titles), titles
        options = browser.evaluate("document.getElementById('options').innerText")
        voucher = escrow.quote(order_id, 1, 3, 0)["refund"] * 10_500 // 10_000  # grade A, sealed; the EU bonus
        assert (
            f"store points worth {Decimal(voucher).scaleb(-18).normalize():f} ETH" in options
            and "ETH" in options
            and "The EU model withdrawal form" in options
        )
        browser.evaluate("document.getElementById('choose-exchange').click()")
        facts = browser.evaluate("document.getElementById('confirm-facts').innerText")
        assert "Reason recorded on the blockchain\nOther" in facts and "store points (exchange)" in facts
        assert str(order_id) in facts and buyer.address in facts
        browser.evaluate("document.getElementById('sign').click()")
        wallet.answer("eth_signTypedData_v4")
        state = _sent(browser)
        final = browser.evaluate("document.getElementById('send-status').innerText")
        REPORTS.mkdir(exist_ok=True)
        browser.screenshot(REPORTS / "return-flow.png")
        assert state == "confirmed", final
        assert "Recorded on the blockchain" in final

    typed = wallet.signed[0]
    assert typed["types"] == schema["types"] and typed["domain"] == schema["domain"]
    assert typed["primaryType"] == "ReturnRequest"
    logs = web3.eth.contract(address=escrow.address, abi=escrow.abi).events.ReturnRequested.get_logs(
        from_block=0, argument_filters={"orderId": order_id}
    )
    assert len(logs) == 1
    assert logs[0]["args"]["buyer"] == buyer.address and logs[0]["args"]["reason"] == ReturnReason.OTHER
    o = escrow.order(order_id)
    assert o["status"] == Status.RETURN_REQUESTED and o["remedy"] == Remedy.EXCHANGE
    # The page recorded the reason code the buyer saw (the code only) for the brand's analytics.
    codes = ReasonCodeStore(gateway_settings.cases_database)
    assert codes.codes([order_id]) == {order_id: "size_fit"}
    codes.close()


def _claim_defect(flow_gateway, shop, escrow, tmp_path, serial: str) -> tuple[int, bytes, Wallet]:
    """The buyer claims a defect on the flow page with a photo: (the order, the photo, the wallet)."""
    find_chromium()
    http, base, said = flow_gateway
    said.reason = "defective"
    buyer = accounts[8]
    order_id = _bought(shop, escrow, buyer, serial)
    photo = http.get(f"/01/{GTIN}/21/{serial}/qr.png").content  # any PNG stands in for the photo of the defect
    (tmp_path / "defect.png").write_bytes(photo)

    with Chromium() as browser:
        browser.send("Runtime.addBinding", name="rtWallet")
        browser.send("Page.addScriptToEvaluateOnNewDocument", source=PROVIDER)
        wallet = _start(browser, f"{base}/return/{GTIN}/{serial}", buyer.address, "the pump stopped working")
        titles = browser.evaluate("[...document.querySelectorAll('#options h3')].map(h => h.innerText)")
        assert titles[0].startswith("Get a new one sent"), titles
        browser.evaluate("document.getElementById('choose-reissue').click()")
        assert browser.evaluate("document.getElementById('evidence-row').hidden") is False
        field = browser.send("Runtime.evaluate", expression="document.getElementById('evidence')")["result"]
        browser.send("DOM.setFileInputFiles", files=[str(tmp_path / "defect.png")], objectId=field["objectId"])
        browser.evaluate("document.getElementById('sign').click()")
        wallet.answer("eth_signTypedData_v4")
        assert _sent(browser) == "confirmed", browser.evaluate("document.getElementById('send-status').innerText")
    return order_id, photo, wallet


def test_a_defect_claim_uploads_the_photo_signs_and_reaches_the_reissue_desk(
    flow_gateway, shop, escrow, deployment, tmp_path
):
    order_id, photo, wallet = _claim_defect(flow_gateway, shop, escrow, tmp_path, "FLOW-2")
    claim = wallet.signed[0]
    assert claim["primaryType"] == "DefectClaim"
    assert claim["message"]["evidence"] == "0x" + hashlib.sha256(photo).hexdigest()  # the uploaded photo's digest
    logs = web3.eth.contract(address=deployment.desk.address, abi=deployment.desk.abi).events.DefectClaimed.get_logs(
        from_block=0, argument_filters={"orderId": order_id}
    )
    assert len(logs) == 1 and logs[0]["args"]["evidence"] == hashlib.sha256(photo).digest()


def test_the_photo_of_a_defect_claim_is_the_orders_not_anyones_who_reads_the_chain(
    flow_gateway, shop, escrow, deployment, tmp_path
):
    """The claim puts the photo's digest on-chain, and a digest names the file's CID: anyone reading the
    chain could fetch the buyer's photo (of their home, their child) if the page uploaded it as public
    evidence — served to all, kept by shared caches for a year, and given to the IPFS node."""
    order_id, photo, _ = _claim_defect(flow_gateway, shop, escrow, tmp_path, "FLOW-4")
    http = flow_gateway[0]
    desk = web3.eth.contract(address=deployment.desk.address, abi=deployment.desk.abi)
    (claimed,) = desk.events.DefectClaimed.get_logs(from_block=0, argument_filters={"orderId": order_id})
    anonymous = httpx.Client(base_url=http.base_url, timeout=10)  # no session cookie: anyone
    answers = {c: anonymous.get(f"/v1/evidence/{c}") for c in cids.candidate_cids(claimed["args"]["evidence"])}
    assert photo not in [r.content for r in answers.values()], {c: r.headers for c, r in answers.items()}
    assert {r.status_code for r in answers.values()} <= {401, 404}, {c: r.text for c, r in answers.items()}
    assert 401 in {r.status_code for r in answers.values()}  # the photo is there, for the order's parties


def test_once_settled_the_buyer_rates_the_order_with_one_tap(flow_gateway, shop, escrow):
    """The rating's five buttons show once the order is settled; a tap signs a SatisfactionRating with
    eth_signTypedData_v4 and the gateway keeps it, for the buyer's session and not for anyone."""
    find_chromium()
    http, base, _ = flow_gateway
    buyer = accounts[9]
    order_id = _bought(shop, escrow, buyer, "FLOW-3")
    escrow.requestReturn(order_id, 0, 0, {"from": buyer})
    shop.receive(order_id)
    shop.inspect(order_id, Facts.SEAL_INTACT | Facts.PACKAGING_INTACT, Grade.A)
    assert escrow.order(order_id)["status"] == Status.SETTLED
    unit = f"/01/{GTIN}/21/FLOW-3"

    def settled() -> bool:
        return (http.get(unit, headers={"accept": "application/json"}).json()["returnStatus"] or {}).get(
            "status"
        ) == "settled"

    wait_until(
        settled,
        30,
        "the settlement to be indexed",
        interval=0.1,
    )

    chain.sleep(30 * 24 * 3600)  # the chain's clock a month past the device's: the rating is dated by the chain's
    chain.mine()
    with Chromium() as browser:
        browser.send("Runtime.addBinding", name="rtWallet")
        browser.send("Page.addScriptToEvaluateOnNewDocument", source=PROVIDER)
        assert browser.open(f"{base}/return/{GTIN}/FLOW-3") == 200
        _until(browser, "document.getElementById('return-flow').dataset.ready === '1'", "the flow's script")
        assert browser.evaluate("document.getElementById('rating').hidden") is True  # nobody connected yet
        wallet = Wallet(browser, buyer.address)
        browser.evaluate("document.getElementById('connect').click()")
        wallet.answer("eth_requestAccounts")
        wallet.answer("personal_sign")
        _until(browser, "document.getElementById('rating').hidden === false", "the rating to be offered")
        assert browser.evaluate("document.querySelectorAll('#rating button').length") == 5
        browser.evaluate("document.querySelector('#rating button[data-score=\"5\"]').click()")
        wallet.answer("eth_signTypedData_v4")
        _until(browser, "document.getElementById('rating-status').dataset.state === 'rated'", "the rating to be kept")
        assert "5 of 5" in browser.evaluate("document.getElementById('rating-status').innerText")
        kept = browser.send(
            "Runtime.evaluate",
            expression=f"fetch('/v1/documents/SatisfactionRating?orderId={order_id}').then(r => r.json())",
            awaitPromise=True,
            returnByValue=True,
        )["result"]["value"]  # with the buyer's session cookie

    (typed,) = wallet.signed
    assert typed["primaryType"] == "SatisfactionRating" and typed["domain"]["name"] == "ReturnTrace Documents"
    assert kept["message"] == {**typed["message"], "buyer": buyer.address, "signer": buyer.address}
    assert kept["message"]["score"] == 5 and kept["message"]["orderId"] == order_id
    # Dated by the chain's clock, which the gateway checks it against, not the browser's.
    assert abs(typed["message"]["issuedAt"] - web3.eth.get_block("latest")["timestamp"]) < 60
    assert http.get("/v1/documents/SatisfactionRating", params={"orderId": order_id}).status_code == 401
