"""Generated malformed bodies at the signed-message and evidence endpoints (every route, signed in
or not: tests/api/test_fuzz_routes.py): the gateway answers 4xx, never 5xx, and stores nothing;
validly signed messages and auditor queries with integers across the full range of every type the
API accepts (uint8, uint40, uint64, uint256, SQLite's signed 64 bits) and beyond it."""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Iterator
from typing import Any

import anyio
from brownie import chain
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.http.routes.audit import _fingerprint
from api.store.index import EventFilter
from api.write.kinds import KINDS
from returntrace import gs1
from returntrace.escrow import Facts, Grade
from returntrace.vocab import AggregationAction, BizStep, Disposition
from tests.support import GTIN_INT, MARKET_EU, ZERO32

POST_PATHS = [
    "/v1/events",
    "/v1/aggregations",
    "/v1/commissions",
    "/v1/inspections",
    "/v1/return-requests",
    "/v1/defect-claims",
    "/v1/orders/1/release-refund-on-receipt",
    "/v1/evidence",
]
GET_PATHS = [
    "/v1/messages/{x}",
    "/v1/signers/0x0000000000000000000000000000000000000001/nonce?kind={x}",
    "/v1/signers/{x}/nonce?kind={x}",
    "/01/{x}/21/{x}",
    "/v1/evidence/{x}",
    "/v1/audit/events?unit={x}",
    "/01/{x}",
    "/00/{x}",
    "/00/{x}/qr.svg",
    "/v1/audit/events?from={x}",
    "/v1/audit/epcis?to={x}",
    "/v1/audit/events?bizStep={x}",
    "/v1/audit/events?fromBlock={x}",
    "/v1/audit/epcis?limit={x}",
    "/v1/audit/events?cursor={x}",
]


def uint(bits: int) -> st.SearchStrategy[int]:
    return st.integers(min_value=0, max_value=2**bits - 1)


def beyond(bits: int) -> st.SearchStrategy[int]:
    """Integers outside uint<bits>: past its top (up to 2**300) or negative."""
    return st.one_of(
        st.integers(min_value=2**bits, max_value=2**bits + 2**300), st.integers(min_value=-(2**300), max_value=-1)
    )


def full_range(bits: int) -> st.SearchStrategy[int]:
    """Any uint<bits>, its edges and the store's (2**63), and integers beyond the type."""
    edges = sorted({0, 1, 2**bits - 2, 2**bits - 1, 2**bits, -1, *(v for v in (2**63 - 1, 2**63) if v < 2**bits)})
    return st.one_of(uint(bits), st.sampled_from(edges), beyond(bits))


# Every integer type the API accepts, across its whole range and past it.
any_integer = st.one_of(
    full_range(8), full_range(40), full_range(64), full_range(256), st.integers(min_value=-(2**300), max_value=2**300)
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    any_integer,
    st.floats(allow_nan=False),
    st.text(max_size=80),
    st.sampled_from(["0x", "0x" + "ff" * 32, "0x" + "00" * 20, "09506000134352", "-1", "1e309"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=15), inner, max_size=6)),
    max_leaves=25,
)
field_names = st.sampled_from(
    [
        "signer",
        "events",
        "units",
        "nonce",
        "deadline",
        "signature",
        "unitId",
        "bizStep",
        "gtin",
        "serial",
        "orderId",
        "grade",
        "facts",
        "inspector",
        "buyer",
        "reason",
        "remedy",
        "evidence",
        "location",
        "eventTime",
        "aggregations",
        "sscc",
        "childIds",
        "action",
    ]
)
message_like = st.dictionaries(field_names, json_values, max_size=8)


def _no_5xx(response) -> None:
    assert response.status_code < 500, f"{response.status_code}: {response.text[:500]}"


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(path=st.sampled_from(POST_PATHS), body=st.one_of(json_values, message_like))
def test_generated_json_bodies_never_cause_5xx(gateway_app, path, body):
    client, outbox = gateway_app
    before = outbox.depth()
    _no_5xx(client.post(path, content=json.dumps(body), headers={"content-type": "application/json"}))
    assert outbox.depth() == before


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    path=st.sampled_from(POST_PATHS),
    raw=st.binary(max_size=300),
    content_type=st.sampled_from(
        ["application/json", "text/plain", "multipart/form-data; boundary=x", "application/octet-stream", ""]
    ),
)
def test_generated_raw_bodies_never_cause_5xx(gateway_app, path, raw, content_type):
    client, _ = gateway_app
    _no_5xx(client.post(path, content=raw, headers={"content-type": content_type} if content_type else {}))


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    template=st.sampled_from(GET_PATHS),
    part=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40),
)
def test_generated_paths_never_cause_5xx(gateway_app, template, part):
    from urllib.parse import quote

    client, _ = gateway_app
    _no_5xx(client.get(template.replace("{x}", quote(part, safe=""))))


# ---------------------------------------------------------------------------------------------
# integers across the full range of every type the API accepts, and beyond it


# Integer fields of each signed kind: (path in the body, lowest and highest value its Solidity type
# and the schema accept). Every kind also has nonce (uint256) and deadline (uint64).
OBSERVED = [
    ("bizStep", 0, 2**8 - 1),
    ("disposition", 0, 2**8 - 1),
    ("eventTime", 0, 2**40 - 1),
    ("location", 0, 2**64 - 1),
]
INTEGER_FIELDS = {
    "EventBatch": [(("events", 0, name), lo, hi) for name, lo, hi in OBSERVED],
    "CommissionBatch": [
        (("units", 0, name), lo, hi)
        for name, lo, hi in (("gtin", 0, 2**64 - 1), ("location", 0, 2**64 - 1), ("eventTime", 0, 2**40 - 1))
    ],
    "AggregationBatch": [
        (("aggregations", 0, name), lo, hi)
        for name, lo, hi in (*OBSERVED, ("sscc", 0, 2**64 - 1), ("action", 0, 2**8 - 1))
    ],
    "Inspection": [
        (("orderId",), 1, 2**256 - 1),
        (("facts",), 0, 2**8 - 1),
        (("grade",), 0, 2**8 - 1),
        (("diminishedValue",), 0, 2**96 - 1),
    ],
    "ReturnRequest": [(("orderId",), 1, 2**256 - 1), (("reason",), 0, 2**8 - 1), (("remedy",), 0, 2**8 - 1)],
    "DefectClaim": [(("orderId",), 1, 2**256 - 1)],
}
COMMON_FIELDS = [(("nonce",), 0, 2**256 - 1), (("deadline",), 0, 2**64 - 1)]
_serials = itertools.count(1)  # fresh units, serials and parcels for every example
ACTOR = {
    "EventBatch": "carrier",
    "CommissionBatch": "brand",
    "AggregationBatch": "carrier",
    "Inspection": "inspector",
    "ReturnRequest": "buyer",
    "DefectClaim": "buyer",
}


def _valid_fields(kind: str, gateway, shop, commission, n: int) -> dict:
    """A message of `kind` the gateway and the chain accept, on objects made for it (a fresh unit, order or parcel)."""
    if kind == "EventBatch":
        return {"events": [gateway.event(commission(f"FZ-{n}"), BizStep.DEPARTING, "carrier", Disposition.IN_TRANSIT)]}
    if kind == "CommissionBatch":
        return {
            "units": [
                {
                    "gtin": GTIN_INT,
                    "serial": f"FZC-{n}",
                    "location": gateway.actors["brand"].gln,
                    "eventTime": chain.time(),
                    "evidence": ZERO32,
                }
            ]
        }
    if kind == "AggregationBatch":
        sscc = int(gs1.with_check_digit(f"095060{n:011d}"))
        return {
            "aggregations": [
                {
                    "sscc": sscc,
                    "childIds": [commission(f"FZA-{n}")],
                    "action": int(AggregationAction.ADD),
                    "bizStep": int(BizStep.PACKING),
                    "disposition": int(Disposition.IN_PROGRESS),
                    "location": gateway.actors["carrier"].gln,
                    "eventTime": chain.time(),
                    "evidence": ZERO32,
                    "bizTransaction": ZERO32,
                }
            ]
        }
    if kind == "Inspection":
        return {
            "orderId": shop.returned(market=MARKET_EU),
            "facts": int(Facts.SEAL_INTACT | Facts.PACKAGING_INTACT),
            "grade": int(Grade.A),
            "diminishedValue": 0,
            "evidence": "0x" + "ab" * 32,
        }
    order_id = shop.buy(market=MARKET_EU)
    shop.deliver(order_id)
    if kind == "ReturnRequest":
        return {"orderId": order_id, "reason": 0, "remedy": 0}
    return {"orderId": order_id, "evidence": "0x" + "ab" * 32}


def _set(body: dict, path: tuple, value: int) -> None:
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    data=st.data(),
    kind=st.sampled_from(sorted(INTEGER_FIELDS)),
    push=st.one_of(
        st.none(), st.integers(min_value=0, max_value=2**256 - 2**16), st.sampled_from([2**63 - 1, 2**63, 2**64])
    ),
)
def test_signed_messages_with_integers_of_any_size_never_cause_5xx(
    gateway, shop, commission, deployment, data, kind, push
):
    """A validly signed message of each kind, with at most one integer field drawn from the full
    range of its type or beyond it, from a signer whose nonce increaseNonce may have pushed anywhere
    in uint256 (short of its top, where the contract's increment wraps). Outside the type: 422;
    an orderId past the index's keys: 400 out_of_range; no wild field: 202; accepted: relayed,
    confirmed, nonce and deadline kept exactly. Never a 5xx."""
    actor = gateway.actors[ACTOR[kind]]
    contract = {"registry": deployment.registry, "escrow": deployment.escrow, "desk": deployment.desk}[
        KINDS[kind].contract
    ]
    if push is not None and push > contract.getNonce(actor.address):
        contract.increaseNonce(push, {"from": actor.account})
    message = {
        **_valid_fields(kind, gateway, shop, commission, next(_serials)),
        "nonce": gateway.nonce(kind, ACTOR[kind]),
    }
    # Drawn independently of the chain's clock (hypothesis replays draws): an hour ahead, or far ahead.
    far = data.draw(
        st.one_of(
            st.none(), st.integers(min_value=2**40, max_value=2**64 - 1), st.sampled_from([2**63 - 1, 2**63, 2**64 - 1])
        ),
        label="deadline",
    )
    message["deadline"] = chain.time() + 3600 if far is None else far
    wild = data.draw(st.one_of(st.none(), st.sampled_from(INTEGER_FIELDS[kind] + COMMON_FIELDS)), label="wild field")
    value = None
    if wild is not None:
        path, lo, hi = wild
        value = data.draw(full_range(hi.bit_length()), label="value")
        if lo <= value <= hi:
            _set(message, path, value)
    body = gateway.body(kind, ACTOR[kind], **message)
    if wild is not None:
        _set(body, path, value)  # past the type nothing can sign it: the body carries it unsigned

    r = gateway.post(KINDS[kind].path, body)
    _no_5xx(r)
    answer = (r.status_code, r.json().get("error"))
    if wild is not None and not lo <= value <= hi:
        assert answer == (422, "invalid_request"), (path, value, r.text)
    elif wild is not None and path == ("orderId",) and value > 2**63 - 1:
        assert answer == (400, "out_of_range"), r.text
    elif wild is None:
        assert r.status_code == 202, r.text
    if r.status_code == 202:
        gateway.relay()
        state = gateway.client.get(f"/v1/messages/{r.json()['id']}").json()
        assert state["status"] == "confirmed", state
        stored = gateway.services.outbox.get(state["id"])
        assert (state["nonce"], stored.deadline) == (body["nonce"], body["deadline"])


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    path=st.sampled_from(["/v1/audit/events", "/v1/audit/epcis"]),
    param=st.sampled_from(["fromBlock", "toBlock", "from", "to", "limit", "bizStep"]),
    value=st.one_of(full_range(64), full_range(256), st.sampled_from([-(2**63), -(2**63) - 1, 2**63 - 1])),
)
def test_generated_integers_in_audit_queries_never_cause_5xx(gateway_app, path, param, value):
    client, _ = gateway_app
    r = client.get(path, params={param: str(value)})
    _no_5xx(r)
    answer = (r.status_code, r.json().get("error") if r.status_code != 200 else None)
    if not -(2**63) <= value <= 2**63 - 1:
        assert answer == (400, "out_of_range"), r.text
    elif param in ("fromBlock", "toBlock"):
        assert answer == ((200, None) if value >= 0 else (422, "invalid_request")), r.text
    elif param == "limit":
        assert answer == ((200, None) if 1 <= value <= 1000 else (422, "invalid_request")), r.text
    elif param in ("from", "to"):
        assert answer == (200, None), r.text
    else:
        assert answer in ((200, None), (400, "invalid_biz_step")), r.text


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(block=full_range(64), log_index=full_range(64), path=st.sampled_from(["/v1/audit/events", "/v1/audit/epcis"]))
def test_forged_cursors_never_cause_5xx(gateway_app, block, log_index, path):
    """The cursor's fingerprint is a plain hash of the filters: anyone can forge one with any numbers."""
    client, _ = gateway_app
    cursor = (
        base64.urlsafe_b64encode(f"{block}.{log_index}.{_fingerprint(EventFilter(block_from=0))}".encode())
        .decode()
        .rstrip("=")
    )
    r = client.get(path, params={"fromBlock": 0, "cursor": cursor})
    _no_5xx(r)
    fits = all(-(2**63) <= n <= 2**63 - 1 for n in (block, log_index))
    assert (r.status_code, r.json().get("error") if r.status_code != 200 else None) == (
        (200, None) if fits else (400, "out_of_range")
    ), r.text


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(order_id=st.one_of(full_range(64), full_range(256)))
def test_generated_order_ids_in_paths_never_cause_5xx(gateway_app, order_id):
    client, outbox = gateway_app
    before = outbox.depth()
    r = client.post(f"/v1/orders/{order_id}/release-refund-on-receipt")
    _no_5xx(r)
    if not -(2**63) <= order_id <= 2**63 - 1:
        assert (r.status_code, r.json()["error"]) == (400, "out_of_range"), r.text
    elif order_id < 1:
        assert (r.status_code, r.json()["error"]) == (400, "invalid_order"), r.text
    else:
        assert (r.status_code, r.json()["error"]) == (404, "unknown_order"), r.text  # no order exists here
    assert outbox.depth() == before


def _streamed(app: Any, path: str, chunks: Iterator[bytes], headers: dict[str, str]) -> tuple[int, dict, int]:
    """POSTs `chunks` to the ASGI app as a client streaming its body; answers the status, the JSON
    answer and how many chunks the gateway read."""
    read = 0

    async def receive() -> dict[str, Any]:
        nonlocal read
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        read += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("203.0.113.9", 40000),
        "server": ("testserver", 80),
        "app": app,
    }
    anyio.run(app, scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(body), read


def test_an_anonymous_body_past_the_limit_is_refused_before_it_is_read(gateway):
    """An anonymous client streaming a huge JSON body (a signed-message route, sign-in, the assistant)
    made the gateway hold all of it in memory, then parse it: a single request could exhaust the
    machine. Past RT_MAX_BODY_BYTES the request is 413 too_large, read no further."""
    most = gateway.services.settings.max_body_bytes
    chunk = b"[" + b"0," * (32 * 1024 - 1)  # 64 KiB
    total = 4 * most // len(chunk)
    for path in ("/v1/events", "/v1/auth/siwe", "/v1/assistant/assess", "/v1/documents/RateCard"):
        status, answer, read = _streamed(gateway.app, path, iter([chunk] * total), {"content-type": "application/json"})
        assert (status, answer["error"], answer["maxBytes"]) == (413, "too_large", most), (path, answer)
        assert read <= most // len(chunk) + 1, (path, read, total)
        # A declared length past the limit: refused before any of the body is read.
        status, answer, read = _streamed(
            gateway.app,
            path,
            iter([chunk] * total),
            {"content-type": "application/json", "content-length": str(total * len(chunk))},
        )
        assert (status, answer["error"], read) == (413, "too_large", 0), (path, answer)
    assert gateway.services.outbox.depth()["accepted"] == 0


def test_the_body_limit_is_the_operators_setting(gateway_settings):
    """RT_MAX_BODY_BYTES was a constant in the code: an operator could neither tighten it nor make room for a
    larger batch. Set lower, a body past it is refused before it is read, with the limit named; one within it
    reaches the route (its own answer, not 413)."""
    from fastapi.testclient import TestClient

    from api.main import create_app

    most = 64 * 1024
    with TestClient(create_app(gateway_settings.replace(max_body_bytes=most))) as client:
        big = b"[" + b"0," * (most // 2) + b"0]"
        status, answer, read = _streamed(
            client.app, "/v1/events", iter([big]), {"content-type": "application/json", "content-length": str(len(big))}
        )
        assert (status, answer["error"], answer["maxBytes"], read) == (413, "too_large", most, 0)
        small = client.post("/v1/events", content=b"[0]", headers={"content-type": "application/json"})
        assert small.status_code == 422 and small.json()["error"] == "invalid_request"
