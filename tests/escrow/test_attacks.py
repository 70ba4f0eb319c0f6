"""Issue 9's attacks on the escrow, each written as the attack (the attacker's steps), then the
assertion that the victim keeps what is theirs, and the accounting invariant (the escrow holds
exactly what it owes: `shop.assert_solvent`).

Times are chosen, not raced: orders are delivered on a known Monday (`monday`, 00:00 UTC) and every
later step happens at a stated moment, so that legal periods can be counted by hand (EU: whole days
ending at 23:59:59 in UTC-4; China: at 24:00 in UTC+8).
"""

from dataclasses import replace

import brownie
import pytest
from brownie import ZERO_ADDRESS, chain

from returntrace import eip712, gs1
from returntrace.escrow import Facts, Grade, GradeTerms, SettlementPath, UnitDisposition
from returntrace.policies import CN, EU, US
from returntrace.vocab import AggregationAction, BizStep, Disposition, Role
from scripts.builder import listing_terms
from tests.support import (
    DAY,
    DEFAULT_DELIVERY_FEE,
    DEFAULT_PRICE,
    DEFAULT_RETURN_FEE,
    GTIN_INT,
    MARKET_CN,
    MARKET_EU,
    MARKET_US,
    Remedy,
    Status,
    err,
    next_block_at,
    next_monday,
    opens_after,
)

S, P, U, D = Facts.SEAL_INTACT, Facts.PACKAGING_INTACT, Facts.USED, Facts.DEFECTIVE
A, B, C = Grade.A, Grade.B, Grade.C
PRICE, DEL, RET = DEFAULT_PRICE, DEFAULT_DELIVERY_FEE, DEFAULT_RETURN_FEE
TOTAL = PRICE + DEL
HOUR = 3600
GRADED, ARBITRATED, ARBITER_SILENT, OVERDUE, UNINSPECTED, DISPATCHED = (
    SettlementPath.GRADED,
    SettlementPath.ARBITRATED,
    SettlementPath.ARBITER_SILENT,
    SettlementPath.OVERDUE,
    SettlementPath.UNINSPECTED,
    SettlementPath.DISPATCHED,
)
REASON, RULING = b"\x0a" * 32, b"\x0b" * 32  # the arbiter's reason code and evidence digest
RETURN_PARCEL = int(gs1.with_check_digit("39506000000000042"))  # an SSCC: extension 3, the brand's prefix, serial 42
HUB_PARCEL = int(gs1.with_check_digit("39506000000000043"))  # a carrier hub's consolidated parcel
EU_END = (
    15 * DAY + 4 * HOUR - 1
)  # a period of 14 days from an EU event on `monday` ends here (Monday + 14, 23:59:59 UTC-4)


def latest_time():
    """The latest block's time (brownie's own clock may lag the chain after a jump)."""
    return chain[-1].timestamp


def signed_at(t):
    """Scan fields for a scan signed at `t`, with a deadline that outlives its relay."""
    return {"eventTime": t, "deadline": t + 30 * DAY}


def serial_of(shop):
    """The serial of the unit the shop listed last."""
    return shop.last_serial


@pytest.fixture
def monday():
    return next_monday(latest_time() + 3 * DAY)


@pytest.fixture
def brand(actors):
    return actors["brand"].account


@pytest.fixture
def buyer(actors):
    return actors["buyer"].account


def request_on(shop, monday, market=MARKET_EU, **buy):
    """Bought, delivered on `monday` at 10:00 UTC, return requested at 11:00: (order id, request time)."""
    order = shop.buy(market=market, **buy)
    next_block_at(monday + 10 * HOUR)
    shop.deliver(order, **signed_at(monday + 10 * HOUR))
    requested = monday + 11 * HOUR
    next_block_at(requested)
    shop.request_return(order)
    return order, requested


def receive_at(shop, order, t, relayed=None):
    """The warehouse's receiving scan signed at `t`, relayed at `relayed` (default: at once)."""
    next_block_at(relayed or t)
    return shop.receive(order, **signed_at(t))


def pickup_at(shop, record, order, t):
    """The carrier's signed pickup scan (Accepting) under the order's RMA: the buyer's proof of dispatch."""
    next_block_at(t)
    return record(
        shop.unit(order),
        BizStep.ACCEPTING,
        "carrier",
        Disposition.IN_TRANSIT,
        bizTransaction=shop.d.escrow.rmaRef(order),
        **signed_at(t),
    )


def pack_returned_at(shop, sign, registry, relayer, actors, order, t, moves=((RETURN_PARCEL, AggregationAction.ADD),)):
    """The carrier packs the unit into a return parcel (ADD, disposition Returned): proof of dispatch
    for every unit in it, under no reference. `moves` makes the one signed batch other (parcel, action)
    steps of the unit, in order: an unpacking and a repacking, say."""
    items = [
        shop.builder.aggregation(parcel, [shop.unit(order)], action, "carrier", None, Disposition.RETURNED, eventTime=t)
        for parcel, action in moves
    ]
    next_block_at(t)
    message, sig = sign(
        shop.d.domain_of("registry"), "AggregationBatch", actors["carrier"], aggregations=items, deadline=t + HOUR
    )
    return registry.aggregate([eip712.call_args("AggregationBatch", message, sig)], {"from": relayer})


def voucher(refund, bonus_bps):
    return refund + refund * bonus_bps // 10_000


def settlement_of(tx, path):
    ev = tx.events["OrderSettled"]
    assert ev["path"] == path
    return ev["settlement"]


@pytest.fixture
def buyer_ships_eu(policies, admin):
    """An EU policy version whose grade A terms leave the return shipping to the buyer (the listing
    tells them its amount), so that the statutory refund shows the deduction."""
    terms = (GradeTerms(10_000, 0, False, UnitDisposition.RESTOCK), *EU.terms[1:])
    policies.setPolicy(MARKET_EU, replace(EU, terms=terms).as_tuple(), {"from": admin})


# ---------------------------------------------------------------- item 2: the merchant never scans the return


@pytest.mark.parametrize("proof", ["carrier-pickup", "return-parcel"])
def test_merchant_cannot_keep_the_money_by_never_scanning_a_dispatched_return(
    shop, escrow, record, sign, registry, relayer, actors, brand, buyer, monday, buyer_ships_eu, proof
):
    order, requested = request_on(shop, monday)
    # The buyer hands the unit to the carrier two days later; the carrier's signed scan says so.
    sent = monday + 2 * DAY
    if proof == "carrier-pickup":
        pickup_at(shop, record, order, sent)
    else:
        pack_returned_at(shop, sign, registry, relayer, actors, order, sent)
    assert escrow.dispatchedAt(order) == sent

    # Attack: the merchant's warehouse never scans the parcel in; the merchant waits out the
    # delivery timeout and asks to be paid for a unit "never returned" — now, and a year later.
    for t in (requested + EU.delivery_timeout + EU.max_relay_delay + 1, requested + 365 * DAY):
        next_block_at(t)
        with brownie.reverts(err("ReturnEscrowAlreadyReturned", order, sent)):
            escrow.releaseUnreturned(order, {"from": brand})

    # The buyer's refund fell due 14 whole days after the request (the dispatch came before that),
    # and pays the statutory amount: price + delivery, less the return shipping the listing told of.
    due = monday + EU_END
    assert escrow.refundDueAt(order) == due
    s = settlement_of(escrow.claimOverdueRefund(order, {"from": buyer}), OVERDUE)
    assert (s["statutory"], s["refund"], s["shippingDeducted"], s["merchantAmount"]) == (True, TOTAL - RET, RET, RET)
    assert escrow.credits(ZERO_ADDRESS, buyer.address) == TOTAL - RET
    assert escrow.credits(ZERO_ADDRESS, brand.address) == RET
    assert escrow.order(order)["status"] == Status.REFUNDED
    shop.assert_solvent()


def test_refund_of_a_dispatched_return_falls_due_on_the_fourteenth_day_not_before(shop, escrow, record, buyer, monday):
    order, _ = request_on(shop, monday)
    pickup_at(shop, record, order, monday + 2 * DAY)
    due = monday + EU_END
    tx = opens_after(
        due, err("ReturnEscrowRefundNotDue", order, due), lambda: escrow.claimOverdueRefund(order, {"from": buyer})
    )
    assert settlement_of(tx, OVERDUE)["refund"] == TOTAL  # EU preset: grade A terms bear the shipping
    shop.assert_solvent()


def test_late_dispatch_gives_the_merchant_its_sla_after_it(shop, escrow, record, brand, buyer, monday):
    """A buyer who sends the unit after the 14 days (Art. 14(1)) gives the merchant its inspection SLA
    after the dispatch (issue 9: a late return may add the SLA; a timely one may not); the merchant is
    still never paid for it."""
    order, requested = request_on(shop, monday)
    sent = monday + 20 * DAY
    pickup_at(shop, record, order, sent)
    assert escrow.refundDueAt(order) == sent + EU.inspection_sla
    next_block_at(requested + EU.delivery_timeout + EU.max_relay_delay + 1)
    with brownie.reverts(err("ReturnEscrowAlreadyReturned", order, sent)):
        escrow.releaseUnreturned(order, {"from": brand})
    assert settlement_of(escrow.claimOverdueRefund(order, {"from": buyer}), OVERDUE)["refund"] == TOTAL
    shop.assert_solvent()


def test_free_pickup_merchant_cannot_withhold_the_refund_by_never_collecting(
    shop, escrow, policies, admin, brand, buyer, monday
):
    """The trader offered to collect the goods (EU Art. 13(3)): the refund is due 14 days after the
    request without any receipt or dispatch, before the merchant's own timeout could pay it."""
    policies.setPolicy(MARKET_EU, replace(EU, free_pickup=True).as_tuple(), {"from": admin})
    order, requested = request_on(shop, monday)
    # Attack: the merchant never sends the courier, and nothing is ever scanned.
    due = monday + EU_END
    assert escrow.refundDueAt(order) == due
    release_opens = requested + EU.delivery_timeout + EU.max_relay_delay
    assert due < release_opens  # the buyer's claim comes long before the merchant's
    next_block_at(due - HOUR)
    with brownie.reverts(err("ReturnEscrowWindowOpen", order, release_opens)):
        escrow.releaseUnreturned(order, {"from": brand})
    tx = opens_after(
        due, err("ReturnEscrowRefundNotDue", order, due), lambda: escrow.claimOverdueRefund(order, {"from": buyer})
    )
    assert settlement_of(tx, OVERDUE)["refund"] == TOTAL
    assert escrow.credits(ZERO_ADDRESS, buyer.address) == TOTAL
    shop.assert_solvent()


@pytest.mark.parametrize(
    "market, refund",
    [
        (MARKET_EU, TOTAL),  # statutory: price and delivery (grade A terms bear the shipping)
        (MARKET_US, PRICE),  # no statutory right: the US grade A terms, the price; delivery stays paid
        (MARKET_CN, PRICE - RET),  # statutory: the price, less the return shipping the buyer bears
    ],
    ids=["EU", "US", "CN"],
)
def test_lost_return_parcel_is_refunded_to_the_buyer(shop, escrow, record, brand, buyer, monday, market, refund):
    order, requested = request_on(shop, monday, market=market)
    sent = monday + DAY
    pickup_at(shop, record, order, sent)
    policy = {MARKET_EU: EU, MARKET_US: US, MARKET_CN: CN}[market]
    # The parcel never arrives. The merchant asks for the money; the unit is "unreturned" to it.
    s = only_the_dispatched_refund(escrow, order, requested, sent, policy, brand, buyer)
    assert (s["refund"], s["merchantAmount"], s["points"]) == (refund, TOTAL - refund, 0)
    assert escrow.credits(ZERO_ADDRESS, buyer.address) == refund
    shop.assert_solvent()


def only_the_dispatched_refund(escrow, order, requested, sent, policy, brand, buyer):
    """Once the return's delivery timeout passed, the merchant is not paid for the unit sent back at
    `sent`; the buyer's dispatched refund opens at `sent` + the timeout + the relay delay, not a second
    before. Returns the settlement."""
    next_block_at(requested + policy.delivery_timeout + policy.max_relay_delay + 1)
    with brownie.reverts(err("ReturnEscrowAlreadyReturned", order, sent)):
        escrow.releaseUnreturned(order, {"from": brand})
    due = sent + policy.delivery_timeout + policy.max_relay_delay
    tx = opens_after(
        due, err("ReturnEscrowWindowOpen", order, due), lambda: escrow.claimDispatchedRefund(order, {"from": buyer})
    )
    assert escrow.order(order)["status"] == Status.REFUNDED
    return settlement_of(tx, DISPATCHED)


@pytest.mark.parametrize("repack", ["same-parcel", "hub-parcel"])
def test_carrier_repacking_a_return_cannot_postpone_the_buyers_refund(
    shop, escrow, sign, registry, relayer, actors, brand, buyer, monday, repack
):
    """A carrier acting alone: it unpacks the returned unit and packs it again as returned, in one
    signed batch (or moves it into a hub's consolidated parcel and back) every two weeks. A repacking
    is no new dispatch: the first packing after the request stays the buyer's proof (Art. 13(3)), so
    neither the dispatched refund nor the statutory due date moves, nor the merchant's release."""
    order, requested = request_on(shop, monday)
    sent = monday + 2 * DAY
    pack_returned_at(shop, sign, registry, relayer, actors, order, sent)
    assert escrow.dispatchedAt(order) == sent
    # Attack: on days 16 and 30, before the buyer's claim opens (day 33).
    other = RETURN_PARCEL if repack == "same-parcel" else HUB_PARCEL
    held, moved = RETURN_PARCEL, other
    for day in (16, 30):
        moves = ((held, AggregationAction.DELETE), (moved, AggregationAction.ADD))
        pack_returned_at(shop, sign, registry, relayer, actors, order, monday + day * DAY, moves)
        assert registry.parentOf(shop.unit(order)) == "0x" + gs1.parcel_id(moved).hex()
        held, moved = moved, held
        assert escrow.dispatchedAt(order) == sent
        assert escrow.refundDueAt(order) == monday + EU_END  # sent in time: no SLA after a repacking
    # The buyer claims the dispatched refund from the first packing on; the merchant is never paid.
    s = only_the_dispatched_refund(escrow, order, requested, sent, EU, brand, buyer)
    assert (s["refund"], s["merchantAmount"], s["points"]) == (TOTAL, 0, 0)
    assert escrow.credits(ZERO_ADDRESS, buyer.address) == TOTAL
    shop.assert_solvent()


def test_cn_refund_falls_due_seven_days_after_the_merchants_receipt(shop, escrow, buyer, monday):
    """China (CRPL Art. 25): the price within 7 days of the merchant's receipt, counted in whole days
    to 24:00 UTC+8; the merchant who receives but sits on the return pays it."""
    order, _ = request_on(shop, monday, market=MARKET_CN)
    received = monday + 2 * DAY + 10 * HOUR  # Wednesday 18:00 in UTC+8
    receive_at(shop, order, received)
    due = monday + 10 * DAY - 8 * HOUR - 1  # Wednesday + 7, 24:00 UTC+8
    assert escrow.refundDueAt(order) == due
    tx = opens_after(
        due, err("ReturnEscrowRefundNotDue", order, due), lambda: escrow.claimOverdueRefund(order, {"from": buyer})
    )
    assert settlement_of(tx, OVERDUE)["refund"] == PRICE - RET
    shop.assert_solvent()


# ---------------------------------------------------------------- item 3: the overdue claim pays what the facts give


def test_used_hygiene_bottle_returned_late_is_not_paid_in_full_by_the_overdue_claim(
    shop, escrow, actors, brand, buyer, monday
):
    """Attack 3(a): a hygiene-sealed bottle, used, return requested on day 1, received on day 20; the
    buyer claims the overdue refund in the block after the receiving scan."""
    order = shop.buy()
    next_block_at(monday + 10 * HOUR)
    shop.deliver(order, **signed_at(monday + 10 * HOUR))
    next_block_at(monday + DAY + 10 * HOUR)
    shop.request_return(order)
    received = monday + 20 * DAY + 10 * HOUR
    receive_at(shop, order, received)
    # A late return gives the merchant its inspection SLA after the receipt: not due at the scan.
    due = received + EU.inspection_sla
    assert escrow.refundDueAt(order) == due
    with brownie.reverts(err("ReturnEscrowRefundNotDue", order, due)):
        escrow.claimOverdueRefund(order, {"from": buyer})
    # The inspector attests the seal broken and the bottle used (grade C) within the SLA.
    next_block_at(received + DAY)
    shop.inspect(order, U, C, deadline=received + 2 * DAY)
    # The buyer claims once due, still inside the dispute window: the facts decide. No withdrawal
    # right for an unsealed hygiene good (Art. 16(e)), so the policy's grade C terms: no cash.
    next_block_at(due + 1)
    assert escrow.order(order)["disputeDeadline"] > due + 1
    tx = escrow.claimOverdueRefund(order, {"from": buyer})
    s = settlement_of(tx, OVERDUE)
    assert tx.events["OrderSettled"]["grade"] == C
    assert (s["statutory"], s["refund"], s["merchantAmount"], s["points"]) == (
        False,
        0,
        TOTAL,
        PRICE * EU.terms[2].points_bps // 10_000,
    )
    assert escrow.credits(ZERO_ADDRESS, buyer.address) == 0
    assert escrow.credits(ZERO_ADDRESS, brand.address) == TOTAL
    shop.assert_solvent()


def test_contest_after_the_due_date_does_not_turn_grade_c_into_a_full_refund(
    shop, escrow, actors, buyer, monday, plain_gtin
):
    """Attack 3(b): inspected grade C on day 10, the dispute window running past the refund due date;
    the buyer contests after the due date and claims the overdue refund at once."""
    order, requested = request_on(shop, monday, gtin=plain_gtin)
    receive_at(shop, order, monday + 5 * DAY + 12 * HOUR)
    value = PRICE // 4  # the inspector's attested diminished value, within the 30 % cap
    next_block_at(monday + 10 * DAY + 11 * HOUR)
    shop.inspect(order, U | S | P, C, diminishedValue=value, deadline=monday + 11 * DAY)
    due = monday + EU_END
    assert escrow.refundDueAt(order) == due < escrow.order(order)["disputeDeadline"]
    next_block_at(due + 1)
    escrow.contest(order, {"from": buyer})
    tx = escrow.claimOverdueRefund(order, {"from": buyer})
    s = settlement_of(tx, OVERDUE)
    # The attested facts decide: the EU statutory grade C, P + D - v - F in cash, 30 % points on top.
    refund = PRICE - value + DEL - RET
    assert tx.events["OrderSettled"]["grade"] == C
    assert (s["statutory"], s["refund"], s["diminished"], s["points"]) == (True, refund, value, PRICE * 3_000 // 10_000)
    assert s["refund"] < TOTAL
    assert escrow.credits(ZERO_ADDRESS, buyer.address) == refund
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.SETTLED)):
        escrow.resolveDispute(order, S | P, 0, REASON, RULING, {"from": actors["arbiter"].account})
    shop.assert_solvent()


# ---------------------------------------------------------------- item 5: the arbiter corrects the facts


def test_arbiter_corrects_an_inspectors_false_seal_broken(shop, escrow, actors, buyer):
    order = shop.returned()  # EU, hygiene-sealed, in the withdrawal period
    # Attack: the inspector attests the seal broken (packaging intact, unused): grade B, and the
    # hygiene exception would take the statutory right away.
    shop.inspect(order, P, B)
    lied = escrow.quote(order, B, P, 0)
    assert (lied["statutory"], lied["refund"]) == (False, PRICE * EU.terms[1].refund_bps // 10_000 - RET)
    escrow.contest(order, {"from": buyer})
    # The arbiter finds the seal and the packaging intact, and says why, with its evidence.
    tx = escrow.resolveDispute(order, S | P, 0, REASON, RULING, {"from": actors["arbiter"].account})
    ev = tx.events["DisputeResolved"]
    assert (ev["facts"], ev["grade"], ev["reason"], ev["evidence"]) == (
        S | P,
        A,
        "0x" + REASON.hex(),
        "0x" + RULING.hex(),
    )
    s = settlement_of(tx, ARBITRATED)
    assert (s["statutory"], s["refund"], s["merchantAmount"]) == (True, TOTAL, 0)  # EU statutory: price + delivery
    o = escrow.order(order)
    assert (o["facts"], o["grade"], o["status"]) == (S | P, A, Status.SETTLED)  # the stored facts are the arbiter's
    assert escrow.credits(ZERO_ADDRESS, buyer.address) == TOTAL
    shop.assert_solvent()


# ---------------------------------------------------------------- gap: a dispute the arbiter never decides


def test_dispute_the_arbiter_never_decides_settles_by_the_attested_facts(shop, escrow, actors, buyer):
    order = shop.returned()
    shop.inspect(order, S, B)  # seal intact, packaging opened: B, the statutory right stands
    disputed = escrow.contest(order, {"from": buyer})
    lapse = disputed.timestamp + EU.arbiter_timeout
    assert disputed.events["OrderDisputed"]["decideBy"] == lapse
    # The arbiter stays silent. Anyone may end the dispute once its time is out, not before.
    stranger = actors["stranger"].account
    next_block_at(lapse)
    with brownie.reverts(err("ReturnEscrowWindowOpen", order, lapse)):
        escrow.settleLapsedDispute(order, {"from": stranger})
    # The arbiter's late decision is refused: the rule decides now.
    next_block_at(lapse + 1)
    with brownie.reverts(err("ReturnEscrowDisputeLapsed", order, lapse)):
        escrow.resolveDispute(order, U, PRICE, REASON, RULING, {"from": actors["arbiter"].account})
    tx = escrow.settleLapsedDispute(order, {"from": stranger})
    assert (tx.events["DisputeLapsed"]["orderId"], tx.events["DisputeLapsed"]["decideBy"]) == (order, lapse)
    s = settlement_of(tx, ARBITER_SILENT)
    assert tx.events["OrderSettled"]["grade"] == B
    assert (s["statutory"], s["refund"]) == (True, TOTAL - RET)
    assert escrow.order(order)["status"] == Status.SETTLED
    shop.assert_solvent()


def test_arbiter_decides_up_to_the_last_second(shop, escrow, actors, buyer):
    order = shop.returned()
    shop.inspect(order, S, B)
    lapse = escrow.contest(order, {"from": buyer}).timestamp + EU.arbiter_timeout
    next_block_at(lapse)
    tx = escrow.resolveDispute(order, S | P, 0, REASON, RULING, {"from": actors["arbiter"].account})
    assert settlement_of(tx, ARBITRATED)["refund"] == TOTAL


# ---------------------------------------------------------------- an arbiter judging its own sale


@pytest.mark.parametrize("judge", ["brand", "staff", "buyer", "buyers_house"])
def test_arbiter_that_is_a_party_cannot_decide_its_own_dispute(
    shop, escrow, policies, registry, admin, actors, staff, buyer, judge
):
    """The arbiter role is granted, not earned: a marketplace that also sells may hold it. Attack: the
    arbiter is the merchant (or its staff) and rules the unit used, to keep the money; or it is the
    buyer (or the buyer works for its house) and rules it untouched, to be paid in full."""
    if judge == "buyers_house":
        registry.setActor(buyer.address, 0, actors["inspector2"].gln, {"from": admin})  # the buyer works there
    who = {"staff": staff, "buyers_house": actors["inspector2"].account}.get(judge) or actors[judge].account
    policies.grantRole(policies.ARBITER_ROLE(), who.address, {"from": admin})
    order = shop.returned()
    shop.inspect(order, S, B)  # seal intact, packaging opened: B
    disputed = escrow.contest(order, {"from": buyer})
    facts, value = (U, PRICE) if judge in ("brand", "staff") else (S | P, 0)
    with brownie.reverts(err("ReturnEscrowArbiterNotIndependent", order, who.address)):
        escrow.resolveDispute(order, facts, value, REASON, RULING, {"from": who})
    assert escrow.order(order)["status"] == Status.DISPUTED
    # The fair outcome: nobody independent decided, so the inspector's attested facts do (grade B).
    next_block_at(disputed.timestamp + EU.arbiter_timeout + 1)
    tx = escrow.settleLapsedDispute(order, {"from": actors["charity"].account})
    assert tx.events["OrderSettled"]["grade"] == B
    assert settlement_of(tx, ARBITER_SILENT)["refund"] == TOTAL - RET
    shop.assert_solvent()


def test_an_accredited_house_with_no_part_in_the_sale_may_arbitrate(shop, escrow, policies, admin, actors, buyer):
    # An arbiter that belongs to an accredited organisation (another inspection house) is independent
    # of this sale: its ruling stands.
    arbiter = actors["inspector2"].account
    policies.grantRole(policies.ARBITER_ROLE(), arbiter.address, {"from": admin})
    order = shop.returned()
    shop.inspect(order, S, B)
    escrow.contest(order, {"from": buyer})
    tx = escrow.resolveDispute(order, S | P, 0, REASON, RULING, {"from": arbiter})
    assert tx.events["DisputeResolved"]["arbiter"] == arbiter.address
    assert settlement_of(tx, ARBITRATED)["refund"] == TOTAL
    shop.assert_solvent()


@pytest.mark.parametrize("house", ["inspector", "colleague"])
def test_the_inspecting_house_cannot_arbitrate_the_contest_of_its_own_inspection(
    shop, escrow, policies, registry, admin, actors, buyer, house
):
    """Attack: a quality-control firm both inspects and holds the arbiter role. Its inspector grades an
    unused unit as used (C: no cash); the buyer contests, and the firm (the inspector itself, or a
    colleague of its organisation) upholds its own grade. The ruling is refused; an arbiter of no house
    in the case hears the contest and its correction stands."""
    if house == "colleague":
        registry.setActor(actors["stranger"].address, 0, actors["inspector"].gln, {"from": admin})
    who = actors["inspector" if house == "inspector" else "stranger"].account
    policies.grantRole(policies.ARBITER_ROLE(), who.address, {"from": admin})
    order = shop.returned()
    shop.inspect(order, U, C)
    escrow.contest(order, {"from": buyer})
    with brownie.reverts(err("ReturnEscrowArbiterNotIndependent", order, who.address)):
        escrow.resolveDispute(order, U, 0, REASON, RULING, {"from": who})
    assert escrow.order(order)["status"] == Status.DISPUTED
    # The fair outcome: an independent arbiter finds the seal intact, and the buyer is refunded in full.
    tx = escrow.resolveDispute(order, S | P, 0, REASON, RULING, {"from": actors["arbiter"].account})
    assert settlement_of(tx, ARBITRATED)["refund"] == TOTAL
    shop.assert_solvent()


def test_the_order_names_the_house_whose_inspection_may_be_contested(shop, escrow, actors):
    order = shop.returned()
    assert escrow.order(order)["inspectorOrg"] == 0
    shop.inspect(order, S, B)
    assert escrow.order(order)["inspectorOrg"] == actors["inspector"].gln


@pytest.fixture
def staff(registry, admin, actors):
    """The `stranger` accredited as merchant staff (role bit 64) of the brand's organisation."""
    registry.setActor(actors["stranger"].address, Role.MERCHANT_STAFF, actors["brand"].gln, {"from": admin})
    return actors["stranger"].account


@pytest.mark.parametrize("opener", ["buyer", "brand", "staff"])
def test_dispute_opened_before_inspection_that_lapses_goes_back_to_the_return_and_refunds(
    shop, escrow, actors, staff, buyer, opener
):
    order = shop.returned()
    received = escrow.returnReceivedAt(order)
    who = staff if opener == "staff" else actors[opener].account
    # A party opens mediation before any inspection; the arbiter never acts.
    opened = escrow.openDispute(order, {"from": who})
    lapse = opened.timestamp + EU.arbiter_timeout
    assert (opened.events["OrderDisputed"]["by"], opened.events["OrderDisputed"]["decideBy"]) == (who.address, lapse)
    assert escrow.order(order)["status"] == Status.DISPUTED
    next_block_at(lapse + 1)
    tx = escrow.settleLapsedDispute(order, {"from": actors["charity"].account})
    assert tx.events["DisputeLapsed"]["decideBy"] == lapse
    assert "OrderSettled" not in tx.events  # nothing attested: back to awaiting the return's own timeouts
    assert escrow.order(order)["status"] == Status.RETURN_REQUESTED
    # The SLA kept running through the dispute: the unit was never inspected, the buyer is refunded in full.
    assert lapse > received + EU.inspection_sla
    s = settlement_of(escrow.claimUninspectedRefund(order, {"from": buyer}), UNINSPECTED)
    assert s["refund"] == TOTAL
    assert escrow.credits(ZERO_ADDRESS, buyer.address) == TOTAL
    shop.assert_solvent()


def _graded_c_twin(shop, escrow):
    """What an undisputed return of a used unit is paid: inspected as grade C, settled once its dispute
    window closes."""
    twin = shop.returned()
    shop.inspect(twin, U, C)
    next_block_at(escrow.order(twin)["disputeDeadline"] + 1)
    return settlement_of(escrow.finalize(twin, {"from": shop.builder.d.actors["charity"].account}), GRADED)


def test_a_buyers_dispute_before_inspection_does_not_keep_the_inspector_out(shop, escrow, actors, buyer):
    """Attack: the buyer returns a used unit (grade C: no cash) and, once the warehouse has received it,
    opens a dispute before the inspector's attestation lands, so that the inspection is refused; the
    arbiter stays silent past its time, the inspection SLA has run out meanwhile, and the buyer claims
    the uninspected refund: price and delivery for a used unit. The inspector attests during the dispute;
    the arbiter's silence settles by those facts, as the same return undisputed would be."""
    fair = _graded_c_twin(shop, escrow)
    order = shop.returned()
    opened = escrow.openDispute(order, {"from": buyer})
    tx = shop.inspect(order, U, C)
    assert "OrderSettled" not in tx.events and "OrderDisputed" not in tx.events
    o = escrow.order(order)
    assert (o["status"], o["facts"], o["grade"]) == (Status.DISPUTED, U, C)
    assert o["inspectorOrg"] == actors["inspector"].gln
    # One attestation is before the arbiter; no other inspection replaces it.
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.DISPUTED)):
        shop.inspect(order, S | P, A, inspector="inspector2")
    next_block_at(opened.timestamp + EU.arbiter_timeout + 1)
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.DISPUTED)):
        escrow.claimUninspectedRefund(order, {"from": buyer})
    s = settlement_of(escrow.settleLapsedDispute(order, {"from": buyer}), ARBITER_SILENT)
    assert (s["refund"], s["merchantAmount"], s["points"]) == (fair["refund"], fair["merchantAmount"], fair["points"])
    assert s["refund"] < TOTAL
    shop.assert_solvent()


def test_facts_attested_during_a_dispute_decide_the_statutory_refund(shop, escrow, buyer):
    """The EU variant: the statutory refund falls due while the dispute is open. The buyer's overdue
    claim is paid by the facts the inspector attested during it, not as an uninspected return."""
    fair = _graded_c_twin(shop, escrow)
    order = shop.returned()
    escrow.openDispute(order, {"from": buyer})
    shop.inspect(order, U, C)
    due = escrow.refundDueAt(order)
    assert due != 0
    next_block_at(due + 1)
    s = settlement_of(escrow.claimOverdueRefund(order, {"from": buyer}), OVERDUE)
    assert (s["refund"], s["merchantAmount"]) == (fair["refund"], fair["merchantAmount"])
    shop.assert_solvent()


def test_an_attestation_during_a_dispute_that_contradicts_itself_is_refused(shop, escrow, actors, buyer):
    order = shop.returned()
    escrow.openDispute(order, {"from": buyer})
    with brownie.reverts(err("ReturnEscrowGradeMismatch", order, A, C)):
        shop.inspect(order, U, A)  # used, claimed A
    assert escrow.order(order)["inspectorOrg"] == 0  # still open to a consistent attestation
    shop.inspect(order, U, C, nonce=escrow.getNonce(actors["inspector"].address))  # the refused one's nonce
    assert escrow.order(order)["grade"] == C


def test_the_house_that_attested_during_a_dispute_does_not_arbitrate_it(shop, escrow, policies, admin, actors, buyer):
    colleague = actors["inspector"].account
    policies.grantRole(policies.ARBITER_ROLE(), colleague.address, {"from": admin})
    order = shop.returned()
    escrow.openDispute(order, {"from": buyer})
    shop.inspect(order, U, C)
    with brownie.reverts(err("ReturnEscrowArbiterNotIndependent", order, colleague.address)):
        escrow.resolveDispute(order, U, 0, REASON, RULING, {"from": colleague})
    tx = escrow.resolveDispute(order, S | P, 0, REASON, RULING, {"from": actors["arbiter"].account})
    assert settlement_of(tx, ARBITRATED)["refund"] == TOTAL


@pytest.mark.parametrize("opener", ["brand", "buyer"])
def test_a_lapsed_dispute_is_not_opened_again(shop, escrow, actors, buyer, brand, opener):
    """Attack: a party opens a dispute before any inspection and opens it again each time it lapses
    (the merchant, so that the buyer's refund never falls due; the buyer, so that the merchant is never
    paid for a unit never sent). The arbiter's silence is bounded once, not for ever."""
    order = shop.returned()
    received = escrow.returnReceivedAt(order)
    who = {"brand": brand, "buyer": buyer}[opener]
    opened = escrow.openDispute(order, {"from": who})
    next_block_at(opened.timestamp + EU.arbiter_timeout + 1)
    escrow.settleLapsedDispute(order, {"from": who})
    for party in (brand, buyer):
        with brownie.reverts(err("ReturnEscrowAlreadyDisputed", order, opened.timestamp)):
            escrow.openDispute(order, {"from": party})
    # The fair outcome: the return's own timeouts run; nobody inspected it in its SLA: all back to the buyer.
    assert chain.time() > received + EU.inspection_sla
    s = settlement_of(escrow.claimUninspectedRefund(order, {"from": buyer}), UNINSPECTED)
    assert s["refund"] == TOTAL
    shop.assert_solvent()


def test_only_the_parties_open_a_dispute(shop, escrow, registry, admin, actors):
    order = shop.returned()
    # Staff of another organisation, and a stranger with no role, are neither party.
    registry.setActor(actors["buyer2"].address, Role.MERCHANT_STAFF, actors["carrier"].gln, {"from": admin})
    for who in ("buyer2", "stranger", "inspector"):
        with brownie.reverts(err("ReturnEscrowNotMerchantSide", order, actors[who].address)):
            escrow.openDispute(order, {"from": actors[who].account})
    assert escrow.order(order)["status"] == Status.RETURN_REQUESTED
    shop.inspect(order, S, B)
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.INSPECTED)):
        escrow.openDispute(order, {"from": actors["buyer"].account})


# ---------------------------------------------------------------- item 10: deadlines and the relayer


def test_receiving_scan_signed_in_time_and_relayed_late_still_blocks_the_release(shop, escrow, brand, buyer, monday):
    order, requested = request_on(shop, monday)
    deadline = requested + EU.delivery_timeout
    signed = deadline - HOUR
    # Attack: the merchant asks for the money the second the timeout passes, before the relayer
    # has submitted the warehouse's scan signed an hour before it.
    next_block_at(deadline + 1)
    with brownie.reverts(err("ReturnEscrowWindowOpen", order, deadline + EU.max_relay_delay)):
        escrow.releaseUnreturned(order, {"from": brand})
    # The scan is relayed half a day late, within the relay delay: it counts at its signed time.
    receive_at(shop, order, signed, relayed=deadline + 12 * HOUR)
    assert escrow.returnReceivedAt(order) == signed
    next_block_at(deadline + EU.max_relay_delay + 1)
    with brownie.reverts(err("ReturnEscrowAlreadyReturned", order, signed)):
        escrow.releaseUnreturned(order, {"from": brand})
    # Never inspected within the SLA from the signed receipt: the buyer is refunded in full.
    sla_end = signed + EU.inspection_sla
    tx = opens_after(
        sla_end,
        err("ReturnEscrowSlaNotElapsed", order, sla_end),
        lambda: escrow.claimUninspectedRefund(order, {"from": buyer}),
    )
    assert settlement_of(tx, UNINSPECTED)["refund"] == TOTAL
    shop.assert_solvent()


def test_delivery_signed_in_time_and_relayed_late_still_blocks_the_cancellation(shop, escrow, buyer, brand):
    order = shop.buy()
    purchased = escrow.order(order)["purchasedAt"]
    deadline = purchased + EU.delivery_timeout
    # Attack: the buyer cancels as "undelivered" the second the timeout passes, ahead of the relayer.
    next_block_at(deadline + 1)
    with brownie.reverts(err("ReturnEscrowWindowOpen", order, deadline + EU.max_relay_delay)):
        escrow.cancelUndelivered(order, {"from": buyer})
    next_block_at(deadline + 12 * HOUR)
    shop.deliver(order, **signed_at(deadline - HOUR))
    next_block_at(deadline + EU.max_relay_delay + 1)
    with brownie.reverts(err("ReturnEscrowAlreadyDelivered", order, deadline - HOUR)):
        escrow.cancelUndelivered(order, {"from": buyer})
    assert escrow.order(order)["status"] == Status.ACTIVE  # the merchant keeps the sale it delivered
    shop.assert_solvent()


def test_scan_relayed_later_than_the_relay_delay_counts_from_its_recording(shop, escrow, monday):
    """A receiving scan held back a week and signed with its early time cannot start the inspection
    SLA a week early: it counts at its recording less the relay delay."""
    order, requested = request_on(shop, monday)
    signed, relayed = requested + 2 * DAY, requested + 9 * DAY
    receive_at(shop, order, signed, relayed=relayed)
    assert escrow.returnReceivedAt(order) == relayed - EU.max_relay_delay
    # The inspector still has its full SLA from then: an inspection on day 12 is in time.
    next_block_at(relayed - EU.max_relay_delay + EU.inspection_sla)
    assert "OrderSettled" in shop.inspect(order, S | P, A, deadline=relayed + 10 * DAY).events
    shop.assert_solvent()


def test_receiving_scan_made_before_the_request_is_not_the_receipt(shop, escrow, record, buyer, monday):
    """A warehouse that scans the RMA in before the buyer asked (so that an inspection could grade a
    unit that never came back) proves nothing: the inspection is refused, and the buyer's carrier
    pickup still makes the refund due."""
    order = shop.buy()
    next_block_at(monday + 10 * HOUR)
    shop.deliver(order, **signed_at(monday + 10 * HOUR))
    receive_at(shop, order, monday + 10 * HOUR + 60)  # the RMA is known before the request
    next_block_at(monday + 11 * HOUR)
    shop.request_return(order)
    assert escrow.returnReceivedAt(order) == 0
    with brownie.reverts(err("ReturnEscrowNotReturned", order)):
        shop.inspect(order, U, C, deadline=monday + 12 * HOUR)
    pickup_at(shop, record, order, monday + DAY)
    next_block_at(monday + EU_END + 1)
    assert settlement_of(escrow.claimOverdueRefund(order, {"from": buyer}), OVERDUE)["refund"] == TOTAL
    shop.assert_solvent()


def test_the_real_receipt_after_a_scan_made_before_the_request_counts(shop, escrow, brand, monday):
    """The parcel reached the warehouse before the buyer filed the request (or the warehouse scanned
    the predictable RMA early). That scan proves nothing; the warehouse's scan after the request is
    the receipt: it starts the inspection SLA, and the merchant is never paid for the unit as
    unreturned. Once a scan counts, a later one cannot move the deadline it started."""
    order = shop.buy()
    next_block_at(monday + 10 * HOUR)
    shop.deliver(order, **signed_at(monday + 10 * HOUR))
    receive_at(shop, order, monday + 10 * HOUR + 60)
    next_block_at(monday + 11 * HOUR)
    shop.request_return(order)
    assert escrow.returnReceivedAt(order) == 0
    received = monday + 2 * DAY
    receive_at(shop, order, received)
    assert escrow.returnReceivedAt(order) == received
    receive_at(shop, order, monday + 3 * DAY)  # a second scan after the receipt: the first one stands
    assert escrow.returnReceivedAt(order) == received
    next_block_at(monday + 11 * HOUR + EU.delivery_timeout + EU.max_relay_delay + 1)
    with brownie.reverts(err("ReturnEscrowAlreadyReturned", order, received)):
        escrow.releaseUnreturned(order, {"from": brand})
    shop.assert_solvent()


def bought_after_a_made_up_delivery(shop, escrow, record, buyer, at):
    """Order references are predictable: a carrier records a delivery of a listed unit under the next
    order's reference at `at`, and the buyer buys it an hour later. Returns the order."""
    shop.list_unit()
    unit = gs1.unit_id(GTIN_INT, serial_of(shop))
    upcoming = escrow.orderCount() + 1
    next_block_at(at)
    record(
        unit,
        BizStep.DELIVERING,
        "carrier",
        Disposition.DELIVERED,
        bizTransaction=escrow.orderRef(upcoming),
        **signed_at(at),
    )
    next_block_at(at + HOUR)
    order = escrow.purchase(unit, listing_terms(escrow, unit), False, {"from": buyer, "value": TOTAL}).return_value
    assert order == upcoming
    return order


def test_a_delivery_scan_recorded_before_the_purchase_does_not_start_the_return_period(shop, escrow, record, monday):
    """Order references are predictable. A carrier records a delivery under the next order's reference
    before anyone bought (so that the return period would start at the purchase, days before the
    parcel arrives): the real delivery scan after the purchase counts, and the period runs from it."""
    order = bought_after_a_made_up_delivery(shop, escrow, record, shop.actors["buyer"].account, monday)
    assert escrow.deliveredAt(order) == 0  # the early scan proves no delivery
    arrived = monday + 5 * DAY
    next_block_at(arrived)
    shop.deliver(order, **signed_at(arrived))
    assert escrow.deliveredAt(order) == arrived
    assert (
        escrow.returnWindowCloses(order) == arrived + EU.return_window
    )  # the policy's 30 days outlast the law's 14, from the real delivery
    shop.assert_solvent()


def test_a_delivery_made_up_before_the_purchase_does_not_pay_for_goods_never_sent(shop, escrow, record, actors, monday):
    """Attack: a carrier (or a brand that is also accredited as one) records a delivery under the
    next order's predictable reference; the merchant never ships. That scan must not stop the buyer
    cancelling, nor let the merchant be paid once a return period counted from the purchase ends."""
    buyer = actors["buyer"].account
    order = bought_after_a_made_up_delivery(shop, escrow, record, buyer, monday)
    assert escrow.deliveredAt(order) == 0
    cancellable = monday + HOUR + EU.delivery_timeout + EU.max_relay_delay
    next_block_at(cancellable + EU.return_window)
    with brownie.reverts(err("ReturnEscrowNotDelivered", order)):
        escrow.release(order, {"from": actors["stranger"].account})
    # The fair outcome: the buyer cancels the undelivered order and gets everything back.
    tx = escrow.cancelUndelivered(order, {"from": buyer})
    assert tx.events["OrderCancelled"]["refund"] == TOTAL
    assert escrow.credits(ZERO_ADDRESS, buyer.address) == TOTAL
    shop.assert_solvent()


# ---------------------------------------------------------------- gap: an inspector may be the buyer


def test_buyer_accredited_as_inspector_cannot_inspect_their_own_return(shop, escrow, registry, admin, actors):
    order = shop.returned()
    registry.setActor(actors["buyer"].address, Role.INSPECTOR, actors["buyer"].gln, {"from": admin})
    with brownie.reverts(err("ReturnEscrowInspectorNotIndependent", actors["buyer"].address, actors["buyer"].gln)):
        shop.inspect(order, S | P, A, inspector="buyer")
    assert escrow.order(order)["status"] == Status.RETURN_REQUESTED
    shop.assert_solvent()


def test_inspector_of_the_buyers_organisation_is_refused(shop, escrow, registry, admin, actors):
    # The buyer works for the inspection house of inspector2 (a member without roles).
    registry.setActor(actors["buyer"].address, 0, actors["inspector2"].gln, {"from": admin})
    order = shop.returned()
    with brownie.reverts(
        err("ReturnEscrowInspectorNotIndependent", actors["inspector2"].address, actors["inspector2"].gln)
    ):
        shop.inspect(order, S | P, A, inspector="inspector2")
    shop.inspect(order, S | P, A)  # another house may
    assert escrow.order(order)["status"] == Status.SETTLED
    shop.assert_solvent()


# ---------------------------------------------------------------- item 9: back to stock only after an inspection


def relist(escrow, brand, serial, gtin=GTIN_INT):
    return escrow.list(gtin, serial, MARKET_EU, ZERO_ADDRESS, PRICE, DEL, RET, {"from": brand})


def test_uninspected_timeout_refund_does_not_put_the_unit_back_on_sale(shop, escrow, actors, brand, buyer):
    order = shop.returned()
    serial, unit = serial_of(shop), shop.unit(order)
    chain.sleep(EU.inspection_sla + 1)
    escrow.claimUninspectedRefund(order, {"from": buyer})
    # Attack: the merchant relists the unit nobody inspected (it may be used) for the next buyer.
    with brownie.reverts(err("ReturnEscrowUnitUnavailable", unit, order)):
        relist(escrow, brand, serial)
    # An inspection that attests it unused, sealed and packaged sends it back to stock.
    tx = shop.inspect(order, S | P, A)
    assert tx.events["DispositionDecided"]["disposition"] == UnitDisposition.RESTOCK
    relist(escrow, brand, serial)
    assert escrow.listing(unit)["merchant"] == brand.address
    shop.assert_solvent()


def test_hygiene_unit_with_a_broken_seal_does_not_go_back_to_stock(
    shop, escrow, policies, admin, brand, buyer, plain_gtin
):
    """Even under terms that restock grade B, an unsealed hygiene unit never goes back on sale
    (the seal broken, unused: v1 restocked it). A plain unit with the same facts does."""
    terms = (EU.terms[0], GradeTerms(8_000, 0, False, UnitDisposition.RESTOCK), EU.terms[2])
    policies.setPolicy(MARKET_EU, replace(EU, terms=terms).as_tuple(), {"from": admin})
    units = {}
    for gtin in (GTIN_INT, plain_gtin):
        order = shop.returned(gtin=gtin)
        units[gtin] = (order, serial_of(shop), shop.unit(order))
        shop.inspect(order, P, B)  # packaging intact, seal broken, not used
        escrow.acceptInspection(order, {"from": buyer})
    order, serial, unit = units[GTIN_INT]
    with brownie.reverts(err("ReturnEscrowUnitUnavailable", unit, order)):
        relist(escrow, brand, serial)
    order, serial, unit = units[plain_gtin]
    relist(escrow, brand, serial, gtin=plain_gtin)
    assert escrow.listing(unit)["merchant"] == brand.address
    shop.assert_solvent()


# ---------------------------------------------------------------- means of payment


@pytest.mark.parametrize("attested", [20, 50], ids=["within-cap", "above-cap"])
def test_used_unit_withdrawn_in_the_eu_is_refunded_in_cash_less_the_capped_diminished_value(
    shop, escrow, points, actors, token, brand, buyer, plain_gtin, attested
):
    """Issue 9 item 6: a used stroller returned within 14 days used to pay delivery - return fee in
    cash and 30 % of the price in points. EU Art. 13(1), 14(2): cash in the purchase currency, less
    only the attested diminished value (capped at the policy's 30 %) and the return shipping the
    buyer was told of; the grade's points come on top, never instead."""
    price, fee, ret = 100 * 10**6, 5 * 10**6, 3 * 10**6
    order = shop.returned(gtin=plain_gtin, token=token, price=price, delivery_fee=fee, return_fee=ret)
    value = price * attested // 100
    shop.inspect(order, U | S | P, C, diminishedValue=value)
    s = settlement_of(escrow.acceptInspection(order, {"from": buyer}), GRADED)
    diminished = min(value, price * EU.max_diminished_bps // 10_000)
    refund = price + fee - diminished - ret
    assert (s["statutory"], s["refund"], s["diminished"], s["shippingDeducted"]) == (True, refund, diminished, ret)
    assert (s["points"], s["voucher"], s["merchantAmount"]) == (
        price * EU.terms[2].points_bps // 10_000,
        0,
        price + fee - refund,
    )
    assert escrow.credits(token, buyer.address) == refund
    assert escrow.credits(ZERO_ADDRESS, buyer.address) == 0
    assert points.pointsOf(buyer.address, brand.address, token.address) == s["points"]
    shop.assert_solvent(token)


def test_merchant_cannot_turn_a_cash_refund_into_a_voucher(shop, escrow, points, actors, brand, buyer):
    order = shop.returned()  # the buyer asked for cash
    for who in (brand, actors["stranger"].account):
        with brownie.reverts(err("ReturnEscrowNotBuyer", order, who.address)):
            escrow.chooseRemedy(order, Remedy.EXCHANGE, {"from": who})
    s = settlement_of(shop.inspect(order, S | P, A), GRADED)
    assert (s["refund"], s["voucher"], s["points"]) == (TOTAL, 0, 0)
    assert points.pointsOf(buyer.address, brand.address, ZERO_ADDRESS) == 0
    shop.assert_solvent()


def test_exchange_is_revocable_until_the_refund_is_paid(shop, escrow, points, brand, buyer):
    order = shop.buy()
    shop.deliver(order)
    shop.request_return(order, remedy=Remedy.EXCHANGE)  # the buyer chose the voucher
    shop.receive(order)
    shop.inspect(order, S, B)
    quoted = escrow.quote(order, B, S, 0)  # what the voucher would be: the statutory B refund plus 5 %
    assert (quoted["refund"], quoted["voucher"]) == (0, voucher(TOTAL - RET, EU.exchange_bonus_bps))
    escrow.chooseRemedy(order, Remedy.REFUND, {"from": buyer})  # and changes their mind before it is paid
    s = settlement_of(escrow.acceptInspection(order, {"from": buyer}), GRADED)
    assert (s["refund"], s["voucher"], s["points"]) == (TOTAL - RET, 0, 0)
    assert points.pointsOf(buyer.address, brand.address, ZERO_ADDRESS) == 0
    with brownie.reverts(err("ReturnEscrowInvalidStatus", order, Status.SETTLED)):
        escrow.chooseRemedy(order, Remedy.EXCHANGE, {"from": buyer})
    shop.assert_solvent()
