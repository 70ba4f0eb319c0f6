"""A hung node (connections open, no answers: SIGSTOP, as a stalled or overloaded node behaves) is
given up on within the documented bound on every request path — not after web3's default 5 × 10 s
— and nothing accepted is lost or duplicated when it comes back.

The bound (docs/operations.md, Configuration): a request waits at most one RT_RPC_TIMEOUT (2 s) for the node,
a worker's call one RT_WORKER_RPC_TIMEOUT. Assertions leave a wide margin (3×) for a loaded
machine: they tell ~2 s from the ~52 s of retried timeouts, never 2.0 s from 2.5 s.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from requests.exceptions import RequestException
from web3 import Web3

from api.chain.client import REQUEST_RPC, Chain
from api.chain.guard import NodeGuard
from api.chain.pages import PageReads
from api.chain.reader import ChainReader
from api.http.routes.resolver import _block_time_lookup, currency_lookup
from api.main import create_app
from api.settings import Settings
from returntrace import audit
from returntrace.cli.audit import main as audit_main
from returntrace.vocab import BizStep
from scripts.gateway import wait_until
from tests.api.conftest import Gateway, settings_for
from tests.api.processes import HungNode, standalone_chain
from tests.support import GTIN

# A request-path answer within the bound, with room for a loaded 2-core machine.
REQUEST_LIMIT = 3 * REQUEST_RPC.timeout
WORKER_TIMEOUT = 3.0  # the workers' timeout in these tests (RT_WORKER_RPC_TIMEOUT), short to keep them quick


def _timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def _settings(rpc_url: str, manifest, relayer_signer, tmp_path, **fields: Any) -> Settings:
    return settings_for(
        manifest, relayer_signer, tmp_path, rpc_url=rpc_url, worker_rpc_timeout=WORKER_TIMEOUT, **fields
    )


def _unavailable(response, limit: float, elapsed: float) -> None:
    """503 chain_unavailable in the error shape, because the node timed out (not refused), in time."""
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["error"] == "chain_unavailable" and "Timeout" in body["detail"], body
    assert elapsed < limit, f"answered after {elapsed:.1f} s; the bound is {REQUEST_RPC.timeout} s"


def _offline_body(gw: Gateway, unit: bytes, nonce: int = 0) -> dict:
    """A signed event built without asking the (hung) gateway for a nonce."""
    return gw.body("EventBatch", "warehouse", nonce=nonce, events=[gw.event(unit, BizStep.STORING, "warehouse")])


def _verified(tc: TestClient, serial: str) -> dict | None:
    verification = tc.get(f"/01/{GTIN}/21/{serial}", headers={"Accept": "application/json"}).json()["verification"]
    return verification if verification["verified"] else None


def test_every_request_path_gives_up_on_a_node_that_never_answers(
    deployment, actors, manifest, relayer_signer, tmp_path
):
    """The gateway pointed at a port that accepts connections and never answers, its relayer and
    indexer running: each path answers within the bound while the indexer's own calls time out."""
    with HungNode() as url:
        settings = _settings(url, manifest, relayer_signer, tmp_path, relay=True, index=True)
        with TestClient(create_app(settings)) as tc:
            gw = Gateway(tc, deployment, actors)
            assert tc.get("/healthz").status_code == 200  # liveness never asks the node

            before = tc.app.state.services.outbox.depth()
            body = _offline_body(gw, b"\x11" * 32)
            r, elapsed = _timed(lambda: tc.post("/v1/events", json=body))
            _unavailable(r, REQUEST_LIMIT, elapsed)
            assert tc.app.state.services.outbox.depth() == before  # refused, not half-accepted

            r, elapsed = _timed(lambda: tc.get("/readyz"))
            _unavailable(r, REQUEST_LIMIT, elapsed)
            assert r.json()["ready"] is False and r.json()["chain"]["reachable"] is False

            r, elapsed = _timed(
                lambda: tc.get(f"/v1/signers/{actors['carrier'].address}/nonce", params={"kind": "EventBatch"})
            )
            _unavailable(r, REQUEST_LIMIT, elapsed)

            r, elapsed = _timed(lambda: tc.post("/v1/orders/1/release-refund-on-receipt"))
            _unavailable(r, REQUEST_LIMIT, elapsed)

            # A page of a unit the (empty) index lacks asks the chain whether it exists: no answer, no unit.
            r, elapsed = _timed(lambda: tc.get(f"/01/{GTIN}/21/NEVER-ANSWERED", headers={"Accept": "application/json"}))
            assert r.status_code == 404 and elapsed < REQUEST_LIMIT, (r.status_code, elapsed)

            # The indexer's calls time out within its own bound, and it keeps trying (back-off), not stuck.
            indexer = tc.app.state.services.indexer
            error = wait_until(
                lambda: indexer.last_error, 3 * WORKER_TIMEOUT, "the indexer to give up on the hung node"
            )
            assert "Timeout" in error and indexer._thread.is_alive()


def test_a_frozen_anvil_is_a_503_within_the_bound_and_nothing_accepted_is_lost(
    deployment, actors, manifest, relayer_signer, commission, tmp_path
):
    units = [commission(f"HUNG{i}") for i in range(3)]
    anvil = standalone_chain(tmp_path)  # an anvil of this test's own: brownie's is never frozen
    settings = _settings(anvil.url, manifest, relayer_signer, tmp_path, relay=False, index=False)
    try:
        with TestClient(create_app(settings)) as tc:
            gw = Gateway(tc, deployment, actors)
            accepted = [
                gw.post("/v1/events", gw.events_body("carrier", [gw.event(u, BizStep.DEPARTING, "carrier")]))
                for u in units
            ]
            assert [r.status_code for r in accepted] == [202] * 3
            ids = [r.json()["id"] for r in accepted]
            # the page below has its unit indexed (its chain read is not cached yet)
            tc.app.state.services.indexer.index_once()
            late = _offline_body(gw, units[0])
            before = tc.app.state.services.outbox.depth()

            anvil.freeze()
            try:
                r, elapsed = _timed(lambda: tc.post("/v1/events", json=late))
                _unavailable(r, REQUEST_LIMIT, elapsed)
                assert tc.app.state.services.outbox.depth() == before

                r, elapsed = _timed(lambda: tc.get("/readyz"))
                _unavailable(r, REQUEST_LIMIT, elapsed)
                assert r.json()["chain"]["reachable"] is False

                r, elapsed = _timed(
                    lambda: tc.get(f"/v1/signers/{actors['warehouse'].address}/nonce", params={"kind": "EventBatch"})
                )
                _unavailable(r, REQUEST_LIMIT, elapsed)

                # Pages keep answering, unverified; the next one at once (the pages' fast-fail guard).
                r, elapsed = _timed(lambda: tc.get(f"/01/{GTIN}/21/HUNG0", headers={"Accept": "application/json"}))
                assert r.status_code == 200 and elapsed < REQUEST_LIMIT, (r.status_code, elapsed)
                verification = r.json()["verification"]
                assert verification["verified"] is False and verification["reason"].startswith("chain unreachable"), (
                    verification
                )
                r, elapsed = _timed(lambda: tc.get(f"/01/{GTIN}/21/HUNG1"))
                assert r.status_code == 200 and "text/html" in r.headers["content-type"] and elapsed < REQUEST_LIMIT, (
                    r.status_code,
                    elapsed,
                )
                r, elapsed = _timed(lambda: tc.get("/v1/audit/integrity"))
                _unavailable(r, REQUEST_LIMIT, elapsed)

                # The relayer's round gives up within one worker timeout, its messages still accepted.
                started = time.monotonic()
                with pytest.raises(RequestException):
                    tc.app.state.services.relayer.run_once()
                assert time.monotonic() - started < 3 * WORKER_TIMEOUT
                assert [tc.get(f"/v1/messages/{i}").json()["status"] for i in ids] == ["accepted"] * 3
            finally:
                anvil.thaw()

            wait_until(lambda: tc.get("/readyz").status_code == 200, 30, "readyz once the node answers again")
            gw.relay()
            assert [tc.get(f"/v1/messages/{i}").json()["status"] for i in ids] == ["confirmed"] * 3
            retried = tc.post("/v1/events", json=late)  # the refused message, posted again, is accepted now
            assert retried.status_code == 202, retried.text
            gw.relay()
            assert tc.get(f"/v1/messages/{retried.json()['id']}").json()["status"] == "confirmed"
            tc.app.state.services.indexer.index_once()
            verification = wait_until(lambda: _verified(tc, "HUNG0"), 10, "the page verified again")
            assert verification["onchain_count"] == 3

        # Exactly once on the node: commissioning and the carrier's scan on each unit, the warehouse's on the first.
        node = Web3(Web3.HTTPProvider(anvil.url))
        registry = node.eth.contract(address=deployment.registry.address, abi=deployment.registry.abi)
        assert [registry.functions.eventCount(u).call() for u in units] == [3, 2, 2]
    finally:
        anvil.thaw()
        anvil.stop()


def test_auditor_cli_gives_up_on_a_node_that_never_answers(manifest, capsys):
    """Exit 3 (could not run) after one --timeout, not after web3's retries (5 attempts with back-off: ~7 s here)."""
    with HungNode() as url:
        code, elapsed = _timed(
            lambda: audit_main(["--rpc", url, "--manifest", str(manifest), "--timeout", "1", "integrity"])
        )
    assert code == audit.EXIT_CANNOT_RUN and "did not answer" in capsys.readouterr().err
    assert elapsed < 4.0, f"gave up after {elapsed:.1f} s"


def test_a_contract_wallets_check_on_a_hung_node_is_no_answer_not_a_refused_signature(manifest):
    """ERC-1271: a wallet that does not answer because the node is hung is a 503 (RequestException),
    never 401 invalid_signature."""
    with HungNode() as url:
        reader = ChainReader(Chain.connect(url, manifest))
        with pytest.raises(RequestException):
            reader.erc1271_accepts("0x" + "42" * 20, b"\x01" * 32, b"\x02" * 65)


def test_page_lookups_share_the_pages_fast_fail_guard(manifest):
    """The consumer page's block-time and token reads go through the same guard as its verification:
    after one timeout they answer at once (without that time, in base units) instead of one timeout each."""
    with HungNode() as url:
        pages = PageReads(Chain.connect(url, manifest).w3, NodeGuard(retry_after=60))
        block_time, currency_of = _block_time_lookup(pages), currency_lookup(pages)
        first, elapsed = _timed(lambda: block_time(1))
        assert first is None and elapsed < REQUEST_LIMIT
        # A read that reached the node would take a whole timeout; these do not ask it.
        (second, token), elapsed = _timed(lambda: (block_time(2), currency_of("0x" + "42" * 20)))
        assert second is None and token.decimals == 0 and elapsed < REQUEST_RPC.timeout, elapsed
