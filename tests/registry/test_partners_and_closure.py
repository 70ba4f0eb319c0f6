"""Charities and recyclers close a unit's lifecycle: partner dispositions, and no event after a closing one.

A closing event is the last of a unit's life, so the registry asks the escrow (its close guard) first:
a partner closes only a unit whose settled order's grade terms sent it there (see destined in
tests/registry/conftest.py), and the brand closes only its own stock, through decommission()
(tests/registry/test_custody_and_closing.py covers who may close what)."""

import brownie
import pytest

from returntrace import eip712, hashchain
from returntrace.escrow import UnitDisposition
from returntrace.vocab import BizStep, Disposition, Role, closes
from tests.support import err

DONATE, RECYCLE, DESTROY = UnitDisposition.DONATE, UnitDisposition.RECYCLE, UnitDisposition.DESTROY


def test_charity_receipt_donates_and_closes_the_unit(registry, destined, event, sign_events, relayer, actors):
    unit = destined(DONATE)
    before = registry.unitRecord(unit)
    item = event(unit, BizStep.RECEIVING, "charity", Disposition.DONATED)
    message, sig = sign_events("charity", [item])
    registry.record([eip712.call_args("EventBatch", message, sig)], {"from": relayer})
    expected = hashchain.link(
        before, actors["charity"].address, eip712.struct_hash("LifecycleEvent", item), closes=True
    )
    assert registry.unitRecord(unit) == expected
    assert expected & (1 << 31)
    assert registry.isClosed(unit)
    assert registry.eventCount(unit) == hashchain.count_of(before) + 1
    assert hashchain.count_of(expected) == hashchain.count_of(before) + 1 and hashchain.is_closed(expected)


def test_recycler_closes_with_recycled(registry, destined, record):
    unit = destined(RECYCLE)
    record(unit, BizStep.RECEIVING, "recycler", Disposition.RECYCLED)
    assert registry.isClosed(unit)


@pytest.mark.parametrize("actor", ["warehouse", "recycler"])
def test_only_a_charity_signs_donated(destined, record, actors, actor):
    unit = destined(DONATE)  # the unit may be donated: only the signer's role is wrong
    with brownie.reverts(err("TraceRegistryDispositionNotAllowed", actors[actor].address, int(Disposition.DONATED))):
        record(unit, BizStep.RECEIVING, actor, Disposition.DONATED)


@pytest.mark.parametrize("actor", ["warehouse", "charity"])
def test_only_a_recycler_signs_recycled(destined, record, actors, actor):
    unit = destined(RECYCLE)
    with brownie.reverts(err("TraceRegistryDispositionNotAllowed", actors[actor].address, int(Disposition.RECYCLED))):
        record(unit, BizStep.RECEIVING, actor, Disposition.RECYCLED)


def test_an_actor_holding_both_roles_may_sign_the_partner_disposition(registry, destined, record, actors, admin):
    warehouse = actors["warehouse"]
    registry.setActor(warehouse.address, int(Role.WAREHOUSE | Role.CHARITY), warehouse.gln, {"from": admin})
    unit = destined(DONATE)
    record(unit, BizStep.RECEIVING, "warehouse", Disposition.DONATED)
    assert registry.isClosed(unit)


# Issue 9: the partners' closings need a settled order that sent the unit there; the brand's
# decommissioning of its stock has its own call (decommission(), below), no longer an EventBatch step.
CLOSING = [
    (BizStep.DESTROYING, "recycler", Disposition.DESTROYED, DESTROY),
    (BizStep.DESTROYING, "warehouse", Disposition.DESTROYED, DESTROY),
    (BizStep.RECEIVING, "charity", Disposition.DONATED, DONATE),
    (BizStep.RECEIVING, "recycler", Disposition.RECYCLED, RECYCLE),
]


@pytest.mark.parametrize("step, actor, disposition, destination", CLOSING, ids=lambda x: getattr(x, "name", x))
def test_closing_event_blocks_every_later_event(
    registry, destined, record, actors, step, actor, disposition, destination
):
    unit = destined(destination)
    record(unit, step, actor, disposition)
    assert registry.isClosed(unit)
    count = registry.eventCount(unit)
    with brownie.reverts(err("TraceRegistryUnitClosed", unit)):
        record(unit, BizStep.STORING, "warehouse", Disposition.SELLABLE_ACCESSIBLE)
    with brownie.reverts(err("TraceRegistryUnitClosed", unit)):
        record(unit, step, actor, disposition, nonce=registry.getNonce(actors[actor].address))
    assert registry.eventCount(unit) == count


def test_decommissioning_blocks_every_later_event(registry, commission, decommission, record, actors):
    unit = commission("DEC-1")
    decommission("DEC-1")
    assert registry.isClosed(unit)
    count = registry.eventCount(unit)
    with brownie.reverts(err("TraceRegistryUnitClosed", unit)):
        record(unit, BizStep.STORING, "warehouse", Disposition.SELLABLE_ACCESSIBLE)
    with brownie.reverts(err("TraceRegistryUnitClosed", unit)):
        decommission("DEC-1")
    assert registry.eventCount(unit) == count


@pytest.mark.parametrize("actor", ["brand", "recycler"])
def test_decommissioning_is_no_longer_an_event_anyone_signs(registry, commission, record, actor):
    # Issue 9: it was signable by any brand or recycler on any unit; now only the brand's decommission() closes its
    # stock.
    unit = commission()
    with brownie.reverts(err("TraceRegistryInvalidStep", int(BizStep.DECOMMISSIONING))):
        record(unit, BizStep.DECOMMISSIONING, actor, Disposition.INACTIVE)
    assert not registry.isClosed(unit)


def test_other_events_do_not_close(registry, commission, record):
    unit = commission()
    record(unit, BizStep.DESTROYING, "recycler", Disposition.IN_PROGRESS)
    record(unit, BizStep.RECEIVING, "warehouse", Disposition.RETURNED)
    record(unit, BizStep.INSPECTING, "inspector", Disposition.DAMAGED)
    assert not registry.isClosed(unit)
    assert registry.eventCount(unit) == 4


def test_closing_inside_a_batch_blocks_the_rest_of_it(registry, destined, event, sign_events, relayer):
    unit = destined(RECYCLE)
    count = registry.eventCount(unit)
    items = [
        event(unit, BizStep.RECEIVING, "recycler", Disposition.RECYCLED),
        event(unit, BizStep.DESTROYING, "recycler", Disposition.DESTROYED),
    ]
    message, sig = sign_events("recycler", items)
    with brownie.reverts(err("TraceRegistryUnitClosed", unit)):
        registry.record([eip712.call_args("EventBatch", message, sig)], {"from": relayer})
    assert not registry.isClosed(unit)
    assert registry.eventCount(unit) == count


def test_client_closing_rule_matches_the_contract(registry, commission, destined, record, actors, admin):
    """returntrace.vocab.closes against the contract, for every disposition a recycler may sign. The
    closing ones are signed on units a settled order sent to that end, so that the close guard allows them."""
    recycler = actors["recycler"]
    registry.setActor(
        recycler.address, int(Role.RECYCLER | Role.CHARITY | Role.WAREHOUSE), recycler.gln, {"from": admin}
    )
    settled = {Disposition.DONATED: DONATE, Disposition.RECYCLED: RECYCLE, Disposition.DESTROYED: DESTROY}
    for d in Disposition:
        unit = destined(settled[d]) if d in settled else commission(f"CL-{int(d)}")
        record(unit, BizStep.RECEIVING, "recycler", d)
        assert registry.isClosed(unit) == closes(BizStep.RECEIVING, d), d
    assert closes(BizStep.DECOMMISSIONING, Disposition.NONE)
    assert not closes(BizStep.DESTROYING, Disposition.IN_PROGRESS)


def test_closed_flag_is_invisible_to_the_count(registry, commission, decommission):
    unit = commission("FLAG-1")
    decommission("FLAG-1")
    assert registry.eventCount(unit) == 2
    assert registry.unitRecord(unit) & 0xFFFFFFFF == (1 << 31) | 2
