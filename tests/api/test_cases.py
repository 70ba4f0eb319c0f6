"""The return desk's cases (api/write/cases.py, api/http/routes/cases.py): a case for every handoff,
the buyer's words kept only with their consent, for the retention period, and erased on request;
only the merchant's organisation (and auditors) see a case; staff note, offer, escalate to the
on-chain dispute (its OrderDisputed recorded, with the mediation routes) and close, every action
logged; a safety case reaches the brand's product-safety contact; an order's evidence is its
parties' alone."""

from __future__ import annotations

import sqlite3
import time

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.store.cases import CaseStore, NewCase
from api.write.cases import HANDOFF_REASONS
from returntrace.policies import EU
from returntrace.vocab import Role
from scripts import deploy
from tests.api.people import Assessment, as_, sign_in, staff  # noqa: F401  (fixture)
from tests.support import GTIN

BRAND_CONTACT = "product-safety@brand.example"


@pytest.fixture
def gateway_settings(gateway_settings, staff, actors):
    return gateway_settings.replace(
        auditors=(staff["auditor"].address,),
        safety_contacts=(f"{actors['brand'].gln}={BRAND_CONTACT}",),
    )


@pytest.fixture
def requested(shop) -> int:
    """An order (EU) delivered and with its return requested: disputable."""
    order_id = shop.buy()
    shop.deliver(order_id)
    shop.request_return(order_id)
    return order_id


def _open(gateway, order_id: int, why=("low_confidence",), text=None, **assessment):
    gateway.services.indexer.index_once()  # the unit's GTIN and serial, as the running indexer has them
    return gateway.services.cases.open_case(
        Assessment(
            why=tuple(w for w in why if w not in ("above_value", "repeated_returns", "asked_for_person")), **assessment
        ),
        order_id=order_id,
        unit=None,
        buyer=None,
        why=why,
        text=text,
    )


@pytest.mark.parametrize("reason", HANDOFF_REASONS)
def test_a_case_opens_for_every_handoff_reason_with_the_assessment_history_and_order(gateway, shop, actors, reason):
    order_id = shop.buy()
    unit_id = shop.unit(order_id)
    case = _open(gateway, order_id, why=(reason,))
    assert (case.order_id, case.buyer, case.why, case.status) == (order_id, actors["buyer"].address, (reason,), "open")
    assert (case.language, case.reason, case.confidence) == ("en", "defective", 0.42)
    assert case.organization == actors["brand"].gln  # the merchant's organisation answers it
    assert case.urgent == (reason in ("safety_concern", "safety_lexicon"))
    hours = 4 if case.urgent else 48
    assert abs(case.due_at - (case.opened_at + hours * 3600)) < 1
    record = gateway.services.chain.registry.functions.unitRecord(unit_id).call(block_identifier=case.history["block"])
    assert case.history["unitId"] == "0x" + unit_id.hex()
    assert case.history["record"] == "0x" + record.to_bytes(32, "big").hex()
    assert case.history["url"] == f"http://127.0.0.1:8000/01/{GTIN}/21/{case.serial}" and case.gtin == GTIN
    assert gateway.services.cases.store.texts(case.id) == []  # no consent given: codes only
    entries = gateway.services.cases.store.log(case.id)
    assert (entries[0].action, entries[0].detail["why"]) == ("opened", [reason])
    # Safety reaches the brand's product-safety contact; nothing else does.
    assert [e.action for e in entries[1:]] == (["safety_notification_queued"] if case.urgent else [])


def test_a_second_handoff_joins_the_orders_open_case(gateway, shop):
    order_id = shop.buy()
    first = _open(gateway, order_id, why=("low_confidence",))
    second = _open(gateway, order_id, why=("repeated_returns",))
    assert second.id == first.id and second.why == ("low_confidence", "repeated_returns")
    assert [e.action for e in gateway.services.cases.store.log(first.id)] == ["opened", "handoff_joined"]


def test_a_case_needs_a_real_order_its_own_unit_and_buyer_and_a_handoff_reason(gateway, shop, actors):
    from api.errors import ApiError

    desk = gateway.services.cases
    order_id = shop.buy()
    for kwargs, code in (
        ({"order_id": 999_999, "why": ("low_confidence",)}, "unknown_order"),
        ({"order_id": order_id, "why": ("low_confidence",), "buyer": actors["stranger"].address}, "not_buyer"),
        ({"order_id": order_id, "why": ("because",)}, "invalid_handoff"),
        ({"order_id": order_id, "why": ()}, "invalid_handoff"),
        (
            {"order_id": order_id, "why": ("low_confidence",), "unit": {"gtin": GTIN, "serial": "OTHER-1"}},
            "unit_not_in_order",
        ),
        ({"order_id": order_id, "why": ("low_confidence",), "unit": {"gtin": "123", "serial": "X"}}, "invalid_link"),
        ({"order_id": None, "why": ("low_confidence",)}, "nothing_to_answer"),
        (
            {"order_id": None, "why": ("low_confidence",), "unit": {"gtin": "09506000134369", "serial": "X"}},
            "unknown_product",
        ),
    ):
        with pytest.raises(ApiError) as caught:
            desk.open_case(Assessment(), **{"unit": None, "buyer": None, "text": "x", **kwargs})
        assert caught.value.code == code
    assert desk.store._read().execute("SELECT COUNT(*) FROM cases").fetchone()[0] == 0
    assert desk.store._read().execute("SELECT COUNT(*) FROM case_texts").fetchone()[0] == 0


def test_the_buyer_asks_for_a_person_and_their_text_is_kept_with_that_consent(gateway, shop, actors, staff):
    client = gateway.client
    order_id = shop.buy()
    buyer = sign_in(client, actors["buyer"])
    r = client.post("/v1/cases", json={"orderId": order_id, "text": "The pump stopped working"}, headers=as_(buyer))
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["handoff"]["why"] == ["asked_for_person"] and case["status"] == "open"
    assert [t["text"] for t in case["texts"]] == ["The pump stopped working"]
    assert case["texts"][0]["consent"] == "asked_for_person"
    assert case["log"] is None  # the staff's log and notes are not the buyer's view
    # Someone else's order: refused with the reason, nothing stored.
    other = sign_in(client, actors["stranger"])
    r = client.post("/v1/cases", json={"orderId": order_id, "text": "let me in"}, headers=as_(other))
    assert (r.status_code, r.json()["error"]) == (403, "not_buyer")
    r = client.post("/v1/cases", json={"orderId": 424242, "text": "no such order"}, headers=as_(buyer))
    assert (r.status_code, r.json()["error"]) == (404, "unknown_order")
    r = client.post("/v1/cases", json={"orderId": order_id, "text": "x" * 2001}, headers=as_(buyer))
    assert r.status_code == 422
    r = client.post("/v1/cases", json={"orderId": order_id, "text": "anonymous"})
    assert (r.status_code, r.json()["error"]) == (401, "not_signed_in")
    texts = gateway.services.cases.store._read().execute("SELECT text FROM case_texts").fetchall()
    assert texts == [("The pump stopped working",)]


def test_only_the_merchants_organisation_and_auditors_see_a_case(gateway, shop, actors, staff):
    client = gateway.client
    order_id = shop.buy()
    case = _open(gateway, order_id)
    tokens = {
        name: sign_in(client, signer)
        for name, signer in (
            ("staff", staff["staff"]),
            ("rival", staff["rival"]),
            ("auditor", staff["auditor"]),
            ("buyer", actors["buyer"]),
            ("stranger", actors["stranger"]),
        )
    }
    seen = {name: client.get(f"/v1/cases/{case.id}", headers=as_(t)) for name, t in tokens.items()}
    assert {n: r.status_code for n, r in seen.items()} == {
        "staff": 200,
        "rival": 403,
        "auditor": 200,
        "buyer": 200,
        "stranger": 403,
    }
    assert seen["rival"].json()["error"] == "not_a_party" and "block" in seen["rival"].json()
    assert (seen["staff"].json()["role"], seen["auditor"].json()["role"], seen["buyer"].json()["role"]) == (
        "staff",
        "auditor",
        "buyer",
    )
    listed = client.get("/v1/cases", headers=as_(tokens["rival"])).json()
    assert listed["role"] == "staff" and listed["cases"] == []
    assert [c["id"] for c in client.get("/v1/cases", headers=as_(tokens["staff"])).json()["cases"]] == [case.id]
    assert [c["id"] for c in client.get("/v1/cases", headers=as_(tokens["buyer"])).json()["cases"]] == [case.id]
    # Rival staff, an auditor and the buyer cannot act on it.
    for name in ("rival", "auditor", "buyer"):
        r = client.post(f"/v1/cases/{case.id}/notes", json={"text": "mine now"}, headers=as_(tokens[name]))
        assert r.status_code == 403, name
    assert client.get("/v1/cases/9999", headers=as_(tokens["staff"])).json()["error"] == "unknown_case"
    assert client.get(f"/v1/cases/{case.id}").status_code == 401


def test_staff_note_offer_and_close_every_action_logged_with_the_sla(gateway, shop, staff):
    client, store = gateway.client, gateway.services.cases.store
    case = _open(gateway, shop.buy())
    token = sign_in(client, staff["staff"])
    view = client.get(f"/v1/cases/{case.id}", headers=as_(token)).json()
    assert view["sla"] == {"dueAt": case.due_at, "overdue": False}
    assert (
        client.post(f"/v1/cases/{case.id}/notes", json={"text": "Called the buyer"}, headers=as_(token)).status_code
        == 200
    )
    offered = client.post(
        f"/v1/cases/{case.id}/offer", json={"option": {"kind": "exchange", "bonus": "5"}}, headers=as_(token)
    )
    assert offered.json()["status"] == "offered" and offered.json()["offer"] == {"kind": "exchange", "bonus": "5"}
    closed = client.post(f"/v1/cases/{case.id}/close", json={"outcome": "exchanged"}, headers=as_(token)).json()
    assert (closed["status"], closed["outcome"], closed["sla"]["overdue"]) == ("closed", "exchanged", False)
    r = client.post(f"/v1/cases/{case.id}/notes", json={"text": "late"}, headers=as_(token))
    assert (r.status_code, r.json()["error"]) == (409, "case_closed")
    log = [(e.actor, e.action) for e in store.log(case.id)]
    who = staff["staff"].address
    assert log[1:] == [(who, "note"), (who, "offered"), (who, "closed")]
    # The log is append-only, in the database itself.
    with pytest.raises(sqlite3.IntegrityError, match="append-only"), store._tx() as db:
        db.execute("DELETE FROM case_log")
    # Past its due time an open case is overdue.
    late = _open(gateway, shop.buy())
    assert gateway.services.cases.sla(late, now=late.due_at + 1)["overdue"] is True


def test_escalation_ends_in_an_on_chain_dispute_with_its_deadline_and_where_to_turn(
    gateway, requested, staff, escrow, actors
):
    client = gateway.client
    case = _open(gateway, requested)
    token = sign_in(client, staff["staff"])
    r = client.post(f"/v1/cases/{case.id}/escalate", headers=as_(token))
    assert r.status_code == 200, r.text
    tx = r.json()["transaction"]
    assert (tx["to"], tx["from"], tx["chainId"]) == (escrow.address, staff["staff"].address, 31337)
    assert r.json()["case"]["status"] == "escalated" and r.json()["case"]["mediation"] is None
    # The staff member's wallet sends it; the index sees OrderDisputed; the case records it.
    sent = staff["staff"].account.transfer(tx["to"], 0, data=tx["data"], silent=True)
    disputed = sent.events["OrderDisputed"]
    assert (disputed["orderId"], disputed["by"]) == (requested, staff["staff"].address)
    gateway.services.indexer.index_once()
    view = client.get(f"/v1/cases/{case.id}", headers=as_(token)).json()
    assert (view["dispute"]["block"], view["dispute"]["txHash"]) == (sent.block_number, sent.txid)
    mediation = view["mediation"]
    assert mediation["decideBy"] == disputed["decideBy"] == sent.timestamp + EU.arbiter_timeout
    assert mediation["arbiterTimeout"] == EU.arbiter_timeout and mediation["atBlock"] == sent.block_number
    assert "European Consumer Centres Network (ECC-Net)" in [route["name"] for route in mediation["routes"]]
    assert any("2024/3228" in s for s in mediation["sources"])  # the ODR platform's closing
    assert [e.action for e in gateway.services.cases.store.log(case.id)][-2:] == [
        "escalated",
        "dispute_opened_on_chain",
    ]
    # Escalating twice is refused; the buyer sees the dispute and where to turn, not the staff's transaction.
    assert client.post(f"/v1/cases/{case.id}/escalate", headers=as_(token)).json()["error"] == "case_escalated"
    seen = client.get(f"/v1/cases/{case.id}", headers=as_(sign_in(client, actors["buyer"]))).json()
    assert seen["mediation"] == mediation and "transaction" not in seen["dispute"]


def test_a_dispute_the_buyer_opens_shows_on_the_case(gateway, requested, escrow, actors):
    case = _open(gateway, requested)
    sent = escrow.openDispute(requested, {"from": actors["buyer"].account})
    gateway.services.indexer.index_once()
    view = gateway.client.get(f"/v1/cases/{case.id}", headers=as_(sign_in(gateway.client, actors["buyer"]))).json()
    assert (view["status"], view["dispute"]["by"], view["dispute"]["block"]) == (
        "escalated",
        actors["buyer"].address,
        sent.block_number,
    )
    assert view["mediation"]["decideBy"] == sent.events["OrderDisputed"]["decideBy"]


def test_a_strangers_read_of_a_case_records_nothing(gateway, requested, escrow, actors):
    """A signed-in account of no party asks for a disputed order's case: 403, and the case is as it was
    (the dispute is recorded at its parties' next read, not at a stranger's request)."""
    case = _open(gateway, requested)
    escrow.openDispute(requested, {"from": actors["buyer"].account})
    gateway.services.indexer.index_once()
    r = gateway.client.get(f"/v1/cases/{case.id}", headers=as_(sign_in(gateway.client, actors["stranger"])))
    assert (r.status_code, r.json()["error"]) == (403, "not_a_party")
    assert gateway.services.cases.store.get(case.id) == case


def test_escalation_is_refused_when_the_contract_would_refuse_it(gateway, shop, actors, staff, admin, deployment):
    client = gateway.client
    case = _open(gateway, shop.buy())  # bought, no return requested: not disputable
    token = sign_in(client, staff["staff"])
    r = client.post(f"/v1/cases/{case.id}/escalate", headers=as_(token))
    assert (r.status_code, r.json()["error"]) == (409, "not_disputable") and "active" in r.json()["detail"]
    # A brand key of the merchant's organisation that is not the merchant and holds no staff role
    # sees the case but the escrow would refuse its openDispute: refused here, with the revert.
    other_brand = deploy.test_signer("desk-second-brand-key", Role.BRAND, "950600000001")
    deploy.accredit(deployment.registry, admin, [other_brand])
    order_id = shop.buy()
    shop.deliver(order_id)
    shop.request_return(order_id)
    requested_case = _open(gateway, order_id)
    r = client.post(f"/v1/cases/{requested_case.id}/escalate", headers=as_(sign_in(client, other_brand)))
    assert (r.status_code, r.json()["error"]) == (409, "not_disputable") and "revert" in r.json()["detail"]
    assert gateway.services.cases.store.get(requested_case.id).status == "open"


def test_a_safety_case_notifies_the_brands_product_safety_contact_once_without_the_buyers_words(gateway, shop, actors):
    desk = gateway.services.cases
    order_id = shop.buy()
    case = _open(gateway, order_id, why=("safety_concern", "safety_lexicon"), reason="safety_concern", urgent=True)
    (n,) = desk.store.notifications(case.id)
    assert (n.organization, n.contact, n.status, n.attempts) == (actors["brand"].gln, BRAND_CONTACT, "sent", 1)
    assert GTIN in n.subject and actors["buyer"].address not in n.body and "GPSR" in n.body
    _open(gateway, order_id, why=("safety_lexicon",), reason="safety_concern", urgent=True)  # joins: no second notice
    assert len(desk.store.notifications(case.id)) == 1
    assert "safety_notification_queued" in [e.action for e in desk.store.log(case.id)]


def test_a_failed_delivery_is_recorded_and_retried(gateway, shop):
    desk = gateway.services.cases

    class Down:
        def send(self, notification):
            raise ConnectionError("mail relay down")

    desk.sender = Down()
    case = _open(gateway, shop.buy(), why=("safety_concern",), reason="safety_concern", urgent=True)
    (n,) = desk.store.notifications(case.id)
    assert (n.status, n.attempts, n.last_error) == ("pending", 1, "ConnectionError: mail relay down")
    sent = []
    desk.sender = type("Up", (), {"send": lambda self, notification: sent.append(notification.id)})()
    assert desk.deliver() == 1 and sent == [n.id]
    (n,) = desk.store.notifications(case.id)
    assert (n.status, n.attempts, n.last_error) == ("sent", 2, None)


def test_a_case_for_a_brand_without_a_contact_is_kept_as_no_contact(gateway, shop):
    gateway.services.cases.safety_contacts.clear()
    case = _open(gateway, shop.buy(), why=("safety_concern",), reason="safety_concern", urgent=True)
    (n,) = gateway.services.cases.store.notifications(case.id)
    assert (n.status, n.contact, n.attempts) == ("no_contact", None, 0)


def test_a_buyer_erases_their_texts_and_the_case_keeps_its_codes(gateway, shop, actors, staff):
    client, desk = gateway.client, gateway.services.cases
    order_id = shop.buy()
    buyer = sign_in(client, actors["buyer"])
    case = client.post("/v1/cases", json={"orderId": order_id, "text": "my baby got a rash"}, headers=as_(buyer)).json()
    other = shop.buy(buyer="buyer2")
    kept = client.post(
        "/v1/cases",
        json={"orderId": other, "text": "someone else's words"},
        headers=as_(sign_in(client, actors["buyer2"])),
    )
    r = client.post("/v1/cases/erase", headers=as_(buyer))
    assert r.status_code == 200 and (r.json()["erased"], r.json()["cases"]) == (1, [case["id"]])
    view = client.get(f"/v1/cases/{case['id']}", headers=as_(sign_in(client, staff["staff"]))).json()
    assert view["texts"] == [] and view["handoff"]["why"] == ["asked_for_person"]
    erased = [e for e in view["log"] if e["action"] == "texts_erased"]
    assert erased[0]["actor"] == actors["buyer"].address and erased[0]["detail"]["texts"] == 1
    assert erased[0]["detail"]["request"]["session"].startswith("0x")  # the signed sign-in that asked for it
    assert [t["text"] for t in desk.store.texts(kept.json()["id"])] == ["someone else's words"]
    assert client.post("/v1/cases/erase").status_code == 401


def test_erased_words_are_not_left_in_the_cases_files(gateway, shop, actors):
    """Erasure deletes the words, not only their row: SQLite keeps a deleted row's bytes in the database's free
    pages and in its write-ahead log, which backups and anyone who copies the files read."""
    client, store = gateway.client, gateway.services.cases.store
    words = "my daughter choked on the teat, 12 Rosenweg"
    buyer = sign_in(client, actors["buyer"])
    r = client.post("/v1/cases", json={"orderId": shop.buy(), "text": words}, headers=as_(buyer))
    assert r.status_code == 201, r.text
    with sqlite3.connect(store.path) as db:  # as SQLite does by itself (every 1,000 pages, the last close)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert words.encode() in store.path.read_bytes()
    assert client.post("/v1/cases/erase", headers=as_(buyer)).json()["erased"] == 1
    files = [store.path, store.path.with_name(store.path.name + "-wal")]
    found = [f.name for f in files if f.exists() and words.encode() in f.read_bytes()]
    assert found == [], found


def test_a_reader_holding_the_checkpoint_back_delays_the_words_removal_not_the_desk(gateway, shop, actors):
    """A reader on an older snapshot (a backup, another process's read) keeps the log from being emptied: the
    erasure waits about a second, not the writers' 30, and the next purge empties it once the reader is gone."""
    client, desk = gateway.client, gateway.services.cases
    store = desk.store
    words = "the rash started after the second bottle"
    buyer = sign_in(client, actors["buyer"])
    assert client.post("/v1/cases", json={"orderId": shop.buy(), "text": words}, headers=as_(buyer)).status_code == 201
    log_file = store.path.with_name(store.path.name + "-wal")
    reader = sqlite3.connect(store.path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM case_texts").fetchone()  # a snapshot from before the erasure
    started = time.monotonic()
    assert client.post("/v1/cases/erase", headers=as_(buyer)).json()["erased"] == 1
    assert time.monotonic() - started < 10 and store.checkpoint_owed
    assert words.encode() in log_file.read_bytes()  # still there: the reader's snapshot needs it
    reader.execute("COMMIT")
    reader.close()
    desk.purge()  # nothing to purge; the owed checkpoint runs
    assert not store.checkpoint_owed
    files = [store.path, log_file]
    assert [f.name for f in files if f.exists() and words.encode() in f.read_bytes()] == []


def test_words_past_the_retention_period_are_not_shown_before_the_next_purge(gateway, shop, actors, staff):
    """The purge runs at start and on case writes; until the next one, no read shows what outlived its period."""
    desk = gateway.services.cases
    order_id = shop.buy()
    old = time.time() - (gateway.services.settings.text_retention_days * 86400 + 60)
    case = _store_old_words(desk.store, actors["buyer"].address, order_id, old)
    for who in (staff["auditor"], actors["buyer"]):
        view = gateway.client.get(f"/v1/cases/{case.id}", headers=as_(sign_in(gateway.client, who)))
        assert view.status_code == 200 and view.json()["texts"] == [], (who.address, view.text)


def _store_old_words(store: CaseStore, buyer: str, order_id: int | None, at: float):
    """A text the buyer gave (asking for a person) at time `at`, on the order's case."""
    new = NewCase(order_id, None, None, None, buyer, 1, None, 0, None, None, None, ("asked_for_person",), False, {}, at)
    return store.open_or_join(new, buyer, "old words", "asked_for_person", now=at)[0]


def test_texts_past_the_retention_period_are_purged_at_start_and_on_case_writes(
    gateway_settings, gateway, shop, actors
):
    desk = gateway.services.cases
    old = time.time() - 181 * 86400
    order_id = shop.buy()
    case = _open(gateway, order_id, why=("asked_for_person",), text="kept for now")
    _store_old_words(desk.store, actors["buyer"].address, order_id, old)
    assert [t["text"] for t in desk.store.texts(case.id)] == ["kept for now", "old words"]
    _open(gateway, shop.buy())  # any case write purges
    assert [t["text"] for t in desk.store.texts(case.id)] == ["kept for now"]
    assert any(e.action == "texts_purged" and e.actor == "gateway" for e in desk.store.log(case.id))
    assert desk.purge(now=time.time() + 181 * 86400) == 1  # and the rest in their turn
    assert desk.store.texts(case.id) == []


def test_a_gateway_starting_purges_what_outlived_the_retention_period(gateway_settings, deployment, actors):
    store = CaseStore(gateway_settings.cases_database)
    old = time.time() - (gateway_settings.text_retention_days + 1) * 86400
    case = _store_old_words(store, actors["buyer"].address, None, old)
    store.close()
    with TestClient(create_app(gateway_settings)) as client:
        assert client.app.state.services.cases.store.texts(case.id) == []


def test_the_arbiter_reads_a_defect_photo_while_the_claim_waits_for_its_decision(gateway, shop, desk, actors):
    """The return flow uploads a defect claim's photo private to the order; the arbiter who must decide a
    claim above the limit reads it while the claim waits (ReturnPolicies' ARBITER_ROLE, as the desk checks),
    not before the claim nor after the decision."""
    client = gateway.client
    order_id = shop.buy(price=2 * 10**18)  # above the native coin's auto-approval limit
    shop.deliver(order_id)
    photo = b"\x89PNG\r\n\x1a\n" + b"cracked bottle" * 10
    buyer = sign_in(client, actors["buyer"])
    r = client.post(
        f"/v1/evidence?order={order_id}", content=photo, headers={"content-type": "image/png", **as_(buyer)}
    )
    assert r.status_code == 201, r.text
    cid, digest = r.json()["cid"], r.json()["digest"]
    arbiter = sign_in(client, actors["arbiter"])

    def arbiter_reads() -> int:
        return client.get(f"/v1/evidence/{cid}", headers=as_(arbiter)).status_code

    assert arbiter_reads() == 403  # no claim yet: nothing before the arbiter
    desk.claimDefect(order_id, digest, {"from": actors["buyer"].account})
    assert client.get(f"/v1/evidence/{cid}", headers=as_(arbiter)).content == photo
    desk.decideDefectClaim(order_id, False, {"from": actors["arbiter"].account})
    assert arbiter_reads() == 403  # decided


def test_an_orders_evidence_is_served_to_its_parties_and_auditors_only(gateway, shop, actors, staff):
    client = gateway.client
    order_id = shop.buy()
    buyer = sign_in(client, actors["buyer"])
    photo = b"\x89PNG\r\n\x1a\n" + b"defect photo" * 10
    r = client.post(
        f"/v1/evidence?order={order_id}", content=photo, headers={"content-type": "image/png", **as_(buyer)}
    )
    assert r.status_code == 201, r.text
    cid = r.json()["cid"]
    readers = {
        "buyer": buyer,
        "staff": sign_in(client, staff["staff"]),
        "merchant": sign_in(client, actors["brand"]),
        "auditor": sign_in(client, staff["auditor"]),
        "rival": sign_in(client, staff["rival"]),
        "stranger": sign_in(client, actors["stranger"]),
    }
    got = {name: client.get(f"/v1/evidence/{cid}", headers=as_(t)) for name, t in readers.items()}
    assert {n: r.status_code for n, r in got.items()} == {
        "buyer": 200,
        "staff": 200,
        "merchant": 200,
        "auditor": 200,
        "rival": 403,
        "stranger": 403,
    }
    assert got["buyer"].content == photo and got["buyer"].headers["cache-control"] == "private, no-store"
    assert got["stranger"].json()["error"] == "not_a_party"
    anonymous = client.get(f"/v1/evidence/{cid}", headers={"if-none-match": f'"{cid}"'})
    assert (anonymous.status_code, anonymous.json()["error"]) == (401, "not_signed_in")  # not even a 304
    # Uploading for someone else's order is refused before the body is read; public evidence stays public.
    r = client.post(
        f"/v1/evidence?order={order_id}",
        content=b"\x89PNG\r\n\x1a\nx",
        headers={"content-type": "image/png", **as_(readers["stranger"])},
    )
    assert (r.status_code, r.json()["error"]) == (403, "not_a_party")
    r = client.post(
        f"/v1/evidence?order={order_id}",
        content=b"\x89PNG\r\n\x1a\naudit",
        headers={"content-type": "image/png", **as_(readers["auditor"])},
    )
    assert (r.status_code, r.json()["error"]) == (403, "not_a_party")  # auditors read an order's files, add none
    public = client.post(
        "/v1/evidence", content=b"\x89PNG\r\n\x1a\npublic", headers={"content-type": "image/png"}
    ).json()["cid"]
    r = client.get(f"/v1/evidence/{public}")
    assert r.status_code == 200 and r.headers["cache-control"].startswith("public")


def test_a_unit_without_an_order_goes_to_its_brands_organisation(gateway, actors):
    case = gateway.services.cases.open_case(
        Assessment(language="unknown", reason=None, confidence=0.0, why=("unknown_language",)),
        order_id=None,
        unit={"gtin": GTIN, "serial": "NO-ORDER-1"},
        buyer=None,
        why=("unknown_language",),
        text=None,
    )
    assert (case.order_id, case.organization, case.brand_organization) == (
        None,
        actors["brand"].gln,
        actors["brand"].gln,
    )
    assert case.history["url"].endswith(f"/01/{GTIN}/21/NO-ORDER-1") and case.history["record"] == "0x" + "00" * 32


def test_a_case_id_the_store_cannot_hold_is_400_out_of_range_on_every_case_route(gateway, staff):
    """A signed-in account asking for case 2**63 (or more) is told so; it crashed the gateway with an
    OverflowError (500) in SQLite's INTEGER, on the API and on the desk's pages and forms."""
    client = gateway.client
    who = as_(sign_in(client, staff["staff"]))
    for value in (2**63, 2**64, 10**30):
        for method, path, body in (
            ("GET", f"/v1/cases/{value}", None),
            ("POST", f"/v1/cases/{value}/notes", {"text": "a note"}),
            ("POST", f"/v1/cases/{value}/offer", {"option": {"kind": "exchange"}}),
            ("POST", f"/v1/cases/{value}/escalate", None),
            ("POST", f"/v1/cases/{value}/close", {"outcome": "done"}),
            ("GET", f"/desk/cases/{value}", None),
            ("POST", f"/desk/cases/{value}/escalate", None),
        ):
            r = client.request(method, path, json=body, headers=who)
            assert (r.status_code, r.json()["error"]) == (400, "out_of_range"), (path, r.text)
    r = client.get(f"/v1/cases/{2**63 - 1}", headers=who)  # the largest the store holds: no such case
    assert (r.status_code, r.json()["error"]) == (404, "unknown_case"), r.text


def test_a_party_of_another_order_cannot_make_public_evidence_private(gateway, shop, actors, staff):
    """Public evidence (an inspector's report, a scan's photo) is downloadable by anyone: the buyer of any
    order could upload the same bytes with `?order=` of their own and so hide it from everyone but their
    order's parties. The upload is refused with the reason, and the file stays public."""
    client = gateway.client
    report = b"%PDF-1.7\n% inspection report of someone else's return\n%%EOF\n"
    r = client.post("/v1/evidence", content=report, headers={"content-type": "application/pdf"})
    assert r.status_code == 201, r.text
    cid = r.json()["cid"]
    own_order = shop.buy()
    attacker = sign_in(client, actors["buyer"])
    copied = client.get(f"/v1/evidence/{cid}").content
    r = client.post(
        f"/v1/evidence?order={own_order}",
        content=copied,
        headers={"content-type": "application/pdf", **as_(attacker)},
    )
    assert (r.status_code, r.json()["error"]) == (409, "evidence_public"), r.text
    assert gateway.services.cases.store.private_orders(cid) == []
    r = client.get(f"/v1/evidence/{cid}")  # anyone still reads it, as before
    assert r.status_code == 200 and r.content == report and r.headers["cache-control"].startswith("public")
    # A private file uploaded again for its order (a retry) is still answered as before.
    photo = b"\x89PNG\r\n\x1a\n" + b"my own defect photo"
    for _ in range(2):
        r = client.post(
            f"/v1/evidence?order={own_order}", content=photo, headers={"content-type": "image/png", **as_(attacker)}
        )
        assert r.status_code == 201, r.text
    assert gateway.services.cases.store.private_orders(r.json()["cid"]) == [own_order]
