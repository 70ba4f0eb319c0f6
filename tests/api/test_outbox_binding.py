"""The outbox belongs to one deployment (v2): signed messages name their contracts, so a gateway moved
to another deployment's manifest first relays what it accepted under the old one. Drained, the outbox
rebinds; the old messages stay readable and out of the new deployment's accounting."""

from __future__ import annotations

import pytest
from brownie import web3
from fastapi.testclient import TestClient

from api.chain.client import Chain
from api.main import create_app
from api.store.outbox import OutboxNotDrained, SqliteOutbox
from returntrace import gs1
from returntrace.vocab import HYGIENE_SEALED, BizStep
from scripts import deploy
from tests.api.conftest import Gateway
from tests.support import GTIN_INT, MARKET_CN, MARKET_EU, MARKET_US


@pytest.fixture
def second_deployment(admin, actors) -> deploy.Deployment:
    """Another deployment of the contracts on the same chain (an upgrade), set up as conftest's `deployment`."""
    d = deploy.deploy_contracts(admin, gov=deploy.Governance(admin, admin, admin, admin, actors["arbiter"].account))
    deploy.accredit(d.registry, admin, [a for a in actors.values() if a.roles])
    deploy.register_product(
        d, actors["brand"], GTIN_INT, HYGIENE_SEALED, (1 << MARKET_EU) | (1 << MARKET_US) | (1 << MARKET_CN)
    )
    d.actors = actors
    return d


def test_an_outbox_is_rebound_to_another_deployment_only_when_drained(
    gateway_settings, deployment, second_deployment, actors, tmp_path
):
    other_manifest = deploy.write_manifest(second_deployment, tmp_path / "other-manifest.json")
    moved = gateway_settings.replace(manifest=other_manifest)
    unit = gs1.unit_id(GTIN_INT, "BIND-1")

    # Under the first deployment: a unit commissioned and decommissioned, accepted, not relayed yet.
    with TestClient(create_app(gateway_settings)) as client:
        first = Gateway(client, deployment, actors)
        r = client.post("/v1/commissions", json=first.commission_body(["BIND-1"]))
        assert r.status_code == 202, r.text
        old_id = r.json()["id"]
        assert client.post("/v1/decommissions", json=first.decommission_body(["BIND-1"])).status_code == 202

    # Another deployment's manifest: the outbox will not bind, and the gateway does not start.
    outbox = SqliteOutbox(gateway_settings.database)
    try:
        with pytest.raises(OutboxNotDrained, match="2 messages and 0 transactions not yet on-chain"):
            outbox.bind(Chain.connect(web3.provider.endpoint_uri, other_manifest).deployment)
    finally:
        outbox.close()
    with pytest.raises(OutboxNotDrained), TestClient(create_app(moved)):
        pass

    # Drained under its own deployment …
    with TestClient(create_app(gateway_settings)) as client:
        Gateway(client, deployment, actors).relay()
        assert client.get(f"/v1/messages/{old_id}").json()["status"] == "confirmed"
    assert deployment.registry.eventCount(unit) == 2 and deployment.registry.isClosed(unit)

    # … it rebinds: the old message is still readable, and the brand's first message to the new
    # registry (nonce 0 again, the same serial: a unit of that registry, open) is accepted and relayed there.
    with TestClient(create_app(moved)) as client:
        gateway = Gateway(client, second_deployment, actors)
        old = client.get(f"/v1/messages/{old_id}").json()
        assert (old["status"], old["kind"], old["nonce"]) == ("confirmed", "CommissionBatch", 0)
        assert gateway.nonce("CommissionBatch", "brand") == 0
        body = gateway.commission_body(["BIND-1"])
        assert body["nonce"] == 0
        r = client.post("/v1/commissions", json=body)
        assert r.status_code == 202, r.text
        assert r.json()["id"] != old_id  # another domain, another message
        gateway.relay()
        assert client.get(f"/v1/messages/{r.json()['id']}").json()["status"] == "confirmed"
        stored = client.post(
            "/v1/events", json=gateway.events_body("warehouse", [gateway.event(unit, BizStep.STORING, "warehouse")])
        )
        assert stored.status_code == 202, stored.text
        gateway.relay()
        assert client.get(f"/v1/messages/{stored.json()['id']}").json()["status"] == "confirmed"
    assert second_deployment.registry.eventCount(unit) == 2 and not second_deployment.registry.isClosed(unit)
    assert deployment.registry.eventCount(unit) == 2
