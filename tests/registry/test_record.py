import brownie
import pytest
from brownie import chain

from returntrace import eip712, hashchain
from returntrace.vocab import STEP_ROLES, BizStep, Disposition, Role
from tests.support import GLN_WAREHOUSE, ZERO32, err

ROLE_ACTOR = {
    Role.BRAND: "brand",
    Role.CARRIER: "carrier",
    Role.WAREHOUSE: "warehouse",
    Role.INSPECTOR: "inspector",
    Role.CHARITY: "charity",
    Role.RECYCLER: "recycler",
}
# Commissioning and decommissioning have calls of their own (commission, decommission): no EventBatch signs them.
RECORDABLE = [s for s in BizStep if s not in (BizStep.COMMISSIONING, BizStep.DECOMMISSIONING)]


def test_record_extends_the_chain(registry, commission, event, sign_events, relayer, actors):
    unit = commission()
    before = registry.unitRecord(unit)
    item = event(
        unit, BizStep.SHIPPING, "carrier", Disposition.IN_TRANSIT, evidence=b"\x07" * 32, bizTransaction=b"\x08" * 32
    )
    message, sig = sign_events("carrier", [item])
    tx = registry.record([eip712.call_args("EventBatch", message, sig)], {"from": relayer})
    expected = hashchain.link(before, actors["carrier"].address, eip712.struct_hash("LifecycleEvent", item))
    assert registry.unitRecord(unit) == expected
    assert registry.eventCount(unit) == 2
    ev = tx.events["EventRecorded"]
    assert ev["unitId"] == "0x" + unit.hex()
    assert ev["signer"] == actors["carrier"].address
    assert ev["bizStep"] == BizStep.SHIPPING
    assert ev["disposition"] == Disposition.IN_TRANSIT
    assert ev["location"] == item["location"]
    assert ev["eventTime"] == item["eventTime"]
    assert ev["evidence"] == "0x" + "07" * 32
    assert ev["bizTransaction"] == "0x" + "08" * 32


def test_one_signature_records_a_scanning_session(registry, commission, event, sign_events, relayer, actors):
    units = [commission(f"S{i}") for i in range(5)]
    message, sig = sign_events(
        "carrier", [event(u, BizStep.DEPARTING, "carrier", Disposition.IN_TRANSIT) for u in units]
    )
    tx = registry.record([eip712.call_args("EventBatch", message, sig)], {"from": relayer})
    assert len(tx.events["EventRecorded"]) == 5
    assert all(registry.eventCount(u) == 2 for u in units)
    assert registry.getNonce(actors["carrier"].address) == 1


def test_same_unit_twice_in_a_batch_chains_in_order(registry, commission, event, sign_events, relayer, actors):
    unit = commission()
    before = registry.unitRecord(unit)
    items = [event(unit, BizStep.ARRIVING, "carrier"), event(unit, BizStep.DEPARTING, "carrier")]
    message, sig = sign_events("carrier", items)
    registry.record([eip712.call_args("EventBatch", message, sig)], {"from": relayer})
    carrier = actors["carrier"].address
    expected = hashchain.link(
        hashchain.link(before, carrier, eip712.struct_hash("LifecycleEvent", items[0])),
        carrier,
        eip712.struct_hash("LifecycleEvent", items[1]),
    )
    assert registry.unitRecord(unit) == expected


@pytest.mark.parametrize("step", RECORDABLE, ids=lambda s: s.name)
def test_each_allowed_role_may_sign_its_step(registry, commission, record, step):
    for role in STEP_ROLES[step]:
        unit = commission(f"R-{role.name}")
        record(unit, step, ROLE_ACTOR[role])
        assert registry.eventCount(unit) == 2


@pytest.mark.parametrize("step", RECORDABLE, ids=lambda s: s.name)
def test_other_roles_may_not_sign_the_step(commission, record, actors, step):
    unit = commission()
    for role, name in ROLE_ACTOR.items():
        if role in STEP_ROLES[step]:
            continue
        with brownie.reverts(
            err("TraceRegistryRoleNotAllowed", actors[name].address, int(step), int(STEP_ROLES[step]))
        ):
            record(unit, step, name)


def test_merchant_staff_signs_no_step(registry, commission, record, actors, admin):
    """Merchant staff act on the escrow's cases and disputes; in the registry they sign nothing and commission
    nothing."""
    staff = actors["stranger"]
    registry.setActor(staff.address, int(Role.MERCHANT_STAFF), actors["brand"].gln, {"from": admin})
    unit = commission()
    for step in RECORDABLE:
        with brownie.reverts(err("TraceRegistryRoleNotAllowed", staff.address, int(step), int(STEP_ROLES[step]))):
            record(unit, step, "stranger")
    with brownie.reverts(
        err("TraceRegistryRoleNotAllowed", staff.address, int(BizStep.COMMISSIONING), int(Role.BRAND))
    ):
        commission("STAFF", actor="stranger")
    assert registry.eventCount(unit) == 1


def test_unaccredited_signer_is_rejected(commission, record, actors):
    unit = commission()
    with brownie.reverts(
        err(
            "TraceRegistryRoleNotAllowed",
            actors["stranger"].address,
            int(BizStep.SHIPPING),
            int(STEP_ROLES[BizStep.SHIPPING]),
        )
    ):
        record(unit, BizStep.SHIPPING, "stranger")


@pytest.mark.parametrize("step", [0, 1, 17, 255])
def test_invalid_or_commissioning_step_reverts(commission, record, step):
    unit = commission()
    with brownie.reverts(err("TraceRegistryInvalidStep", step)):
        record(unit, step, "carrier")


@pytest.mark.parametrize("actor", ["brand", "recycler", "warehouse"])
def test_decommissioning_step_is_not_recordable(registry, commission, record, actor):
    # Issue 9: any brand or recycler could close any unit with it; the brand's decommission() replaces it.
    unit = commission()
    with brownie.reverts(err("TraceRegistryInvalidStep", int(BizStep.DECOMMISSIONING))):
        record(unit, BizStep.DECOMMISSIONING, actor, Disposition.INACTIVE)
    assert not registry.isClosed(unit) and registry.eventCount(unit) == 1


def test_invalid_disposition_reverts(commission, record):
    unit = commission()
    with brownie.reverts(err("TraceRegistryInvalidDisposition", 23)):
        record(unit, BizStep.SHIPPING, "carrier", 23)


def test_unknown_unit_reverts(record):
    unknown = b"\x42" * 32
    with brownie.reverts(err("TraceRegistryUnknownUnit", unknown)):
        record(unknown, BizStep.SHIPPING, "carrier")


def test_invalid_gln_and_time_revert(commission, record):
    unit = commission()
    with brownie.reverts(err("TraceRegistryInvalidGln", 0)):
        record(unit, BizStep.SHIPPING, "carrier", location=0)
    future = chain.time() + 3600
    with brownie.reverts(err("TraceRegistryInvalidEventTime", future)):
        record(unit, BizStep.SHIPPING, "carrier", eventTime=future)


def test_call_is_atomic(registry, commission, event, sign_events, relayer, actors):
    unit = commission()
    good = sign_events("carrier", [event(unit, BizStep.SHIPPING, "carrier")])
    bad = sign_events(
        "warehouse", [event(unit, BizStep.STORING, "warehouse"), event(unit, BizStep.INSPECTING, "warehouse")]
    )
    with brownie.reverts(
        err("TraceRegistryRoleNotAllowed", actors["warehouse"].address, int(BizStep.INSPECTING), int(Role.INSPECTOR))
    ):
        registry.record(
            [eip712.call_args("EventBatch", *good), eip712.call_args("EventBatch", *bad)], {"from": relayer}
        )
    assert registry.eventCount(unit) == 1
    assert registry.getNonce(actors["carrier"].address) == 0


def test_batches_of_many_signers_and_units(registry, commission, event, sign_events, relayer):
    units = [commission(f"U{i}") for i in range(3)]
    batches = []
    for step, actor in ((BizStep.SHIPPING, "brand"), (BizStep.DEPARTING, "carrier"), (BizStep.ARRIVING, "warehouse")):
        batches.append(eip712.call_args("EventBatch", *sign_events(actor, [event(u, step, actor) for u in units])))
    tx = registry.record(batches, {"from": relayer})
    assert len(tx.events["EventRecorded"]) == 9
    assert all(registry.eventCount(u) == 4 for u in units)


def test_empty_event_batch_reverts(registry, sign_events, relayer):
    with brownie.reverts(err("TraceRegistryEmptyBatch")):
        registry.record([eip712.call_args("EventBatch", *sign_events("carrier", []))], {"from": relayer})


def test_delivery_milestone_first_scan_counts(registry, commission, record):
    unit = commission()
    po = b"\x01" * 32
    t1 = chain.time() - 100
    record(unit, BizStep.DELIVERING, "carrier", Disposition.DELIVERED, bizTransaction=po, eventTime=t1)
    record(unit, BizStep.DELIVERING, "carrier", Disposition.DELIVERED, bizTransaction=po, eventTime=chain.time())
    assert registry.milestoneAt(unit, po, 0) == t1
    assert registry.milestoneAt(unit, b"\x02" * 32, 0) == 0


def test_delivery_without_transaction_sets_no_milestone(registry, commission, record):
    unit = commission()
    record(unit, BizStep.DELIVERING, "carrier", Disposition.DELIVERED)
    assert registry.milestoneAt(unit, ZERO32, 0) == 0


def test_return_received_needs_warehouse_and_returned_disposition(registry, commission, record):
    unit = commission()
    rma = b"\x03" * 32
    record(unit, BizStep.RECEIVING, "charity", Disposition.RETURNED, bizTransaction=rma)
    record(unit, BizStep.RECEIVING, "warehouse", Disposition.IN_PROGRESS, bizTransaction=rma)
    assert registry.milestoneAt(unit, rma, 1) == 0
    at = chain.time() - 60
    record(
        unit,
        BizStep.RECEIVING,
        "warehouse",
        Disposition.RETURNED,
        bizTransaction=rma,
        location=GLN_WAREHOUSE,
        eventTime=at,
    )
    assert registry.milestoneAt(unit, rma, 1) == at


def test_milestone_time_is_capped_at_block_time(registry, commission, record):
    unit = commission()
    po = b"\x04" * 32
    ahead = chain.time() + 200  # inside the allowed clock skew
    tx = record(unit, BizStep.DELIVERING, "carrier", Disposition.DELIVERED, bizTransaction=po, eventTime=ahead)
    assert registry.milestoneAt(unit, po, 0) == tx.timestamp
