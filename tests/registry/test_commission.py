import brownie
import pytest
from brownie import chain

from returntrace import eip712, gs1, hashchain
from tests.support import err, GLN_BRAND, GTIN_INT, ZERO32


def test_commission_creates_unit_with_first_link(registry, registry_domain, sign, actors, relayer):
    message, sig = sign(registry_domain, "Commission", actors["brand"], gtin=GTIN_INT, serial="SN-1", location=GLN_BRAND, eventTime=chain.time(), evidence=b"\x11" * 32)
    tx = registry.commission([eip712.call_args("Commission", message, sig)], {"from": relayer})
    unit = gs1.unit_id(GTIN_INT, "SN-1")
    expected = hashchain.link(0, eip712.struct_hash("Commission", message))
    assert registry.unitRecord(unit) == expected
    assert registry.eventCount(unit) == 1
    ev = tx.events["UnitCommissioned"]
    assert ev["unitId"] == "0x" + unit.hex()
    assert ev["signer"] == actors["brand"].address
    assert ev["serial"] == "SN-1"
    assert ev["record"] == expected


def test_commission_batch(registry, registry_domain, sign, actors, relayer):
    batch = []
    for i in range(10):
        message, sig = sign(registry_domain, "Commission", actors["brand"], gtin=GTIN_INT, serial=f"B{i}", location=GLN_BRAND, eventTime=chain.time(), evidence=ZERO32)
        batch.append(eip712.call_args("Commission", message, sig))
    tx = registry.commission(batch, {"from": relayer})
    assert len(tx.events["UnitCommissioned"]) == 10
    assert all(registry.eventCount(gs1.unit_id(GTIN_INT, f"B{i}")) == 1 for i in range(10))


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
    with brownie.reverts(err("TraceRegistryNotBrandOf", actors["warehouse"].address, GTIN_INT)):
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


def test_commission_empty_batch(registry, relayer):
    with brownie.reverts(err("TraceRegistryEmptyBatch")):
        registry.commission([], {"from": relayer})
    with brownie.reverts(err("TraceRegistryEmptyBatch")):
        registry.record([], {"from": relayer})
