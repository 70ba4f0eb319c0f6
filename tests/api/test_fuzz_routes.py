"""Generated requests at every route the gateway serves, read from its own OpenAPI schema (a route
added later is fuzzed with no list to keep) plus the pages it keeps out of the schema: path and query
parameters of any text, bodies of any JSON shape, form fields or bytes, sent anonymously and signed
in as each kind of party, on a chain holding a returned order and a case. The gateway answers below
500 and queues no message. (tests/api/test_fuzz.py aims generated bodies and integers of every size
at the signed-message routes in depth.)"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from brownie import ZERO_ADDRESS
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.main import ROUTERS, create_app
from scripts.builder import Builder, Offer
from tests.api.conftest import settings_for
from tests.api.people import Assessment, as_, sign_in, staff  # noqa: F401  (fixture)
from tests.api.test_fuzz import json_values, message_like, scalars
from tests.support import DEFAULT_DELIVERY_FEE, DEFAULT_PRICE, DEFAULT_RETURN_FEE, GTIN, GTIN_INT, MARKET_EU


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # the template, parameters in braces
    query: tuple[str, ...] = ()
    body: bool = False

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


# Served but kept out of the schema (pages, the desk's forms, scripts): listed here with their query
# parameters and bodies, and checked to be all the app hides (test_the_hidden_routes_listed_are_all_it_hides).
HIDDEN = [
    Route("GET", "/desk/cases"),
    Route("GET", "/desk/cases/{case_id}"),
    *(
        Route("POST", f"/desk/cases/{{case_id}}/{action}", body=True)
        for action in ("notes", "offer", "escalate", "close")
    ),
    Route("GET", "/desk/analytics", query=("brand", "gtin", "market", "from", "to", "lang")),
    Route("GET", "/gtin/{link_path}"),
    Route("HEAD", "/gtin/{link_path}"),
    Route("HEAD", "/01/{link_path}"),
    Route("HEAD", "/00/{link_path}"),
    *(Route("GET", path) for path in ("/assets/return-flow.js", "/assets/station.js", "/assets/wallet.js")),
    Route("GET", "/desk/desk-signin.js"),
]
# The form fields the desk's forms and the sign-out form post (notes, offer, close; the page to go back to).
FORM_FIELDS = ["text", "kind", "outcome", "next", "option"]
PARTIES = (None, "buyer", "staff", "inspector", "carrier", "brand", "auditor")


class Sessions:
    """A session token for each party, signed in again once a generated request signed it out."""

    def __init__(self, client: TestClient, signers: dict) -> None:
        self.client, self.signers, self.tokens = client, signers, {}

    def headers(self, who: str | None) -> dict[str, str]:
        if who is None:
            return {}
        if who not in self.tokens:
            self.tokens[who] = sign_in(self.client, self.signers[who])
            self.client.cookies.clear()  # each request says who it is
        return as_(self.tokens[who])

    def forget(self, who: str | None) -> None:
        self.tokens.pop(who, None)


def routes(app) -> list[Route]:
    """Every operation of the app's OpenAPI schema, and HIDDEN."""
    found = [
        Route(
            method.upper(),
            path,
            tuple(p["name"] for p in operation.get("parameters", ()) if p["in"] == "query"),
            "requestBody" in operation,
        )
        for path, operations in app.openapi()["paths"].items()
        for method, operation in operations.items()
    ]
    return found + HIDDEN


@pytest.fixture(scope="module")
def fuzzed(manifest, relayer_signer, tmp_path_factory, actors, staff):  # noqa: F811
    """A gateway for the module's generated requests, with a session token for each party."""
    settings = settings_for(
        manifest,
        relayer_signer,
        tmp_path_factory.mktemp("route-fuzz"),
        auditors=(staff["auditor"].address,),
        # The rates are tests of their own (test_evidence_staging, test_assistant_api, test_sign_in): here
        # every request is to reach its handler.
        upload_burst=10_000,
        assess_burst=10_000,
        signin_burst=10_000,
    )
    with TestClient(create_app(settings)) as client:
        signers = {**actors, "staff": staff["staff"], "auditor": staff["auditor"]}
        yield client, Sessions(client, signers)


@pytest.fixture(scope="module")
def a_case(fuzzed, returned_order) -> tuple[int, int, str]:
    """(order id, case id, unit serial): an order delivered and returned, with a case opened on it."""
    client, _ = fuzzed
    order_id, serial = returned_order
    services = client.app.state.services
    services.indexer.index_once()
    case = services.cases.open_case(
        Assessment(), order_id=order_id, unit=None, buyer=None, why=("low_confidence",), text=None
    )
    return order_id, case.id, serial


@pytest.fixture(scope="module")
def returned_order(deployment, relayer) -> tuple[int, str]:
    """An order bought, delivered and returned on the module's chain: its id and its unit's serial."""
    builder = Builder(deployment, relayer)
    serial = builder.next_serial("FZR")
    unit, _ = builder.list_unit(
        serial, Offer(MARKET_EU, ZERO_ADDRESS, DEFAULT_PRICE, DEFAULT_DELIVERY_FEE, DEFAULT_RETURN_FEE, GTIN_INT)
    )
    return builder.returned(builder.purchase(unit).return_value), serial


def _values(order_id: int, case_id: int, serial: str) -> st.SearchStrategy[str]:
    """A path or query parameter: any text, or one the chain and the store know."""
    known = [
        str(order_id),
        str(case_id),
        "0",
        "-1",
        str(2**256),
        GTIN,
        f"{GTIN}/21/{serial}",
        serial,
        "0x" + "00" * 20,
        "0x" + "ab" * 32,
        "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
        "EventBatch",
        "ProductInfo",
    ]
    text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)
    return st.one_of(st.sampled_from(known), text)


def _path(template: str, draw_value) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: quote(draw_value(), safe="/" if m[1] == "link_path" else ""), template)


# Read from the app's schema at collection: building the app opens no store and reads no chain.
ROUTES = routes(create_app())


@pytest.mark.parametrize("route", ROUTES, ids=str)
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_generated_requests_at_every_route_never_cause_5xx(fuzzed, a_case, route, data):
    client, sessions = fuzzed
    outbox = client.app.state.services.outbox
    before = outbox.depth()
    value = _values(*a_case)
    path = _path(route.path, lambda: data.draw(value))
    params = {name: data.draw(st.one_of(value, scalars.map(str))) for name in route.query if data.draw(st.booleans())}
    who = data.draw(st.sampled_from(PARTIES), label="who")
    headers = sessions.headers(who)
    client.cookies.clear()  # a cookie an earlier answer set would speak for an anonymous request
    headers["accept"] = data.draw(st.sampled_from(["application/json", "text/html", "*/*"]))
    content: bytes | None = None
    if route.body or route.method in ("POST", "PUT"):
        kind = data.draw(st.sampled_from(["json", "form", "raw"]))
        if kind == "json":
            content = json.dumps(data.draw(st.one_of(json_values, message_like))).encode()
            headers["content-type"] = "application/json"
        elif kind == "form":
            fields = data.draw(st.dictionaries(st.sampled_from(FORM_FIELDS), value, max_size=3))
            content = "&".join(f"{quote(k)}={quote(v)}" for k, v in fields.items()).encode()
            headers["content-type"] = "application/x-www-form-urlencoded"
        else:
            content = data.draw(st.binary(max_size=200))
            headers["content-type"] = data.draw(
                st.sampled_from(["application/octet-stream", "multipart/form-data; boundary=x", "text/plain"])
            )
    response = client.request(route.method, path, params=params, content=content, headers=headers)
    assert response.status_code < 500, (
        f"{route.method} {path} {params} as {who}: {response.status_code} {response.text[:400]}"
    )
    assert outbox.depth() == before
    if (route.method, route.path) in (("DELETE", "/v1/auth/session"), ("POST", "/v1/auth/sign-out")):
        sessions.forget(who)  # signed out


def test_the_hidden_routes_listed_are_all_it_hides(fuzzed, a_case):
    """HIDDEN is every route the app keeps out of its schema (a page added later is fuzzed only once listed:
    this fails until it is), and each answers its method and path (no 404 or 405)."""
    client, sessions = fuzzed
    hidden = {
        f"{method} {route.path.replace(':path', '')}"
        for router in ROUTERS  # the routers create_app includes, none nested
        for route in router.routes
        if isinstance(route, APIRoute) and not route.include_in_schema
        for method in route.methods
    }
    assert hidden == {str(r) for r in HIDDEN}
    order_id, case_id, serial = a_case
    for route in HIDDEN:
        path = route.path.replace("{case_id}", str(case_id)).replace("{link_path}", f"{GTIN}/21/{serial}")
        response = client.request(route.method, path, headers=sessions.headers("staff"), data={"text": "x"})
        assert response.status_code not in (404, 405), (route, response.status_code, response.text[:200])
