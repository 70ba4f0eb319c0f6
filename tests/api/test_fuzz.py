"""Generated malformed bodies at every endpoint: the gateway answers 4xx, never 5xx, and stores nothing."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

POST_PATHS = ["/v1/events", "/v1/aggregations", "/v1/commissions", "/v1/inspections", "/v1/return-requests", "/v1/defect-claims", "/v1/orders/1/release-refund-on-receipt", "/v1/evidence"]
GET_PATHS = ["/v1/messages/{x}", "/v1/signers/0x0000000000000000000000000000000000000001/nonce?kind={x}", "/v1/signers/{x}/nonce?kind={x}", "/01/{x}/21/{x}", "/v1/evidence/{x}", "/v1/audit/events?unit={x}", "/01/{x}", "/00/{x}", "/00/{x}/qr.svg"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**300), max_value=2**300), st.floats(allow_nan=False),
    st.text(max_size=80), st.sampled_from(["0x", "0x" + "ff" * 32, "0x" + "00" * 20, "09506000134352", "-1", "1e309"]),
)
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=15), inner, max_size=6)), max_leaves=25)
field_names = st.sampled_from(["signer", "events", "units", "nonce", "deadline", "signature", "unitId", "bizStep", "gtin", "serial", "orderId", "grade", "facts", "inspector", "buyer", "reason", "remedy", "evidence", "location", "eventTime", "aggregations", "sscc", "childIds", "action"])
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
@given(path=st.sampled_from(POST_PATHS), raw=st.binary(max_size=300), content_type=st.sampled_from(["application/json", "text/plain", "multipart/form-data; boundary=x", "application/octet-stream", ""]))
def test_generated_raw_bodies_never_cause_5xx(gateway_app, path, raw, content_type):
    client, _ = gateway_app
    _no_5xx(client.post(path, content=raw, headers={"content-type": content_type} if content_type else {}))


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(template=st.sampled_from(GET_PATHS), part=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40))
def test_generated_paths_never_cause_5xx(gateway_app, template, part):
    from urllib.parse import quote

    client, _ = gateway_app
    _no_5xx(client.get(template.replace("{x}", quote(part, safe=""))))
