"""Nothing accepted is lost: not when the gateway is SIGKILLed mid-batch, not when the chain node
goes down. Real processes: uvicorn for the gateway, a standalone anvil for the node."""

from __future__ import annotations

import json
import sqlite3
import time

import httpx
import pytest
from brownie import web3
from fastapi.testclient import TestClient
from web3 import Web3
from web3.exceptions import TransactionNotFound

from api.main import create_app
from returntrace.vocab import BizStep
from scripts.gateway import GatewayProcess, wait_until
from tests.api.conftest import Gateway, settings_for
from tests.api.processes import standalone_chain

STEPS = (("carrier", BizStep.DEPARTING), ("warehouse", BizStep.STORING), ("brand", BizStep.SHIPPING))


def _statuses(client: httpx.Client, ids: list[str]) -> list[str]:
    return [client.get(f"/v1/messages/{i}").json()["status"] for i in ids]


def _stored_unsent(database, w3) -> list[tuple[str, list[str]]]:
    """Transactions the outbox stored as sent that the chain has not seen."""
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT tx_hash, message_ids FROM transactions WHERE status = 'sent'").fetchall()
    finally:
        db.close()
    out = []
    for tx_hash, ids in rows:
        try:
            w3.eth.get_transaction(tx_hash)
        except TransactionNotFound:
            out.append((tx_hash, json.loads(ids)))
    return out


def test_sigkill_mid_batch_loses_nothing_and_submits_each_event_once(
    deployment, actors, manifest, relayer_signer, registry, commission, tmp_path
):
    units = [commission(f"KILL{i}") for i in range(8)]
    database = tmp_path / "gateway.sqlite3"
    env = {
        "RT_RPC_URL": web3.provider.endpoint_uri,
        "RT_MANIFEST": str(manifest),
        "RT_DATABASE": str(database),
        "RT_EVIDENCE_DIR": str(tmp_path / "evidence"),
        "RT_RELAYER_KEY": "0x" + relayer_signer.key.hex(),
        "RT_INDEX": "0",
        "RT_BATCH_MAX_EVENTS": "4",
        # Each stored transaction waits before broadcast: the window the kill must land in.
        "RT_PAUSE_BEFORE_BROADCAST": "0.6",
    }
    first = GatewayProcess(env, tmp_path / "gateway-1.log").start()
    ids: list[str] = []
    try:
        client = Gateway(httpx.Client(base_url=first.url, timeout=10), deployment, actors)
        for actor, step in STEPS:
            for unit in units:
                r = client.post("/v1/events", client.events_body(actor, [client.event(unit, step, actor)]))
                assert r.status_code == 202, r.text
                ids.append(r.json()["id"])
        stranded = wait_until(lambda: _stored_unsent(database, web3), 30, "a stored, not yet broadcast transaction")
        first.kill()
    finally:
        first.stop()

    # The crash left a signed transaction in the outbox that no node has seen, and work queued.
    stranded = _stored_unsent(database, web3)
    assert stranded, "the kill should have landed between storing and broadcasting"
    (stranded_tx, stranded_ids), *_ = stranded
    assert sum(registry.eventCount(u) for u in units) < 4 * len(units)

    second = GatewayProcess({**env, "RT_PAUSE_BEFORE_BROADCAST": "0"}, tmp_path / "gateway-2.log").start()
    try:
        client = httpx.Client(base_url=second.url, timeout=10)
        wait_until(lambda: set(_statuses(client, ids)) == {"confirmed"}, 60, "every accepted message confirmed")
        # The stranded messages went on-chain in the very transaction stored before the crash.
        assert {client.get(f"/v1/messages/{i}").json()["txHash"] for i in stranded_ids} == {stranded_tx}
    finally:
        second.stop()
    # Exactly once: commissioning plus one event per signer on every unit.
    assert [registry.eventCount(u) for u in units] == [4] * len(units)


def test_chain_outage_keeps_accepted_messages_and_relays_them_when_it_returns(
    deployment, actors, manifest, relayer_signer, commission, tmp_path
):
    units = [commission(f"OUT{i}") for i in range(3)]
    anvil = standalone_chain(tmp_path)
    settings = settings_for(manifest, relayer_signer, tmp_path, rpc_url=anvil.url)
    try:
        with TestClient(create_app(settings)) as tc:
            gw = Gateway(tc, deployment, actors)
            accepted = [
                gw.post("/v1/events", gw.events_body("carrier", [gw.event(u, BizStep.DEPARTING, "carrier")]))
                for u in units
            ]
            assert [r.status_code for r in accepted] == [202] * 3
            ids = [r.json()["id"] for r in accepted]

            anvil.stop()
            with pytest.raises(Exception):  # noqa: B017 -- the node is gone: whatever transport error web3 raises
                tc.app.state.services.relayer.run_once()
            assert [tc.get(f"/v1/messages/{i}").json()["status"] for i in ids] == ["accepted"] * 3
            ready = tc.get("/readyz")
            assert ready.status_code == 503 and ready.json()["chain"]["reachable"] is False
            # New messages cannot be checked against the chain now: refused, not half-accepted.
            before = tc.app.state.services.outbox.depth()
            refused = tc.post("/v1/events", json=_offline_body(gw, units[0]))
            assert refused.status_code == 503 and refused.json()["error"] == "chain_unavailable"
            assert tc.app.state.services.outbox.depth() == before

            anvil.start()
            gw.relay()
            assert [tc.get(f"/v1/messages/{i}").json()["status"] for i in ids] == ["confirmed"] * 3
            chain = Web3(Web3.HTTPProvider(anvil.url))
            reg = chain.eth.contract(address=deployment.registry.address, abi=deployment.registry.abi)
            assert [reg.functions.eventCount(u).call() for u in units] == [2, 2, 2]
    finally:
        anvil.stop()


def _offline_body(gw: Gateway, unit: bytes) -> dict:
    """A signed event built without asking the (down) gateway for a nonce."""
    return gw.body("EventBatch", "warehouse", nonce=0, events=[gw.event(unit, BizStep.STORING, "warehouse")])


def test_transaction_stored_when_the_chain_dies_is_sent_when_it_returns(
    deployment, actors, manifest, relayer_signer, commission, tmp_path
):
    (unit,) = [commission("OUT-TX")]
    anvil = standalone_chain(tmp_path)
    settings = settings_for(
        manifest,
        relayer_signer,
        tmp_path,
        rpc_url=anvil.url,
        relay=True,
        batch_interval=0.02,
        pause_before_broadcast=1.5,
    )
    try:
        with TestClient(create_app(settings)) as tc:
            gw = Gateway(tc, deployment, actors)
            r = gw.post("/v1/events", gw.events_body("carrier", [gw.event(unit, BizStep.DEPARTING, "carrier")]))
            message_id = r.json()["id"]
            wait_until(
                lambda: tc.get(f"/v1/messages/{message_id}").json()["status"] == "submitted",
                10,
                "the transaction stored",
            )
            anvil.stop()  # inside the pause: the broadcast will find no node
            time.sleep(2.0)
            assert tc.get(f"/v1/messages/{message_id}").json()["status"] == "submitted"
            anvil.start()
            wait_until(
                lambda: tc.get(f"/v1/messages/{message_id}").json()["status"] == "confirmed",
                30,
                "confirmation after the outage",
            )
            chain = Web3(Web3.HTTPProvider(anvil.url))
            reg = chain.eth.contract(address=deployment.registry.address, abi=deployment.registry.abi)
            assert reg.functions.eventCount(unit).call() == 2
    finally:
        anvil.stop()
