"""Intake refuses what the chain will refuse once the queue ahead is mined: events after a queued
closing event, a second packing of a unit, aggregations that close or carry the wrong step, a
closing scan of a parcel that still holds units, and inspections the escrow would refuse; and a
gateway does not start on a manifest that lacks a v2 contract."""

from __future__ import annotations

import json

import pytest
from brownie import chain
from fastapi.testclient import TestClient

from api.main import create_app
from returntrace import gs1
from returntrace.escrow import Facts, Grade, UnitDisposition
from returntrace.manifest import ManifestError
from returntrace.vocab import BizStep, Disposition
from tests.api.test_parcels import DELETE, PARCEL, aggregation
from tests.support import MARKET_EU

OTHER_SSCC = int(gs1.with_check_digit("09506000000054321"))


def _rejected(gateway, path, body, status, code):
    before = gateway.services.outbox.depth()
    r = gateway.post(path, body)
    assert (r.status_code, r.json()["error"]) == (status, code), r.text
    assert gateway.services.outbox.depth() == before  # nothing stored


def _accepted(gateway, path, body):
    r = gateway.post(path, body)
    assert r.status_code == 202, r.text
    return r.json()["id"]


def test_a_queued_closing_event_refuses_later_events_and_packings(gateway, destined):
    unit = destined(UnitDisposition.DONATE)  # its settled order sends it to a charity: the donation may close it
    _accepted(
        gateway,
        "/v1/events",
        gateway.events_body("charity", [gateway.event(unit, BizStep.RECEIVING, "charity", Disposition.DONATED)]),
    )
    _rejected(
        gateway,
        "/v1/events",
        gateway.events_body("warehouse", [gateway.event(unit, BizStep.STORING, "warehouse")]),
        409,
        "unit_closed",
    )
    _rejected(gateway, "/v1/aggregations", aggregation(gateway, "carrier", [unit]), 409, "unit_closed")
    gateway.relay()
    _rejected(
        gateway,
        "/v1/events",
        gateway.events_body("warehouse", [gateway.event(unit, BizStep.STORING, "warehouse")]),
        409,
        "unit_closed",
    )


def test_a_queued_packing_refuses_a_second_one(gateway):
    (unit,) = gateway.commission("Q-PACK")
    gateway.relay()
    _accepted(gateway, "/v1/aggregations", aggregation(gateway, "carrier", [unit]))
    _rejected(
        gateway, "/v1/aggregations", aggregation(gateway, "warehouse", [unit], sscc=OTHER_SSCC), 409, "already_packed"
    )
    gateway.relay()
    _rejected(
        gateway, "/v1/aggregations", aggregation(gateway, "warehouse", [unit], sscc=OTHER_SSCC), 409, "already_packed"
    )


def test_aggregations_carry_their_step_and_never_close(gateway):
    (unit,) = gateway.commission("AGG-STEP")
    gateway.relay()
    _rejected(
        gateway,
        "/v1/aggregations",
        aggregation(gateway, "carrier", [unit], bizStep=int(BizStep.UNPACKING)),
        400,
        "invalid_step",
    )
    _rejected(
        gateway,
        "/v1/aggregations",
        aggregation(gateway, "carrier", [unit], action=DELETE, bizStep=int(BizStep.PACKING)),
        400,
        "invalid_step",
    )
    _rejected(
        gateway,
        "/v1/aggregations",
        aggregation(gateway, "warehouse", [unit], disposition=int(Disposition.DESTROYED)),
        400,
        "invalid_disposition",
    )


def test_a_parcel_that_holds_units_is_not_closed(gateway):
    a, b = gateway.commission("P-FULL-1", "P-FULL-2")
    gateway.relay()

    def destroy() -> dict:
        return gateway.events_body(
            "warehouse", [gateway.event(PARCEL, BizStep.DESTROYING, "warehouse", Disposition.DESTROYED)]
        )

    _accepted(gateway, "/v1/aggregations", aggregation(gateway, "carrier", [a]))
    _rejected(gateway, "/v1/events", destroy(), 409, "parcel_not_empty")  # a queued packing fills it
    gateway.relay()
    _rejected(gateway, "/v1/events", destroy(), 409, "parcel_not_empty")  # it holds a unit on-chain
    _accepted(gateway, "/v1/aggregations", aggregation(gateway, "warehouse", [a], action=DELETE))
    gateway.relay()
    _accepted(gateway, "/v1/events", destroy())
    gateway.relay()
    assert gateway.services.chain.registry.functions.isClosed(PARCEL).call()
    del b


def test_inspections_the_escrow_would_refuse(gateway, shop, deployment, escrow, admin, actors):
    # No receiving scan yet: the escrow cannot start the SLA.
    waiting = shop.buy(market=MARKET_EU)
    shop.deliver(waiting)
    shop.request_return(waiting)
    _rejected(
        gateway,
        "/v1/inspections",
        gateway.inspection_body(waiting, Facts.SEAL_INTACT | Facts.PACKAGING_INTACT, Grade.A),
        409,
        "not_returned",
    )

    # Refunded on receipt: the inspection only decides the fate, and must claim the derived grade.
    warehouse = actors["warehouse"]
    deployment.registry.setReturnCenter(warehouse.gln, warehouse.gln, 1 << MARKET_EU, {"from": admin})
    refunded = shop.returned(market=MARKET_EU)
    escrow.releaseRefundOnReceipt(refunded, {"from": admin})
    _rejected(
        gateway,
        "/v1/inspections",
        gateway.inspection_body(refunded, Facts.PACKAGING_INTACT, Grade.A),
        409,
        "grade_mismatch",
    )
    _accepted(gateway, "/v1/inspections", gateway.inspection_body(refunded, Facts.PACKAGING_INTACT, Grade.B))

    # Past the SLA (5 days in the EU preset) the escrow refuses the inspection; the buyer claims the refund.
    late = shop.returned(market=MARKET_EU)
    deployment.registry.setReturnCenter(warehouse.gln, warehouse.gln, 0, {"from": admin})
    chain.sleep(6 * 24 * 3600)
    chain.mine()
    gateway.services.reader.now.clear()
    _rejected(
        gateway,
        "/v1/inspections",
        gateway.inspection_body(late, Facts.SEAL_INTACT | Facts.PACKAGING_INTACT, Grade.A, "inspector2"),
        409,
        "sla_elapsed",
    )


@pytest.mark.parametrize("missing", ["ReissueDesk", "ReturnPolicies", "schemaVersion"])
def test_a_manifest_without_the_desk_or_the_policies_is_refused_at_startup(
    gateway_settings, manifest, tmp_path, missing
):
    """Every v2 deployment has a ReissueDesk and ReturnPolicies: a gateway started on a manifest without
    one (or of another schema) stops with the reason, rather than answer defect claims or policies it cannot read."""
    data = json.loads(manifest.read_text())
    if missing == "schemaVersion":
        data["schemaVersion"] = 1
    else:
        del data["contracts"][missing]
    broken = tmp_path / "manifest.json"
    broken.write_text(json.dumps(data))
    with (
        pytest.raises(ManifestError, match="schema 1" if missing == "schemaVersion" else f"has no {missing}"),
        TestClient(create_app(gateway_settings.replace(manifest=broken))),
    ):
        pass


def test_a_closing_made_elsewhere_within_the_reader_ttl_fails_on_chain_with_its_error(gateway, record, destined):
    """An open unit's record is read again after the reader's TTL (as roles are): a unit closed by
    another gateway in that window is accepted here, and the chain's refusal is what the message
    then carries; closings queued or confirmed here are refused at once (the tests above)."""
    reader = gateway.services.reader
    reader.roles.ttl = reader.open_units.ttl = 600  # the window, made wide enough that a slow machine stays inside it
    unit = destined(UnitDisposition.DONATE)  # its settled order sends it to a charity
    _accepted(
        gateway, "/v1/events", gateway.events_body("warehouse", [gateway.event(unit, BizStep.STORING, "warehouse")])
    )
    gateway.relay()
    record(unit, BizStep.RECEIVING, "charity", Disposition.DONATED)  # straight on-chain, not through this gateway
    late = _accepted(
        gateway, "/v1/events", gateway.events_body("warehouse", [gateway.event(unit, BizStep.HOLDING, "warehouse")])
    )
    gateway.relay()
    state = gateway.client.get(f"/v1/messages/{late}").json()
    assert state["status"] == "failed" and "TraceRegistryUnitClosed" in state["error"], state
