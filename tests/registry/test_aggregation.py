"""Combined returns: units packed into SSCC parcels (EPCIS AggregationEvent ADD/DELETE) and parcel scans."""

import brownie
import pytest
from brownie import ERC1271WalletMock, chain

from returntrace import eip712, gs1, hashchain
from returntrace.escrow import UnitDisposition
from returntrace.vocab import AggregationAction, BizStep, Disposition, Role
from tests.registry.conftest import sscc
from tests.support import GLN_CARRIER, err

ADD, DELETE = AggregationAction.ADD, AggregationAction.DELETE
PARCEL = sscc(1)
PARCEL_ID = gs1.parcel_id(PARCEL)


def _units(commission, n, prefix="P"):
    return [commission(f"{prefix}{i}") for i in range(n)]


def test_parcel_id_encoding_matches_client(registry):
    for n in (1, 2, 123456789):
        s = sscc(n)
        assert registry.parcelIdOf(s) == "0x" + gs1.parcel_id(s).hex()
        assert gs1.parcel_id(s) == brownie.web3.keccak(text="00" + f"{s:018d}")
    small = int(gs1.with_check_digit("00000000000000001"))  # leading zeros are digits of the SSCC
    assert registry.parcelIdOf(small) == "0x" + brownie.web3.keccak(text="00" + f"{small:018d}").hex()


@pytest.mark.parametrize("bad", [0, 395060000000000010, 10**18, 2**64 - 1, 123])
def test_parcel_id_of_invalid_sscc_reverts(registry, bad):
    if bad == 123 or bad == 395060000000000010:
        bad = bad if not gs1.has_valid_check_digit(f"{bad:018d}") else bad + 1
    with brownie.reverts(err("TraceRegistryInvalidSscc", bad)):
        registry.parcelIdOf(bad)


def test_type_hashes_are_published(registry):
    assert registry.getAggregationTypeHashes() == [
        "0x" + eip712.type_hash(t).hex() for t in ("Aggregation", "AggregationBatch")
    ]


def test_add_packs_units_and_links_parcel_and_children(
    registry, commission, aggregation, sign_aggregations, relayer, actors
):
    units = _units(commission, 3)
    before = [registry.unitRecord(u) for u in units]
    item = aggregation(PARCEL, units, ADD, evidence=b"\x05" * 32, bizTransaction=b"\x06" * 32)
    message, sig = sign_aggregations("carrier", [item])
    tx = registry.aggregate([eip712.call_args("AggregationBatch", message, sig)], {"from": relayer})

    h = eip712.struct_hash("Aggregation", item)
    carrier = actors["carrier"].address
    assert registry.unitRecord(PARCEL_ID) == hashchain.link(0, carrier, h)
    for u, b in zip(units, before, strict=True):
        assert registry.unitRecord(u) == hashchain.link(b, carrier, h)
        assert registry.parentOf(u) == "0x" + PARCEL_ID.hex()
    assert registry.parcelSize(PARCEL_ID) == 3

    rec = tx.events["AggregationRecorded"]
    assert rec["parcelId"] == "0x" + PARCEL_ID.hex()
    assert rec["signer"] == carrier
    assert rec["sscc"] == PARCEL and rec["action"] == ADD
    assert [bytes(c) for c in rec["childIds"]] == units
    assert (rec["bizStep"], rec["disposition"], rec["location"], rec["eventTime"]) == (
        BizStep.PACKING,
        Disposition.IN_PROGRESS,
        GLN_CARRIER,
        item["eventTime"],
    )
    assert rec["evidence"] == "0x" + "05" * 32 and rec["bizTransaction"] == "0x" + "06" * 32
    children = tx.events["UnitAggregated"]
    assert len(children) == 3
    for ev, u in zip(children, units, strict=True):
        assert (ev["unitId"], ev["parcelId"], ev["signer"], ev["aggregationHash"]) == (
            "0x" + u.hex(),
            "0x" + PARCEL_ID.hex(),
            carrier,
            "0x" + h.hex(),
        )


def test_add_more_then_delete_some(registry, commission, aggregate):
    units = _units(commission, 4)
    aggregate(PARCEL, units[:2])
    aggregate(PARCEL, units[2:], actor="warehouse")
    assert registry.parcelSize(PARCEL_ID) == 4
    assert registry.eventCount(PARCEL_ID) == 2
    tx = aggregate(PARCEL, units[1:3], DELETE, actor="warehouse")
    assert registry.parcelSize(PARCEL_ID) == 2
    assert registry.parentOf(units[1]) == "0x" + "00" * 32
    assert registry.parentOf(units[0]) == "0x" + PARCEL_ID.hex()
    assert registry.eventCount(units[1]) == 3 and registry.eventCount(units[0]) == 2
    assert tx.events["AggregationRecorded"]["action"] == DELETE
    assert registry.eventCount(PARCEL_ID) == 3


def test_emptied_parcel_keeps_its_chain_and_takes_units_again(registry, commission, aggregate):
    units = _units(commission, 2)
    aggregate(PARCEL, units)
    aggregate(PARCEL, units, DELETE)
    assert registry.parcelSize(PARCEL_ID) == 0
    aggregate(PARCEL, units[:1])
    assert registry.parcelSize(PARCEL_ID) == 1
    assert registry.eventCount(PARCEL_ID) == 3


def test_unpacked_unit_may_go_into_another_parcel(registry, commission, aggregate):
    unit = commission()
    aggregate(PARCEL, [unit])
    aggregate(PARCEL, [unit], DELETE)
    aggregate(sscc(2), [unit])
    assert registry.parentOf(unit) == "0x" + gs1.parcel_id(sscc(2)).hex()


def test_one_parcel_scan_covers_its_units(registry, commission, aggregate, record):
    """A carrier records ordinary lifecycle events on the parcel id: one signed scan for the parcel."""
    units = _units(commission, 3)
    aggregate(PARCEL, units)
    tx = record(PARCEL_ID, BizStep.DEPARTING, "carrier", Disposition.IN_TRANSIT)
    assert tx.events["EventRecorded"]["unitId"] == "0x" + PARCEL_ID.hex()
    assert registry.eventCount(PARCEL_ID) == 2
    assert all(registry.eventCount(u) == 2 for u in units)  # the units' own chains are not touched


def test_add_rejects_a_unit_in_a_parcel(commission, aggregate):
    unit = commission()
    aggregate(PARCEL, [unit])
    with brownie.reverts(err("TraceRegistryAlreadyPacked", unit, PARCEL_ID)):
        aggregate(sscc(2), [unit])
    with brownie.reverts(err("TraceRegistryAlreadyPacked", unit, PARCEL_ID)):
        aggregate(PARCEL, [unit])


def test_add_rejects_a_unit_listed_twice(commission, aggregate):
    unit = commission()
    with brownie.reverts(err("TraceRegistryAlreadyPacked", unit, PARCEL_ID)):
        aggregate(PARCEL, [unit, unit])


def test_add_rejects_unknown_unit(aggregate):
    unknown = b"\x42" * 32
    with brownie.reverts(err("TraceRegistryUnknownUnit", unknown)):
        aggregate(PARCEL, [unknown])


def test_parcels_do_not_nest(commission, aggregate):
    with brownie.reverts(err("TraceRegistryParcelInParcel", PARCEL_ID)):
        aggregate(PARCEL, [commission("first"), PARCEL_ID])  # into itself, on its first ADD
    aggregate(PARCEL, [commission()])
    with brownie.reverts(err("TraceRegistryParcelInParcel", PARCEL_ID)):
        aggregate(sscc(2), [PARCEL_ID])
    with brownie.reverts(err("TraceRegistryParcelInParcel", PARCEL_ID)):
        aggregate(PARCEL, [PARCEL_ID])


def test_delete_rejects_a_unit_not_in_the_parcel(commission, aggregate):
    inside, outside, elsewhere = commission("IN"), commission("OUT"), commission("ELSE")
    aggregate(PARCEL, [inside])
    aggregate(sscc(2), [elsewhere])
    for unit in (outside, elsewhere):
        with brownie.reverts(err("TraceRegistryNotInParcel", unit, PARCEL_ID)):
            aggregate(PARCEL, [inside, unit], DELETE)
    with brownie.reverts(err("TraceRegistryNotInParcel", inside, gs1.parcel_id(sscc(3)))):
        aggregate(sscc(3), [inside], DELETE)  # a parcel that never existed
    with brownie.reverts(err("TraceRegistryNotInParcel", inside, PARCEL_ID)):
        aggregate(PARCEL, [inside, inside], DELETE)


def test_aggregation_field_checks(commission, aggregate):
    unit = commission()
    bad_sscc = sscc(1) + 1 if (sscc(1) + 1) % 10 else sscc(1) - 1
    with brownie.reverts(err("TraceRegistryInvalidSscc", bad_sscc)):
        aggregate(bad_sscc, [unit])
    with brownie.reverts(err("TraceRegistryInvalidSscc", 0)):
        aggregate(0, [unit])
    for action in (0, 3):
        with brownie.reverts(err("TraceRegistryInvalidAggregationAction", action)):
            aggregate(PARCEL, [unit], action)
    with brownie.reverts(err("TraceRegistryEmptyAggregation", PARCEL)):
        aggregate(PARCEL, [])
    with brownie.reverts(err("TraceRegistryInvalidDisposition", 23)):
        aggregate(PARCEL, [unit], disposition=23)
    with brownie.reverts(err("TraceRegistryInvalidGln", 0)):
        aggregate(PARCEL, [unit], location=0)
    future = chain.time() + 3600
    with brownie.reverts(err("TraceRegistryInvalidEventTime", future)):
        aggregate(PARCEL, [unit], eventTime=future)
    with brownie.reverts(err("TraceRegistryInvalidStep", 0)):
        aggregate(PARCEL, [unit], step=0)


def test_aggregation_roles(commission, aggregate, actors):
    unit = commission()
    allowed = int(Role.BRAND | Role.CARRIER | Role.WAREHOUSE)
    for actor in ("inspector", "charity", "recycler", "stranger"):
        with brownie.reverts(err("TraceRegistryRoleNotAllowed", actors[actor].address, int(BizStep.PACKING), allowed)):
            aggregate(PARCEL, [unit], actor=actor)
    with brownie.reverts(
        err("TraceRegistryDispositionNotAllowed", actors["warehouse"].address, int(Disposition.DONATED))
    ):
        aggregate(PARCEL, [unit], actor="warehouse", disposition=Disposition.DONATED)
    with brownie.reverts(err("TraceRegistryInvalidStep", int(BizStep.DEPARTING))):
        aggregate(PARCEL, [unit], actor="carrier", step=BizStep.DEPARTING)
    for actor in ("brand", "carrier", "warehouse"):
        u = commission(f"R-{actor}")
        aggregate(sscc(10), [u], actor=actor)


def test_closed_unit_cannot_be_packed(registry, commission, aggregate, decommission):
    closed = commission("C1")
    decommission("C1")
    with brownie.reverts(err("TraceRegistryUnitClosed", closed)):
        aggregate(PARCEL, [closed])
    assert registry.parcelSize(PARCEL_ID) == 0 and registry.parentOf(closed) == "0x" + "00" * 32


def test_a_packed_unit_cannot_close(registry, commission, aggregate, decommission, destined, record, actors):
    """Issue 9: a unit closes only unpacked (it used to close inside its parcel, which could then never
    be unpacked), whoever closes it: the brand its stock, a warehouse a unit a settled order destroys."""
    stock = commission("C2")
    aggregate(PARCEL, [stock])
    with brownie.reverts(err("TraceRegistryAlreadyPacked", stock, PARCEL_ID)):
        decommission("C2")
    doomed = destined(UnitDisposition.DESTROY)
    aggregate(PARCEL, [doomed], actor="warehouse")
    with brownie.reverts(err("TraceRegistryAlreadyPacked", doomed, PARCEL_ID)):
        record(doomed, BizStep.DESTROYING, "warehouse", Disposition.DESTROYED)
    assert not registry.isClosed(stock) and not registry.isClosed(doomed)
    aggregate(PARCEL, [doomed], DELETE, actor="warehouse")
    record(
        doomed,
        BizStep.DESTROYING,
        "warehouse",
        Disposition.DESTROYED,
        nonce=registry.getNonce(actors["warehouse"].address),
    )
    assert registry.isClosed(doomed) and registry.parcelSize(PARCEL_ID) == 1


def test_parcel_closes_only_once_empty(registry, commission, aggregate, record, actors):
    unit = commission("A")
    aggregate(PARCEL, [unit])
    # Closing a parcel with units inside would lock them in for good.
    with brownie.reverts(err("TraceRegistryParcelNotEmpty", PARCEL_ID, 1)):
        record(PARCEL_ID, BizStep.DESTROYING, "warehouse", Disposition.DESTROYED)
    assert not registry.isClosed(PARCEL_ID) and not registry.isClosed(unit)
    aggregate(PARCEL, [unit], DELETE)
    nonce = registry.getNonce(actors["warehouse"].address)  # the refused batch used none
    record(PARCEL_ID, BizStep.DESTROYING, "warehouse", Disposition.DESTROYED, nonce=nonce)
    assert registry.isClosed(PARCEL_ID) and not registry.isClosed(unit)


def test_closed_parcel_takes_no_more_events(registry, commission, aggregate, record):
    unit = commission("A")
    aggregate(PARCEL, [unit])
    aggregate(PARCEL, [unit], DELETE)
    record(PARCEL_ID, BizStep.DESTROYING, "warehouse", Disposition.DESTROYED)
    assert registry.isClosed(PARCEL_ID)
    with brownie.reverts(err("TraceRegistryUnitClosed", PARCEL_ID)):
        aggregate(PARCEL, [commission("B")])
    with brownie.reverts(err("TraceRegistryUnitClosed", PARCEL_ID)):
        record(PARCEL_ID, BizStep.ARRIVING, "carrier")


def test_add_packs_and_delete_unpacks_only(commission, aggregate):
    unit = commission()
    with brownie.reverts(err("TraceRegistryInvalidStep", int(BizStep.UNPACKING))):
        aggregate(PARCEL, [unit], step=BizStep.UNPACKING)
    aggregate(PARCEL, [unit])
    with brownie.reverts(err("TraceRegistryInvalidStep", int(BizStep.PACKING))):
        aggregate(PARCEL, [unit], DELETE, step=BizStep.PACKING)
    with brownie.reverts(err("TraceRegistryInvalidStep", int(BizStep.DECOMMISSIONING))):
        aggregate(PARCEL, [unit], DELETE, step=BizStep.DECOMMISSIONING, actor="brand")


@pytest.mark.parametrize(
    "actor, disposition",
    [("warehouse", Disposition.DESTROYED), ("charity", Disposition.DONATED), ("recycler", Disposition.RECYCLED)],
)
def test_an_aggregation_never_closes(registry, commission, aggregate, actor, disposition, admin, actors):
    # Closing is each unit's own event: a packer could otherwise close other brands' units.
    units = _units(commission, 2)
    registry.setActor(
        actors[actor].address, int(actors[actor].roles) | int(Role.WAREHOUSE), actors[actor].gln, {"from": admin}
    )
    with brownie.reverts(err("TraceRegistryInvalidDisposition", int(disposition))):
        aggregate(PARCEL, units, actor=actor, disposition=disposition)
    assert not any(registry.isClosed(u) for u in units)


def test_several_aggregations_in_one_batch_apply_in_order(
    registry, commission, aggregation, sign_aggregations, relayer, actors
):
    units = _units(commission, 2)
    items = [aggregation(PARCEL, units), aggregation(PARCEL, units[:1], DELETE), aggregation(sscc(2), units[:1])]
    message, sig = sign_aggregations("warehouse", items)
    registry.aggregate([eip712.call_args("AggregationBatch", message, sig)], {"from": relayer})
    assert registry.parentOf(units[0]) == "0x" + gs1.parcel_id(sscc(2)).hex()
    assert registry.parcelSize(PARCEL_ID) == 1 and registry.parcelSize(gs1.parcel_id(sscc(2))) == 1
    assert registry.eventCount(units[0]) == 4


def test_aggregate_is_atomic_and_shares_the_nonce_space(
    registry, commission, aggregation, sign_aggregations, sign_events, event, relayer, actors
):
    unit = commission()
    events = sign_events("carrier", [event(unit, BizStep.SHIPPING, "carrier")])  # nonce 0
    packs = sign_aggregations("carrier", [aggregation(PARCEL, [unit])])  # nonce 1
    with brownie.reverts(err("SignatureInvalidNonce", actors["carrier"].address, 0, 1)):
        registry.aggregate([eip712.call_args("AggregationBatch", *packs)], {"from": relayer})
    registry.record([eip712.call_args("EventBatch", *events)], {"from": relayer})
    good = eip712.call_args("AggregationBatch", *packs)
    bad = eip712.call_args(
        "AggregationBatch", *sign_aggregations("warehouse", [aggregation(PARCEL, [b"\x42" * 32], actor="warehouse")])
    )
    with brownie.reverts(err("TraceRegistryUnknownUnit", b"\x42" * 32)):
        registry.aggregate([good, bad], {"from": relayer})
    assert registry.parcelSize(PARCEL_ID) == 0 and registry.eventCount(PARCEL_ID) == 0
    registry.aggregate([good], {"from": relayer})
    assert registry.getNonce(actors["carrier"].address) == 2


def test_empty_batches_revert(registry, sign_aggregations, relayer):
    with brownie.reverts(err("TraceRegistryEmptyBatch")):
        registry.aggregate([], {"from": relayer})
    with brownie.reverts(err("TraceRegistryEmptyBatch")):
        registry.aggregate([eip712.call_args("AggregationBatch", *sign_aggregations("carrier", []))], {"from": relayer})


def test_signature_covers_the_child_list(registry, commission, aggregation, sign_aggregations, relayer, actors):
    a, b = commission("A"), commission("B")
    message, sig = sign_aggregations("carrier", [aggregation(PARCEL, [a])])
    message = {**message, "aggregations": [{**message["aggregations"][0], "childIds": [a, b]}]}
    with brownie.reverts(err("SignatureInvalid", actors["carrier"].address)):
        registry.aggregate([eip712.call_args("AggregationBatch", message, sig)], {"from": relayer})


def test_replay_and_expiry(registry, commission, aggregation, sign_aggregations, relayer, actors):
    unit = commission()
    message, sig = sign_aggregations("carrier", [aggregation(PARCEL, [unit])])
    registry.aggregate([eip712.call_args("AggregationBatch", message, sig)], {"from": relayer})
    with brownie.reverts(err("SignatureInvalidNonce", actors["carrier"].address, 1, 0)):
        registry.aggregate([eip712.call_args("AggregationBatch", message, sig)], {"from": relayer})
    deadline = chain.time() - 10
    expired = sign_aggregations("carrier", [aggregation(PARCEL, [unit], DELETE)], deadline=deadline)
    with brownie.reverts(err("SignatureExpired", deadline)):
        registry.aggregate([eip712.call_args("AggregationBatch", *expired)], {"from": relayer})


def test_digest_matches_eth_account_typed_data(registry_domain, commission, aggregation, sign_aggregations):
    from eth_account import Account

    message, _ = sign_aggregations("carrier", [aggregation(PARCEL, [commission("A"), commission("B")])])
    signed = Account.sign_typed_data(b"\x01" * 32, full_message=registry_domain.typed_data("AggregationBatch", message))
    assert (
        Account._recover_hash(registry_domain.digest("AggregationBatch", message), signature=signed.signature)
        == Account.from_key(b"\x01" * 32).address
    )


def test_erc1271_wallet_signs_aggregations(registry, admin, commission, aggregation, registry_domain, relayer, actors):
    unit = commission()
    wallet = ERC1271WalletMock.deploy(actors["carrier"].address, {"from": admin})
    registry.setActor(wallet.address, int(Role.CARRIER), GLN_CARRIER, {"from": admin})
    message = {
        "signer": wallet.address,
        "aggregations": [aggregation(PARCEL, [unit])],
        "nonce": 0,
        "deadline": chain.time() + 3600,
    }
    sig = registry_domain.sign(actors["carrier"].key, "AggregationBatch", message)
    tx = registry.aggregate([eip712.call_args("AggregationBatch", message, sig)], {"from": relayer})
    assert tx.events["AggregationRecorded"]["signer"] == wallet.address
    assert registry.parentOf(unit) == "0x" + PARCEL_ID.hex()

    wallet.setAccepting(False, {"from": admin})
    message = {**message, "aggregations": [aggregation(PARCEL, [unit], DELETE)], "nonce": 1}
    sig = registry_domain.sign(actors["carrier"].key, "AggregationBatch", message)
    with brownie.reverts(err("SignatureInvalid", wallet.address)):
        registry.aggregate([eip712.call_args("AggregationBatch", message, sig)], {"from": relayer})


def test_contents_are_provable(registry, commission, aggregate):
    units = _units(commission, 3)
    aggregate(PARCEL, units)
    aggregate(PARCEL, units[:1], DELETE)
    claimed = units[1:]
    assert len(claimed) == registry.parcelSize(PARCEL_ID)
    assert all(registry.parentOf(u) == "0x" + PARCEL_ID.hex() for u in claimed)
    assert registry.parentOf(units[0]) != "0x" + PARCEL_ID.hex()


def test_milestones_stay_per_unit(registry, commission, aggregate, record):
    """A parcel scan with a reference sets a milestone on the parcel id only; the escrow reads units'."""
    unit = commission()
    aggregate(PARCEL, [unit])
    po = b"\x01" * 32
    record(PARCEL_ID, BizStep.DELIVERING, "carrier", Disposition.DELIVERED, bizTransaction=po)
    assert registry.milestoneAt(unit, po, 0) == 0
