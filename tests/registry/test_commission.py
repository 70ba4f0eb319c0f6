import brownie
import pytest
from brownie import chain

from returntrace import eip712, gs1, hashchain
from scripts import deploy
from tests.support import GLN_BRAND, GTIN_INT, ZERO32, err


def _unit(serial, **fields):
    return {
        "gtin": GTIN_INT,
        "serial": serial,
        "location": GLN_BRAND,
        "eventTime": chain.time(),
        "evidence": ZERO32,
        **fields,
    }


def test_commission_creates_unit_with_first_link(registry, registry_domain, sign, actors, relayer):
    message, sig = sign(
        registry_domain, "CommissionBatch", actors["brand"], units=[_unit("SN-1", evidence=b"\x11" * 32)]
    )
    tx = registry.commission([eip712.call_args("CommissionBatch", message, sig)], {"from": relayer})
    unit = gs1.unit_id(GTIN_INT, "SN-1")
    expected = hashchain.link(0, actors["brand"].address, eip712.struct_hash("Commission", message["units"][0]))
    assert registry.unitRecord(unit) == expected
    assert registry.eventCount(unit) == 1
    ev = tx.events["UnitCommissioned"]
    assert ev["unitId"] == "0x" + unit.hex()
    assert ev["signer"] == actors["brand"].address
    assert ev["serial"] == "SN-1"
    assert ev["evidence"] == "0x" + "11" * 32
    assert registry.getNonce(actors["brand"].address) == 1


def test_one_signature_commissions_a_batch(registry, registry_domain, sign, actors, relayer):
    message, sig = sign(registry_domain, "CommissionBatch", actors["brand"], units=[_unit(f"B{i}") for i in range(10)])
    tx = registry.commission([eip712.call_args("CommissionBatch", message, sig)], {"from": relayer})
    assert len(tx.events["UnitCommissioned"]) == 10
    assert all(registry.eventCount(gs1.unit_id(GTIN_INT, f"B{i}")) == 1 for i in range(10))
    assert registry.getNonce(actors["brand"].address) == 1


def test_several_signed_batches_in_one_call(registry, registry_domain, sign, actors, relayer, deployment):
    other = int(gs1.normalize_gtin("96385074"))
    deploy.register_product(deployment, actors["brand2"], other, 0, 1)
    first = sign(registry_domain, "CommissionBatch", actors["brand"], units=[_unit("M1")])
    second = sign(registry_domain, "CommissionBatch", actors["brand2"], units=[_unit("M2", gtin=other)])
    registry.commission(
        [eip712.call_args("CommissionBatch", *first), eip712.call_args("CommissionBatch", *second)], {"from": relayer}
    )
    assert registry.eventCount(gs1.unit_id(GTIN_INT, "M1")) == 1
    assert registry.eventCount(gs1.unit_id(other, "M2")) == 1


def test_unit_listed_twice_in_a_batch_reverts(registry, registry_domain, sign, actors, relayer):
    message, sig = sign(registry_domain, "CommissionBatch", actors["brand"], units=[_unit("D1"), _unit("D1")])
    with brownie.reverts(err("TraceRegistryUnitExists", gs1.unit_id(GTIN_INT, "D1"))):
        registry.commission([eip712.call_args("CommissionBatch", message, sig)], {"from": relayer})


def test_empty_signed_batch_reverts(registry, registry_domain, sign, actors, relayer):
    message, sig = sign(registry_domain, "CommissionBatch", actors["brand"], units=[])
    with brownie.reverts(err("TraceRegistryEmptyBatch")):
        registry.commission([eip712.call_args("CommissionBatch", message, sig)], {"from": relayer})


def test_batch_signature_covers_every_unit(registry, registry_domain, sign, actors, relayer):
    message, sig = sign(registry_domain, "CommissionBatch", actors["brand"], units=[_unit("S1"), _unit("S2")])
    message["units"][1] = _unit("S3")
    with brownie.reverts(err("SignatureInvalid", actors["brand"].address)):
        registry.commission([eip712.call_args("CommissionBatch", message, sig)], {"from": relayer})


def test_commission_twice_reverts(commission):
    unit = commission("DUP")
    with brownie.reverts(err("TraceRegistryUnitExists", unit)):
        commission("DUP")


def test_commission_unknown_product(commission):
    other = int(gs1.normalize_gtin("96385074"))
    with brownie.reverts(err("TraceRegistryUnknownProduct", other)):
        commission("X", gtin=other)


def test_only_the_products_brand_commissions(commission, actors):
    with brownie.reverts(err("TraceRegistryNotBrandOf", actors["brand2"].address, GTIN_INT)):
        commission("X", actor="brand2")
    with brownie.reverts(err("TraceRegistryRoleNotAllowed", actors["warehouse"].address, 1, 1)):
        commission("X", actor="warehouse")


def test_revoked_brand_cannot_commission(registry, commission, admin, actors):
    registry.setActor(actors["brand"].address, 0, 0, {"from": admin})
    with brownie.reverts(err("TraceRegistryRoleNotAllowed", actors["brand"].address, 1, 1)):
        commission("X")


@pytest.mark.parametrize("serial", ["", "A" * 21, "has space", "hash#", "ümlaut"])
def test_commission_rejects_invalid_serial(commission, serial):
    with brownie.reverts(err("TraceRegistryInvalidSerial", serial)):
        commission(serial)


def test_commission_accepts_twenty_chars_of_cset82(commission, registry):
    serial = "!\"%&'()*+,-./09:;<=>"
    unit = commission(serial)
    assert registry.eventCount(unit) == 1


def test_commission_rejects_invalid_gln(commission):
    with brownie.reverts(err("TraceRegistryInvalidGln", 9506000000012)):
        commission("X", location=9506000000012)


def test_commission_rejects_event_in_future_and_zero_time(commission):
    future = chain.time() + 3600
    with brownie.reverts(err("TraceRegistryInvalidEventTime", future)):
        commission("X", eventTime=future)
    with brownie.reverts(err("TraceRegistryInvalidEventTime", 0)):
        commission("X", eventTime=0)


def test_commission_and_record_need_a_batch(registry, relayer):
    with brownie.reverts(err("TraceRegistryEmptyBatch")):
        registry.commission([], {"from": relayer})
    with brownie.reverts(err("TraceRegistryEmptyBatch")):
        registry.record([], {"from": relayer})
