"""Gateway fixtures: the app runs against the same anvil and contracts as the contract tests.

Every test gets a fresh gateway database; fn_isolation rolls the chain back after each test, so
chain and database start consistent. The relayer does not run in the background here: tests call
`gateway.relay()` to process the queue, which keeps them deterministic (a background-relayer
test turns it on explicitly).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from brownie import web3
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from returntrace import gs1
from returntrace.vocab import BizStep, Disposition
from scripts import deploy
from scripts.builder import Builder
from tests.support import GTIN_INT


def settings_for(
    manifest: Path, relayer_signer: deploy.Signer, folder: Path, *, rpc_url: str | None = None, **fields: Any
) -> Settings:
    """A test gateway's settings: this module's chain (or `rpc_url`), its manifest, the relayer's key and a
    store in `folder`; the relayer and the indexer are cranked by hand unless `fields` turn them on."""
    return Settings(
        rpc_url=rpc_url or web3.provider.endpoint_uri,
        manifest=manifest,
        relayer_key="0x" + relayer_signer.key.hex(),
        database=folder / "gateway.sqlite3",
        evidence_dir=folder / "evidence",
        **{"relay": False, "index": False, **fields},
    )


@pytest.fixture(scope="module")
def relayer_signer(admin) -> deploy.Signer:
    s = deploy.test_signer("gateway-relayer", 0, "950600000010")
    admin.transfer(s.account, "100 ether", silent=True)
    return s


@pytest.fixture(scope="module")
def manifest(deployment, relayer_signer, tmp_path_factory) -> Path:
    return deploy.write_manifest(deployment, tmp_path_factory.mktemp("manifest") / "manifest.json")


@pytest.fixture
def gateway_settings(manifest, relayer_signer, tmp_path) -> Settings:
    return settings_for(manifest, relayer_signer, tmp_path, min_deadline_margin=60)


class Gateway:
    """A TestClient plus the hand-cranked relayer and message builders (scripts/builder.py, with the
    nonces the gateway counts)."""

    def __init__(self, client: TestClient, deployment: deploy.Deployment, actors: dict[str, deploy.Signer]) -> None:
        self.client, self.d, self.actors = client, deployment, actors
        self.builder = Builder(deployment, actors=actors)

    @property
    def app(self):
        return self.client.app

    @property
    def services(self):
        """The running gateway's parts (api.services.Services)."""
        return self.client.app.state.services

    def relay(self, rounds: int = 20) -> None:
        """Runs the relayer until the queue is empty."""
        relayer = self.services.relayer
        for _ in range(rounds):
            if not relayer.run_once() and not self.services.outbox.depth()["accepted"]:
                return
        raise AssertionError("relayer did not empty the queue")

    def nonce(self, kind: str, actor: str) -> int:
        """The signer's next nonce as the gateway counts it (chain nonce + queued messages), as a client asks."""
        r = self.client.get(f"/v1/signers/{self.actors[actor].address}/nonce", params={"kind": kind})
        assert r.status_code == 200, r.text
        return r.json()["nextNonce"]

    def body(self, kind: str, actor: str, **fields: Any) -> dict[str, Any]:
        """The JSON body of a `kind` message signed by `actor` under the domain of the contract the
        gateway relays it to (a DefectClaim: the ReissueDesk's), with the gateway's next nonce."""
        if fields.get("nonce") is None:
            fields["nonce"] = self.nonce(kind, actor)
        return self.builder.sign(kind, self.builder.domain(kind), actor, **fields).body

    def event(
        self,
        unit_id: bytes,
        step: BizStep,
        actor: str,
        disposition: Disposition = Disposition.IN_PROGRESS,
        **fields: Any,
    ) -> dict[str, Any]:
        return self.builder.event(unit_id, step, actor, disposition, **fields)

    def events_body(self, actor: str, events: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
        return self.body("EventBatch", actor, events=events, **fields)

    def commission_body(
        self, serials: list[str], actor: str = "brand", gtin: int = GTIN_INT, **fields: Any
    ) -> dict[str, Any]:
        return self.body(
            "CommissionBatch", actor, units=[self.builder.commission_item(s, gtin) for s in serials], **fields
        )

    def decommission_body(
        self,
        serials: list[str],
        actor: str = "brand",
        gtin: int = GTIN_INT,
        disposition: Disposition = Disposition.INACTIVE,
        **fields: Any,
    ) -> dict[str, Any]:
        """A brand's signed DecommissionBatch of units of `gtin` (its stock, taken out of circulation)."""
        units = [self.builder.decommission_item(s, gtin, disposition, actor) for s in serials]
        return self.body("DecommissionBatch", actor, units=units, **fields)

    def inspection_body(
        self, order_id: int, facts: int, grade: int, actor: str = "inspector", **fields: Any
    ) -> dict[str, Any]:
        """An inspector's signed attestation; no diminished value and a fixed evidence digest unless given."""
        fields.setdefault("diminishedValue", 0)
        fields.setdefault("evidence", "0x" + "ab" * 32)
        return self.body("Inspection", actor, orderId=order_id, facts=int(facts), grade=int(grade), **fields)

    def commission(self, *serials: str) -> list[bytes]:
        r = self.client.post("/v1/commissions", json=self.commission_body(list(serials)))
        assert r.status_code == 202, r.text
        return [gs1.unit_id(GTIN_INT, s) for s in serials]

    def post(self, path: str, body: dict[str, Any]):
        return self.client.post(path, json=body)


@pytest.fixture
def gateway(gateway_settings, deployment, actors) -> Gateway:
    with TestClient(create_app(gateway_settings)) as client:
        yield Gateway(client, deployment, actors)


@pytest.fixture(scope="module")
def gateway_app(manifest, relayer_signer, tmp_path_factory):
    """One gateway for a whole module of generated requests (hypothesis runs many per test)."""
    settings = settings_for(manifest, relayer_signer, tmp_path_factory.mktemp("fuzz-gateway"))
    with TestClient(create_app(settings)) as client:
        yield client, client.app.state.services.outbox
