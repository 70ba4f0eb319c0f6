"""The JSON answers' models (api/http/responses.py): one naming convention, camelCase, and for the unit
and parcel views the old snake_case names still served beside it, with the same values, for one
release (CHANGELOG.md, Unreleased)."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

import pytest
from pydantic import ValidationError
from pydantic.alias_generators import to_camel

from api.http import responses
from api.read import views
from returntrace import gs1

GTIN = "09506000134352"


def old_shape(new: Any, like: Any) -> Any:
    """`new` cut down to the keys `like` has, at every level: what a client written for `like` reads."""
    if isinstance(like, dict):
        return {k: old_shape(new[k], v) for k, v in like.items()}
    if isinstance(like, list):
        return [old_shape(n, o) for n, o in zip(new, like, strict=True)] if len(new) == len(like) else new
    return new


def camel(tree: Any) -> Any:
    """The same tree with every key in camelCase (keys that are camelCase already stay)."""
    if isinstance(tree, dict):
        return {to_camel(k): camel(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [camel(v) for v in tree]
    return tree


def served_in_both_namings(served: dict[str, Any], view: Any) -> None:
    """The view's JSON carries every field under its camelCase name and, where it differs, its
    deprecated snake_case name, each with the value the view holds."""
    old = asdict(view)
    assert old_shape(served, old) == old, "a deprecated snake_case name is missing or changed"
    assert old_shape(served, camel(old)) == camel(old), "a camelCase name is missing or differs"
    assert set(served) == set(old) | set(camel(old))


def a_unit_view() -> views.UnitView:
    settlement = views.Settlement(
        "B", False, "900", "100", "0", "donate", "0x" + "ab" * 32, 12, 3, {"kind": "graded", "txHash": "0x" + "ab" * 32}
    )
    status = views.ReturnStatus(
        order_id=7,
        market="EU",
        status="settled",
        currency="native",
        price="1000",
        delivery_fee="50",
        reason="defective",
        requested_at=1_700_000_000,
        inspection={"inspector": "0x" + "11" * 20, "facts": ["used"], "claimedGrade": "B"},
        settlement=settlement,
        events=[
            {
                "name": "OrderSettled",
                "block": 12,
                "logIndex": 3,
                "time": 1_700_000_100,
                "txHash": "0x" + "ab" * 32,
                "args": {"orderId": 7},
            }
        ],
        remedy="refund",
        refund_on_receipt={"location": "0950600000011", "refund": "900"},
        in_withdrawal=True,
        dispatched_at=1_700_000_050,
        proof={"verified": True, "block": 12, "reason": None},
    )
    entry = views.TimelineEntry(
        seq=1,
        step="commissioning",
        label="Made",
        step_uri="https://ref.gs1.org/cbv/BizStep-commissioning",
        disposition=None,
        disposition_uri=None,
        location="0950600000011",
        event_time=1_699_999_000,
        signer="0x" + "22" * 20,
        signer_role="brand",
        evidence=None,
        biz_transaction=None,
        tx_hash="0x" + "cd" * 32,
        block=3,
        log_index=0,
    )
    return views.UnitView(
        unit_id="0x" + gs1.unit_id(GTIN, "RESP-1").hex(),
        gtin=GTIN,
        serial="RESP-1",
        brand="0x" + "22" * 20,
        hygiene_sealed=True,
        digital_link=gs1.digital_link("http://127.0.0.1:8000", GTIN, "RESP-1"),
        timeline=[entry],
        return_status=status,
        verification=views.Verification(True, 12, 1, 1, None),
        replacement_for={"orderId": 3, "verified": True},
    )


PAIRS = [
    (views.UnitView, responses.UnitViewOut),
    (views.TimelineEntry, responses.TimelineEntryOut),
    (views.ReturnStatus, responses.ReturnStatusOut),
    (views.Settlement, responses.SettlementOut),
    (views.Verification, responses.VerificationOut),
    (views.ParcelView, responses.ParcelViewOut),
    (views.ParcelMember, responses.ParcelMemberOut),
]


@pytest.mark.parametrize(("view", "model"), PAIRS, ids=[v.__name__ for v, _ in PAIRS])
def test_each_view_field_has_its_response_field(view, model):
    assert [f.name for f in fields(view)] == list(model.model_fields)


def test_the_unit_json_serves_camel_case_and_the_deprecated_snake_case_names():
    view = a_unit_view()
    served = responses.unit_json(view)
    served_in_both_namings(served, view)
    assert (
        served["returnStatus"]["settlement"]["txHash"]
        == served["return_status"]["settlement"]["tx_hash"]
        == "0x" + "ab" * 32
    )
    assert served["timeline"][0]["eventTime"] == served["timeline"][0]["event_time"] == 1_699_999_000
    assert "unitId" in served and "unit_id" in served and "gtin" in served


def test_the_parcel_json_serves_both_namings_too():
    member = views.ParcelMember("0x" + "33" * 32, GTIN, "RESP-2", "http://127.0.0.1:8000/01/09506000134352/21/RESP-2")
    view = views.ParcelView(
        parcel_id="0x" + "44" * 32,
        sscc="095060000000000017",
        digital_link="http://127.0.0.1:8000/00/095060000000000017",
        timeline=[],
        contents=[member],
        verification=views.Verification(True, 9, 2, 2, None),
        contents_verified=True,
        contents_reason=None,
        onchain_size=1,
    )
    served_in_both_namings(responses.parcel_json(view), view)


def test_a_field_a_model_does_not_declare_is_refused_not_dropped():
    with pytest.raises(ValidationError):
        responses.MessageOut.model_validate(
            {
                "id": "0x01",
                "kind": "EventBatch",
                "signer": "0x" + "11" * 20,
                "nonce": 0,
                "items": 1,
                "status": "accepted",
                "txHash": None,
                "block": None,
                "error": None,
                "acceptedAt": 0.0,
                "updatedAt": 0.0,
                "surprise": 1,
            }
        )


# Routes that answer no JSON object of their own: the evidence file's bytes, EPCIS's JSON-LD document (the standard's
# names).
NOT_JSON = {
    ("GET", "/v1/evidence/{cid}"),
    ("GET", "/v1/audit/epcis"),
    ("GET", "/return/{gtin}/{serial}"),
    ("GET", "/station"),  # the inspection station's page
}


def test_every_json_route_declares_its_response_model():
    from api.main import create_app
    from api.settings import Settings

    document = create_app(Settings()).openapi()  # not started: no chain is needed to describe the routes
    operations = [(method.upper(), path, op) for path, ops in document["paths"].items() for method, op in ops.items()]
    assert len(operations) > 15
    missing = []
    for method, path, op in operations:
        ok = next(answer for status, answer in op["responses"].items() if status.startswith("2"))
        if (method, path) not in NOT_JSON and "$ref" not in ok.get("content", {}).get("application/json", {}).get(
            "schema", {}
        ):
            missing.append((method, path))
    assert missing == []
