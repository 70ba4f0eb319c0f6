"""docs/integrators.md's quickstart is real: its bodies are what the gateway accepts, its answers
what the gateway answers.

The quickstart walks one return through the gateway: a carrier's delivery scan, the buyer's return
request, the warehouse's receiving scan, the inspection report uploaded as evidence, the inspector's
attestation, then the unit's view. Here each documented signed body is signed again on the test
chain with its own field values, except the fields bound to that chain (signer, nonce, deadline,
event time, unit and order ids, order references, signature), which take this chain's values; each
must be accepted (202). Each body must carry exactly the fields of the request schema the gateway
publishes (its OpenAPI), and each documented answer must have the shape the gateway answers with.

`make doc-examples` (RT_WRITE_DOC_EXAMPLES=1) writes the examples instead, from the same walk with
the scenario's own values.
"""

from __future__ import annotations

import os
from typing import Any

from returntrace.escrow import Facts, Grade
from returntrace.vocab import BizStep, Disposition
from scripts.builder import order_ref, rma_ref
from tests.api.indexing import rows
from tests.api.test_assistant_api import Says, use_assistant
from tests.docs_text import DOCS, examples, key_paths, write_examples
from tests.support import GTIN, Status

INTEGRATORS = DOCS / "integrators.md"
WRITE = os.environ.get("RT_WRITE_DOC_EXAMPLES") == "1"
BASE_URL = "http://127.0.0.1:8000"
# Values that name this chain's state or moment: taken from the test chain, never from the docs.
CHAIN_BOUND = frozenset(
    {
        "signer",
        "buyer",
        "inspector",
        "nonce",
        "deadline",
        "signature",
        "unitId",
        "eventTime",
        "orderId",
        "bizTransaction",
    }
)
REPORT = b"Inspection report, order 1: seal intact, packaging intact, unused. Grade A.\n"


def _with_documented_values(scenario: dict[str, Any], documented: dict[str, Any] | None) -> dict[str, Any]:
    """The message to sign: the scenario's own (writing), or the documented one with this chain's
    values in its chain-bound fields (checking). Signer, nonce, deadline and signature are left to
    the signing helper."""
    if documented is None:
        return scenario

    def merge(ours: Any, theirs: Any, key: str = "") -> Any:
        if key in CHAIN_BOUND:
            return ours
        if isinstance(theirs, dict):
            return {k: merge(ours.get(k) if isinstance(ours, dict) else None, v, k) for k, v in theirs.items()}
        if isinstance(theirs, list):
            assert isinstance(ours, list) and len(ours) == len(theirs), f"{key}: the walk has {ours!r}"
            return [merge(o, t) for o, t in zip(ours, theirs, strict=True)]
        return theirs

    signed_elsewhere = {"signature", "nonce", "deadline", "signer", "buyer", "inspector"}
    return merge(scenario, {k: v for k, v in documented.items() if k not in signed_elsewhere})


def _schema_paths(openapi: dict[str, Any], schema: dict[str, Any], prefix: str = "") -> set[str]:
    """The key paths a request schema names (deprecated aliases left out: the docs show the
    current names)."""
    if "$ref" in schema:
        return _schema_paths(openapi, openapi["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]], prefix)
    if schema.get("type") == "array":
        return _schema_paths(openapi, schema["items"], f"{prefix}[]")
    paths: set[str] = set()
    for name, sub in schema.get("properties", {}).items():
        if sub.get("deprecated"):
            continue
        path = f"{prefix}.{name}" if prefix else name
        paths |= {path} | _schema_paths(openapi, sub, path)
    return paths


class Walk:
    """One return through the gateway, recording what an integrator sends and gets back."""

    def __init__(self, gateway, documented: dict[str, Any] | None) -> None:
        self.gateway, self.documented = gateway, documented
        self.openapi = gateway.app.openapi()
        self.produced: dict[str, Any] = {}

    def post_signed(self, name: str, kind: str, path: str, actor: str, **scenario: Any) -> dict[str, Any]:
        theirs = None if self.documented is None else self.documented[name]
        message = _with_documented_values(scenario, theirs)
        body = self.gateway.body(kind, actor, **message)
        request_schema = self.openapi["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert key_paths(body) == _schema_paths(self.openapi, request_schema), (
            f"{name}: fields differ from the request schema of {path}"
        )
        r = self.gateway.post(path, body)
        assert r.status_code == 202, f"{name}: {r.text}"
        self.produced[name] = body
        self.gateway.relay()
        return r.json()

    def answer(self, name: str, value: Any) -> None:
        """A documented answer: its shape must be the gateway's."""
        if self.documented is not None:
            assert key_paths(self.documented[name]) == key_paths(value), (
                f"{name}: the documented answer's fields differ from the gateway's"
            )
        self.produced[name] = value


def test_the_quickstart_bodies_are_accepted_and_its_answers_are_the_gateways(gateway, shop, escrow, actors):
    documented = None if WRITE else examples(INTEGRATORS)
    walk = Walk(gateway, documented)
    order_id = shop.buy()  # the hygiene-sealed bottle, EU, in the native coin
    unit = shop.unit(order_id)

    nonce = gateway.client.get(f"/v1/signers/{actors['carrier'].address}/nonce", params={"kind": "EventBatch"})
    assert nonce.status_code == 200, nonce.text
    walk.answer("nonce-answer", nonce.json())

    delivered = walk.post_signed(
        "delivery-scan",
        "EventBatch",
        "/v1/events",
        "carrier",
        events=[
            gateway.event(
                unit,
                BizStep.DELIVERING,
                "carrier",
                Disposition.DELIVERED,
                bizTransaction=order_ref(escrow, order_id),
            )
        ],
    )
    walk.answer("accepted-answer", delivered)
    status = gateway.client.get(f"/v1/messages/{delivered['id']}").json()
    assert status["status"] == "confirmed", status
    walk.answer("message-answer", status)

    # Before signing, the buyer's words and the options the desk offers them (integrators.md, The return
    # assistant); the assistant is a double, so the example does not follow the model's figures.
    use_assistant(gateway, Says("changed_mind", confidence=0.94))
    serial = shop.last_serial
    request = {
        "text": "We got two as gifts, I would like to send this one back",
        "unit": {"gtin": GTIN, "serial": serial},
    }
    if documented is not None:
        request = {**documented["assess-request"], "unit": {"gtin": GTIN, "serial": serial}}
    request["buyer"] = actors["buyer"].address
    assessed = gateway.client.post("/v1/assistant/assess", json=request)
    assert assessed.status_code == 200, assessed.text
    assert [o["kind"] for o in assessed.json()["options"]] == ["withdrawal", "exchange", "person"]
    walk.produced["assess-request"] = request
    walk.answer("assess-answer", assessed.json())

    walk.post_signed(
        "return-request",
        "ReturnRequest",
        "/v1/return-requests",
        "buyer",
        orderId=order_id,
        reason=0,
        remedy=0,
    )
    walk.post_signed(
        "receiving-scan",
        "EventBatch",
        "/v1/events",
        "warehouse",
        events=[
            gateway.event(
                unit,
                BizStep.RECEIVING,
                "warehouse",
                Disposition.RETURNED,
                bizTransaction=rma_ref(escrow, order_id),
            )
        ],
    )

    stored = gateway.client.post("/v1/evidence", content=REPORT, headers={"content-type": "text/plain"})
    assert stored.status_code == 201, stored.text
    walk.answer("evidence-answer", stored.json())
    sealed = int(Facts.SEAL_INTACT | Facts.PACKAGING_INTACT)
    walk.post_signed(
        "inspection",
        "Inspection",
        "/v1/inspections",
        "inspector",
        orderId=order_id,
        facts=sealed,
        grade=int(Grade.A),
        diminishedValue=0,
        evidence=stored.json()["digest"],
    )
    assert escrow.order(order_id)["status"] == Status.SETTLED  # a sealed grade A settles at once

    gateway.services.indexer.index_once()
    [(serial,)] = rows(gateway, "SELECT serial FROM idx_units WHERE unit_id = ?", "0x" + unit.hex())
    view_path = f"/01/{GTIN}/21/{serial}"
    curl = f"curl -H 'Accept: application/json' {BASE_URL}{view_path}"
    if documented is not None:
        assert documented["unit-view-request"] == curl
    walk.produced["unit-view-request"] = curl
    view = gateway.client.get(view_path, headers={"accept": "application/json"})
    assert view.status_code == 200, view.text
    assert view.json()["verification"]["verified"] is True, view.json()["verification"]
    walk.answer("unit-view", view.json())

    if WRITE:
        write_examples(INTEGRATORS, walk.produced)
