"""The evidence upload as a denial of service: anonymous clients uploading without end to fill the gateway's
disk. Each test is the attack, with the fair outcome for everyone else asserted: another client still
uploads, a referenced file is never lost. Time is the staging's injected clock (no sleeping)."""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from contextlib import nullcontext

from fastapi.testclient import TestClient

from api.store.buckets import TokenBuckets
from api.store.evidence.staging import References, Staging
from api.store.evidence.store import EvidenceStore
from returntrace import cid as cids
from scripts.builder import Builder
from tests.api.people import as_, sign_in
from tests.api.test_product_info import product_info
from tests.support import DAY, GTIN_INT, MARKET_EU


class Clock:
    """The staging's clock, moved by hand."""

    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def upload(client: TestClient, data: bytes):
    return client.post("/v1/evidence", content=data, headers={"Content-Type": "text/plain"})


def with_staging(gateway, clock: Clock, max_bytes: int, ttl: float = DAY) -> Staging:
    """The running gateway with its staging on `clock` and `max_bytes` (the same files, references and list)."""
    services = gateway.services
    staging = Staging(
        services.evidence, services.staging.references, ttl, max_bytes, hold=services.staging.hold, clock=clock
    )
    gateway.app.state.services = dataclasses.replace(services, staging=staging)
    return staging


def test_an_anonymous_client_that_keeps_uploading_is_rate_limited_and_another_still_uploads(gateway):
    """Attack: one address uploads as fast as it can. Past its burst it gets 429 `rate_limited` with
    `Retry-After`, before its body is read; a buyer at another address still uploads their photo."""
    gateway.app.state.services = dataclasses.replace(gateway.services, upload_limit=TokenBuckets(rate=0.01, burst=3))
    attacker = TestClient(gateway.app, client=("198.51.100.66", 40000))
    for i in range(3):
        assert upload(attacker, f"junk {i}".encode()).status_code == 201
    refused = upload(attacker, b"junk 3")
    assert refused.status_code == 429 and refused.json()["error"] == "rate_limited", refused.text
    assert int(refused.headers["Retry-After"]) >= 1
    assert gateway.client.get(f"/v1/evidence/{cids.cid_v1(b'junk 3')}").status_code == 404  # nothing stored
    buyer = TestClient(gateway.app, client=("203.0.113.20", 40000))
    r = upload(buyer, b"the broken seal")
    assert r.status_code == 201, r.text


def test_staged_uploads_are_capped_expire_unless_referenced_and_referenced_ones_stay(gateway, relayer):
    """Attack: many addresses upload files nothing will ever reference. Past the staging budget an upload
    is refused (507 `staging_full`, `Retry-After`, nothing written); after the TTL the unreferenced files
    are gone and the budget is free again. A file whose digest a signed message on its way carries stays
    while it travels and for good once confirmed; one that only a submission straight to the contract names
    (seen by the indexer) stays for good."""
    clock = Clock()
    staging = with_staging(gateway, clock, max_bytes=100)
    client = gateway.client

    junk = upload(client, b"j" * 60)
    assert junk.status_code == 201 and junk.json()["expiresAt"] == int(clock.now + DAY), junk.text
    in_message, on_chain = b"photo of the dent", b"report filed on chain"
    staged = [upload(client, data).json() for data in (in_message, on_chain)]
    assert all(s["expiresAt"] == int(clock.now + DAY) for s in staged)
    assert staging.staged_bytes() == 60 + len(in_message) + len(on_chain)

    # The budget is spent: refused with the reason and when to come back, and nothing half-written.
    over = b"o" * 20
    full = upload(client, over)
    assert full.status_code == 507 and full.json()["error"] == "staging_full", full.text
    assert full.json()["maxBytes"] == 100 and int(full.headers["Retry-After"]) == DAY
    assert client.get(f"/v1/evidence/{cids.cid_v1(over)}").status_code == 404

    # One digest only in a commissioning sent straight to the registry, which the indexer then reads ...
    direct = Builder(gateway.d, relayer, actors=gateway.actors)
    direct.commission("brand", [direct.commission_item("STAGED-2", GTIN_INT, evidence=staged[1]["digest"])])
    gateway.services.indexer.index_once()
    # ... the other in a signed message the gateway accepts (queued, not yet relayed).
    item = gateway.builder.commission_item("STAGED-1", GTIN_INT, evidence=staged[0]["digest"])
    r = gateway.post("/v1/commissions", gateway.body("CommissionBatch", "brand", units=[item]))
    assert r.status_code == 202, r.text

    clock.now += DAY - 1
    assert upload(client, b"x").status_code == 201  # a sweep before the time deletes nothing
    assert client.get(f"/v1/evidence/{junk.json()['cid']}").status_code == 200
    clock.now += 1
    assert upload(client, over).status_code == 201  # the sweep on this upload freed the budget
    assert client.get(f"/v1/evidence/{junk.json()['cid']}").status_code == 404
    for s, data in zip(staged, (in_message, on_chain), strict=True):
        g = client.get(f"/v1/evidence/{s['cid']}")
        assert g.status_code == 200 and g.content == data
    assert staging.expires_at(staged[1]["cid"]) is None  # indexed: kept for good, out of the budget
    assert staging.expires_at(staged[0]["cid"]) is not None  # its message is on its way: kept, still staged
    gateway.relay()
    staging.sweep()
    assert staging.expires_at(staged[0]["cid"]) is None  # confirmed: kept for good
    # Uploaded again, a referenced file says it is kept.
    assert upload(client, in_message).json()["expiresAt"] is None
    clock.now += 10 * DAY
    staging.sweep()
    assert all(client.get(f"/v1/evidence/{s['cid']}").status_code == 200 for s in staged)


def test_messages_the_chain_refuses_keep_no_files(gateway, shop):
    """Attack: a buyer with one order signs claim after claim, each naming another file. The gateway accepts
    them all while the order is still open, and the chain refuses all but the first. Were a failed message a
    reference, the buyer would keep any number of files for good, outside every budget; only the confirmed
    claim's file stays."""
    clock = Clock()
    staging = with_staging(gateway, clock, max_bytes=10**6)
    order_id = shop.buy(market=MARKET_EU)
    shop.deliver(order_id)
    files = [bytes([65 + i]) * 100 for i in range(3)]
    # A claim's photo is private to its order (the buyer signed in), or the intake refuses the claim.
    buyer = as_(sign_in(gateway.client, gateway.actors["buyer"]))
    answers = [
        gateway.client.post(
            f"/v1/evidence?order={order_id}", content=data, headers={"Content-Type": "text/plain", **buyer}
        ).json()
        for data in files
    ]
    ids = []
    for a in answers:
        r = gateway.post(
            "/v1/defect-claims", gateway.body("DefectClaim", "buyer", orderId=order_id, evidence=a["digest"])
        )
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])
    gateway.relay()
    assert [gateway.client.get(f"/v1/messages/{i}").json()["status"] for i in ids] == ["confirmed", "failed", "failed"]
    clock.now += DAY
    staging.sweep()
    read = [gateway.client.get(f"/v1/evidence/{a['cid']}", headers=buyer).status_code for a in answers]
    assert read == [200, 404, 404]


def test_uploading_the_same_files_again_does_not_hold_the_budget(gateway):
    """Attack: one address fills the shared budget, then uploads the same bytes again each day before they
    expire, so that the budget stays full for ever at no cost in new bytes. A file is kept from its first
    upload: once that time is past, the budget is free for a buyer at another address."""
    clock = Clock()
    with_staging(gateway, clock, max_bytes=1000)
    attacker = TestClient(gateway.app, client=("198.51.100.66", 40000))
    buyer = TestClient(gateway.app, client=("203.0.113.20", 40000))
    junk = [bytes([97 + i]) * 100 for i in range(10)]
    assert all(upload(attacker, j).status_code == 201 for j in junk)
    photo = b"photo of the broken seal"
    assert upload(buyer, photo).status_code == 507
    clock.now += DAY - 60
    again = [upload(attacker, j) for j in junk]  # the daily renewal
    assert all(a.status_code == 201 and a.json()["expiresAt"] == int(clock.now + 60) for a in again)
    clock.now += 60
    assert upload(buyer, photo).status_code == 201


def test_a_signed_in_party_uploads_when_strangers_have_filled_the_shared_budget(gateway, shop):
    """Attack: strangers fill the shared budget so that a buyer cannot upload the photos its defect claim
    needs (nor an inspector its report) before the return's deadlines. A signed-in buyer of an order, or an
    accredited actor, stages under a budget of its own; a signed-in account the gateway knows nothing of
    shares the strangers' one."""
    clock = Clock()
    staging = with_staging(gateway, clock, max_bytes=100)
    order_id = shop.buy(market=MARKET_EU)
    assert upload(gateway.client, b"s" * 100).status_code == 201  # the shared budget is full
    gateway.services.indexer.index_once()  # the gateway knows the order and its buyer
    for who in ("buyer", "inspector", "stranger"):
        token = sign_in(gateway.client, gateway.actors[who])
        r = gateway.client.post(
            "/v1/evidence", content=f"{who}'s photo".encode(), headers={"Content-Type": "text/plain", **as_(token)}
        )
        assert r.status_code == (507 if who == "stranger" else 201), (who, r.text)
    private = gateway.client.post(
        f"/v1/evidence?order={order_id}",
        content=b"the buyer's private photo",
        headers={"Content-Type": "text/plain", **as_(sign_in(gateway.client, gateway.actors["buyer"]))},
    )
    assert private.status_code == 201, private.text
    assert staging.staged_bytes() == 100 + len(b"buyer's photo") + len(b"inspector's photo") + len(
        b"the buyer's private photo"
    )


def test_no_message_naming_a_staged_file_is_accepted_while_the_sweep_decides_its_fate(gateway):
    """The race: a buyer signs the claim naming their photo just as the sweep, having found nothing that
    references it, deletes it; the claim would then be accepted without its file. The sweep holds the write
    lock of the database where messages and documents are accepted, from its check to its last deletion, so
    a writer of any process waits: the message is either seen by the check (the file is kept) or accepted
    after the deletion, of a file its uploader had let pass its TTL."""
    clock = Clock()
    services = gateway.services
    tried: list[str] = []

    def references(digests: list[str]) -> set[str]:
        # Another process's writer (the database's lock, not only this process's) cannot begin meanwhile.
        other = sqlite3.connect(str(services.settings.database), timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
            tried.append("began")
            other.execute("ROLLBACK")
        except sqlite3.OperationalError as exc:
            tried.append(str(exc))
        finally:
            other.close()
        return services.staging.references(digests)

    staging = Staging(services.evidence, references, DAY, 10**6, hold=services.staging.hold, clock=clock)
    gateway.app.state.services = dataclasses.replace(services, staging=staging)
    cid = upload(gateway.client, b"the photo, never referenced").json()["cid"]
    clock.now += DAY
    assert staging.sweep() == 1
    assert tried[-1] == "database is locked"
    assert gateway.client.get(f"/v1/evidence/{cid}").status_code == 404


def test_an_upload_racing_the_sweep_that_deletes_its_file_is_staged_anew(tmp_path):
    """The race: the same bytes are uploaded while the sweep deletes their expired file. Had the sweep
    forgotten its rows after letting go of its lock, the upload would write the file and then lose its row:
    a file on disk and on no list, kept for good outside every budget. The upload waits for the sweep and
    stages the file anew."""
    store = EvidenceStore(tmp_path / "evidence")
    clock = Clock()
    staging = Staging(store, lambda digests: References(set(), set()), DAY, 10**6, hold=nullcontext, clock=clock)
    data = b"uploaded again as it expires"
    cid = staging.put(data, "text/plain").evidence.cid
    clock.now += DAY
    racer: list[threading.Thread] = []
    delete = store.delete

    def deleting(c: str) -> None:  # the sweep, holding its lock, deletes the file: the same bytes arrive
        racer.append(threading.Thread(target=staging.put, args=(data, "text/plain")))
        racer[0].start()
        delete(c)

    store.delete = deleting  # type: ignore[method-assign]
    assert staging.sweep() == 1
    racer[0].join()
    assert store.has(cid) and staging.expires_at(cid) == clock.now + DAY


def test_the_files_a_signed_document_names_are_kept(gateway):
    """A brand's product image and instructions, uploaded and then named by its signed ProductInfo, outlive
    the TTL: the document keeps them for good."""
    clock = Clock()
    staging = with_staging(gateway, clock, max_bytes=10**6)
    body = product_info(gateway)
    assert gateway.post("/v1/documents/ProductInfo", body).status_code == 201
    named = [body["message"]["image"], *(i["cid"] for i in body["message"]["instructions"])]
    clock.now += 2 * DAY
    staging.sweep()
    assert [gateway.client.get(f"/v1/evidence/{c}").status_code for c in named] == [200, 200, 200]
    assert all(staging.expires_at(c) is None for c in named)
