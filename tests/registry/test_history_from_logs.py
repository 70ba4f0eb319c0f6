"""A unit's history rebuilt from logs alone matches the head the registry holds."""

from brownie import web3

from returntrace import history
from returntrace.vocab import BizStep, Disposition


def _web3_registry(registry):
    return web3.eth.contract(address=registry.address, abi=registry.abi)


def test_history_rebuilt_from_logs_matches_onchain_head(registry, commission, record):
    unit = commission("HIST-1")
    other = commission("HIST-2")
    steps = [
        (BizStep.SHIPPING, "brand", Disposition.IN_TRANSIT),
        (BizStep.CUSTOMS_CLEARING, "carrier", Disposition.IN_TRANSIT),
        (BizStep.DELIVERING, "carrier", Disposition.DELIVERED),
        (BizStep.ACCEPTING, "carrier", Disposition.RETURNED),
        (BizStep.RECEIVING, "warehouse", Disposition.RETURNED),
        (BizStep.INSPECTING, "inspector", Disposition.CONFORMANT),
    ]
    for step, actor, disposition in steps:
        record(unit, step, actor, disposition)
        record(other, BizStep.STORING, "warehouse", Disposition.SELLABLE_ACCESSIBLE)

    h = history.fetch(_web3_registry(registry), unit)
    assert h.verified
    assert h.count == 7
    assert [e.kind for e in h.events] == ["commission"] + ["event"] * 6
    assert [e.biz_step for e in h.events[1:]] == [int(s) for s, _, _ in steps]
    assert h.events[0].serial == "HIST-1"


def test_tampered_history_does_not_verify(registry, commission, record):
    unit = commission("HIST-3")
    record(unit, BizStep.SHIPPING, "brand", Disposition.IN_TRANSIT)
    h = history.fetch(_web3_registry(registry), unit)
    assert h.verified
    # Drop an event: the rebuilt head no longer matches the chain.
    from returntrace import hashchain

    assert hashchain.rebuild((e.signer, e.struct_hash(), e.closes) for e in h.events) == h.onchain_record
    assert hashchain.rebuild((e.signer, e.struct_hash(), e.closes) for e in h.events[:-1]) != h.onchain_record


def test_unknown_unit_has_no_verified_history(registry):
    h = history.fetch(_web3_registry(registry), b"\x99" * 32)
    assert not h.verified
    assert h.events == []
