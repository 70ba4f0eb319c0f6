"""The photo of a defect claim is the order's, not anyone's who reads the chain. The claim puts the photo's
digest on-chain and the digest names its CID: a photo the gateway holds as public evidence is served to all
(`Cache-Control: public`, a year), and given to the IPFS node, which serves anyone by CID. Each test is the
attack: an integrator uploading the photo publicly before or after the claim, a stranger naming another
buyer's private photo in a claim of their own."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from returntrace import cid as cids
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
