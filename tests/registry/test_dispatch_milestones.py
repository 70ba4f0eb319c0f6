"""The buyer's proof of dispatch (EU 2011/83 Art. 13(3)): a carrier's pickup of a return is recorded as
milestone Dispatched, under the RMA for an Accepting scan, and under the zero reference for each unit
a carrier packs into a parcel with disposition Returned (there the first packing since the unit's current
return request counts). Every milestone records when the chain recorded it (recordedAt), from which the
escrow bounds relay delays."""

import pytest
from brownie import chain

from returntrace import gs1
from returntrace.vocab import AggregationAction, BizStep, Disposition, Role
from tests.registry.conftest import sscc
from tests.support import GLN_CARRIER, ZERO32, plain

DELIVERED, RETURN_RECEIVED, DISPATCHED = 0, 1, 2  # ITraceRegistry.Milestone
RMA = b"\x03" * 32
PARCEL = sscc(21)
NONE = (0, 0, 0, 0)


def test_carrier_accepting_under_the_rma_records_dispatch(registry, commission, record, actors):
    unit = commission()
    at = chain.time() - 40
    tx = record(unit, BizStep.ACCEPTING, "carrier", Disposition.RETURNED, bizTransaction=RMA, eventTime=at)
    assert plain(registry.milestone(unit, RMA, DISPATCHED)) == (at, GLN_CARRIER, actors["carrier"].gln, tx.timestamp)
    assert registry.milestoneAt(unit, RMA, DISPATCHED) == at
    # Only the dispatch: not a receipt, and nothing under another reference.
    assert plain(registry.milestone(unit, RMA, RETURN_RECEIVED)) == NONE
    assert plain(registry.milestone(unit, ZERO32, DISPATCHED)) == NONE


def test_the_first_pickup_scan_counts(registry, commission, record):
    unit = commission()
    first = chain.time() - 100
    tx = record(unit, BizStep.ACCEPTING, "carrier", Disposition.RETURNED, bizTransaction=RMA, eventTime=first)
    chain.sleep(60)
    record(unit, BizStep.ACCEPTING, "carrier", Disposition.RETURNED, bizTransaction=RMA, eventTime=chain.time())
    kept = plain(registry.milestone(unit, RMA, DISPATCHED))
    assert kept[0] == first and kept[3] == tx.timestamp  # a later scan cannot move the deadline


@pytest.mark.parametrize(
    "step, actor, reference",
    [
        (BizStep.ACCEPTING, "warehouse", RMA),  # the merchant's side accepting is not the buyer's proof
        (BizStep.ACCEPTING, "carrier", ZERO32),  # no reference: no order to prove it for
        (BizStep.ARRIVING, "carrier", RMA),  # another step of the carrier
        (BizStep.SHIPPING, "carrier", RMA),
    ],
    ids=["warehouse-accepting", "no-reference", "arriving", "shipping"],
)
def test_other_scans_record_no_dispatch(registry, commission, record, step, actor, reference):
    unit = commission()
    record(unit, step, actor, Disposition.RETURNED, bizTransaction=reference)
    assert plain(registry.milestone(unit, reference, DISPATCHED)) == NONE


def test_dispatch_time_is_capped_at_the_block(registry, commission, record):
    unit = commission()
    ahead = chain.time() + 200  # inside the allowed clock skew
    tx = record(unit, BizStep.ACCEPTING, "carrier", Disposition.RETURNED, bizTransaction=RMA, eventTime=ahead)
    assert plain(registry.milestone(unit, RMA, DISPATCHED))[0::3] == (tx.timestamp, tx.timestamp)


def test_carrier_packing_returned_units_records_dispatch_for_each(registry, commission, aggregate, actors):
    units = [commission(f"RET{i}") for i in range(3)]
    at = chain.time() - 30
    tx = aggregate(PARCEL, units, disposition=Disposition.RETURNED, eventTime=at)
    for u in units:
        assert plain(registry.milestone(u, ZERO32, DISPATCHED)) == (
            at,
            GLN_CARRIER,
            actors["carrier"].gln,
            tx.timestamp,
        )
    # The parcel itself is not a unit anyone returns.
    assert plain(registry.milestone(gs1.parcel_id(PARCEL), ZERO32, DISPATCHED)) == NONE


def test_the_latest_packing_counts(registry, commission, aggregate):
    """Under the zero reference the latest packing counts: a unit packed as returned long ago (an
    earlier return) must not date a later one."""
    unit = commission()
    aggregate(PARCEL, [unit], disposition=Disposition.RETURNED, eventTime=chain.time() - 500)
    aggregate(PARCEL, [unit], AggregationAction.DELETE)
    chain.sleep(100)
    later = chain.time() - 10
    tx = aggregate(sscc(22), [unit], disposition=Disposition.RETURNED, eventTime=later)
    rec = plain(registry.milestone(unit, ZERO32, DISPATCHED))
    assert rec[0] == later and rec[3] == tx.timestamp


def test_the_first_packing_after_the_request_counts(registry, escrow, shop, aggregate):
    """A packing recorded before the unit's return request (here before the buyer asked) proves nothing
    of this return and gives way; the first packing after the request counts, and a repacking cannot
    move it (the escrow's scanPredatesOrder answers for the zero reference)."""
    order = shop.buy()
    shop.deliver(order)
    unit = shop.unit(order)
    aggregate(PARCEL, [unit], disposition=Disposition.RETURNED, eventTime=chain.time() - 10)
    aggregate(PARCEL, [unit], AggregationAction.DELETE)
    chain.sleep(60)
    requested = shop.request_return(order).timestamp
    chain.sleep(60)
    first = chain.time() - 10
    tx = aggregate(sscc(22), [unit], disposition=Disposition.RETURNED, eventTime=first)
    chain.sleep(60)
    aggregate(sscc(22), [unit], AggregationAction.DELETE)
    aggregate(PARCEL, [unit], disposition=Disposition.RETURNED, eventTime=chain.time() - 10)
    rec = plain(registry.milestone(unit, ZERO32, DISPATCHED))
    assert rec[0] == first and rec[3] == tx.timestamp
    assert escrow.dispatchedAt(order) == first
    assert escrow.scanPredatesOrder(unit, ZERO32, requested - 1)
    assert not escrow.scanPredatesOrder(unit, ZERO32, requested)


@pytest.mark.parametrize(
    "actor, action, disposition",
    [
        ("warehouse", AggregationAction.ADD, Disposition.RETURNED),  # not a carrier
        ("brand", AggregationAction.ADD, Disposition.RETURNED),
        ("carrier", AggregationAction.ADD, Disposition.IN_PROGRESS),  # not packed as returned
        ("carrier", AggregationAction.DELETE, Disposition.RETURNED),  # unpacking is no pickup
    ],
    ids=["warehouse", "brand", "carrier-in-progress", "carrier-unpacking"],
)
def test_other_packings_record_no_dispatch(registry, commission, aggregate, actor, action, disposition):
    unit = commission()
    if action == AggregationAction.DELETE:
        aggregate(PARCEL, [unit], actor="warehouse")
    aggregate(PARCEL, [unit], action, actor=actor, disposition=disposition)
    assert plain(registry.milestone(unit, ZERO32, DISPATCHED)) == NONE


def test_an_actor_that_is_also_a_carrier_records_dispatch(registry, commission, aggregate, actors, admin):
    warehouse = actors["warehouse"]
    registry.setActor(warehouse.address, int(Role.WAREHOUSE | Role.CARRIER), warehouse.gln, {"from": admin})
    unit = commission()
    tx = aggregate(PARCEL, [unit], actor="warehouse", disposition=Disposition.RETURNED)
    assert plain(registry.milestone(unit, ZERO32, DISPATCHED))[1:] == (warehouse.gln, warehouse.gln, tx.timestamp)
