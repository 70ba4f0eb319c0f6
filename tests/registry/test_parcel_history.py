"""A unit that travelled in a parcel: its history rebuilt from logs alone holds its own links and the
parcel's scans while it was packed, each verified against the head of its own chain."""

from dataclasses import replace

from brownie import web3

from returntrace import gs1, hashchain, history
from returntrace.vocab import AggregationAction, BizStep, Disposition
from tests.registry.conftest import sscc

ADD, DELETE = AggregationAction.ADD, AggregationAction.DELETE
PARCEL = sscc(5)
PARCEL_ID = gs1.parcel_id(PARCEL)


def _w3(registry):
    return web3.eth.contract(address=registry.address, abi=registry.abi)


def test_unit_history_includes_parcel_scans_while_packed(registry, commission, record, aggregate, decommission):
    unit, other = commission("TRAVEL-1"), commission("TRAVEL-2")
    record(unit, BizStep.SHIPPING, "brand", Disposition.IN_TRANSIT)
    aggregate(PARCEL, [unit, other], actor="warehouse")
    record(PARCEL_ID, BizStep.DEPARTING, "carrier", Disposition.IN_TRANSIT)
    record(PARCEL_ID, BizStep.CUSTOMS_CLEARING, "carrier", Disposition.IN_TRANSIT)
    aggregate(PARCEL, [unit], DELETE, actor="warehouse")
    record(PARCEL_ID, BizStep.ARRIVING, "carrier", Disposition.IN_PROGRESS)  # after the unit left: not in its history
    decommission("TRAVEL-1")  # the brand closes its unsold unit (a charity may close only what a settled order sent it)

    h = history.fetch(_w3(registry), unit)
    assert h.own_verified and h.verified
    assert hashchain.is_closed(h.onchain_record)
    assert [(r.kind, r.action) for r in h.events] == [
        ("commission", 0),
        ("event", 0),
        ("aggregation", ADD),
        ("aggregation", DELETE),
        ("event", 0),
    ]
    assert all(r.unit_id == unit for r in h.events)
    assert [r.biz_step for r in h.via_parcel] == [BizStep.DEPARTING, BizStep.CUSTOMS_CLEARING]
    assert all(r.unit_id == PARCEL_ID for r in h.via_parcel)
    steps = [(r.biz_step, r.unit_id == PARCEL_ID) for r in h.timeline()]
    assert steps == [
        (BizStep.COMMISSIONING, False),
        (BizStep.SHIPPING, False),
        (BizStep.PACKING, False),
        (BizStep.DEPARTING, True),
        (BizStep.CUSTOMS_CLEARING, True),
        (BizStep.UNPACKING, False),
        (BizStep.DECOMMISSIONING, False),
    ]

    assert h.parcels[PARCEL_ID].chain_verified  # a unit's history needs the parcel's chain, not its contents
    parcel = history.fetch_parcel(_w3(registry), PARCEL)
    assert parcel.chain_verified and parcel.verified
    assert parcel.sscc == PARCEL
    assert parcel.contents == [other] and parcel.onchain_size == 1
    assert hashchain.count_of(parcel.onchain_record) == 5

    entry = history.timeline_entry(h.via_parcel[0], 2, 0, via_sscc=PARCEL)
    assert entry["via_parcel"] and entry["parcel"] == f"{PARCEL:018d}"
    packed = history.timeline_entry(h.events[2], 3, 0)
    assert (
        packed["label"] == "Packed in parcel"
        and packed["action"] == "ADD"
        and packed["parcel"] == f"{PARCEL:018d}"
        and not packed["via_parcel"]
    )


def test_still_packed_unit_sees_every_later_parcel_scan(registry, commission, record, aggregate):
    unit = commission()
    aggregate(PARCEL, [unit])
    record(PARCEL_ID, BizStep.DEPARTING, "carrier", Disposition.IN_TRANSIT)
    record(PARCEL_ID, BizStep.DELIVERING, "carrier", Disposition.DELIVERED)
    h = history.fetch(_w3(registry), unit)
    assert h.verified
    assert [r.biz_step for r in h.via_parcel] == [BizStep.DEPARTING, BizStep.DELIVERING]


def test_parcel_history_and_contents(registry, commission, aggregate, record):
    units = [commission(f"C{i}") for i in range(3)]
    aggregate(PARCEL, units)
    aggregate(PARCEL, units[1:2], DELETE)
    record(PARCEL_ID, BizStep.SHIPPING, "carrier", Disposition.IN_TRANSIT)
    p = history.fetch_parcel(_w3(registry), PARCEL)
    assert p.verified
    assert p.contents == [units[0], units[2]] and p.onchain_size == 2
    assert [r.kind for r in p.events] == ["aggregation", "aggregation", "event"]


def test_tampered_parcel_event_breaks_the_unit_history(registry, commission, aggregate, record):
    unit = commission()
    aggregate(PARCEL, [unit])
    record(PARCEL_ID, BizStep.DEPARTING, "carrier", Disposition.IN_TRANSIT)
    h = history.fetch(_w3(registry), unit)
    parcel = h.parcels[PARCEL_ID]
    altered = [*parcel.events[:-1], replace(parcel.events[-1], location=parcel.events[-1].location + 10)]
    assert history.chain_records(altered)[-1] != parcel.onchain_record
    # The unit's aggregation link is its parcel's AggregationRecorded content: alter it and the unit's chain breaks too.
    add = h.events[1]
    assert (
        history.chain_records([h.events[0], replace(add, child_ids=add.child_ids + (b"\x01" * 32,))])[-1]
        != h.onchain_record
    )


def test_collect_groups_parcel_and_unit_chains(registry, commission, aggregate, record):
    unit = commission()
    aggregate(PARCEL, [unit])
    record(PARCEL_ID, BizStep.DEPARTING, "carrier", Disposition.IN_TRANSIT)
    w3c = _w3(registry)
    units, _ = history.collect(w3c, 0, web3.eth.block_number)
    onchain = history.read_records(w3c, [unit, PARCEL_ID], web3.eth.block_number)
    assert history.chain_records(units[unit])[-1] == onchain[unit]
    assert history.chain_records(units[PARCEL_ID])[-1] == onchain[PARCEL_ID]
