"""Who may close a unit (issue 9 item 1): the registry asks the escrow, its close guard, which knows
from its orders who holds the unit. The brand closes its own stock through decommission() (never
listed, no order open, or back in stock after an inspection found it sellable); a partner closes a
unit whose settled order's attested facts sent it there; nobody closes a unit an order holds."""

import brownie
import pytest
from brownie import ZERO_ADDRESS, TraceRegistry, chain, web3
from eth_account import Account

from returntrace import eip712, gs1, hashchain, history
from returntrace.escrow import Facts, Grade, UnitDisposition
from returntrace.vocab import AggregationAction, BizStep, Disposition
from scripts import deploy
from scripts.builder import listing_terms, rma_ref
from tests.registry.conftest import sscc
from tests.support import (
    DAY,
    DEFAULT_DELIVERY_FEE,
    DEFAULT_PRICE,
    DEFAULT_RETURN_FEE,
    GTIN_INT,
    MARKET_EU,
    ZERO32,
    Status,
    err,
)

TOTAL = DEFAULT_PRICE + DEFAULT_DELIVERY_FEE
SELLABLE = Facts.SEAL_INTACT | Facts.PACKAGING_INTACT  # grade A: restocked
OUTSIDE = int(gs1.normalize_gtin("96385074"))  # the rival brand's own product

# Every closing a partner, a warehouse or a carrier could sign: (actor, step, disposition).
PARTNER_CLOSINGS = [
    ("warehouse", BizStep.DESTROYING, Disposition.DESTROYED),
    ("recycler", BizStep.DESTROYING, Disposition.DESTROYED),
    ("carrier", BizStep.ACCEPTING, Disposition.DESTROYED),
    ("charity", BizStep.RECEIVING, Disposition.DONATED),
    ("recycler", BizStep.RECEIVING, Disposition.RECYCLED),
]


@pytest.fixture
def attempt(registry, record, actors):
    """attempt(unit, actor, step, disposition): records one event at the signer's on-chain nonce (a
    refused attempt consumes none)."""

    def _attempt(unit, actor, step, disposition, **fields):
        return record(unit, step, actor, disposition, nonce=registry.getNonce(actors[actor].address), **fields)

    return _attempt


@pytest.fixture
def sell(shop, escrow, actors):
    """sell(serial, buyer="buyer") -> order id: the brand lists its unit `serial` in the EU and the buyer buys it."""

    def _sell(serial, buyer="buyer"):
        unit = shop.list_unit(serial=serial)
        tx = escrow.purchase(unit, listing_terms(escrow, unit), False, {"from": actors[buyer].account, "value": TOTAL})
        return tx.return_value

    return _sell


def _refused(unit, signer):
    return err("TraceRegistryClosingNotAllowed", unit, signer.address)


# ------------------------------------------------------------------------------------------------
# The attacks of issue 9 item 1, each with the victim's fair outcome.


def test_attack_merchant_or_its_partners_close_a_sold_unit_under_return(
    registry, escrow, shop, sell, decommission, attempt, actors
):
    """(a) The buyer requests a return; the merchant decommissions the sold unit, its warehouse or a
    carrier closes it with disposition Destroyed, so that the warehouse's receiving scan reverts and
    releaseUnreturned pays the merchant everything. Each closing is refused, the return proceeds and
    the buyer is refunded price and delivery."""
    order = sell("ATTACK-A")
    unit = shop.unit(order)
    shop.deliver(order)
    shop.request_return(order)

    with brownie.reverts(_refused(unit, actors["brand"])):
        decommission("ATTACK-A")
    rma = rma_ref(escrow, order)
    with brownie.reverts(_refused(unit, actors["warehouse"])):
        attempt(unit, "warehouse", BizStep.DESTROYING, Disposition.DESTROYED, bizTransaction=rma)
    with brownie.reverts(_refused(unit, actors["carrier"])):
        attempt(unit, "carrier", BizStep.ACCEPTING, Disposition.DESTROYED, bizTransaction=rma)
    assert not registry.isClosed(unit)

    shop.receive(order)  # the scan the attack meant to make impossible
    shop.inspect(order, SELLABLE, Grade.A)
    assert escrow.order(order)["status"] == Status.SETTLED
    buyer, brand = actors["buyer"].account, actors["brand"].account
    assert escrow.credits(ZERO_ADDRESS, buyer) == TOTAL  # price and delivery back (EU withdrawal, unit intact)
    assert escrow.credits(ZERO_ADDRESS, brand) == 0
    before = buyer.balance()
    escrow.withdraw(ZERO_ADDRESS, {"from": buyer})
    assert buyer.balance() == before + TOTAL
    shop.assert_solvent()


def test_attack_merchant_closes_the_unit_before_it_comes_back(
    registry, escrow, shop, sell, decommission, attempt, actors
):
    """(a) again, while the parcel is with the carrier (dispatched, not yet received): the unit is the
    buyer's proof, no one closes it, and the return is received and refunded."""
    order = sell("ATTACK-A2")
    unit = shop.unit(order)
    shop.deliver(order)
    shop.request_return(order)
    rma = rma_ref(escrow, order)
    attempt(unit, "carrier", BizStep.ACCEPTING, Disposition.RETURNED, bizTransaction=rma)  # the pickup
    for actor, step, disposition in PARTNER_CLOSINGS:
        with brownie.reverts(_refused(unit, actors[actor])):
            attempt(unit, actor, step, disposition, bizTransaction=rma)
    with brownie.reverts(_refused(unit, actors["brand"])):
        decommission("ATTACK-A2")
    shop.receive(order)
    shop.inspect(order, SELLABLE, Grade.A)
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == TOTAL


def test_attack_rival_brand_closes_another_brands_stock(
    registry,
    escrow,
    commission,
    decommission,
    decommission_item,
    sign_decommission,
    attempt,
    deployment,
    actors,
    relayer,
):
    """(b) A rival brand decommissions another brand's unsold unit, whose listing would then revert
    for ever. Refused however it tries; the owner lists the unit and sells it."""
    unit = commission("RIVAL-1")
    rival = actors["brand2"]
    with brownie.reverts(err("TraceRegistryNotBrandOf", rival.address, GTIN_INT)):
        decommission("RIVAL-1", actor="brand2")
    with brownie.reverts(err("TraceRegistryInvalidStep", int(BizStep.DECOMMISSIONING))):
        attempt(unit, "brand2", BizStep.DECOMMISSIONING, Disposition.INACTIVE)
    with brownie.reverts(_refused(unit, rival)):
        attempt(unit, "brand2", BizStep.SHIPPING, Disposition.DESTROYED)  # a step a brand may sign, closing
    # Hidden among its own units: the whole batch is refused, its own unit stays open too.
    deploy.register_product(deployment, rival, OUTSIDE, 0, 1 << MARKET_EU)
    own = commission("OWN-1", actor="brand2", gtin=OUTSIDE, location=rival.gln)
    items = [decommission_item("OWN-1", gtin=OUTSIDE, actor="brand2"), decommission_item("RIVAL-1", actor="brand2")]
    message, sig = sign_decommission("brand2", items, nonce=registry.getNonce(rival.address))
    with brownie.reverts(err("TraceRegistryNotBrandOf", rival.address, GTIN_INT)):
        registry.decommission([eip712.call_args("DecommissionBatch", message, sig)], {"from": relayer})
    assert not registry.isClosed(unit) and not registry.isClosed(own)

    brand = actors["brand"].account
    escrow.list(
        GTIN_INT,
        "RIVAL-1",
        MARKET_EU,
        ZERO_ADDRESS,
        DEFAULT_PRICE,
        DEFAULT_DELIVERY_FEE,
        DEFAULT_RETURN_FEE,
        {"from": brand},
    )
    order = escrow.purchase(
        unit, listing_terms(escrow, unit), False, {"from": actors["buyer"].account, "value": TOTAL}
    ).return_value
    assert escrow.order(order)["merchant"] == brand.address


# ------------------------------------------------------------------------------------------------
# Nobody closes a unit an order holds (or a buyer kept).


def _listed(sell, shop, escrow, actors):
    shop.list_unit(serial="HELD")
    return None


def _paid(sell, shop, escrow, actors):
    return sell("HELD")


def _delivered(sell, shop, escrow, actors):
    order = sell("HELD")
    shop.deliver(order)
    return order


def _requested(sell, shop, escrow, actors):
    order = _delivered(sell, shop, escrow, actors)
    shop.request_return(order)
    return order


def _received(sell, shop, escrow, actors):
    return shop.returned(_paid(sell, shop, escrow, actors))


def _inspected_b(sell, shop, escrow, actors):
    order = _received(sell, shop, escrow, actors)
    shop.inspect(order, Facts.PACKAGING_INTACT, Grade.B)  # facts attested, the buyer's dispute window open
    return order


def _disputed(sell, shop, escrow, actors):
    order = _received(sell, shop, escrow, actors)
    escrow.openDispute(order, {"from": actors["buyer"].account})  # the unit is the evidence
    return order


def _refunded_uninspected(sell, shop, escrow, actors):
    order = _received(sell, shop, escrow, actors)
    chain.sleep(6 * DAY)  # past the EU policy's 5-day inspection SLA
    escrow.claimUninspectedRefund(order, {"from": actors["buyer"].account})
    return order


def _completed(sell, shop, escrow, actors):
    order = _delivered(sell, shop, escrow, actors)
    chain.sleep(escrow.returnWindowCloses(order) - chain.time() + 1)
    escrow.release(order, {"from": actors["stranger"].account})  # sold and kept: the buyer's
    return order


HELD = {
    "listed": (_listed, None),
    "paid": (_paid, Status.ACTIVE),
    "delivered": (_delivered, Status.ACTIVE),
    "return-requested": (_requested, Status.RETURN_REQUESTED),
    "received": (_received, Status.RETURN_REQUESTED),
    "inspected-b": (_inspected_b, Status.INSPECTED),
    "disputed": (_disputed, Status.DISPUTED),
    "refunded-uninspected": (_refunded_uninspected, Status.REFUNDED),
    "completed": (_completed, Status.COMPLETED),
}


@pytest.mark.parametrize("state", HELD)
def test_no_one_closes_a_unit_that_is_not_the_brands_stock(
    registry, escrow, shop, sell, decommission, attempt, actors, state
):
    build, status = HELD[state]
    order = build(sell, shop, escrow, actors)
    unit = gs1.unit_id(GTIN_INT, "HELD")
    if status is not None:
        assert escrow.order(order)["status"] == status
    with brownie.reverts(_refused(unit, actors["brand"])):
        decommission("HELD")
    for actor, step, disposition in PARTNER_CLOSINGS:
        with brownie.reverts(_refused(unit, actors[actor])):
            attempt(unit, actor, step, disposition)
    assert not registry.isClosed(unit)


# ------------------------------------------------------------------------------------------------
# The brand's decommissioning of its stock.


def test_brand_decommissions_its_unsold_unit(
    registry, escrow, commission, decommission_item, sign_decommission, relayer, actors
):
    unit = commission("STOCK-1")
    before = registry.unitRecord(unit)
    brand = actors["brand"]
    item = decommission_item("STOCK-1", disposition=Disposition.RECALLED, evidence=b"\x0d" * 32)
    message, sig = sign_decommission("brand", [item])
    tx = registry.decommission([eip712.call_args("DecommissionBatch", message, sig)], {"from": relayer})

    ev = tx.events["EventRecorded"]
    assert (ev["unitId"], ev["signer"], ev["bizStep"], ev["disposition"]) == (
        "0x" + unit.hex(),
        brand.address,
        BizStep.DECOMMISSIONING,
        Disposition.RECALLED,
    )
    assert (ev["location"], ev["eventTime"], ev["evidence"], ev["bizTransaction"]) == (
        brand.gln,
        item["eventTime"],
        "0x" + "0d" * 32,
        "0x" + ZERO32.hex(),
    )
    # The link is the LifecycleEvent the decommissioning stands for, so histories rebuild from EventRecorded logs.
    link = eip712.struct_hash(
        "LifecycleEvent",
        {
            "unitId": unit,
            "bizStep": int(BizStep.DECOMMISSIONING),
            "disposition": int(Disposition.RECALLED),
            "location": brand.gln,
            "eventTime": item["eventTime"],
            "evidence": b"\x0d" * 32,
            "bizTransaction": ZERO32,
        },
    )
    assert registry.unitRecord(unit) == hashchain.link(before, brand.address, link, closes=True)
    assert registry.isClosed(unit) and registry.eventCount(unit) == 2
    assert registry.getNonce(brand.address) == 2  # commissioning, then this batch
    with brownie.reverts(err("ReturnEscrowUnitUnavailable", unit, 0)):
        escrow.list(
            GTIN_INT,
            "STOCK-1",
            MARKET_EU,
            ZERO_ADDRESS,
            DEFAULT_PRICE,
            DEFAULT_DELIVERY_FEE,
            DEFAULT_RETURN_FEE,
            {"from": brand.account},
        )


def test_history_rebuilds_a_decommissioned_unit(registry, commission, record, decommission):
    """returntrace.history rebuilds the head from the logs alone, the decommissioning included."""
    unit = commission("HIST-D")
    record(unit, BizStep.STORING, "warehouse", Disposition.SELLABLE_ACCESSIBLE)
    decommission("HIST-D", disposition=Disposition.EXPIRED)
    h = history.fetch(web3.eth.contract(address=registry.address, abi=registry.abi), unit)
    assert h.rebuilt_record == registry.unitRecord(unit)
    assert h.verified and hashchain.is_closed(h.onchain_record)
    last = h.events[-1]
    assert (last.kind, last.biz_step, last.disposition, last.closes) == (
        "event",
        BizStep.DECOMMISSIONING,
        Disposition.EXPIRED,
        True,
    )
    entry = history.timeline_entry(last, len(h.events), int(registry.actor(last.signer)[0]))
    assert (entry["label"], entry["signer_role"], entry["biz_transaction"]) == ("Decommissioned", "brand", None)


def test_several_units_and_batches_in_one_call(
    registry, commission, decommission_item, sign_decommission, deployment, relayer, actors
):
    units = [commission(f"MANY-{i}") for i in range(3)]
    deploy.register_product(deployment, actors["brand2"], OUTSIDE, 0, 1)
    other = commission("THEIRS", actor="brand2", gtin=OUTSIDE, location=actors["brand2"].gln)
    first = sign_decommission("brand", [decommission_item(f"MANY-{i}") for i in range(3)])
    second = sign_decommission("brand2", [decommission_item("THEIRS", gtin=OUTSIDE, actor="brand2")])
    tx = registry.decommission(
        [eip712.call_args("DecommissionBatch", *first), eip712.call_args("DecommissionBatch", *second)],
        {"from": relayer},
    )
    assert len(tx.events["EventRecorded"]) == 4
    assert all(registry.isClosed(u) for u in [*units, other])


def test_listed_unit_is_refused_until_delisted(registry, escrow, shop, decommission, actors):
    unit = shop.list_unit(serial="LISTED-1")
    with brownie.reverts(_refused(unit, actors["brand"])):
        decommission("LISTED-1")  # a buyer may be paying for it right now
    escrow.delist(unit, {"from": actors["brand"].account})
    decommission("LISTED-1")
    assert registry.isClosed(unit)


def test_unit_back_in_stock_after_an_inspected_restock_return(registry, escrow, shop, sell, decommission, actors):
    order = shop.returned(sell("BACK-1"))
    with brownie.reverts(_refused(shop.unit(order), actors["brand"])):
        decommission("BACK-1")  # received, not yet inspected: the order holds it
    shop.inspect(order, SELLABLE, Grade.A)
    assert escrow.order(order)["status"] == Status.SETTLED
    decommission("BACK-1")
    assert registry.isClosed(shop.unit(order))


def test_uninspected_refund_waits_for_an_inspection_that_finds_it_sellable(
    registry, escrow, shop, sell, decommission, actors
):
    """A unit refunded by timeout is not stock until an inspection attests it sellable (issue 9 item 9)."""
    order = _refunded_uninspected(sell, shop, escrow, actors)
    unit = shop.unit(order)
    with brownie.reverts(_refused(unit, actors["brand"])):
        decommission("HELD")
    shop.inspect(order, SELLABLE, Grade.A)
    assert escrow.order(order)["status"] == Status.SETTLED
    decommission("HELD")
    assert registry.isClosed(unit)


def test_cancelled_undelivered_unit_is_stock_again(registry, escrow, shop, sell, decommission, actors):
    order = sell("NEVER-1")
    chain.sleep(32 * DAY)  # past the delivery timeout and the relay delay
    escrow.cancelUndelivered(order, {"from": actors["buyer"].account})
    decommission("NEVER-1")
    assert registry.isClosed(shop.unit(order))


@pytest.mark.parametrize("destination", [UnitDisposition.DONATE, UnitDisposition.RECYCLE])
def test_brand_does_not_decommission_a_unit_sent_to_a_partner(destined, decommission, actors, destination):
    unit = destined(destination)
    serial = next(s for s in (f"ORD{i:05d}" for i in range(1, 10)) if gs1.unit_id(GTIN_INT, s) == unit)
    with brownie.reverts(_refused(unit, actors["brand"])):
        decommission(serial)


@pytest.mark.parametrize("disposition", [Disposition.DONATED, Disposition.RECYCLED, 23, 255])
def test_partner_or_unknown_dispositions_are_refused(registry, commission, decommission, disposition):
    unit = commission("DISP-1")
    with brownie.reverts(err("TraceRegistryInvalidDisposition", int(disposition))):
        decommission("DISP-1", disposition=disposition)
    assert not registry.isClosed(unit)


@pytest.mark.parametrize(
    "disposition",
    [Disposition.NONE, Disposition.INACTIVE, Disposition.DESTROYED, Disposition.RECALLED, Disposition.EXPIRED],
)
def test_brand_closes_with_any_other_disposition(registry, commission, decommission, disposition):
    unit = commission("DISP-2")
    decommission("DISP-2", disposition=disposition)
    assert registry.isClosed(unit)


def test_only_brands_decommission(registry, commission, decommission, actors):
    unit = commission("ROLE-1")
    for actor in ("recycler", "warehouse", "stranger"):
        with brownie.reverts(
            err("TraceRegistryRoleNotAllowed", actors[actor].address, int(BizStep.DECOMMISSIONING), 1)
        ):
            decommission("ROLE-1", actor=actor)
    assert not registry.isClosed(unit)


def test_item_checks(registry, commission, decommission, aggregate):
    unit = commission("CHK-1")
    with brownie.reverts(err("TraceRegistryUnknownProduct", OUTSIDE)):
        decommission("CHK-1", gtin=OUTSIDE)
    with brownie.reverts(err("TraceRegistryUnknownUnit", gs1.unit_id(GTIN_INT, "NEVER-MADE"))):
        decommission("NEVER-MADE")
    with brownie.reverts(err("TraceRegistryInvalidGln", 0)):
        decommission("CHK-1", location=0)
    future = chain.time() + 3600
    with brownie.reverts(err("TraceRegistryInvalidEventTime", future)):
        decommission("CHK-1", eventTime=future)
    with brownie.reverts(err("TraceRegistryInvalidEventTime", 0)):
        decommission("CHK-1", eventTime=0)
    aggregate(sscc(30), [unit])
    with brownie.reverts(err("TraceRegistryAlreadyPacked", unit, gs1.parcel_id(sscc(30)))):
        decommission("CHK-1")
    assert not registry.isClosed(unit)


def test_signature_nonce_and_deadline(
    registry, commission, decommission_item, sign_decommission, event, sign_events, relayer, actors
):
    commission("SIG-1")
    commission("SIG-2")
    brand = actors["brand"].address
    message, sig = sign_decommission("brand", [decommission_item("SIG-1")])
    tampered = {**message, "units": [decommission_item("SIG-2")]}
    with brownie.reverts(err("SignatureInvalid", brand)):
        registry.decommission([eip712.call_args("DecommissionBatch", tampered, sig)], {"from": relayer})
    registry.decommission([eip712.call_args("DecommissionBatch", message, sig)], {"from": relayer})
    with brownie.reverts(err("SignatureInvalidNonce", brand, message["nonce"] + 1, message["nonce"])):
        registry.decommission([eip712.call_args("DecommissionBatch", message, sig)], {"from": relayer})
    deadline = chain.time() - 10
    expired = sign_decommission("brand", [decommission_item("SIG-2")], deadline=deadline)
    with brownie.reverts(err("SignatureExpired", deadline)):
        registry.decommission([eip712.call_args("DecommissionBatch", *expired)], {"from": relayer})
    # One nonce space with the brand's other signed batches: an EventBatch at the same nonce is refused.
    nonce = registry.getNonce(brand)
    shipped = sign_events("brand", [event(gs1.unit_id(GTIN_INT, "SIG-2"), BizStep.SHIPPING, "brand")], nonce=nonce)
    registry.decommission(
        [eip712.call_args("DecommissionBatch", *sign_decommission("brand", [decommission_item("SIG-2")], nonce=nonce))],
        {"from": relayer},
    )
    with brownie.reverts(err("SignatureInvalidNonce", brand, nonce + 1, nonce)):
        registry.record([eip712.call_args("EventBatch", *shipped)], {"from": relayer})


def test_empty_batches_revert(registry, sign_decommission, relayer):
    with brownie.reverts(err("TraceRegistryEmptyBatch")):
        registry.decommission([], {"from": relayer})
    with brownie.reverts(err("TraceRegistryEmptyBatch")):
        registry.decommission(
            [eip712.call_args("DecommissionBatch", *sign_decommission("brand", []))], {"from": relayer}
        )


def test_decommission_type_hashes_are_published(registry):
    assert registry.getDecommissionTypeHashes() == [
        "0x" + eip712.type_hash(t).hex() for t in ("Decommission", "DecommissionBatch")
    ]
    assert eip712.type_string("DecommissionBatch") == (
        "DecommissionBatch(address signer,Decommission[] units,uint256 nonce,uint64 deadline)"
        "Decommission(uint64 gtin,string serial,uint8 disposition,uint64 location,uint40 eventTime,bytes32 evidence)"
    )


def test_decommission_digest_matches_eth_account_typed_data(registry_domain, decommission_item, sign_decommission):
    message, _ = sign_decommission("brand", [decommission_item("TYPED-1"), decommission_item("TYPED-2")])
    signed = Account.sign_typed_data(
        b"\x01" * 32, full_message=registry_domain.typed_data("DecommissionBatch", message)
    )
    assert (
        Account._recover_hash(registry_domain.digest("DecommissionBatch", message), signature=signed.signature)
        == Account.from_key(b"\x01" * 32).address
    )


# ------------------------------------------------------------------------------------------------
# Partners close what a settled order sent them, and only that.


@pytest.mark.parametrize(
    "destination, actor, step, disposition",
    [
        (UnitDisposition.RECYCLE, "charity", BizStep.RECEIVING, Disposition.DONATED),
        (UnitDisposition.DONATE, "recycler", BizStep.RECEIVING, Disposition.RECYCLED),
        (UnitDisposition.DONATE, "warehouse", BizStep.DESTROYING, Disposition.DESTROYED),
        (UnitDisposition.RECYCLE, "recycler", BizStep.DESTROYING, Disposition.DESTROYED),
        (UnitDisposition.DESTROY, "charity", BizStep.RECEIVING, Disposition.DONATED),
    ],
    ids=["recycle-donated", "donate-recycled", "donate-destroyed", "recycle-destroyed", "destroy-donated"],
)
def test_partner_closing_must_follow_the_settled_disposition(
    registry, destined, attempt, actors, destination, actor, step, disposition
):
    unit = destined(destination)
    with brownie.reverts(_refused(unit, actors[actor])):
        attempt(unit, actor, step, disposition)
    assert not registry.isClosed(unit)


def test_restocked_unit_goes_to_no_partner(registry, shop, sell, attempt, actors):
    order = shop.returned(sell("RESTOCK-1"))
    shop.inspect(order, SELLABLE, Grade.A)
    unit = shop.unit(order)
    for actor, step, disposition in PARTNER_CLOSINGS:
        with brownie.reverts(_refused(unit, actors[actor])):
            attempt(unit, actor, step, disposition)


# ------------------------------------------------------------------------------------------------
# The close guard.


def test_close_guard_is_the_escrow_and_set_once(registry, escrow, admin):
    assert registry.closeGuard() == escrow.address
    with brownie.reverts(err("TraceRegistryCloseGuardSet", escrow.address)):
        registry.setCloseGuard(admin, {"from": admin})
    assert registry.closeGuard() == escrow.address


def test_set_close_guard_is_the_admins_and_refuses_zero(admin, actors, escrow):
    accreditor = actors["stranger"].account
    fresh = TraceRegistry.deploy(admin, accreditor, {"from": admin})
    assert fresh.closeGuard() == ZERO_ADDRESS
    with brownie.reverts(err("AccessControlUnauthorizedAccount", accreditor.address, ZERO32)):
        fresh.setCloseGuard(escrow, {"from": accreditor})
    with brownie.reverts(err("TraceRegistryZeroAddress")):
        fresh.setCloseGuard(ZERO_ADDRESS, {"from": admin})
    tx = fresh.setCloseGuard(escrow, {"from": admin})
    assert tx.events["CloseGuardSet"]["guard"] == escrow.address
    assert fresh.closeGuard() == escrow.address


def test_without_a_guard_no_unit_closes_but_an_empty_parcel_does(admin, actors, relayer, builder):
    fresh = TraceRegistry.deploy(admin, admin, {"from": admin})
    domain = eip712.Domain(*deploy.REGISTRY_DOMAIN, chain.id, fresh.address)
    brand, warehouse = actors["brand"], actors["warehouse"]
    deploy.accredit(fresh, admin, [brand, warehouse])
    fresh.approveProduct(GTIN_INT, brand.address, {"from": admin})
    fresh.registerProduct(GTIN_INT, 0, 1, {"from": brand.account})
    unit = gs1.unit_id(GTIN_INT, "FRESH-1")
    fresh.commission(
        [
            builder.batch(
                "CommissionBatch", brand, [builder.commission_item("FRESH-1", GTIN_INT)], domain=domain, nonce=0
            ).args
        ],
        {"from": relayer},
    )
    item = builder.decommission_item("FRESH-1", GTIN_INT, Disposition.INACTIVE)
    with brownie.reverts(err("TraceRegistryClosingNotAllowed", unit, brand.address)):
        fresh.decommission(
            [builder.batch("DecommissionBatch", brand, [item], domain=domain, nonce=1).args], {"from": relayer}
        )
    assert not fresh.isClosed(unit)

    parcel = sscc(31)
    pack = builder.aggregation(parcel, [unit], AggregationAction.ADD, "warehouse")
    unpack = builder.aggregation(parcel, [unit], AggregationAction.DELETE, "warehouse")
    fresh.aggregate(
        [builder.batch("AggregationBatch", warehouse, [pack, unpack], domain=domain, nonce=0).args], {"from": relayer}
    )
    destroy = builder.event(gs1.parcel_id(parcel), BizStep.DESTROYING, "warehouse", Disposition.DESTROYED)
    fresh.record([builder.batch("EventBatch", warehouse, [destroy], domain=domain, nonce=1).args], {"from": relayer})
    assert fresh.isClosed(gs1.parcel_id(parcel))  # no one's goods: closes without asking


def test_brand_retires_a_defective_unit_returned_to_it(registry, escrow, shop, sell, decommission, attempt, actors):
    """A defective unit comes back (grade A: the buyer is refunded in full) and its grade terms send it
    back to the merchant, who may not sell it again. It is the brand's, so the brand may retire it;
    before the fix in UnitCustody no one could ever close it (nor list it)."""
    order = shop.returned(sell("FAULTY-1"), reason=1)  # ReturnReason.Defective
    shop.inspect(order, Facts.DEFECTIVE, Grade.A)
    assert escrow.order(order)["status"] == Status.SETTLED
    assert escrow.credits(ZERO_ADDRESS, actors["buyer"].address) == TOTAL
    unit = shop.unit(order)
    brand = actors["brand"].account
    with brownie.reverts(err("ReturnEscrowUnitUnavailable", unit, order)):
        escrow.list(
            GTIN_INT,
            "FAULTY-1",
            MARKET_EU,
            ZERO_ADDRESS,
            DEFAULT_PRICE,
            DEFAULT_DELIVERY_FEE,
            DEFAULT_RETURN_FEE,
            {"from": brand},
        )
    for actor, step, disposition in PARTNER_CLOSINGS:  # its terms send it to the merchant, not to a partner
        with brownie.reverts(_refused(unit, actors[actor])):
            attempt(unit, actor, step, disposition)
    decommission("FAULTY-1", disposition=Disposition.DESTROYED)
    assert registry.isClosed(unit)
