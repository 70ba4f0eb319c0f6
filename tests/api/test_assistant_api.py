"""POST /v1/assistant/assess: the assessment, the gateway's reasons for a person, bad input, the
rate limit. The assistant is a double implementing the interface (returntrace/assistant): these
tests are about the gateway, never about the model's quality."""

from __future__ import annotations

import dataclasses

import pytest
from brownie import chain

from returntrace.assistant import MAX_TEXT_CHARS, Assessment, Assistant
from tests.api.people import as_, sign_in
from tests.support import DEFAULT_PRICE, GTIN, MARKET_EU

ASSESS = "/v1/assistant/assess"


@dataclasses.dataclass
class Says:
    """An assistant double: answers what it is told, whatever the text (it records the texts)."""

    reason: str | None
    language: str = "en"
    confidence: float = 0.97
    handoff: bool = False
    why: tuple[str, ...] = ()
    urgent: bool = False
    heard: list[str] = dataclasses.field(default_factory=list)

    def assess(self, text: str) -> Assessment:
        self.heard.append(text)
        return Assessment(self.language, self.reason, self.confidence, self.handoff, self.why, self.urgent)


def use_assistant(gateway, assistant) -> None:
    """Injects an assistant through the services container (the gateway's one seam)."""
    gateway.app.state.services = dataclasses.replace(gateway.services, assistant=assistant)


def use_settings(gateway, **changes) -> None:
    services = gateway.services
    gateway.app.state.services = dataclasses.replace(services, settings=services.settings.replace(**changes))


def assess(gateway, text: str = "it does not fit", signed_in: bool = True, **body):
    """POST /v1/assistant/assess; a `buyer` that is a test actor signs in as that actor first (Sign-In
    with Ethereum), as the return page does, unless `signed_in` is False."""
    buyer = body.get("buyer")
    signer = next((a for a in gateway.actors.values() if a.address == buyer), None)
    headers = as_(sign_in(gateway.client, signer)) if signed_in and signer is not None else {}
    return gateway.client.post(ASSESS, json={"text": text, **body}, headers=headers)


def sold(shop, market: int = MARKET_EU, deliver: bool = True, **buy) -> tuple[int, dict]:
    """An order of a fresh unit, delivered: (order id, the unit as the request names it)."""
    order_id = shop.buy(market=market, **buy)
    unit = {"gtin": GTIN, "serial": shop.last_serial}
    if deliver:
        shop.deliver(order_id)
    return order_id, unit


def refused(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.json()["error"] == code, r.text
    return r.json()


def test_text_alone_is_assessed_with_the_ai_notice_and_no_options(gateway):
    said = Says("size_fit", language="de", confidence=0.93)
    use_assistant(gateway, said)
    r = assess(gateway, "Der Body ist zu klein")
    assert r.status_code == 200, r.text
    data = r.json()
    assert said.heard == ["Der Body ist zu klein"]
    assert (data["language"], data["reason"], data["confidence"]) == ("de", "size_fit", 0.93)
    assert data["handoff"] == {"needed": False, "why": [], "urgent": False}
    assert data["options"] == [] and data["block"] is None and data["orderId"] is None
    assert data["automated"] is True and "automated assistant" in data["notice"] and "Article 50" in data["notice"]


def test_the_assistants_handoff_is_kept_and_the_buyer_may_ask_for_a_person(gateway):
    use_assistant(gateway, Says(None, language="unknown", confidence=0.0, handoff=True, why=("unknown_language",)))
    data = assess(gateway, "Dit past niet").json()
    assert data["handoff"] == {"needed": True, "why": ["unknown_language"], "urgent": False}
    use_assistant(gateway, Says("changed_mind"))
    data = assess(gateway, "I changed my mind", person=True).json()
    assert data["handoff"] == {"needed": True, "why": ["asked_for_person"], "urgent": False}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty_text"),
        ("   \n\t ", "empty_text"),
        ("x" * (MAX_TEXT_CHARS + 1), "text_too_long"),
        ("broken\x00bytes", "binary_text"),
        ("bell\x07", "binary_text"),
        ("private\ue000use", "binary_text"),
    ],
)
def test_bad_text_is_refused_with_a_reason_and_never_reaches_the_assistant(gateway, text, code):
    said = Says("size_fit")
    use_assistant(gateway, said)
    refused(assess(gateway, text), 400, code)
    assert said.heard == []


def test_the_longest_text_and_ordinary_whitespace_are_read(gateway):
    said = Says("size_fit")
    use_assistant(gateway, said)
    assert assess(gateway, "y" * MAX_TEXT_CHARS).status_code == 200
    assert assess(gateway, "line one\r\nline two\tend").status_code == 200
    assert len(said.heard) == 2


def test_an_assistant_that_refuses_the_text_is_a_400(gateway):
    class Refuses:
        def assess(self, text: str) -> Assessment:
            raise ValueError("binary")

    use_assistant(gateway, Refuses())
    refused(assess(gateway, "text"), 400, "invalid_text")


def test_malformed_requests_are_refused(gateway, shop):
    use_assistant(gateway, Says("size_fit"))
    refused(assess(gateway, unit={"gtin": "123", "serial": "A1"}), 400, "invalid_gtin")
    refused(assess(gateway, unit={"gtin": GTIN, "serial": "bad serial\u00e9"}), 400, "invalid_serial")
    refused(assess(gateway, unit={"gtin": GTIN}), 422, "invalid_request")
    refused(assess(gateway, unit={"gtin": GTIN, "serial": "A1", "lot": "x"}), 422, "invalid_request")
    refused(assess(gateway, buyer="0x1234"), 400, "invalid_address")
    refused(assess(gateway, extra=1), 422, "invalid_request")
    refused(gateway.client.post(ASSESS, json={"unit": None}), 422, "invalid_request")
    refused(
        gateway.client.post(ASSESS, content=b"text=hi", headers={"content-type": "text/plain"}),
        415,
        "unsupported_media_type",
    )
    refused(assess(gateway, unit={"gtin": GTIN, "serial": "NEVER-MADE"}), 404, "unknown_unit")


def test_a_unit_without_an_order_is_refused_unless_a_person_is_asked_for(gateway, commission):
    use_assistant(gateway, Says("size_fit"))
    commission("NO-ORDER-1")
    unit = {"gtin": GTIN, "serial": "NO-ORDER-1"}
    r = assess(gateway, unit=unit)
    refused(r, 409, "no_order")
    assert "ask for a person" in r.json()["detail"]
    # A person always answers, and a child's safety always reaches one: then the assessment comes back.
    data = assess(gateway, unit=unit, person=True).json()
    assert data["options"] == [] and data["optionsWhy"] == "no_order" and data["reason"] == "size_fit"
    assert data["block"]["number"] == chain.height and data["handoff"]["why"] == ["asked_for_person"]
    use_assistant(gateway, Says("safety_concern", handoff=True, why=("safety_concern",), urgent=True))
    assert assess(gateway, unit=unit).json()["handoff"]["urgent"] is True


def test_a_text_in_two_languages_is_refused_unless_it_names_a_safety_term(gateway):
    use_assistant(gateway, Assistant.load())  # the shipped assistant, which reads the languages
    r = assess(gateway, "The bottle leaks everywhere. Die Flasche ist kaputt und leckt überall.")
    refused(r, 422, "mixed_languages")
    assert "de, en" in r.json()["detail"]
    r = assess(gateway, "The teat gave my baby a rash. Die Flasche ist kaputt und leckt überall.")
    assert r.status_code == 200 and r.json()["handoff"]["urgent"] is True, r.text


def test_someone_elses_order_is_refused_and_no_buyer_sees_no_options(gateway, shop, actors):
    use_assistant(gateway, Says("size_fit"))
    order_id, unit = sold(shop)
    refused(assess(gateway, unit=unit, buyer=actors["buyer2"].address), 403, "not_buyer")
    data = assess(gateway, unit=unit).json()
    assert data["options"] == [] and data["optionsWhy"] == "buyer_required" and data["orderId"] == order_id


def test_an_order_above_the_threshold_goes_to_a_person_first(gateway, shop, actors):
    use_assistant(gateway, Says("size_fit"))
    _, unit = sold(shop, price=DEFAULT_PRICE)
    buyer = actors["buyer"].address
    use_settings(gateway, handoff_above=DEFAULT_PRICE / 10**18)  # at the threshold: not above it
    data = assess(gateway, unit=unit, buyer=buyer).json()
    assert data["handoff"]["needed"] is False and data["options"][0]["kind"] == "exchange"
    use_settings(gateway, handoff_above=0.5)
    data = assess(gateway, unit=unit, buyer=buyer).json()
    assert data["handoff"] == {"needed": True, "why": ["above_value"], "urgent": False}
    assert [o["kind"] for o in data["options"]][:2] == ["person", "exchange"]


def test_a_buyer_with_repeated_returns_goes_to_a_person(gateway, shop, actors):
    use_assistant(gateway, Says("size_fit"))
    use_settings(gateway, handoff_returns=2)
    buyer = actors["buyer"].address
    for _ in range(2):
        order_id, _ = sold(shop)
        shop.request_return(order_id)
        gateway.services.indexer.index_once()
        data = assess(gateway, buyer=buyer).json()
    assert data["handoff"] == {"needed": True, "why": ["repeated_returns"], "urgent": False}
    use_settings(gateway, handoff_returns=3)
    assert assess(gateway, buyer=buyer).json()["handoff"]["needed"] is False


def test_assessments_are_rate_limited_per_client_with_retry_after(gateway):
    use_assistant(gateway, Says("size_fit"))
    services = gateway.services
    limited = dataclasses.replace(
        services, assess_limit=type(services.assess_limit)(rate=0.01, burst=2)
    )  # 1 token per 100 s after 2
    gateway.app.state.services = limited
    assert [assess(gateway).status_code for _ in range(2)] == [200, 200]
    r = assess(gateway)
    refused(r, 429, "rate_limited")
    assert 1 <= int(r.headers["retry-after"]) <= 100
    refused(assess(gateway, ""), 429, "rate_limited")  # bad requests spend tokens too


def test_the_assessment_stores_nothing(gateway, shop, actors):
    use_assistant(gateway, Says("size_fit"))
    _, unit = sold(shop)
    before = gateway.services.outbox.depth()
    assert assess(gateway, "secret words about my baby", unit=unit, buyer=actors["buyer"].address).status_code == 200
    assert gateway.services.outbox.depth() == before
    folder = gateway.services.settings.database.parent
    for path in [p for p in folder.rglob("*") if p.is_file()]:
        assert b"secret words" not in path.read_bytes(), path


def test_an_orders_options_are_for_its_signed_in_buyer_never_for_a_claim_in_the_body(gateway, shop, actors):
    use_assistant(gateway, Says("size_fit"))
    _, unit = sold(shop)
    buyer = actors["buyer"].address
    refused(assess(gateway, unit=unit, buyer=buyer, signed_in=False), 401, "not_signed_in")
    as_other = as_(sign_in(gateway.client, actors["buyer2"]))
    r = gateway.client.post(ASSESS, json={"text": "too small", "unit": unit, "buyer": buyer}, headers=as_other)
    refused(r, 403, "not_signed_in_as_buyer")
    as_buyer = as_(sign_in(gateway.client, actors["buyer"]))
    data = gateway.client.post(ASSESS, json={"text": "too small", "unit": unit}, headers=as_buyer).json()
    assert data["options"] and data["options"][0]["kind"] == "exchange" and data["case"] is None


def test_a_handoff_opens_the_orders_case_with_codes_and_keeps_words_only_when_a_person_is_asked_for(
    gateway, shop, actors
):
    use_assistant(gateway, Says("defective", confidence=0.41, handoff=True, why=("low_confidence",)))
    order_id, unit = sold(shop)
    buyer = actors["buyer"].address
    data = assess(gateway, "the pump stopped", unit=unit, buyer=buyer).json()
    opened = data["case"]
    assert opened["textKept"] is False and opened["urgent"] is False
    store = gateway.services.cases.store
    case = store.get(opened["id"])
    assert (case.order_id, case.reason, case.why) == (order_id, "defective", ("low_confidence",))
    assert store.texts(case.id) == []  # no consent: the codes only
    data = assess(gateway, "please have someone call me", unit=unit, buyer=buyer, person=True).json()
    assert data["case"]["id"] == case.id and data["case"]["textKept"] is True  # the order's one open case
    assert [t["text"] for t in store.texts(case.id)] == ["please have someone call me"]
    # Not signed in: a handoff is answered, and nothing is opened or kept.
    before = len(store.of_organization(case.organization))
    data = assess(gateway, "the pump stopped again", unit=unit, person=True).json()
    assert data["handoff"]["needed"] is True and data["case"] is None
    assert len(store.of_organization(case.organization)) == before


def test_the_options_words_come_in_the_readers_language_and_the_amounts_do_not_change(gateway, shop, actors):
    use_assistant(gateway, Says("size_fit"))
    _, unit = sold(shop)
    signed_in = as_(sign_in(gateway.client, actors["buyer"]))
    body = {"text": "zu klein", "unit": unit}
    english = gateway.client.post(ASSESS, json=body, headers=signed_in).json()["options"]
    german = gateway.client.post(ASSESS, json=body, headers={**signed_in, "Accept-Language": "de-AT, en;q=0.5"})
    german = german.json()["options"]
    assert [o["kind"] for o in german] == [o["kind"] for o in english]
    exchange = next(o for o in german if o["kind"] == "exchange")
    assert exchange["title"] == "Gegen Guthaben im Shop umtauschen (mit Bonus)"
    assert exchange["gets"]["byGrade"][1]["condition"] == "geöffnet, unbenutzt"
    withdrawal = next(o for o in german if o["kind"] == "withdrawal")
    assert "14 Tage ab Lieferung" in withdrawal["must"]
    # Only the words: amounts, deadlines and the messages to sign are the same in every language.
    strip = lambda o: {k: v for k, v in o.items() if k not in ("title", "must", "gets")}  # noqa: E731
    assert [strip(o) for o in german] == [strip(o) for o in english]
    assert [[g.get("voucher") for g in o["gets"]["byGrade"]] for o in german if o["kind"] == "exchange"] == [
        [g.get("voucher") for g in o["gets"]["byGrade"]] for o in english if o["kind"] == "exchange"
    ]
