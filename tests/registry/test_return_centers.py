"""Milestones record where and by whom they were scanned, and when the chain recorded them;
accredited local return centers per market."""

import brownie
from brownie import chain

from returntrace import gs1
from returntrace.vocab import BizStep, Disposition
from tests.support import GLN_CARRIER, GLN_WAREHOUSE, MARKET_CN, MARKET_EU, MARKET_US, err, plain

CENTER = int(gs1.with_check_digit("950600000103"))  # a dock of the warehouse organisation
RMA = b"\x03" * 32
PO = b"\x01" * 32


def test_milestone_record_keeps_time_location_and_organization(registry, commission, record, actors):
    unit = commission()
    at = chain.time() - 30
    tx = record(
        unit, BizStep.RECEIVING, "warehouse", Disposition.RETURNED, bizTransaction=RMA, location=CENTER, eventTime=at
    )
    # recordedAt (issue 9): the block's time, from which the escrow bounds how late a scan was relayed.
    assert plain(registry.milestone(unit, RMA, 1)) == (at, CENTER, actors["warehouse"].gln, tx.timestamp)
    assert registry.milestoneAt(unit, RMA, 1) == at


def test_milestone_record_of_delivery_names_the_carrier(registry, commission, record, actors):
    unit = commission()
    at = chain.time() - 30  # signed before the block that records it: the milestone keeps the signed time
    tx = record(unit, BizStep.DELIVERING, "carrier", Disposition.DELIVERED, bizTransaction=PO, eventTime=at)
    assert plain(registry.milestone(unit, PO, 0)) == (at, GLN_CARRIER, actors["carrier"].gln, tx.timestamp)


def test_missing_milestone_is_all_zero(registry, commission):
    unit = commission()
    assert plain(registry.milestone(unit, RMA, 1)) == (0, 0, 0, 0)


def test_milestone_keeps_the_organization_at_scan_time(registry, commission, record, actors, admin):
    unit = commission()
    record(unit, BizStep.RECEIVING, "warehouse", Disposition.RETURNED, bizTransaction=RMA)
    other_org = int(gs1.with_check_digit("950600000099"))
    registry.setActor(actors["warehouse"].address, actors["warehouse"].roles, other_org, {"from": admin})
    assert plain(registry.milestone(unit, RMA, 1))[2] == actors["warehouse"].gln


def test_set_return_center_accredits_per_market(registry, admin):
    org = GLN_WAREHOUSE
    tx = registry.setReturnCenter(CENTER, org, (1 << MARKET_EU) | (1 << MARKET_CN), {"from": admin})
    ev = tx.events["ReturnCenterSet"]
    assert (ev["location"], ev["organization"], ev["markets"]) == (CENTER, org, 0b101)
    assert plain(registry.returnCenter(CENTER)) == (org, 0b101)
    assert registry.returnCenterAccredited(CENTER, org, MARKET_EU)
    assert registry.returnCenterAccredited(CENTER, org, MARKET_CN)
    assert not registry.returnCenterAccredited(CENTER, org, MARKET_US)
    assert not registry.returnCenterAccredited(CENTER, GLN_CARRIER, MARKET_EU)  # run by someone else
    assert not registry.returnCenterAccredited(GLN_WAREHOUSE, org, MARKET_EU)  # not a center
    assert not registry.returnCenterAccredited(CENTER, org, 64)
    assert not registry.returnCenterAccredited(CENTER, org, 2**32 - 1)


def test_market_63_is_the_last_market(registry, admin):
    registry.setReturnCenter(CENTER, GLN_WAREHOUSE, 1 << 63, {"from": admin})
    assert registry.returnCenterAccredited(CENTER, GLN_WAREHOUSE, 63)


def test_revoked_center_is_accredited_for_nothing(registry, admin):
    registry.setReturnCenter(CENTER, GLN_WAREHOUSE, 1 << MARKET_EU, {"from": admin})
    tx = registry.setReturnCenter(CENTER, GLN_WAREHOUSE, 0, {"from": admin})
    assert tx.events["ReturnCenterSet"]["organization"] == 0
    assert plain(registry.returnCenter(CENTER)) == (0, 0)
    assert not registry.returnCenterAccredited(CENTER, GLN_WAREHOUSE, MARKET_EU)


def test_zero_organization_is_never_accredited(registry, admin):
    registry.setReturnCenter(CENTER, 0, 0, {"from": admin})
    assert not registry.returnCenterAccredited(CENTER, 0, MARKET_EU)


def test_set_return_center_checks_glns(registry, admin):
    with brownie.reverts(err("TraceRegistryInvalidGln", 1234567890123)):
        registry.setReturnCenter(1234567890123, GLN_WAREHOUSE, 1, {"from": admin})
    with brownie.reverts(err("TraceRegistryInvalidGln", 1234567890123)):
        registry.setReturnCenter(CENTER, 1234567890123, 1, {"from": admin})
    with brownie.reverts(err("TraceRegistryInvalidGln", 0)):
        registry.setReturnCenter(0, 0, 0, {"from": admin})
    registry.setReturnCenter(CENTER, 1234567890123, 0, {"from": admin})  # revoking needs no organisation


def test_set_return_center_is_for_accreditors_only(registry, actors):
    with brownie.reverts():
        registry.setReturnCenter(CENTER, GLN_WAREHOUSE, 1, {"from": actors["warehouse"].account})
