"""Gas figures: lifecycle events in batches of 1, 10 and 100, on new units (commissioning) and on
existing units; parcels (packing and unpacking per unit, one scan of a whole parcel) and a
partner's closing scan; and the escrow's purchase, return request, inspection + settlement and withdraw.

    make bench          # starts anvil, deploys fresh contracts, prints the tables

Per-event figures divide the whole transaction's gas (21,000 base and calldata included) by the
number of events in it.
"""

from __future__ import annotations

from brownie import ERC20Mock, ZERO_ADDRESS, accounts, chain

from returntrace import eip712, gs1
from returntrace.policies import Grade
from returntrace.vocab import AggregationAction, BizStep, Disposition, Role
from scripts import deploy
from tools import brownie_anvil

BATCHES = (1, 10, 100)
TYPICAL_SUPPLY_CHAIN_UPDATE = 124_000  # a string-storing open-source supply-chain contract (DESIGN.md)


def _row(label: str, gas: int, n: int) -> str:
    return f"| {label:<52} | {n:>5} | {gas:>11,} | {gas // n:>9,} |"


def _header(title: str) -> None:
    print(f"\n{title}\n")
    print(f"| {'what':<52} | {'batch':>5} | {'tx gas':>11} | {'per event':>9} |")
    print(f"|{'-' * 54}|{'-' * 7}|{'-' * 13}|{'-' * 11}|")


def registry_figures(d: deploy.Deployment) -> dict[str, int]:
    relayer = accounts[1]
    reg, dom = d.registry, d.registry_domain
    brand, carrier = d.actors["brand"], d.actors["carrier"]
    results: dict[str, int] = {}
    serial = 0
    _header("TraceRegistry — gas per lifecycle event")
    for n in BATCHES:
        items = [deploy.commission_item(d, f"BENCH{serial + i:06d}") for i in range(n)]
        serial += n
        units = [deploy.unit_of(c) for c in items]
        tx = reg.commission([deploy.signed_batch(dom, "CommissionBatch", brand, "units", items, reg.getNonce(brand.address))], {"from": relayer}, silent=True)
        results[f"new_{n}"] = tx.gas_used // n
        print(_row("new units: brand commissions, one signature", tx.gas_used, n))

        events = [deploy.event_item(carrier, u, BizStep.DEPARTING, Disposition.IN_TRANSIT) for u in units]
        tx = reg.record([deploy.signed_batch(dom, "EventBatch", carrier, "events", events, reg.getNonce(carrier.address))], {"from": relayer}, silent=True)
        results[f"existing_session_{n}"] = tx.gas_used // n
        print(_row("existing units: one signed scanning session", tx.gas_used, n))

        # Every event signed on its own (many scanners posting single scans to the gateway).
        batches = []
        for i, unit in enumerate(units):
            s = d.extra_signers[i % len(d.extra_signers)]
            step = BizStep.ARRIVING if s.roles & Role.CARRIER else BizStep.STORING
            event = deploy.event_item(s, unit, step, Disposition.IN_PROGRESS)
            batches.append(deploy.signed_batch(dom, "EventBatch", s, "events", [event], reg.getNonce(s.address) + i // len(d.extra_signers)))
        tx = reg.record(batches, {"from": relayer}, silent=True)
        results[f"existing_single_{n}"] = tx.gas_used // n
        print(_row(f"existing units: each event signed alone ({min(n, len(d.extra_signers))} signers)", tx.gas_used, n))
    print(f"\nFor scale: a typical string-storing supply-chain contract spends ~{TYPICAL_SUPPLY_CHAIN_UPDATE:,} gas per update.")
    return results


def parcel_figures(d: deploy.Deployment) -> dict[str, int]:
    """Units packed into SSCC parcels of 1, 10 and 100 (per unit packed), one carrier scan of each
    parcel (per unit it covers), unpacking (per unit), and a charity's closing receipt."""
    relayer = accounts[1]
    reg, dom = d.registry, d.registry_domain
    brand, carrier, warehouse, charity = (d.actors[n] for n in ("brand", "carrier", "warehouse", "charity"))
    results: dict[str, int] = {}

    def send(signer, primary, field, items, call):
        return call([deploy.signed_batch(dom, primary, signer, field, items, reg.getNonce(signer.address))], {"from": relayer}, silent=True)

    _header("TraceRegistry — parcels (SSCC aggregation) and partners")
    for k, n in enumerate(BATCHES):
        items = [deploy.commission_item(d, f"PARCEL{k}-{i:04d}") for i in range(n)]
        send(brand, "CommissionBatch", "units", items, reg.commission)
        units = [deploy.unit_of(c) for c in items]
        sscc = int(gs1.with_check_digit(f"39506000{k + 1:09d}"))
        tx = send(warehouse, "AggregationBatch", "aggregations", [deploy.aggregation_item(warehouse, sscc, units, AggregationAction.ADD)], reg.aggregate)
        results[f"pack_{n}"] = tx.gas_used // n
        print(_row("pack units into a new parcel (ADD), per unit", tx.gas_used, n))
        scan = deploy.event_item(carrier, gs1.parcel_id(sscc), BizStep.DEPARTING, Disposition.IN_TRANSIT)
        tx = send(carrier, "EventBatch", "events", [scan], reg.record)
        results[f"parcel_scan_{n}"] = tx.gas_used // n
        print(_row("one carrier scan of the parcel, per unit in it", tx.gas_used, n))
        tx = send(warehouse, "AggregationBatch", "aggregations", [deploy.aggregation_item(warehouse, sscc, units, AggregationAction.DELETE)], reg.aggregate)
        results[f"unpack_{n}"] = tx.gas_used // n
        print(_row("unpack units from the parcel (DELETE), per unit", tx.gas_used, n))
        if n == BATCHES[-1]:
            events = [deploy.event_item(charity, u, BizStep.RECEIVING, Disposition.DONATED) for u in units[:1]]
            tx = send(charity, "EventBatch", "events", events, reg.record)
            results["partner_close_1"] = tx.gas_used
            print(_row("charity receives a donated unit (closes it)", tx.gas_used, 1))
            events = [deploy.event_item(charity, u, BizStep.RECEIVING, Disposition.DONATED) for u in units[1:]]
            tx = send(charity, "EventBatch", "events", events, reg.record)
            results["partner_close_session"] = tx.gas_used // len(events)
            print(_row("charity receiving session, donated (closes each)", tx.gas_used, len(events)))
    return results


def _scan(d: deploy.Deployment, signer, unit: bytes, step: BizStep, disposition: Disposition, ref: bytes):
    """One signed scan of one unit, relayed."""
    event = deploy.event_item(signer, unit, step, disposition, ref)
    batch = deploy.signed_batch(d.registry_domain, "EventBatch", signer, "events", [event], d.registry.getNonce(signer.address))
    return d.registry.record([batch], {"from": accounts[1]}, silent=True)


def _op_table(title: str) -> None:
    print(f"\n{title}\n")
    print(f"| {'operation':<60} | {'gas':>9} |")
    print(f"|{'-' * 62}|{'-' * 11}|")


def _op(label: str, tx) -> int:
    print(f"| {label:<60} | {tx.gas_used:>9,} |")
    return tx.gas_used


def escrow_figures(d: deploy.Deployment) -> dict[str, int]:
    """One order per currency through list, purchase, delivery, return, inspection and withdraw."""
    relayer, admin = accounts[1], accounts[0]
    reg, escrow, dom = d.registry, d.escrow, d.registry_domain
    brand, buyer, carrier, warehouse, inspector = (d.actors[n] for n in ("brand", "buyer", "carrier", "warehouse", "inspector"))
    usd = ERC20Mock.deploy("Test USD", "tUSD", 0, {"from": admin}, silent=True)
    usd.mint(buyer.address, 10**12, {"from": admin}, silent=True)
    results: dict[str, int] = {}

    _op_table("ReturnEscrow — gas per operation (steady state: signers and accounts already used once)")

    def one_order(serial: str, currency: str, facts: int, grade: Grade, report: bool):
        items = [deploy.commission_item(d, serial)]
        reg.commission([deploy.signed_batch(dom, "CommissionBatch", brand, "units", items, reg.getNonce(brand.address))], {"from": relayer}, silent=True)
        unit = deploy.unit_of(items[0])
        tx_list = escrow.list(deploy.DEMO_GTIN, serial, deploy.MARKET_EU, currency, 10**8, 5 * 10**6, 4 * 10**6, {"from": brand.account}, silent=True)
        if currency == ZERO_ADDRESS:
            tx_buy = escrow.purchase(unit, 10**8 + 5 * 10**6, {"from": buyer.account, "value": 10**8 + 5 * 10**6}, silent=True)
        else:
            usd.approve(escrow, 10**8 + 5 * 10**6, {"from": buyer.account}, silent=True)
            tx_buy = escrow.purchase(unit, 10**8 + 5 * 10**6, {"from": buyer.account}, silent=True)
        order = tx_buy.return_value
        tx_deliver = _scan(d, carrier, unit, BizStep.DELIVERING, Disposition.DELIVERED, deploy.order_ref(escrow, order))
        tx_request = escrow.requestReturn(order, 0, 0, {"from": buyer.account}, silent=True)
        tx_receive = _scan(d, warehouse, unit, BizStep.RECEIVING, Disposition.RETURNED, deploy.rma_ref(escrow, order))
        msg = {"inspector": inspector.address, "orderId": order, "facts": facts, "grade": int(grade), "evidence": b"\x01" * 32, "nonce": escrow.getNonce(inspector.address), "deadline": chain.time() + 3600}
        sig = d.escrow_domain.sign(inspector.key, "Inspection", msg)
        tx_inspect = escrow.submitInspection(eip712.call_args("Inspection", msg, sig)[:-1], sig, {"from": relayer}, silent=True)
        tx_accept = None if grade == Grade.A else escrow.acceptInspection(order, {"from": buyer.account}, silent=True)
        tx_withdraw = escrow.withdraw(currency, {"from": buyer.account}, silent=True)
        if report:
            kind = "native coin" if currency == ZERO_ADDRESS else "ERC-20"
            results[f"list_{kind}"] = _op(f"list a unit for sale ({kind})", tx_list)
            results[f"purchase_{kind}"] = _op(f"purchase: price and delivery fee into escrow ({kind})", tx_buy)
            results["deliver"] = _op("delivery scan (registry event + delivery milestone)", tx_deliver)
            results["request"] = _op("return request by the buyer", tx_request)
            results["receive"] = _op("receiving scan (registry event + return milestone)", tx_receive)
            if grade == Grade.A:
                results[f"inspect_settle_A_{kind}"] = _op(f"inspection + settlement, grade A ({kind})", tx_inspect)
            else:
                results[f"inspect_{kind}"] = _op(f"inspection, grade {grade.name} (waits for dispute window)", tx_inspect)
                results[f"accept_{kind}"] = _op(f"buyer accepts: settlement, grade {grade.name} ({kind})", tx_accept)
            results[f"withdraw_{kind}"] = _op(f"withdraw ({kind})", tx_withdraw)

    # The first order warms every account and counter slot; the second is what a steady shop pays.
    for i, (currency, facts, grade) in enumerate(((ZERO_ADDRESS, 3, Grade.A), (usd.address, 2, Grade.B))):
        one_order(f"WARM{i}", currency, facts, grade, report=False)
        one_order(f"GAS{i}", currency, facts, grade, report=True)
    return results


def return_option_figures(d: deploy.Deployment) -> dict[str, int]:
    """The flows of exchange, refund on receipt, dual inspection and fast reissue (native coin; EU
    orders, but for the dual inspection a US one, since the warehouse is an EU return center only)."""
    relayer = accounts[1]
    reg, escrow, desk, dom = d.registry, d.escrow, d.desk, d.registry_domain
    brand, buyer, carrier, warehouse = (d.actors[n] for n in ("brand", "buyer", "carrier", "warehouse"))
    accounts[0].transfer(buyer.account, "20 ether", silent=True)  # two high-value orders
    deploy.accredit_return_center(d, accounts[0])  # the warehouse's site: an EU return center
    results: dict[str, int] = {}
    _op_table("Return options — gas per operation (steady state)")

    def delivered_order(serial: str, price: int, market: int = deploy.MARKET_EU) -> tuple[int, bytes]:
        items = [deploy.commission_item(d, serial)]
        reg.commission([deploy.signed_batch(dom, "CommissionBatch", brand, "units", items, reg.getNonce(brand.address))], {"from": relayer}, silent=True)
        unit = deploy.unit_of(items[0])
        escrow.list(deploy.DEMO_GTIN, serial, market, ZERO_ADDRESS, price, 10**15, 10**15, {"from": brand.account}, silent=True)
        order = escrow.purchase(unit, price + 10**15, {"from": buyer.account, "value": price + 10**15}, silent=True).return_value
        _scan(d, carrier, unit, BizStep.DELIVERING, Disposition.DELIVERED, deploy.order_ref(escrow, order))
        return order, unit

    def inspect(order: int, who: str, facts: int, grade: Grade):
        inspector = d.actors[who]
        msg = {"inspector": inspector.address, "orderId": order, "facts": facts, "grade": int(grade), "evidence": b"\x01" * 32, "nonce": escrow.getNonce(inspector.address), "deadline": chain.time() + 3600}
        sig = d.escrow_domain.sign(inspector.key, "Inspection", msg)
        return escrow.submitInspection(eip712.call_args("Inspection", msg, sig)[:-1], sig, {"from": relayer}, silent=True)

    for i, report in enumerate((False, True)):
        # Exchange voucher released on receipt at the accredited EU return center; inspection decides the fate.
        order, unit = delivered_order(f"OPT-X{i}", 10**17)
        tx_exchange = escrow.requestReturn(order, 5, 1, {"from": buyer.account}, silent=True)
        _scan(d, warehouse, unit, BizStep.RECEIVING, Disposition.RETURNED, deploy.rma_ref(escrow, order))
        tx_release = escrow.releaseRefundOnReceipt(order, {"from": relayer}, silent=True)
        tx_fate = inspect(order, "inspector", 2, Grade.B)
        # A high-value return: two inspection houses must agree (a US order: no refund on receipt there).
        order, unit = delivered_order(f"OPT-D{i}", 6 * 10**18, deploy.MARKET_US)
        escrow.requestReturn(order, 0, 0, {"from": buyer.account}, silent=True)
        _scan(d, warehouse, unit, BizStep.RECEIVING, Disposition.RETURNED, deploy.rma_ref(escrow, order))
        tx_first = inspect(order, "inspector", 3, Grade.A)
        tx_second = inspect(order, "inspector2", 3, Grade.A)
        # A defect under the auto-approval limit: replacement shipped, no return.
        order, unit = delivered_order(f"OPT-R{i}", 10**17)
        tx_claim = desk.claimDefect(order, b"\x02" * 32, {"from": buyer.account}, silent=True)
        spare = [deploy.commission_item(d, f"OPT-S{i}")]
        reg.commission([deploy.signed_batch(dom, "CommissionBatch", brand, "units", spare, reg.getNonce(brand.address))], {"from": relayer}, silent=True)
        tx_link = desk.linkReplacement(order, deploy.DEMO_GTIN, f"OPT-S{i}", {"from": brand.account}, silent=True)
        _scan(d, carrier, deploy.unit_of(spare[0]), BizStep.DELIVERING, Disposition.DELIVERED, bytes(desk.reissueRef(order)))
        tx_complete = desk.completeReissue(order, {"from": relayer}, silent=True)
        if report:
            results["request_exchange"] = _op("return request choosing the exchange voucher", tx_exchange)
            results["refund_on_receipt"] = _op("refund (voucher) released at an accredited center's scan", tx_release)
            results["inspect_disposition"] = _op("inspection after refund on receipt: disposition only", tx_fate)
            results["inspect_first_of_two"] = _op("high-value return: first inspection (awaits a second)", tx_first)
            results["inspect_second_settle_A"] = _op("second, independent inspection + settlement, grade A", tx_second)
            results["claim_defect_auto"] = _op("defect claim with evidence, approved under the limit", tx_claim)
            results["link_replacement"] = _op("merchant links and reserves the replacement unit", tx_link)
            results["complete_reissue"] = _op("replacement delivered: reissue completed, merchant paid", tx_complete)
    return results


def main() -> None:
    brownie_anvil.patch()  # brownie on anvil: no false "Tx dropped without known replacement"
    d = deploy.deploy_demo_world(accounts[0], extra_signers=10)
    registry_figures(d)
    parcel_figures(d)
    escrow_figures(d)
    return_option_figures(d)
