"""Gas figures: lifecycle events in batches of 1, 10 and 100, on new units (commissioning) and on
existing units; parcels (packing and unpacking per unit, one scan of a whole parcel), a brand's
decommissioning and a partner's closing scan; the escrow's operations on every return path.

    make bench          # starts anvil, deploys fresh contracts, prints the tables, writes docs/benchmarks/gas.md

Per-event figures divide the whole transaction's gas (21,000 base and calldata included) by the
number of events in it. Each figure stands beside the same operation's gas under the contracts
before issue 9 (`V1`): gas is deterministic for the same inputs, so those figures are constants
measured once by this bench at commit a82d895; "new" marks an operation that did not exist.
"""

from __future__ import annotations

from typing import Any

from brownie import (
    ZERO_ADDRESS,
    BuyerClaims,
    ERC20Mock,
    ReturnClock,
    ReturnInspection,
    ReturnSettlement,
    UnitCustody,
    accounts,
    chain,
    web3,
)

from bench.page import DOCS, Page
from returntrace import gs1
from returntrace.escrow import Facts, Grade, Remedy, ReturnReason
from returntrace.vocab import AggregationAction, BizStep, Disposition, Role
from scripts import deploy
from scripts.builder import Builder, Offer
from tools import brownie_anvil

BATCHES = (1, 10, 100)
TYPICAL_SUPPLY_CHAIN_UPDATE = 124_000  # a string-storing open-source supply-chain contract (DESIGN.md)
PAGE = DOCS / "gas.md"
SEALED = Facts.SEAL_INTACT | Facts.PACKAGING_INTACT
EXCHANGE, WITHDRAWAL, NO_LONGER_NEEDED = Remedy.EXCHANGE, ReturnReason.WITHDRAWAL, ReturnReason.NO_LONGER_NEEDED

# `make bench` at commit a82d895 (contracts before issue 9), per event or per operation.
V1 = {
    "new_1": 93_689,
    "new_10": 38_282,
    "new_100": 34_469,
    "existing_session_1": 69_775,
    "existing_session_10": 16_349,
    "existing_session_100": 12_715,
    "existing_single_1": 69_775,
    "existing_single_10": 48_070,
    "existing_single_100": 22_341,
    "pack_1": 147_529,
    "pack_10": 42_606,
    "pack_100": 33_823,
    "parcel_scan_1": 52_675,
    "parcel_scan_10": 5_268,
    "parcel_scan_100": 526,
    "unpack_1": 72_153,
    "unpack_10": 15_886,
    "unpack_100": 11_319,
    "partner_close_1": 71_966,
    "list_native coin": 113_989,
    "list_ERC-20": 116_852,
    "purchase_native coin": 179_201,
    "purchase_ERC-20": 180_229,
    "deliver": 75_960,
    "request": 48_542,
    "receive": 76_227,
    "inspect_settle_A_native coin": 112_618,
    "inspect_ERC-20": 85_653,
    "accept_ERC-20": 72_164,
    "withdraw_native coin": 33_217,
    "withdraw_ERC-20": 45_624,
    "request_exchange": 50_706,
    "refund_on_receipt": 78_935,
    "inspect_disposition": 68_280,
    "inspect_first_of_two": 104_266,
    "inspect_second_settle_A": 93_439,
    "claim_defect_auto": 75_380,
    "link_replacement": 107_099,
    "complete_reissue": 55_668,
}


class Report(Page):
    """Prints each table as it is measured and keeps it for the benchmark page."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, int] = {}

    def table(self, title: str, per: str) -> None:
        self.out(f"\n### {title}\n")
        self.out(f"| {'what':<62} | {'batch':>5} | {per:>9} | {'before':>9} | {'change':>7} |")
        self.out(f"|{'-' * 64}|{'-' * 7}|{'-' * 11}|{'-' * 11}|{'-' * 9}|")

    def row(self, key: str, label: str, gas: int, n: int = 1) -> int:
        value = gas // n
        self.figures[key] = value
        old = V1.get(key)
        before, change = (f"{old:,}", f"{(value - old) * 100 / old:+.1f} %") if old else ("new", "")
        self.out(f"| {label:<62} | {n:>5} | {value:>9,} | {before:>9} | {change:>7} |")
        return value

    def op(self, key: str, label: str, tx: Any) -> int:
        return self.row(key, label, tx.gas_used)

    def write_page(self) -> None:
        head = [
            "# Gas figures",
            "",
            "Written by `make bench` (`bench/gas.py`): fresh contracts on anvil (cancun, optimizer 200 runs, IR",
            "pipeline). Whole-transaction gas, 21,000 base and calldata included, divided by the events in it.",
            "`before` is the same operation under the contracts before issue 9 (commit a82d895); gas is",
            "deterministic for the same inputs, so the comparison is exact.",
        ]
        self.write(PAGE, head)


def registry_figures(d: deploy.Deployment, r: Report) -> None:
    b = Builder(d, accounts[1], silent=True)
    serial = 0
    r.table("TraceRegistry: gas per lifecycle event", "per event")
    for n in BATCHES:
        items = [b.commission_item(f"BENCH{serial + i:06d}") for i in range(n)]
        serial += n
        units = [b.unit_of(c) for c in items]
        tx = b.commission("brand", items)
        r.row(f"new_{n}", "new units: brand commissions, one signature", tx.gas_used, n)

        tx = b.record("carrier", [b.event(u, BizStep.DEPARTING, "carrier", Disposition.IN_TRANSIT) for u in units])
        r.row(f"existing_session_{n}", "existing units: one signed scanning session", tx.gas_used, n)

        # Every event signed on its own (many scanners posting single scans to the gateway): a signer's
        # later messages take the nonces after its earlier ones (the builder counts them).
        batches = []
        for i, unit in enumerate(units):
            s = d.extra_signers[i % len(d.extra_signers)]
            step = BizStep.ARRIVING if s.roles & Role.CARRIER else BizStep.STORING
            batches.append(b.batch("EventBatch", s, [b.event(unit, step, s)]).args)
        tx = d.registry.record(batches, {"from": b.relayer}, silent=True)
        r.row(
            f"existing_single_{n}",
            f"existing units: each event signed alone ({min(n, len(d.extra_signers))} signers)",
            tx.gas_used,
            n,
        )
    r.out(
        f"\nFor scale: a typical string-storing supply-chain contract spends ~{TYPICAL_SUPPLY_CHAIN_UPDATE:,} gas "
        "per update."
    )


def parcel_figures(d: deploy.Deployment, r: Report) -> None:
    """Units packed into SSCC parcels of 1, 10 and 100 (per unit packed), one carrier scan of each
    parcel (per unit it covers), unpacking (per unit), and the brand's decommissioning of its stock."""
    b = Builder(d, accounts[1], silent=True)
    r.table("TraceRegistry: parcels (SSCC aggregation) and closings", "per unit")
    for k, n in enumerate(BATCHES):
        items = [b.commission_item(f"PARCEL{k}-{i:04d}") for i in range(n)]
        b.commission("brand", items)
        units = [b.unit_of(c) for c in items]
        sscc = int(gs1.with_check_digit(f"39506000{k + 1:09d}"))
        tx = b.aggregate("warehouse", [b.aggregation(sscc, units, AggregationAction.ADD, "warehouse")])
        r.row(f"pack_{n}", "pack units into a new parcel (ADD)", tx.gas_used, n)
        tx = b.record("carrier", [b.event(gs1.parcel_id(sscc), BizStep.DEPARTING, "carrier", Disposition.IN_TRANSIT)])
        r.row(f"parcel_scan_{n}", "one carrier scan of the parcel, per unit in it", tx.gas_used, n)
        tx = b.aggregate("warehouse", [b.aggregation(sscc, units, AggregationAction.DELETE, "warehouse")])
        r.row(f"unpack_{n}", "unpack units from the parcel (DELETE)", tx.gas_used, n)
        if n == BATCHES[-1]:

            def retire(batch: list[dict]) -> Any:
                return b.decommission(
                    "brand", [b.decommission_item(c["serial"], disposition=Disposition.DESTROYED) for c in batch]
                )

            tx = retire(items[:1])
            r.row("decommission_1", "brand decommissions a unit of its stock (closes it)", tx.gas_used, 1)
            tx = retire(items[1:])
            r.row("decommission_99", "brand decommissions its stock, one signature", tx.gas_used, len(items) - 1)


INSPECTION_EVIDENCE = b"\x01" * 32


class Orders(Builder):
    """The bench's orders: scripts/builder.py, quiet, with the bench's fees and inspection evidence."""

    def __init__(self, d: deploy.Deployment) -> None:
        super().__init__(d, accounts[1], silent=True)
        self.buyer = d.actors["buyer"]

    def delivered(self, serial: str, price: int, market: int = deploy.MARKET_EU) -> tuple[int, bytes]:
        """Commissioned, listed in the native coin, bought and delivered: (order, unit)."""
        unit, _ = self.list_unit(serial, Offer(market, ZERO_ADDRESS, price, delivery_fee=10**15, return_fee=10**15))
        order = self.purchase(unit).return_value
        self.deliver(order)
        return order, unit

    def inspected(self, order: int, facts: int, grade: Grade, who: str = "inspector") -> Any:
        return self.inspect(order, facts, grade, who, evidence=INSPECTION_EVIDENCE)


def split_figures(d: deploy.Deployment, r: Report, what: str, tx: Any) -> None:
    """Where a settlement's gas goes across the contracts issue 9 split the escrow into: each call
    from the escrow (or its libraries) into ReturnPolicies, a library, the registry or StorePoints,
    with the gas used inside it (anvil's `trace_transaction`). What the split itself adds is the
    crossing: a cold account access (2,600 gas) for each contract touched first, 100 for each later
    call, and the ABI copies of arguments and results; the work inside (storage reads of the law and
    the policy, the arithmetic) would be paid inline as well."""
    names = {
        c.address.lower(): type_name
        for type_name, c in (
            ("ReturnPolicies", d.policies),
            ("TraceRegistry", d.registry),
            ("StorePoints", d.points),
            ("ReturnEscrow", d.escrow),
        )
    }
    for library in (ReturnClock, ReturnSettlement, ReturnInspection, BuyerClaims, UnitCustody):
        names[library[-1].address.lower()] = library._name
    traces = web3.provider.make_request("trace_transaction", [tx.txid])["result"]
    used = {tuple(t["traceAddress"]): int(t["result"]["gasUsed"], 16) for t in traces if t.get("result")}
    calls: dict[str, list[int]] = {}
    for t in traces:
        path = tuple(t["traceAddress"])
        if not path or t["type"] != "call" or int(t["action"]["to"], 16) < 0x100:
            continue  # the transaction itself, and precompiles (ecrecover)
        own = used.get(path, 0) - sum(g for p, g in used.items() if len(p) == len(path) + 1 and p[: len(path)] == path)
        calls.setdefault(names.get(t["action"]["to"].lower(), t["action"]["to"]), []).append(own)
    r.out(f"\n{what}: {tx.gas_used:,} gas in all. Calls out of the escrow's own code:")
    r.out("")
    r.out(f"| {'callee':<18} | {'calls':>5} | {'gas of its own work':>19} | {'access cost':>11} |")
    r.out(f"|{'-' * 20}|{'-' * 7}|{'-' * 21}|{'-' * 13}|")
    crossing = 0
    for callee, gas in sorted(calls.items()):
        access = 2_600 + 100 * (len(gas) - 1)
        crossing += access if callee != "TraceRegistry" else 0
        r.out(f"| {callee:<18} | {len(gas):>5} | {sum(gas):>19,} | {access:>11,} |")
    r.out(
        f"\nAccess cost of the split (every callee but the registry, which v1 called too): {crossing:,} gas, "
        "before the ABI copies."
    )


def escrow_figures(d: deploy.Deployment, r: Report) -> None:
    """One order per currency through list, purchase, delivery, return, inspection and withdraw."""
    admin = accounts[0]
    o = Orders(d)
    buyer = o.buyer
    usd = ERC20Mock.deploy("Test USD", "tUSD", 0, {"from": admin}, silent=True)
    usd.mint(buyer.address, 10**12, {"from": admin}, silent=True)
    deploy.allow_currency(d, usd, 6)
    r.table("ReturnEscrow: gas per operation (steady state: signers and accounts already used once)", "gas")
    split_orders: list[Any] = []

    def one_order(serial: str, currency: str, facts: int, grade: Grade, report: bool) -> None:
        unit, tx_list = o.list_unit(serial, Offer(deploy.MARKET_EU, currency, 10**8, 5 * 10**6, 4 * 10**6))
        tx_buy = o.purchase(unit, token=usd)
        order = tx_buy.return_value
        tx_deliver = o.deliver(order)
        tx_request = o.request_return(order, WITHDRAWAL)
        tx_pickup = o.scan(unit, BizStep.ACCEPTING, "carrier", Disposition.RETURNED, bizTransaction=o.rma_ref(order))
        tx_receive = o.receive(order)
        tx_inspect = o.inspected(order, facts, grade)
        tx_accept = None if grade == Grade.A else d.escrow.acceptInspection(order, {"from": buyer.account}, silent=True)
        tx_withdraw = d.escrow.withdraw(currency, {"from": buyer.account}, silent=True)
        if not report:
            return
        kind = "native coin" if currency == ZERO_ADDRESS else "ERC-20"
        if tx_accept is None:
            split_orders.append(tx_inspect)
        r.op(f"list_{kind}", f"list a unit for sale ({kind})", tx_list)
        r.op(f"purchase_{kind}", f"purchase committing to the whole listing ({kind})", tx_buy)
        if currency != ZERO_ADDRESS:
            return_tail(kind, tx_inspect, tx_accept, tx_withdraw)
            return
        r.op("deliver", "delivery scan (registry event + delivery milestone)", tx_deliver)
        r.op("request", "return request by the buyer", tx_request)
        r.op("pickup", "carrier's pickup scan under the RMA (proof of dispatch)", tx_pickup)
        r.op("receive", "receiving scan (registry event + return milestone)", tx_receive)
        return_tail(kind, tx_inspect, tx_accept, tx_withdraw)

    def return_tail(kind: str, tx_inspect: Any, tx_accept: Any, tx_withdraw: Any) -> None:
        if tx_accept is None:
            r.op(f"inspect_settle_A_{kind}", f"inspection + settlement, grade A ({kind})", tx_inspect)
        else:
            r.op(f"inspect_{kind}", "inspection, grade B (waits for the dispute window)", tx_inspect)
            r.op(f"accept_{kind}", f"buyer accepts: settlement, grade B ({kind})", tx_accept)
        r.op(f"withdraw_{kind}", f"withdraw ({kind})", tx_withdraw)

    # The first order warms every account and counter slot; the second is what a steady shop pays.
    for i, (currency, facts, grade) in enumerate(
        ((ZERO_ADDRESS, SEALED, Grade.A), (usd.address, Facts.PACKAGING_INTACT, Grade.B))
    ):
        one_order(f"WARM{i}", currency, facts, grade, report=False)
        one_order(f"GAS{i}", currency, facts, grade, report=True)
    settled = split_orders.pop()
    split_figures(d, r, "Inspection + settlement, grade A (native coin)", settled)
    order, unit = o.delivered("WITHDRAW-TO", 10**17)
    o.request_return(order, WITHDRAWAL)
    o.receive(order)
    o.inspected(order, SEALED, Grade.A)
    r.op(
        "withdraw_to",
        "withdraw to another address (native coin)",
        d.escrow.withdrawTo(ZERO_ADDRESS, accounts[5], {"from": buyer.account}, silent=True),
    )


def return_option_figures(d: deploy.Deployment, r: Report) -> None:
    """The flows of exchange, refund on receipt, dual inspection and fast reissue (native coin; EU
    orders, but for the dual inspection a US one, since the warehouse is an EU return center only)."""
    relayer = accounts[1]
    o = Orders(d)
    desk, brand, buyer = d.desk, d.actors["brand"], o.buyer
    accounts[0].transfer(buyer.account, "20 ether", silent=True)  # two high-value orders
    deploy.accredit_return_center(d)  # the warehouse's site: an EU return center
    r.table("Return options: gas per operation (steady state, native coin)", "gas")
    for i, report in enumerate((False, True)):
        # Exchange voucher released on receipt at the accredited EU return center; inspection decides the fate.
        order, unit = o.delivered(f"OPT-X{i}", 10**17)
        tx_exchange = d.escrow.requestReturn(order, NO_LONGER_NEEDED, EXCHANGE, {"from": buyer.account}, silent=True)
        o.receive(order)
        tx_release = d.escrow.releaseRefundOnReceipt(order, {"from": relayer}, silent=True)
        tx_fate = o.inspected(order, Facts.PACKAGING_INTACT, Grade.B)
        # A high-value return: two inspection houses must agree (a US order: no refund on receipt there).
        order, unit = o.delivered(f"OPT-D{i}", 6 * 10**18, deploy.MARKET_US)
        d.escrow.requestReturn(order, WITHDRAWAL, 0, {"from": buyer.account}, silent=True)
        o.receive(order)
        tx_first = o.inspected(order, SEALED, Grade.A)
        tx_second = o.inspected(order, SEALED, Grade.A, who="inspector2")
        # A defect under the auto-approval limit: replacement shipped, no return.
        order, unit = o.delivered(f"OPT-R{i}", 10**17)
        tx_claim = desk.claimDefect(order, b"\x02" * 32, {"from": buyer.account}, silent=True)
        spare = [o.commission_item(f"OPT-S{i}")]
        o.commission("brand", spare)
        tx_link = desk.linkReplacement(order, deploy.DEMO_GTIN, f"OPT-S{i}", {"from": brand.account}, silent=True)
        o.scan(
            o.unit_of(spare[0]),
            BizStep.DELIVERING,
            "carrier",
            Disposition.DELIVERED,
            bizTransaction=bytes(desk.reissueRef(order)),
        )
        tx_complete = desk.completeReissue(order, {"from": relayer}, silent=True)
        if report:
            r.op("request_exchange", "return request choosing the exchange voucher", tx_exchange)
            r.op("refund_on_receipt", "refund (voucher) released at an accredited center's scan", tx_release)
            r.op("inspect_disposition", "inspection after the refund: disposition only", tx_fate)
            r.op("inspect_first_of_two", "high-value return: first inspection (awaits a second)", tx_first)
            r.op("inspect_second_settle_A", "second, independent inspection + settlement, grade A", tx_second)
            r.op("claim_defect_auto", "defect claim with evidence, approved under the limit", tx_claim)
            r.op("link_replacement", "merchant links and reserves the replacement unit", tx_link)
            r.op("complete_reissue", "replacement delivered: reissue completed, merchant paid", tx_complete)


def protection_figures(d: deploy.Deployment, r: Report) -> None:
    """The paths issue 9 added: disputes and the arbiter, the timeouts that pay the buyer, a
    partner's closing after a settlement (the escrow's close guard)."""
    o = Orders(d)
    buyer, brand, arbiter = o.buyer, d.actors["brand"], d.actors["arbiter"]
    policy = d.policies.policy(deploy.MARKET_EU, d.policies.currentPolicyVersion(deploy.MARKET_EU))
    r.table("Disputes, timeouts and closings: gas per operation (steady state, native coin)", "gas")
    for i, report in enumerate((False, True)):
        # The buyer contests a grade C; the arbiter corrects the facts (grade B, donated).
        order, unit = o.delivered(f"ARB-{i}", 10**17, deploy.MARKET_US)
        d.escrow.requestReturn(order, NO_LONGER_NEEDED, 0, {"from": buyer.account}, silent=True)
        o.receive(order)
        o.inspected(order, Facts.USED, Grade.C)
        tx_contest = d.escrow.contest(order, {"from": buyer.account}, silent=True)
        tx_resolve = d.escrow.resolveDispute(
            order,
            Facts.PACKAGING_INTACT,
            0,
            b"facts_corrected".ljust(32, b"\0"),
            b"\x03" * 32,
            {"from": arbiter.account},
            silent=True,
        )
        tx_close = o.scan(unit, BizStep.RECEIVING, "charity", Disposition.DONATED)
        # A dispute opened before any inspection that nobody decides: the return's own timeouts apply again.
        order, unit = o.delivered(f"LAPSE-{i}", 10**17, deploy.MARKET_US)
        d.escrow.requestReturn(order, NO_LONGER_NEEDED, 0, {"from": buyer.account}, silent=True)
        tx_open = d.escrow.openDispute(order, {"from": brand.account}, silent=True)
        chain.sleep(policy["arbiterTimeout"] + 1)
        tx_lapse = d.escrow.settleLapsedDispute(order, {"from": buyer.account}, silent=True)
        # The carrier picked the return up; it never arrives: the buyer claims the dispatched refund.
        tx_pickup = o.scan(unit, BizStep.ACCEPTING, "carrier", Disposition.RETURNED, bizTransaction=o.rma_ref(order))
        chain.sleep(policy["deliveryTimeout"] + policy["maxRelayDelay"] + 1)
        chain.mine()
        tx_dispatched = d.escrow.claimDispatchedRefund(order, {"from": buyer.account}, silent=True)
        # Received, never inspected: the buyer claims everything back after the SLA.
        order, unit = o.delivered(f"SLA-{i}", 10**17)
        tx_remedy = d.escrow.requestReturn(order, NO_LONGER_NEEDED, EXCHANGE, {"from": buyer.account}, silent=True)
        tx_choose = d.escrow.chooseRemedy(order, 0, {"from": buyer.account}, silent=True)
        o.receive(order)
        chain.sleep(policy["inspectionSla"] + 1)
        chain.mine()
        tx_uninspected = d.escrow.claimUninspectedRefund(order, {"from": buyer.account}, silent=True)
        if report:
            r.op("contest", "buyer contests a grade C (opens the dispute)", tx_contest)
            r.op("resolve_dispute", "arbiter corrects the facts + settlement", tx_resolve)
            r.op("partner_close_1", "charity receives the donated unit (closes it; asks the escrow)", tx_close)
            r.op("open_dispute", "merchant opens a dispute before any inspection", tx_open)
            r.op("settle_lapsed_dispute", "nobody decided in time: the dispute lapses", tx_lapse)
            r.op("pickup_after_lapse", "carrier's pickup scan under the RMA (proof of dispatch)", tx_pickup)
            r.op("claim_dispatched", "sent back, never received: the buyer's refund", tx_dispatched)
            r.op("request_exchange_then", "return request choosing the exchange voucher", tx_remedy)
            r.op("choose_remedy", "the buyer changes its mind: cash after all", tx_choose)
            r.op("claim_uninspected", "received, not inspected in time: everything back", tx_uninspected)


def main() -> None:
    brownie_anvil.patch()  # brownie on anvil: no false "Tx dropped without known replacement"
    d = deploy.deploy_demo_world(accounts[0], extra_signers=10)
    r = Report()
    registry_figures(d, r)
    parcel_figures(d, r)
    escrow_figures(d, r)
    return_option_figures(d, r)
    protection_figures(d, r)
    r.write_page()
