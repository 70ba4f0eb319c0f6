"""The demo scenario: a brand sells baby products into the EU, the US and China; four orders go
through delivery, returns, inspection (reports stored as evidence by the gateway), dispute and
graded settlement, each step printed as it happens on-chain; then a scan posted over HTTP to
the gateway, relayed, indexed and verified.

    make demo            # scenario, then keeps the gateway and the chain serving (Ctrl-C to stop)
    make demo SERVE=0    # scenario, then exit 0

Every key here is a public test key derived from a label: local chains only.
"""

from __future__ import annotations

import shutil
import time
import warnings
from dataclasses import replace
from typing import Any

import httpx
from brownie import ZERO_ADDRESS, ERC20Mock, accounts, chain, web3

from api.settings import DemoSettings, SettingsError
from returntrace import customs, gs1, history, siwe
from returntrace.escrow import Facts, Grade, Law, Policy, SettlementPath, UnitDisposition
from returntrace.messages import ZERO32
from returntrace.policies import DAY, MARKET_NAMES
from returntrace.vocab import AggregationAction, BizStep, Disposition
from scripts import deploy
from scripts.builder import Builder, Offer
from scripts.gateway import GatewayProcess, wait_until
from tools import brownie_anvil

STROLLER_GTIN = int(gs1.with_check_digit("0950600013442"))  # not hygiene-sealed
DEMO_SSCC = int(gs1.with_check_digit("09506000000000001"))  # the combined return parcel (AI 00)
USD = 10**6  # the demo stablecoin has 6 decimals
ETHER = 10**18
# The bottle at 0.1 ETH (delivery 0.01, return shipping 0.005), as most orders buy it.
BOTTLE_US = Offer(deploy.MARKET_US, ZERO_ADDRESS, ETHER // 10, ETHER // 100, ETHER // 200)
BOTTLE_EU = replace(BOTTLE_US, market=deploy.MARKET_EU)


class Narrator:
    """Prints each on-chain step with its transaction hash and gas."""

    def __init__(self) -> None:
        self.total_gas = 0

    def chapter(self, title: str) -> None:
        print(f"\n== {title} ==")

    def tx(self, what: str, tx: Any) -> Any:
        self.total_gas += tx.gas_used
        print(f"  {what:<60} tx {tx.txid[:12]}…  block {tx.block_number:>4}  gas {tx.gas_used:>9,}")
        return tx

    def note(self, text: str) -> None:
        print(f"    {text}")


def _days(n: float) -> None:
    chain.sleep(int(n * DAY))
    chain.mine()


def _percent(share: float) -> str:
    return f"{share * 100:.0f} %"


def _money(amount: int, currency: str) -> str:
    return f"{amount / USD:,.2f} tUSD" if currency != ZERO_ADDRESS else f"{amount / ETHER:,.4f} ETH"


class Scenario:
    """The demo's steps, narrated: each built and sent by scripts/builder.py."""

    def __init__(self, d: deploy.Deployment, usd: Any, say: Narrator, gateway: httpx.Client) -> None:
        self.d, self.usd, self.say, self.gateway = d, usd, say, gateway
        self.relayer = accounts[1]
        self.a = d.actors
        self.build = Builder(d, self.relayer, silent=True)
        self.sold: dict[int, tuple[int, str]] = {}  # order -> (gtin, serial)
        # order -> (declaration reference, salt): the brand's, off-chain; only their commitment goes on-chain
        self.declarations: dict[int, tuple[str, bytes]] = {}

    def scan(
        self,
        who: str,
        units: list[bytes],
        step: BizStep,
        disposition: Disposition,
        what: str,
        biz_transaction: bytes = ZERO32,
        evidence: bytes = ZERO32,
    ) -> None:
        events = [
            self.build.event(u, step, who, disposition, bizTransaction=biz_transaction, evidence=evidence)
            for u in units
        ]
        self.say.tx(f"{who:<9} signs {what}", self.build.record(who, events))

    def sell(self, serial: str, offer: Offer, confirms: bool = False) -> int:
        """The brand lists the unit; the buyer pays into escrow, committing to every term of the listing
        (and, where the law asks, confirming the hygiene exception the page showed before purchase)."""
        price, paid = _money(offer.price, offer.currency), _money(offer.price + offer.delivery_fee, offer.currency)
        listed = self.build.list_for_sale(serial, offer)
        self.say.tx(f"brand lists {serial} in {MARKET_NAMES[offer.market]} for {price}", listed)
        tx = self.build.purchase(gs1.unit_id(offer.gtin, serial), confirms=confirms, token=self.usd)
        order = tx.return_value
        self.sold[order] = (offer.gtin, serial)
        confirmed = " (confirms the hygiene exception)" if confirms else ""
        self.say.tx(f"buyer pays {paid} into escrow: order #{order}{confirmed}", tx)
        return order

    def ship_and_deliver(self, order: int, cross_border: bool = True, declaration: str | None = None) -> bytes:
        """Shipping, customs clearance (under the order's reference, or under the salted commitment to
        the customs `declaration` reference: never the reference itself on a public chain), delivery."""
        unit = self.build.unit(order)
        ref = self.build.order_ref(order)
        self.scan("brand", [unit], BizStep.SHIPPING, Disposition.IN_TRANSIT, "shipping from the brand's DC", ref)
        if declaration:
            salt = customs.new_salt()
            self.declarations[order] = (declaration, salt)
            commitment = customs.commitment(declaration, salt)
            self.scan(
                "carrier",
                [unit],
                BizStep.CUSTOMS_CLEARING,
                Disposition.IN_TRANSIT,
                "customs clearance (declaration committed)",
                commitment,
            )
        elif cross_border:
            self.scan("carrier", [unit], BizStep.CUSTOMS_CLEARING, Disposition.IN_TRANSIT, "customs clearance", ref)
        self.scan("carrier", [unit], BizStep.DELIVERING, Disposition.DELIVERED, "delivery to the parent's door", ref)
        return unit

    def declare(self, order: int, regime: str) -> None:
        """The brand records the declaration its carrier's clearance committed to (itself the declarant): the
        gateway accepts it only if its reference and salt open that commitment, and shows them only to the
        brand's side and the declarant."""
        gtin, serial = self.sold[order]
        reference, salt = self.declarations[order]
        body = self.build.document(
            "CustomsDeclaration",
            "brand",
            gtin=gtin,
            serial=serial,
            regime=regime,
            declarationReference=reference,
            salt="0x" + salt.hex(),
            declarant=self.a["brand"].address,
        )
        doc = _post_document(self.gateway, "CustomsDeclaration", body)
        self.say.note(f"the brand records its {regime} declaration with the gateway (off-chain): {doc['id'][:18]}…")

    def order_of(self, serial: str) -> int:
        return next(order for order, (_, sold) in self.sold.items() if sold == serial)

    def rate(self, scores: dict[str, int]) -> None:
        """The buyer's one-tap rating of each settled order (by its unit), signed: only the order's buyer counts."""
        buyer = self.a["buyer"].address
        for serial, score in scores.items():
            order = self.order_of(serial)
            body = self.build.document("SatisfactionRating", "buyer", buyer=buyer, orderId=order, score=score)
            _post_document(self.gateway, "SatisfactionRating", body)
        rated = ", ".join(f"{serial} {score}/5" for serial, score in scores.items())
        self.say.note(f"the buyer rates the settled orders (signed documents): {rated}")

    def analytics_settings(self, baseline: tuple[str, str]) -> None:
        """The brand's signed settings: the orders from the first unit's to before the second's are its
        baseline; residual value rates; the high-return threshold at the brief's 8 %."""
        start, end = (self.d.escrow.order(self.order_of(serial))["purchasedAt"] for serial in baseline)
        rates = {"restockBps": 9_000, "donateBps": 3_000, "recycleBps": 500, "highReturnBps": 800}
        body = self.build.document("ReturnAnalyticsSettings", "brand", baselineFrom=start, baselineTo=end, **rates)
        doc = _post_document(self.gateway, "ReturnAnalyticsSettings", body)
        self.say.note(
            f"the brand signs its analytics settings {doc['id'][:18]}…: baseline the orders of {baseline[0]} up to "
            f"{baseline[1]}'s; residual value restocked 90 %, donated 30 %, recycled 5 %; high returns above 8 %"
        )

    def request_return(self, order: int, reason: int, remedy: int = 0) -> None:
        what = (
            "buyer's signed return request (exchange voucher), relayed"
            if remedy
            else "buyer's signed return request, relayed (no gas)"
        )
        self.say.tx(what, self.build.relay_return_request(order, reason, remedy))

    def send_back(self, order: int, reason: int, remedy: int = 0) -> None:
        unit = self.build.unit(order)
        rma = self.build.rma_ref(order)
        self.request_return(order, reason, remedy)
        self.scan("carrier", [unit], BizStep.ACCEPTING, Disposition.RETURNED, "return pickup", rma)
        _days(2)
        self.scan(
            "warehouse",
            [unit],
            BizStep.RECEIVING,
            Disposition.RETURNED,
            "receiving at the accredited return center",
            rma,
        )

    def evidence(self, text: str) -> bytes:
        """Stores a file in the gateway's evidence store; returns the digest that goes on-chain."""
        stored = self.gateway.post("/v1/evidence", content=text.encode(), headers={"content-type": "text/plain"}).json()
        self.say.note(f"evidence stored as {stored['cid']}")
        return bytes.fromhex(stored["digest"][2:])

    def claim_photo(self, order: int, text: str) -> bytes:
        """The buyer uploads the photo of a defect private to the order (signed in, `?order=`): the claim puts
        its digest on-chain, which names its CID, so public evidence would be anyone's to download. Returns
        the digest."""
        r = self.gateway.post(
            f"/v1/evidence?order={order}",
            content=text.encode(),
            headers={"content-type": "text/plain", **_signed_in(self.gateway, self.a["buyer"])},
        )
        if r.status_code != 201:
            raise SystemExit(f"the gateway refused the buyer's photo: {r.text}")
        self.say.note(f"the buyer's photo stored as {r.json()['cid']}, private to order {order}")
        return bytes.fromhex(r.json()["digest"][2:])

    def aggregate(
        self,
        who: str,
        sscc: int,
        units: list[bytes],
        action: AggregationAction,
        what: str,
        biz_transaction: bytes = ZERO32,
    ) -> None:
        item = self.build.aggregation(sscc, units, action, who, bizTransaction=biz_transaction)
        self.say.tx(f"{who:<9} signs {what}", self.build.aggregate(who, [item]))

    def inspect(self, order: int, facts: int, grade: Grade, who: str = "inspector", diminished: int = 0) -> Any:
        # The inspection report goes to the gateway's evidence store; its CID's digest goes on-chain.
        report = (
            f"Inspection report by {who}, order {order}: facts {facts:04b}, grade {grade.name}, diminished "
            f"value {diminished}. Photos on file.\n"
        ).encode()
        stored = self.gateway.post("/v1/evidence", content=report, headers={"content-type": "text/plain"}).json()
        self.say.note(f"inspection report stored as {stored['cid']}")
        evidence = bytes.fromhex(stored["digest"][2:])
        disposition = Disposition.CONFORMANT if grade == Grade.A else Disposition.NON_CONFORMANT
        self.scan(
            who,
            [self.build.unit(order)],
            BizStep.INSPECTING,
            disposition,
            "inspection scan with photo evidence",
            self.build.rma_ref(order),
            evidence,
        )
        tx = self.build.inspect(order, facts, grade, who, evidence=evidence, diminishedValue=diminished)
        return self.say.tx(f"{who} attests facts {facts:04b} and grade {grade.name}", tx)

    def report_settlement(self, tx: Any) -> None:
        e = tx.events["OrderSettled"]
        s = e["settlement"]
        currency = self.d.escrow.order(e["orderId"])["currency"]
        grade = Grade(e["grade"])
        basis = "consumer law" if s["statutory"] else "policy grade terms" if grade else "no inspection yet"
        fate = (
            f", unit → {UnitDisposition(s['disposition']).name.lower()}"
            if grade
            else ", the unit's inspection decides its fate"
        )
        diminished = f" (diminished value {_money(s['diminished'], currency)} deducted)" if s["diminished"] else ""
        voucher = f", voucher {_money(s['voucher'], currency)} in store points" if s["voucher"] else ""
        self.say.note(
            f"settled ({SettlementPath(e['path']).key}): grade {grade.name}, {basis}; refund "
            f"{_money(s['refund'], currency)}{diminished}{voucher}, "
            f"merchant {_money(s['merchantAmount'], currency)}, points {s['points']:,}{fate}"
        )


def run(d: deploy.Deployment, gateway: httpx.Client) -> Scenario:
    say = Narrator()
    brand, buyer = d.actors["brand"], d.actors["buyer"]
    admin = accounts[0]

    say.chapter("Set-up: contracts, accredited actors, product classes, market policies")
    print(
        f"  TraceRegistry  {d.registry.address}\n  ReturnPolicies {d.policies.address}\n  ReturnEscrow   "
        f"{d.escrow.address}\n"
        f"  ReissueDesk    {d.desk.address}\n  StorePoints    {d.points.address}"
    )
    for name, s in d.actors.items():
        print(f"  {name:<9} {s.address}  GLN {s.gln}")
    say.tx(
        "brand registers the stroller class (markets EU, US) under its GS1 company prefix",
        d.registry.registerProduct(STROLLER_GTIN, 0, 0b011, {"from": brand.account}, silent=True),
    )
    usd = ERC20Mock.deploy("Test USD", "tUSD", 0, {"from": admin}, silent=True)
    say.tx(
        "buyer gets 1,000 tUSD (local stand-in stablecoin)",
        usd.mint(buyer.address, 1_000 * USD, {"from": admin}, silent=True),
    )
    deploy.allow_currency(d, usd, 6, 20 * USD, 500 * USD)
    say.note(
        "the policy admin allows tUSD in the EU, the US and China (defects reissued up to 20 tUSD, two "
        "inspections above 500 tUSD)"
    )
    for market, name in MARKET_NAMES.items():
        law, version = Law.decode(d.policies.law(market), d.policies.abi), d.policies.currentPolicyVersion(market)
        p = Policy.decode(d.policies.policy(market, version), d.policies.abi)
        right = f"{law.withdrawal_days} days to withdraw" if law.withdrawal_days else "no statutory withdrawal"
        say.note(
            f"{name} law: {right}; {name} policy v{version}: returns {p.return_window // DAY} d, grade B refund "
            f"{p.grade_terms(Grade.B).refund_bps / 100:.0f} %, "
            f"refund on return {'yes' if p.refund_on_return else 'no'}, exchange "
            f"{'+' + str(p.exchange_bonus_bps / 100) + ' %' if p.exchange_offered else 'no'}"
        )
    native = d.policies.currency(deploy.MARKET_US, ZERO_ADDRESS)
    say.note(
        f"ETH: defects reissued up to {_money(native['reissueAutoApproveLimit'], ZERO_ADDRESS)}, two inspections "
        f"above {_money(native['dualInspectionAbove'], ZERO_ADDRESS)}"
    )
    say.note(f"deployment manifest: deployments/{chain.id}.json")

    sc = Scenario(d, usd, say, gateway)
    say.chapter("Commissioning: one brand signature covers a batch of units")
    items = [sc.build.commission_item(f"BTL-{i:04d}") for i in range(1, 11)]
    items += [sc.build.commission_item(f"STR-{i:04d}", STROLLER_GTIN) for i in (1, 2)]
    say.tx("brand commissions 10 bottles and 2 strollers", sc.build.commission("brand", items))

    say.chapter("Order 1 — EU, bottle, unopened: statutory withdrawal, grade A")
    o1 = sc.sell("BTL-0001", Offer(deploy.MARKET_EU, usd.address, 24 * USD, 5 * USD, 4 * USD))
    sc.ship_and_deliver(o1)
    _days(5)
    sc.send_back(o1, reason=0)
    sc.report_settlement(sc.inspect(o1, Facts.SEAL_INTACT | Facts.PACKAGING_INTACT, Grade.A))
    say.tx(
        "buyer withdraws the refund (pull payment)",
        d.escrow.withdraw(usd.address, {"from": buyer.account}, silent=True),
    )
    say.note(f"buyer holds {_money(usd.balanceOf(buyer.address), usd.address)}")

    say.chapter("Order 2 — EU, stroller opened but unused: the law overrides grade B terms")
    o2 = sc.sell(
        "STR-0001", Offer(deploy.MARKET_EU, ZERO_ADDRESS, ETHER // 2, ETHER // 50, ETHER // 100, gtin=STROLLER_GTIN)
    )
    sc.ship_and_deliver(o2)
    _days(3)
    sc.send_back(o2, reason=5)
    sc.inspect(o2, Facts.PACKAGING_INTACT, Grade.B)
    sc.report_settlement(
        say.tx("buyer accepts the inspection", d.escrow.acceptInspection(o2, {"from": buyer.account}, silent=True))
    )

    say.chapter("Order 3 — US, bottle used: grade C, the buyer contests, the arbiter decides")
    o3 = sc.sell("BTL-0002", BOTTLE_US)
    sc.ship_and_deliver(o3, cross_border=False)
    _days(10)
    sc.send_back(o3, reason=1)
    sc.inspect(o3, Facts.PACKAGING_INTACT | Facts.USED, Grade.C)
    say.tx("buyer contests the inspection", d.escrow.contest(o3, {"from": buyer.account}, silent=True))
    ruling = sc.evidence(f"Arbiter's ruling, order {o3}: the photos show use; the facts stand.\n")
    sc.report_settlement(
        say.tx(
            "arbiter confirms the facts (grade C follows)",
            d.escrow.resolveDispute(
                o3,
                Facts.PACKAGING_INTACT | Facts.USED,
                0,
                b"facts_confirmed".ljust(32, b"\0"),
                ruling,
                {"from": d.actors["arbiter"].account},
                silent=True,
            ),
        )
    )
    say.note(f"buyer's store points at the brand: {d.points.pointsOf(buyer.address, brand.address, ZERO_ADDRESS):,}")

    say.chapter("Order 4 — CN cross-border, no return: the merchant is paid after the return period")
    o4 = sc.sell("BTL-0003", Offer(deploy.MARKET_CN, usd.address, 30 * USD, 6 * USD, 5 * USD), confirms=True)
    sc.ship_and_deliver(o4)
    closes = d.escrow.returnWindowCloses(o4)
    say.note(
        "7 whole days from the day after delivery, to midnight in China, a weekend or holiday end moved on: "
        f"until {time.strftime('%a %d %b %Y %H:%M UTC', time.gmtime(closes))}"
    )
    chain.sleep(closes - chain.time() + 1)
    chain.mine()
    say.tx(
        "anyone releases the escrow once the return period ended",
        d.escrow.release(o4, {"from": sc.relayer}, silent=True),
    )

    say.chapter("Order 5 — EU, exchange first, refund upon return at a local return center; grade B goes to a charity")
    say.tx("accreditor accredits the warehouse's site as an EU return center", deploy.accredit_return_center(d))
    o5 = sc.sell("BTL-0004", BOTTLE_EU)
    u5 = sc.ship_and_deliver(o5)
    _days(4)
    sc.send_back(o5, reason=5, remedy=1)
    released = say.tx(
        "anyone releases the refund at the accredited center's scan",
        d.escrow.releaseRefundOnReceipt(o5, {"from": sc.relayer}, silent=True),
    )
    sc.report_settlement(released)
    fate = sc.inspect(o5, Facts.PACKAGING_INTACT, Grade.B).events["DispositionDecided"]
    say.note(f"the inspection only decides the unit's fate: {UnitDisposition(fate['disposition']).name.lower()}")
    sc.scan(
        "charity", [u5], BizStep.RECEIVING, Disposition.DONATED, "receipt of the donated bottle (closes its lifecycle)"
    )
    say.note(f"BTL-0004 lifecycle closed on-chain: {d.registry.isClosed(u5)}")

    say.chapter("Order 6 — US, defective bottle: fast reissue on photo evidence, no return shipment")
    o6 = sc.sell("BTL-0005", BOTTLE_US)
    sc.ship_and_deliver(o6, cross_border=False)
    _days(2)
    photo = sc.claim_photo(o6, f"Photo: cracked teat of BTL-0005, order {o6}.\n")
    tx = say.tx("buyer's signed defect claim, relayed", sc.build.claim_defect(o6, photo))
    say.note(f"approved at once: {tx.events['DefectClaimed']['autoApproved']} (price under the policy's limit)")
    say.tx(
        "brand links replacement BTL-0006 to the order",
        d.desk.linkReplacement(o6, deploy.DEMO_GTIN, "BTL-0006", {"from": brand.account}, silent=True),
    )
    u6b = gs1.unit_id(deploy.DEMO_GTIN, "BTL-0006")
    ref = bytes(d.desk.reissueRef(o6))
    sc.scan("brand", [u6b], BizStep.SHIPPING, Disposition.IN_TRANSIT, "shipping the replacement", ref)
    sc.scan("carrier", [u6b], BizStep.DELIVERING, Disposition.DELIVERED, "delivery of the replacement", ref)
    say.tx(
        "anyone completes the reissue: the merchant is paid",
        d.desk.completeReissue(o6, {"from": sc.relayer}, silent=True),
    )

    say.chapter("Order 7 — US, high-value stroller used: two independent inspections, then a recycler")
    o7 = sc.sell(
        "STR-0002", Offer(deploy.MARKET_US, ZERO_ADDRESS, 6 * ETHER, ETHER // 20, ETHER // 50, gtin=STROLLER_GTIN)
    )
    u7 = sc.ship_and_deliver(o7, cross_border=False)
    _days(6)
    sc.send_back(o7, reason=5)
    sc.inspect(o7, Facts.USED, Grade.C)
    say.note(f"above {_money(native['dualInspectionAbove'], ZERO_ADDRESS)}: a second inspection house must agree")
    sc.inspect(o7, Facts.USED, Grade.C, who="inspector2")
    sc.report_settlement(
        say.tx("buyer accepts the agreed grade", d.escrow.acceptInspection(o7, {"from": buyer.account}, silent=True))
    )
    sc.scan("recycler", [u7], BizStep.RECEIVING, Disposition.RECYCLED, "receipt for recycling (closes its lifecycle)")

    say.chapter("Orders 8 and 9 — US, two orders, one return parcel (SSCC): one scan covers both")
    o8 = sc.sell("BTL-0007", BOTTLE_US)
    o9 = sc.sell("BTL-0008", BOTTLE_US)
    u8 = sc.ship_and_deliver(o8, cross_border=False)
    # BTL-0008 leaves the EU under an export declaration: its re-import may claim returned goods relief.
    u9 = sc.ship_and_deliver(o9, declaration="26DE4711000000001A")
    _days(3)
    sc.request_return(o8, reason=5)
    sc.request_return(o9, reason=5)
    sc.aggregate(
        "carrier", DEMO_SSCC, [u8, u9], AggregationAction.ADD, f"packing both into parcel {DEMO_SSCC:018d} at pickup"
    )
    parcel = gs1.parcel_id(DEMO_SSCC)
    sc.scan("carrier", [parcel], BizStep.DEPARTING, Disposition.IN_TRANSIT, "one departure scan of the parcel")
    _days(2)
    sc.scan("carrier", [parcel], BizStep.ARRIVING, Disposition.IN_TRANSIT, "one arrival scan at the return center")
    sc.aggregate("warehouse", DEMO_SSCC, [u8, u9], AggregationAction.DELETE, "unpacking the parcel")
    session = [
        sc.build.event(u, BizStep.RECEIVING, "warehouse", Disposition.RETURNED, bizTransaction=sc.build.rma_ref(o))
        for u, o in ((u8, o8), (u9, o9))
    ]
    say.tx("warehouse signs one receiving session for both RMAs", sc.build.record("warehouse", session))
    for o in (o8, o9):
        sc.report_settlement(sc.inspect(o, Facts.SEAL_INTACT | Facts.PACKAGING_INTACT, Grade.A))

    say.chapter("Order 10 — EU, the return parcel is lost: the carrier's pickup proves the dispatch")
    o10 = sc.sell("BTL-0009", BOTTLE_EU)
    u10 = sc.ship_and_deliver(o10)
    _days(2)
    sc.request_return(o10, reason=0)
    sc.scan(
        "carrier",
        [u10],
        BizStep.ACCEPTING,
        Disposition.RETURNED,
        "return pickup at the parent's door (proof of dispatch)",
        sc.build.rma_ref(o10),
    )
    policy = Policy.decode(d.policies.policy(deploy.MARKET_EU, d.escrow.order(o10)["policyVersion"]), d.policies.abi)
    _days((policy.delivery_timeout + policy.max_relay_delay) / DAY + 1)
    say.note(
        "the parcel never reaches the warehouse; the merchant cannot be paid for a unit sent back "
        "(releaseUnreturned refuses)"
    )
    sc.report_settlement(
        say.tx(
            "buyer claims the refund of a return dispatched and never received",
            d.escrow.claimDispatchedRefund(o10, {"from": buyer.account}, silent=True),
        )
    )

    say.chapter("The brand's own stock: a unit damaged in its warehouse is taken out of circulation")
    gone = sc.build.decommission_item("BTL-0010", disposition=Disposition.DESTROYED)
    say.tx(
        "brand decommissions BTL-0010 (unsold, never ordered: its stock only)", sc.build.decommission("brand", [gone])
    )

    say.chapter("Money: pull payments, and the escrow holds exactly what it owes")
    for currency in (usd.address, ZERO_ADDRESS):
        owed_brand = d.escrow.credits(currency, brand.address)
        if owed_brand:
            say.tx(
                f"brand withdraws {_money(owed_brand, currency)}",
                d.escrow.withdraw(currency, {"from": brand.account}, silent=True),
            )
        owed_buyer = d.escrow.credits(currency, buyer.address)
        if owed_buyer:
            say.tx(
                f"buyer withdraws {_money(owed_buyer, currency)}",
                d.escrow.withdraw(currency, {"from": buyer.account}, silent=True),
            )
    native = web3.eth.get_balance(d.escrow.address)
    assert native == d.escrow.totalOwed(ZERO_ADDRESS) and usd.balanceOf(d.escrow) == d.escrow.totalOwed(usd)
    say.note(f"escrow balance {_money(native, ZERO_ADDRESS)} / {_money(usd.balanceOf(d.escrow), usd.address)} == owed")

    say.chapter("Audit: every unit's history rebuilt from logs alone, checked against its on-chain head")
    registry = web3.eth.contract(address=d.registry.address, abi=d.registry.abi)
    audited = [(deploy.DEMO_GTIN, f"BTL-{i:04d}") for i in range(1, 11)] + [
        (STROLLER_GTIN, "STR-0001"),
        (STROLLER_GTIN, "STR-0002"),
    ]
    for gtin, serial in audited:
        h = history.fetch(registry, gs1.unit_id(gtin, serial), from_block=d.block)
        via = {id(e) for e in h.via_parcel}
        # The parcel's own scans while the unit was packed are part of its history, checked against the parcel's head.
        steps = " → ".join(
            BizStep(e.biz_step).name.lower() + (" (via parcel)" if id(e) in via else "") for e in h.timeline()
        )
        parcels = f" and {len(h.parcels)} parcel chain(s)" if h.parcels else ""
        say.note(
            f"{serial}: {h.count} events{parcels}, {'VERIFIED' if h.verified else 'NOT VERIFIED'} at block "
            f"{h.block}: {steps}"
        )
        if not h.verified:
            raise SystemExit(f"history of {serial} does not match its on-chain head")
    print(f"\nScenario done: {say.total_gas:,} gas in all.")
    return sc


def through_the_gateway(d: deploy.Deployment, say: Narrator, gateway: GatewayProcess) -> str:
    """A carrier's scan posted over HTTP, relayed, confirmed and shown on the consumer page."""
    say.chapter("The gateway: a signed scan over HTTP, relayed, indexed and verified")
    http = httpx.Client(base_url=gateway.url, timeout=10)
    # The grade-A bottle goes back on the shelf: the return center's restocking scan.
    warehouse = d.actors["warehouse"]
    unit = gs1.unit_id(deploy.DEMO_GTIN, "BTL-0001")
    nonce = http.get(f"/v1/signers/{warehouse.address}/nonce", params={"kind": "EventBatch"}).json()["nextNonce"]
    build = Builder(d)
    event = build.event(unit, BizStep.STORING, "warehouse", Disposition.SELLABLE_ACCESSIBLE)
    r = http.post("/v1/events", json=build.batch("EventBatch", warehouse, [event], nonce=nonce).body)
    say.note(f"POST /v1/events → {r.status_code} id {r.json()['id'][:18]}… ({r.json()['status']})")
    state = wait_until(
        lambda: (s := http.get(f"/v1/messages/{r.json()['id']}").json())["status"] in ("confirmed", "failed") and s,
        30,
        "confirmation",
    )
    say.note(f"relayed in tx {state['txHash'][:14]}… block {state['block']}: {state['status']}")
    wait_until(
        lambda: http.get("/readyz").json().get("indexer", {}).get("lagBlocks") == 0, 30, "the indexer to catch up"
    )
    link = f"{gateway.url}/01/{deploy.DEMO_GTIN:014d}/21/BTL-0001"
    view = http.get(link, headers={"accept": "application/json"}).json()
    verification = view["verification"]
    say.note(
        f"consumer page data: {len(view['timeline'])} events, verified={verification['verified']} at block "
        f"{verification['block']}"
    )
    if not verification["verified"]:
        raise SystemExit(f"the gateway could not verify BTL-0001: {verification['reason']}")
    show_return_options(http, gateway.url)
    publish_names(d, say, http)
    return link


# Who the demo's organisations are (the accreditor records each name with its GLN) and what the brand
# says of its products (signed ProductInfo): the pages show these names, each with its proof.
ORGANISATIONS = {
    "brand": ("Kinderhaus GmbH", "DE"),
    "carrier": ("Blitz Logistik AG", "DE"),
    "warehouse": ("Retourenzentrum Nord GmbH", "DE"),
    "inspector": ("PrüfWerk Inspektionen GmbH", "DE"),
    "inspector2": ("Second Look Inspections Ltd", "IE"),
    "charity": ("Kinderhilfe Hamburg e.V.", "DE"),
    "recycler": ("GreenCycle Recycling B.V.", "NL"),
}
BOTTLE_NAMES = {
    "en": "Anti-colic baby bottle 260 ml",
    "de": "Anti-Kolik-Babyflasche 260 ml",
    "fr": "Biberon anti-colique 260 ml",
    "es": "Biberón anticólico 260 ml",
    "zh-Hans": "防胀气婴儿奶瓶 260 毫升",
}
BOTTLE_INSTRUCTIONS = {
    "en": "Before first use, boil all parts for 5 minutes. Check the teat before every feed; replace it at the first "
    "sign of damage. Never leave a child alone while feeding.",
    "de": "Vor dem ersten Gebrauch alle Teile 5 Minuten auskochen. Den Sauger vor jeder Mahlzeit prüfen und beim "
    "ersten Anzeichen von Schäden ersetzen. Ein Kind beim Trinken nie allein lassen.",
    "fr": "Avant la première utilisation, faire bouillir toutes les pièces pendant 5 minutes. Vérifier la tétine avant "
    "chaque repas et la remplacer au premier signe d'usure. Ne jamais laisser un enfant seul pendant le repas.",
    "es": "Antes del primer uso, hierva todas las piezas durante 5 minutos. Revise la tetina antes de cada toma y "
    "sustitúyala al primer signo de daño. No deje nunca solo a un niño mientras come.",
    "zh-Hans": "首次使用前，请将所有部件煮沸 5 分钟。每次喂奶前检查奶嘴，一旦发现损坏立即更换。喂奶时切勿让儿童独处。",
}
# A 1×1 PNG stands in for the product photo (the evidence store checks the file is what it claims).
PHOTO = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)


def _post_document(http: httpx.Client, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    r = http.post(f"/v1/documents/{kind}", json=body)
    if r.status_code not in (200, 201):
        raise SystemExit(f"the gateway refused a {kind}: {r.text}")
    return r.json()


def _evidence(http: httpx.Client, content: bytes, content_type: str) -> str:
    r = http.post("/v1/evidence", content=content, headers={"Content-Type": content_type})
    if r.status_code not in (200, 201):
        raise SystemExit(f"the gateway refused an evidence file: {r.text}")
    return str(r.json()["cid"])


def publish_names(d: deploy.Deployment, say: Narrator, http: httpx.Client) -> None:
    """The accreditor names its organisations and the brand signs its products' information."""
    say.chapter("Names: the accreditor names the organisations, the brand signs its product information")
    build = Builder(d)
    accreditor = deploy.test_signer("accreditor", 0, "950600000000")  # the demo accreditor's key (deploy.governance)
    for actor, (name, country) in ORGANISATIONS.items():
        gln = d.actors[actor].gln
        doc = _post_document(
            http,
            "OrganizationName",
            build.document("OrganizationName", accreditor, organization=gln, name=name, country=country),
        )
        say.note(f"GLN {gln} is {name!r} (signed by the accreditor, checked at block {doc['checkedAt']['number']})")
    photo = _evidence(http, PHOTO, "image/png")
    manuals = [
        {"lang": lang, "cid": _evidence(http, text.encode(), "text/plain")}
        for lang, text in BOTTLE_INSTRUCTIONS.items()
    ]
    bottle = _post_document(
        http,
        "ProductInfo",
        build.document(
            "ProductInfo",
            "brand",
            gtin=deploy.DEMO_GTIN,
            names=[{"lang": lang, "text": text} for lang, text in BOTTLE_NAMES.items()],
            image=photo,
            size="260 ml",
            material="Polypropylene bottle, silicone teat (BPA-free)",
            ageFromMonths=0,
            ageToMonths=36,
            instructions=manuals,
            video="https://video.example/kinderhaus/anti-colic-bottle",
        ),
    )
    say.note(
        f"the brand signs the bottle's information in {len(BOTTLE_NAMES)} languages: document {bottle['id'][:18]}…"
    )
    stroller = _post_document(
        http,
        "ProductInfo",
        build.document(
            "ProductInfo",
            "brand",
            gtin=STROLLER_GTIN,
            names=[{"lang": "en", "text": "City stroller"}, {"lang": "de", "text": "Stadt-Kinderwagen"}],
            image=photo,
            size="86 × 56 × 104 cm, 7.9 kg",
            material="Aluminium frame, polyester canopy",
            ageFromMonths=6,
            ageToMonths=48,
            instructions=manuals[:2],
            video="",
        ),
    )
    say.note(f"and the stroller's (English and German names): document {stroller['id'][:18]}…")


def show_return_options(http: httpx.Client, base: str) -> None:
    """What the consumer pages say of each return option, each page proved against the chain."""

    def page(path: str) -> dict:
        view = http.get(path, headers={"accept": "application/json"}).json()
        if not view["verification"]["verified"]:
            raise SystemExit(f"the gateway could not verify {path}: {view['verification']['reason']}")
        return view

    bottle, stroller = f"/01/{deploy.DEMO_GTIN:014d}/21", f"/01/{STROLLER_GTIN:014d}/21"
    v = page(f"{bottle}/BTL-0004")
    rs = v["return_status"]
    print(
        f"    BTL-0004: remedy {rs['remedy']}, refund released on receipt at GLN "
        f"{rs['refund_on_receipt']['location']}, then {v['fate']['kind']} to GLN {v['fate']['organization']}; "
        f"lifecycle closed: {v['closed']}"
    )
    v = page(f"{bottle}/BTL-0005")
    print(
        f"    BTL-0005: replaced by {v['return_status']['reissue']['replacement']['serial']} (link checked "
        f"on-chain: {v['return_status']['reissue']['verified']})"
    )
    v = page(f"{bottle}/BTL-0006")
    print(
        f"    BTL-0006: replacement for {v['replacement_for']['original']['serial']} (checked on-chain: "
        f"{v['replacement_for']['verified']})"
    )
    v = page(f"{stroller}/STR-0002")
    print(
        "    STR-0002: second opinion after inspection house GLN "
        f"{v['return_status']['second_inspection']['firstOrganization']}, then {v['fate']['kind']} by GLN "
        f"{v['fate']['organization']}"
    )
    v = page(f"{bottle}/BTL-0007")
    via = sum(1 for e in v["timeline"] if e["via_parcel"])
    print(f"    BTL-0007: {len(v['timeline'])} events, {via} of them scans of its parcel")
    v = page(f"/00/{DEMO_SSCC:018d}")
    print(
        f"    parcel {DEMO_SSCC:018d}: {len(v['timeline'])} events verified; contents proved on-chain: "
        f"{v['contents_verified']} ({v['onchain_size']} units now)"
    )


def _signed_in(http: httpx.Client, signer: deploy.Signer) -> dict[str, str]:
    """The header of `signer`'s Sign-In with Ethereum session, as the dashboard's sign-in opens one."""
    r = siwe.sign_in(http, signer.address, signer.key)
    if r.status_code != 200:
        raise SystemExit(f"the gateway refused {signer.name}'s sign-in: {r.text}")
    return siwe.bearer(r.json()["token"])


def _read(http: httpx.Client, path: str, **kw: Any) -> dict[str, Any]:
    r = http.get(path, **kw)
    if r.status_code != 200:
        raise SystemExit(f"the gateway could not answer {path}: {r.status_code} {r.text}")
    return dict(r.json())


def show_the_desk(sc: Scenario) -> dict[str, str]:
    """What the operators' desk shows of the scenario: the customs evidence of the declared unit, the brand's
    return analytics, a return-protection quote. Answers the paths it read, for "Where to look"."""
    sc.say.chapter("The desk: customs evidence, the brand's return analytics, a return-protection quote")
    # Signed now, not as the scenario goes: the gateway caches the chain's time for a second, and a document
    # dated just after one of the scenario's jumps of days would be refused as issued in the future.
    ((order, (reference, salt)),) = sc.declarations.items()
    sc.declare(order, "EU-UCC-203")
    sc.rate({"BTL-0001": 5, "STR-0001": 4, "BTL-0002": 2, "BTL-0004": 5, "BTL-0005": 5, "BTL-0008": 5})
    sc.analytics_settings(("BTL-0001", "BTL-0005"))  # orders 1 to 5: the brand's first weeks
    http = sc.gateway
    brand = _signed_in(http, sc.a["brand"])  # the brand is its own declarant
    gtin, serial = sc.sold[order]
    customs_path = f"/01/{gtin:014d}/21/{serial}/customs-evidence"
    e = _read(http, customs_path, headers=brand)
    (limit,) = e["limits"]
    declared = e["clearance"]["declaration"] or {}
    checks = {
        "the unit's history verified": e["proofs"]["unit"]["verified"],
        "the limit met": limit["met"],
        "the brand reads its reference": declared.get("reference") == reference,
        "the reference and salt open the on-chain commitment": customs.opens(
            e["clearance"]["commitment"], reference, salt
        ),
    }
    if not all(checks.values()):
        raise SystemExit(f"the customs evidence of {serial} fails: {[k for k, ok in checks.items() if not ok]}")
    if http.get(customs_path, params={"format": "html"}).status_code != 200:
        raise SystemExit(f"the gateway could not print the customs evidence of {serial}")
    sc.say.note(
        f"{serial}: customs evidence under {e['regime']['code']}: back {(limit['at'] - limit['from']) // DAY} days "
        f"after the export, limit {(limit['deadline'] - limit['from']) // DAY:,} days (met); inspected grade "
        f"{e['inspection']['grade']}; its history verified, the brand's reference opens the on-chain commitment"
    )

    f = _read(http, "/v1/analytics", headers=brand)
    rate, happy = f["returnRate"], f["satisfaction"]
    if not f["index"]["verified"] or not happy["rated"]:
        raise SystemExit(f"the brand's analytics are not proved or lack the ratings: {f['index']}, {happy}")
    sc.say.note(
        f"the brand's analytics: {f['orders']} orders, {f['returns']} returns, return rate {_percent(rate['rate'])} "
        f"(target below {_percent(rate['target'])}: {'met' if rate['met'] else 'not met'}), satisfaction "
        f"{_percent(happy['share'])} of {happy['rated']} rated (target above {_percent(happy['target'])}: "
        f"{'met' if happy['met'] else 'not met'}); index verified at block {f['index']['block']}"
    )

    # The bottle as order 4 sold it in China: the merchant's premium and, lawful there, the buyer's cover.
    price = 30 * USD
    query = {"gtin": f"{deploy.DEMO_GTIN:014d}", "market": "CN", "price": str(price), "currency": sc.usd.address}
    quote_path = str(httpx.URL("/v1/insurance/quote", params=query))
    q = _read(http, quote_path)
    premiums = ", ".join(f"for the {x['for']} {_money(int(x['premium']), sc.usd.address)}" for x in q["quotes"])
    sc.say.note(f"return protection, the bottle in China at {_money(price, sc.usd.address)}: premium {premiums}")
    return {"customs": customs_path, "quote": quote_path}


def start_gateway(d: deploy.Deployment, port: int) -> GatewayProcess:
    relayer = deploy.test_signer("gateway-relayer", 0, "950600000010")
    accounts[0].transfer(relayer.account, "100 ether", silent=True)
    folder = deploy.ROOT / "data" / "demo"
    if folder.exists():
        shutil.rmtree(folder)  # a fresh chain needs a fresh gateway database
    folder.mkdir(parents=True)
    env = {
        "RT_RPC_URL": web3.provider.endpoint_uri,
        "RT_MANIFEST": str(deploy.DEPLOYMENTS / f"{chain.id}.json"),
        "RT_DATABASE": str(folder / "gateway.sqlite3"),
        "RT_EVIDENCE_DIR": str(folder / "evidence"),
        "RT_RELAYER_KEY": "0x" + relayer.key.hex(),
        "RT_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    return GatewayProcess(env, folder / "gateway.log", port=port).start()


def where_to_look(sc: Scenario, base: str, link: str, desk: dict[str, str]) -> str:
    """The pages and commands to open after the demo: a label (a longer one carries on below it), a value."""
    unit, brand = f"{base}/01/{deploy.DEMO_GTIN:014d}/21", sc.a["brand"]
    rpc, manifest = web3.provider.endpoint_uri, f"deployments/{chain.id}.json"
    rows = [
        ("consumer page (the QR code's URL)", link),
        ("in German, Chinese, … (or by the", f"{link}?lang=de  {link}?lang=zh"),
        ("  browser's Accept-Language)", ""),
        ("the product's return policy", f"{base}/01/{deploy.DEMO_GTIN:014d}"),
        ("its QR code", f"{link}/qr.svg"),
        ("return flow: request, rating", f"{base}/return/{deploy.DEMO_GTIN:014d}/BTL-0001"),
        ("exchange, refund on receipt,", f"{unit}/BTL-0004"),
        ("  then donated", ""),
        ("defect reissued: original", f"{unit}/BTL-0005"),
        ("                 replacement", f"{unit}/BTL-0006"),
        ("two inspections, then recycled", f"{base}/01/{STROLLER_GTIN:014d}/21/STR-0002"),
        ("lost return, proof of dispatch", f"{unit}/BTL-0009"),
        ("the brand's decommissioned stock", f"{unit}/BTL-0010"),
        ("combined return: the parcel", f"{base}/00/{DEMO_SSCC:018d}"),
        ("                 a unit in it", f"{unit}/BTL-0007"),
        ("the same as JSON", f"curl -H 'Accept: application/json' {link}"),
        ("EIP-712 types to sign", f"{base}/v1/eip712"),
        ("inspection station (a tablet)", f"{base}/station"),
        ("brand's dashboard", f"{base}/desk/analytics"),
        ("  sign in as the brand", brand.address),
        ("  its key (a public test key,", "0x" + brand.key.hex()),
        ("    local chains only)", ""),
        ("  analytics JSON, CSV", f"{base}/v1/analytics  {base}/v1/analytics/return-rates?format=csv"),
        ("    (a sign-in's Bearer token)", ""),
        ("return-protection quote", base + desk["quote"]),
        ("customs evidence (JSON, printable)", f"{base}{desk['customs']}  {base}{desk['customs']}?format=html"),
        ("  declaration reference shown to", "the brand signed in (its own declarant)"),
        ("auditor: events", f"{base}/v1/audit/events"),
        ("         EPCIS", f"{base}/v1/audit/epcis"),
        ("         integrity", f"{base}/v1/audit/integrity"),
        ("API docs", f"{base}/docs"),
        ("readiness", f"{base}/readyz"),
        ("chain", f"{rpc} (chain id {chain.id}), manifest {manifest}"),
        ("auditor CLI, no gateway needed", f".venv/bin/returntrace audit --rpc {rpc} --manifest {manifest} integrity"),
        ("operators' CLI (docs/operators.md)", f"export RETURNTRACE_GATEWAY={base}"),
        ("", ".venv/bin/returntrace keys import NAME --key-file -"),
        ("", ".venv/bin/returntrace scan FILE --key NAME --step receiving …"),
        ("", ".venv/bin/returntrace inspect GTIN SERIAL --key NAME;  … status GTIN SERIAL"),
        ("gateway log", "data/demo/gateway.log"),
    ]
    return "\nWhere to look\n" + "\n".join(f"  {label:<34} {value}".rstrip() for label, value in rows)


def main() -> None:
    # brownie's own rpc calls raise FutureWarnings about its internals; they are not ours to fix.
    warnings.filterwarnings("ignore", category=FutureWarning)
    brownie_anvil.patch()  # brownie on anvil: no false "Tx dropped without known replacement"
    try:
        settings = DemoSettings.from_env()
    except SettingsError as exc:  # a bad RT_PORT or RT_SERVE stops the demo before it deploys
        raise SystemExit(str(exc)) from None
    d = deploy.deploy_demo_world(accounts[0])
    deploy.write_manifest(d)
    gateway = start_gateway(d, settings.port)
    try:
        http = httpx.Client(base_url=gateway.url, timeout=10)
        sc = run(d, http)
        link = through_the_gateway(d, sc.say, gateway)
        desk = show_the_desk(sc)
        print(where_to_look(sc, gateway.url, link, desk))
        if settings.serve:
            print("\nServing; Ctrl-C to stop.")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    finally:
        gateway.stop()
