"""Charities and recyclers close a unit's lifecycle: partner dispositions, and no event after a closing one."""

import brownie
import pytest

from returntrace import eip712, hashchain
from returntrace.vocab import BizStep, Disposition, Role, closes
from tests.support import err


def test_charity_receipt_donates_and_closes_the_unit(registry, commission, record, event, sign_events, relayer, actors):
    unit = commission()
    before = registry.unitRecord(unit)
    item = event(unit, BizStep.RECEIVING, "charity", Disposition.DONATED)
    message, sig = sign_events("charity", [item])
    registry.record([eip712.call_args("EventBatch", message, sig)], {"from": relayer})
    expected = hashchain.link(before, actors["charity"].address, eip712.struct_hash("LifecycleEvent", item), closes=True)
    assert registry.unitRecord(unit) == expected
    assert expected & (1 << 31)
    assert registry.isClosed(unit)
    assert registry.eventCount(unit) == 2
    assert hashchain.count_of(expected) == 2 and hashchain.is_closed(expected)


def test_recycler_closes_with_recycled(registry, commission, record):
    unit = commission()
    record(unit, BizStep.RECEIVING, "recycler", Disposition.RECYCLED)
    assert registry.isClosed(unit)


@pytest.mark.parametrize("actor", ["warehouse", "recycler"])
def test_only_a_charity_signs_donated(commission, record, actors, actor):
    unit = commission()
    with brownie.reverts(err("TraceRegistryDispositionNotAllowed", actors[actor].address, int(Disposition.DONATED))):
        record(unit, BizStep.RECEIVING, actor, Disposition.DONATED)


@pytest.mark.parametrize("actor", ["warehouse", "charity"])
def test_only_a_recycler_signs_recycled(commission, record, actors, actor):
    unit = commission()
    with brownie.reverts(err("TraceRegistryDispositionNotAllowed", actors[actor].address, int(Disposition.RECYCLED))):
        record(unit, BizStep.RECEIVING, actor, Disposition.RECYCLED)


def test_an_actor_holding_both_roles_may_sign_the_partner_disposition(registry, commission, record, actors, admin):
    warehouse = actors["warehouse"]
    registry.setActor(warehouse.address, int(Role.WAREHOUSE | Role.CHARITY), warehouse.gln, {"from": admin})
    unit = commission()
    record(unit, BizStep.RECEIVING, "warehouse", Disposition.DONATED)
    assert registry.isClosed(unit)


CLOSING = [
    (BizStep.DESTROYING, "recycler", Disposition.DESTROYED),
    (BizStep.DESTROYING, "warehouse", Disposition.DESTROYED),
    (BizStep.RECEIVING, "charity", Disposition.DONATED),
    (BizStep.RECEIVING, "recycler", Disposition.RECYCLED),
    (BizStep.DECOMMISSIONING, "brand", Disposition.INACTIVE),
    (BizStep.DECOMMISSIONING, "recycler", Disposition.NONE),
]


@pytest.mark.parametrize("step, actor, disposition", CLOSING, ids=lambda x: getattr(x, "name", x))
def test_closing_event_blocks_every_later_event(registry, commission, record, actors, step, actor, disposition):
    unit = commission()
    record(unit, step, actor, disposition)
    assert registry.isClosed(unit)
    count = registry.eventCount(unit)
    with brownie.reverts(err("TraceRegistryUnitClosed", unit)):
        record(unit, BizStep.STORING, "warehouse", Disposition.SELLABLE_ACCESSIBLE)
    with brownie.reverts(err("TraceRegistryUnitClosed", unit)):
        record(unit, step, actor, disposition, nonce=registry.getNonce(actors[actor].address))
    assert registry.eventCount(unit) == count


def test_other_events_do_not_close(registry, commission, record):
    unit = commission()
    record(unit, BizStep.DESTROYING, "recycler", Disposition.IN_PROGRESS)
    record(unit, BizStep.RECEIVING, "warehouse", Disposition.RETURNED)
    record(unit, BizStep.INSPECTING, "inspector", Disposition.DAMAGED)
    assert not registry.isClosed(unit)
    assert registry.eventCount(unit) == 4


def test_closing_inside_a_batch_blocks_the_rest_of_it(registry, commission, event, sign_events, relayer):
    unit = commission()
    items = [event(unit, BizStep.RECEIVING, "recycler", Disposition.RECYCLED), event(unit, BizStep.DESTROYING, "recycler", Disposition.DESTROYED)]
    message, sig = sign_events("recycler", items)
    with brownie.reverts(err("TraceRegistryUnitClosed", unit)):
        registry.record([eip712.call_args("EventBatch", message, sig)], {"from": relayer})
    assert not registry.isClosed(unit)


def test_client_closing_rule_matches_the_contract(registry, commission, record, actors, admin):
    """returntrace.vocab.closes against the contract, for every disposition a recycler may sign."""
    recycler = actors["recycler"]
    registry.setActor(recycler.address, int(Role.RECYCLER | Role.CHARITY | Role.WAREHOUSE), recycler.gln, {"from": admin})
    for d in Disposition:
        unit = commission(f"CL-{int(d)}")
        record(unit, BizStep.RECEIVING, "recycler", d)
        assert registry.isClosed(unit) == closes(BizStep.RECEIVING, d), d
    assert closes(BizStep.DECOMMISSIONING, Disposition.NONE)
    assert not closes(BizStep.DESTROYING, Disposition.IN_PROGRESS)


def test_closed_flag_is_invisible_to_the_count(registry, commission, record):
    unit = commission()
    record(unit, BizStep.RECEIVING, "charity", Disposition.DONATED)
    assert registry.eventCount(unit) == 2
    assert registry.unitRecord(unit) & 0xFFFFFFFF == (1 << 31) | 2
