"""The auditor CLI follows a unit through the parcel it travelled in, from a node alone."""

from __future__ import annotations

from brownie import web3

from returntrace import audit, gs1
from returntrace.cli.audit import main as audit_main
from returntrace.escrow import UnitDisposition
from returntrace.vocab import AggregationAction, BizStep, Disposition
from tests.support import GTIN

SSCC = int(gs1.with_check_digit("39506000000000077"))


def _aggregate(builder, children, action):
    builder.aggregate("warehouse", [builder.aggregation(SSCC, children, action, "warehouse")])


def test_history_shows_parcel_scans_while_packed(deployment, builder, destined, record, manifest, capsys):
    # Returned used, settled grade C: it travels to the recycler in a parcel.
    unit = destined(UnitDisposition.RECYCLE, serial="CLI-PARCEL")
    parcel_id = gs1.parcel_id(SSCC)
    _aggregate(builder, [unit], AggregationAction.ADD)
    record(parcel_id, BizStep.DEPARTING, "carrier", Disposition.IN_TRANSIT)
    _aggregate(builder, [unit], AggregationAction.DELETE)
    record(unit, BizStep.RECEIVING, "recycler", Disposition.RECYCLED)

    registry = web3.eth.contract(address=deployment.registry.address, abi=deployment.registry.abi)
    h = audit.unit_history(registry, deployment.block, GTIN, "CLI-PARCEL")
    assert h["verified"] and h["closed"], h["reason"]
    assert [(e["label"], e["via_parcel"]) for e in h["timeline"]] == [
        ("Made", False),
        ("Delivered", False),
        ("Received at return center", False),
        ("Packed in parcel", False),
        ("Departed", True),
        ("Unpacked from parcel", False),
        ("Received by recycler", False),
    ]
    assert h["timeline"][4]["parcel"] == f"{SSCC:018d}" and h["timeline"][4]["seq"] == 2  # the parcel chain's 2nd link
    assert h["parcels"] == [
        {
            "sscc": f"{SSCC:018d}",
            "parcelId": "0x" + parcel_id.hex(),
            "verified": True,
            "onchainRecord": h["parcels"][0]["onchainRecord"],
            "rebuiltRecord": h["parcels"][0]["onchainRecord"],
        }
    ]

    capsys.readouterr()
    code = audit_main(["--rpc", web3.provider.endpoint_uri, "--manifest", str(manifest), "history", GTIN, "CLI-PARCEL"])
    out = capsys.readouterr().out
    assert code == 0 and f"via parcel SSCC {SSCC:018d}" in out and "VERIFIED" in out
