"""The photo of a defect claim is the order's, not anyone's who reads the chain. The claim puts the photo's
digest on-chain and the digest names its CID: a photo the gateway holds as public evidence is served to all
(`Cache-Control: public`, a year), and given to the IPFS node, which serves anyone by CID. Each test is the
attack: an integrator uploading the photo publicly before or after the claim, a stranger naming another
buyer's private photo in a claim of their own, and the photos public from before this rule, which the
operator's migration (scripts/private_claim_photos.py) makes private."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from returntrace import cid as cids
from scripts import private_claim_photos
from tests.api.conftest import Gateway, settings_for
from tests.api.people import as_, sign_in
from tests.api.test_evidence import ipfs_node, node_client  # noqa: F401 (fixtures)
from tests.support import MARKET_EU

PNG = b"\x89PNG\r\n\x1a\n"


def _delivered(shop) -> int:
    order_id = shop.buy(market=MARKET_EU)
    shop.deliver(order_id)
    return order_id


def _upload(client: TestClient, data: bytes, order: int | None = None, token: str | None = None):
    return client.post(
        "/v1/evidence" if order is None else f"/v1/evidence?order={order}",
        content=data,
        headers={"content-type": "image/png", **(as_(token) if token else {})},
    )


def _claim(gateway, order_id: int, digest: str):
    return gateway.post("/v1/defect-claims", gateway.body("DefectClaim", "buyer", orderId=order_id, evidence=digest))


def _migrate(gateway, monkeypatch, capsys, *args: str) -> tuple[int, str]:
    """scripts/private_claim_photos.py as the operator runs it, with this gateway's settings (RT_*)."""
    settings = gateway.services.settings
    monkeypatch.setenv("RT_DATABASE", str(settings.database))
    monkeypatch.setenv("RT_EVIDENCE_DIR", str(settings.evidence_dir))
    if settings.ipfs_api:
        monkeypatch.setenv("RT_IPFS_API", settings.ipfs_api)
    else:
        monkeypatch.delenv("RT_IPFS_API", raising=False)
    capsys.readouterr()
    code = private_claim_photos.main(list(args))
    return code, capsys.readouterr().out


def test_attack_an_integrator_uploads_the_claim_photo_publicly_and_the_claim_is_refused(gateway, shop, actors):
    """The integrator follows the old docs: `POST /v1/evidence` (public), then the claim with its digest. The
    claim is refused (409 `evidence_not_private`, naming the way: `?order=`, signed in as the buyer) and
    nothing is queued, so the digest never reaches the chain and the public copy stays unnamed (it expires,
    unreferenced). Uploaded privately, the photo's claim is taken, confirmed, and served to no stranger."""
    client, outbox = gateway.client, gateway.services.outbox
    order_id = _delivered(shop)
    photo = PNG + b"the cracked teat, on the kitchen table"
    public = _upload(client, photo)
    assert public.status_code == 201, public.text

    r = _claim(gateway, order_id, public.json()["digest"])
    assert (r.status_code, r.json()["error"]) == (409, "evidence_not_private"), r.text
    assert r.json()["cid"] == public.json()["cid"]
    assert f"POST /v1/evidence?order={order_id}, signed in as the buyer" in r.json()["detail"]
    assert outbox.depth() == {"accepted": 0, "submitted": 0, "confirmed": 0, "failed": 0}  # nothing queued
    assert gateway.nonce("DefectClaim", "buyer") == 0

    buyer = sign_in(client, actors["buyer"])
    again = _upload(client, photo, order_id, buyer)  # the same bytes stay public (anyone may hold them)
    assert (again.status_code, again.json()["error"]) == (409, "evidence_public"), again.text
    private = _upload(client, photo + b"\x00", order_id, buyer)  # a new copy, e.g. re-encoded
    assert private.status_code == 201, private.text
    r = _claim(gateway, order_id, private.json()["digest"])
    assert r.status_code == 202, r.text
    gateway.relay()
    assert client.get(f"/v1/messages/{r.json()['id']}").json()["status"] == "confirmed"
    cid = private.json()["cid"]
    assert client.get(f"/v1/evidence/{cid}").status_code == 401  # anyone reading the chain
    assert client.get(f"/v1/evidence/{cid}", headers=as_(buyer)).content == photo + b"\x00"


def test_attack_a_claim_naming_another_orders_private_photo_is_refused(gateway, shop, actors):
    """A digest is on-chain for anyone to copy into a claim of their own; the photo it names, private to its
    order, must not become readable by the copier's order. The claim is refused and the photo stays the
    other order's."""
    client = gateway.client
    theirs = shop.buy(market=MARKET_EU, buyer="buyer2")
    photo = PNG + b"buyer2's photo of their nursery"
    stored = _upload(client, photo, theirs, sign_in(client, actors["buyer2"]))
    assert stored.status_code == 201, stored.text
    mine = _delivered(shop)
    r = _claim(gateway, mine, stored.json()["digest"])
    assert (r.status_code, r.json()["error"]) == (409, "evidence_not_private"), r.text
    assert "private to another order" in r.json()["detail"]
    assert gateway.services.outbox.depth()["accepted"] == 0
    assert gateway.services.cases.store.private_orders(stored.json()["cid"]) == [theirs]
    copier = sign_in(client, actors["buyer"])
    assert client.get(f"/v1/evidence/{stored.json()['cid']}", headers=as_(copier)).status_code == 403


def test_attack_the_photo_is_uploaded_publicly_after_its_claim(gateway, shop, actors):
    """A digest the store does not hold is taken (the photo may be kept elsewhere, or uploaded later); the
    integrator then uploads the photo without `?order=`. Refused (409 `evidence_claimed`) while the claim is
    on its way and once it is on-chain and indexed; uploaded privately it is the order's."""
    client = gateway.client
    order_id = _delivered(shop)
    photo = PNG + b"the dent, photographed after the claim"
    digest = "0x" + cids.digest_of(cids.cid_v1(photo)).hex()
    r = _claim(gateway, order_id, digest)
    assert r.status_code == 202, r.text
    refused = _upload(client, photo)
    assert (refused.status_code, refused.json()["error"]) == (409, "evidence_claimed"), refused.text
    assert f"POST /v1/evidence?order={order_id}" in refused.json()["detail"]
    gateway.relay()
    gateway.services.indexer.index_once()
    assert _upload(client, photo).json()["error"] == "evidence_claimed"
    assert client.get(f"/v1/evidence/{cids.cid_v1(photo)}").status_code == 404  # never stored
    buyer = sign_in(client, actors["buyer"])
    assert _upload(client, photo, order_id, buyer).status_code == 201
    assert client.get(f"/v1/evidence/{cids.cid_v1(photo)}").status_code == 401


def test_attack_photos_public_from_before_are_made_private_by_the_migration(
    gateway, shop, desk, actors, monkeypatch, capsys
):
    """What an older gateway left: claim photos uploaded as public evidence, one claim on-chain (sent
    straight to the ReissueDesk, indexed) and one accepted and still queued. Anyone reading the chain
    downloads them. The migration makes each private to its claim's order, read by the buyer and no
    stranger; a dry run before changes nothing, a second run after changes nothing; a stranger's claim
    naming another order's private photo gets nothing from it."""
    client, services = gateway.client, gateway.services
    indexed, queued = _delivered(shop), _delivered(shop)
    photos = {indexed: PNG + b"old photo, claimed on-chain", queued: PNG + b"old photo, claim still queued"}
    stored = {indexed: _upload(client, photos[indexed]).json()}
    desk.claimDefect(indexed, stored[indexed]["digest"], {"from": actors["buyer"].account})
    # The older gateway took the second claim with its public photo (the intake refuses that now): the claim
    # queued, the file as its public upload stored it (the upload route refuses that now).
    digest = "0x" + cids.digest_of(cids.cid_v1(photos[queued])).hex()
    assert _claim(gateway, queued, digest).status_code == 202
    stored[queued] = {"cid": services.staging.put(photos[queued], "image/png").evidence.cid, "digest": digest}
    # A stranger's order, with its own private photo, and a claim on-chain naming it by its digest alone.
    theirs = shop.buy(market=MARKET_EU, buyer="buyer2")
    private = _upload(client, PNG + b"buyer2's private photo", theirs, sign_in(client, actors["buyer2"])).json()
    copier = _delivered(shop)
    desk.claimDefect(copier, private["digest"], {"from": actors["buyer"].account})
    services.indexer.index_once()

    for order, s in stored.items():
        r = client.get(f"/v1/evidence/{s['cid']}")  # the hole: anyone, cached publicly for a year
        assert r.status_code == 200 and r.content == photos[order] and "public" in r.headers["cache-control"]

    code, out = _migrate(gateway, monkeypatch, capsys, "--dry-run")
    assert code == 0, out
    assert f"{stored[indexed]['cid']}: would be made private to order {indexed}" in out, out
    assert f"{stored[queued]['cid']}: would be made private to order {queued}" in out, out
    assert all(client.get(f"/v1/evidence/{s['cid']}").status_code == 200 for s in stored.values())

    code, out = _migrate(gateway, monkeypatch, capsys)
    assert code == 0, out
    assert "made 2 private, unpinned 0" in out and "left as it is" in out, out
    buyer, stranger = sign_in(client, actors["buyer"]), sign_in(client, actors["stranger"])
    for order, s in stored.items():
        assert services.cases.store.private_orders(s["cid"]) == [order]
        anonymous = client.get(f"/v1/evidence/{s['cid']}")
        assert (anonymous.status_code, anonymous.json()["error"]) == (401, "not_signed_in")
        assert client.get(f"/v1/evidence/{s['cid']}", headers=as_(stranger)).status_code == 403
        mine = client.get(f"/v1/evidence/{s['cid']}", headers=as_(buyer))
        assert mine.content == photos[order] and mine.headers["cache-control"] == "private, no-store"
    assert services.cases.store.private_orders(private["cid"]) == [theirs]  # not the copier's
    assert client.get(f"/v1/evidence/{private['cid']}", headers=as_(buyer)).status_code == 403

    code, again = _migrate(gateway, monkeypatch, capsys)
    assert code == 0 and "made 0 private, unpinned 0: nothing to change" in again, again
    assert [services.cases.store.private_orders(s["cid"]) for s in stored.values()] == [[indexed], [queued]]


@pytest.fixture
def node_gateway(manifest, relayer_signer, tmp_path, deployment, actors, ipfs_node):
    """A gateway that adds and pins public evidence on the IPFS test node (tools/ipfs-node)."""
    settings = settings_for(manifest, relayer_signer, tmp_path, min_deadline_margin=60, ipfs_api=ipfs_node)
    with TestClient(create_app(settings)) as client:
        yield Gateway(client, deployment, actors)


def test_attack_a_private_photo_uploaded_again_without_order_is_not_given_to_the_node(
    node_gateway, shop, actors, node_client
):
    """The buyer's photo is private to the order; the same bytes uploaded again without `?order=` (the
    integrator's second try, or anyone holding them) were added to the IPFS node, which serves them to anyone
    by CID. They stay private, and off the node."""
    client = node_gateway.client
    order_id = _delivered(shop)
    photo = PNG + b"a private photo, uploaded again without ?order="
    buyer = sign_in(client, actors["buyer"])
    assert _upload(client, photo, order_id, buyer).json()["pinnedRemote"] is False
    again = _upload(client, photo)
    assert again.status_code == 201 and again.json()["pinnedRemote"] is False, again.text
    assert again.json()["cid"] not in node_client.pin.ls(type="recursive")["Keys"]
    assert client.get(f"/v1/evidence/{again.json()['cid']}").status_code == 401


def test_the_migration_unpins_the_photos_from_the_node_that_serves_anyone(
    node_gateway, shop, desk, actors, node_client, monkeypatch, capsys
):
    """The node pinned a claim photo uploaded as public evidence; it serves whatever it holds to anyone who
    asks by CID, and the CID follows from the digest on-chain. The migration unpins it (the gateway keeps its
    copy, private to the order) and a second run finds nothing to unpin."""
    gateway = node_gateway
    client = gateway.client
    order_id = _delivered(shop)
    photo = PNG + b"an old claim photo, pinned on the node"
    stored = _upload(client, photo).json()
    assert stored["pinnedRemote"] is True and stored["cid"] in node_client.pin.ls(stored["cid"])["Keys"]
    desk.claimDefect(order_id, stored["digest"], {"from": actors["buyer"].account})
    gateway.services.indexer.index_once()

    code, out = _migrate(gateway, monkeypatch, capsys, "--dry-run")
    assert code == 0 and f"{stored['cid']}: would be unpinned from the IPFS node" in out, out
    assert stored["cid"] in node_client.pin.ls(type="recursive")["Keys"]
    code, out = _migrate(gateway, monkeypatch, capsys)
    assert code == 0 and f"{stored['cid']}: unpinned from the IPFS node" in out and "ipfs repo gc" in out, out
    assert stored["cid"] not in node_client.pin.ls(type="recursive")["Keys"]
    buyer = sign_in(client, actors["buyer"])
    assert client.get(f"/v1/evidence/{stored['cid']}", headers=as_(buyer)).content == photo  # the local copy
    assert client.get(f"/v1/evidence/{stored['cid']}").status_code == 401
    code, out = _migrate(gateway, monkeypatch, capsys)
    assert code == 0 and "nothing to change" in out, out
