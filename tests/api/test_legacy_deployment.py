"""A previous deployment served read-only (RT_LEGACY_MANIFESTS): its units keep pages verified
against its own registry, apart from the current deployment's, and take no new events here.

The "old" deployment is a second TraceRegistry on the same chain, described by a manifest as v1's
scripts/deploy.py wrote it (no `schemaVersion`; its escrow, points and desk, which the gateway
ignores, left out): its logs and `unitRecord` are all the gateway reads of it.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
from brownie import TraceRegistry, chain
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from returntrace import eip712, gs1
from returntrace.manifest import ManifestError
from returntrace.vocab import HYGIENE_SEALED, BizStep, Disposition
from scripts import deploy
from scripts.builder import Builder
from tests.api.conftest import Gateway
from tests.support import GTIN, GTIN_INT, MARKET_EU

OLD_SERIALS = ("OLD-1", "OLD-2", "BOTH-1")  # BOTH-1 is commissioned again under the current deployment
OLD_SCANS = ((BizStep.DEPARTING, Disposition.IN_TRANSIT), (BizStep.DELIVERING, Disposition.DELIVERED))
JSON = {"Accept": "application/json"}


@dataclass
class Old:
    registry: object
    manifest: Path
    units: dict[str, bytes]


@pytest.fixture(scope="module")
def old(admin, actors, relayer, deployment, tmp_path_factory) -> Old:
    """The previous deployment's registry (after the current one: its blocks are the later ones),
    with three units commissioned by the brand and scanned twice by the carrier."""
    registry = TraceRegistry.deploy(admin, admin, {"from": admin}, silent=True)
    deploy.accredit(registry, admin, [a for a in actors.values() if a.roles])
    brand, carrier = actors["brand"], actors["carrier"]
    registry.approveProduct(GTIN_INT, brand.address, {"from": admin})
    registry.registerProduct(GTIN_INT, HYGIENE_SEALED, 1 << MARKET_EU, {"from": brand.account})
    domain = eip712.Domain(*deploy.REGISTRY_DOMAIN, chain.id, registry.address)
    build = Builder(deployment, relayer)
    units = [build.commission_item(s, GTIN_INT) for s in OLD_SERIALS]
    registry.commission([build.batch("CommissionBatch", brand, units, domain=domain, nonce=0).args], {"from": relayer})
    ids = {s: gs1.unit_id(GTIN_INT, s) for s in OLD_SERIALS}
    for nonce, (step, disposition) in enumerate(OLD_SCANS):
        events = [build.event(u, step, "carrier", disposition) for u in ids.values()]
        registry.record(
            [build.batch("EventBatch", carrier, events, domain=domain, nonce=nonce).args], {"from": relayer}
        )
    manifest = {
        "network": "development",
        "chainId": chain.id,
        "deploymentBlock": registry.tx.block_number,
        "contracts": {"TraceRegistry": {"address": registry.address, "abi": registry.abi, "eip712": domain.as_json()}},
    }
    path = tmp_path_factory.mktemp("old-manifest") / "v1.json"
    path.write_text(json.dumps(manifest))
    return Old(registry, path, ids)


@pytest.fixture
def legacy_settings(gateway_settings, old) -> Settings:
    return gateway_settings.replace(legacy_manifests=(old.manifest,))


@pytest.fixture
def gw(legacy_settings, deployment, actors) -> Gateway:
    with TestClient(create_app(legacy_settings)) as client:
        yield Gateway(client, deployment, actors)


def _page(gw: Gateway, serial: str) -> dict:
    r = gw.client.get(f"/01/{GTIN}/21/{serial}", headers=JSON)
    assert r.status_code == 200, r.text
    return r.json()


def _indexed(gw: Gateway) -> int:
    """Indexes the legacy registry, then moves the chain on and indexes the current deployment (its
    index ends at a later block): returns the legacy index's block."""
    legacy = gw.services.legacy[0]
    legacy.indexer.index_once()
    gw.commission("NEW-1", "BOTH-1")
    gw.relay()
    gw.services.indexer.index_once()
    assert gw.services.indexer.indexed_block() > legacy.indexer.indexed_block()
    return legacy.indexer.indexed_block()


def _tamper(path: Path, sql: str, *params: object) -> None:
    db = sqlite3.connect(path)
    try:
        db.execute(sql, params)
        db.commit()
    finally:
        db.close()


def test_a_previous_deployments_unit_is_served_verified_and_read_only(gw, old):
    legacy_block = _indexed(gw)
    view = _page(gw, "OLD-1")
    assert view["verification"]["verified"] is True and view["verification"]["block"] == legacy_block
    assert view["verification"]["onchain_count"] == 1 + len(OLD_SCANS)
    assert view["deployment"] == {"schema": 1, "chainId": chain.id, "registry": old.registry.address, "readOnly": True}
    assert view["return_status"] is None and [e["step"] for e in view["timeline"]] == [
        "commissioning",
        "departing",
        "delivering",
    ]
    html = gw.client.get(f"/01/{GTIN}/21/OLD-1").text
    assert "Recorded under the previous deployment (read-only)" in html and "Verified on-chain" in html

    # The current deployment's units come from the current one, a serial recorded under both included.
    current_block = gw.services.indexer.indexed_block()
    for serial in ("NEW-1", "BOTH-1"):
        view = _page(gw, serial)
        assert (
            view["deployment"] is None
            and view["verification"]["verified"] is True
            and view["verification"]["block"] == current_block
        )
        assert len(view["timeline"]) == 1
    assert "previous deployment" not in gw.client.get(f"/01/{GTIN}/21/NEW-1").text
    assert gw.client.get(f"/01/{GTIN}/21/NEVER-1", headers=JSON).status_code == 404

    ready = gw.client.get("/readyz").json()
    assert ready["legacyIndexers"] == [
        {"registry": old.registry.address, "indexedBlock": legacy_block, "lagBlocks": chain.height - legacy_block}
    ]
    report = gw.client.get("/v1/audit/integrity").json()
    assert report["units"]["total"] == 2 and report["units"]["verified"] == 2  # NEW-1 and BOTH-1
    (legacy,) = report["legacy"]
    assert legacy["deployment"]["registry"] == old.registry.address and legacy["block"] == legacy_block
    assert legacy["units"] == {"total": 3, "verified": 3, "mismatched": 0}

    # Both indexes at one block: the reads of the two registries share the node's guard and cache,
    # and BOTH-1's record in one is not taken for its record in the other.
    previous = gw.services.legacy[0]
    assert (previous.views.reads.guard, previous.views.reads.cache) == (
        gw.services.unit_views.reads.guard,
        gw.services.unit_views.reads.cache,
    )
    previous.indexer.index_once()
    assert previous.indexer.indexed_block() == current_block
    both = previous.views.view(GTIN, "BOTH-1")
    assert both.verification.verified and both.verification.onchain_count == 1 + len(OLD_SCANS)


def test_an_altered_legacy_index_row_is_not_verified(gw, old):
    _indexed(gw)
    legacy = gw.services.legacy[0]
    unit = "0x" + old.units["OLD-1"].hex()
    _tamper(legacy.index.path, "UPDATE idx_events SET location = location + 1 WHERE unit_id = ? AND seq = 2", unit)
    view = _page(gw, "OLD-1")
    assert view["verification"]["verified"] is False and view["verification"]["reason"].startswith("mismatch"), view[
        "verification"
    ]
    assert view["deployment"]["readOnly"] is True
    assert "Not verified" in gw.client.get(f"/01/{GTIN}/21/OLD-1").text
    assert _page(gw, "OLD-2")["verification"]["verified"] is True
    (report,) = gw.client.get("/v1/audit/integrity").json()["legacy"]
    assert report["units"]["mismatched"] == 1 and report["mismatches"][0]["serial"] == "OLD-1"


def test_a_legacy_unit_with_the_node_down_is_not_verified_never_a_5xx(gw, legacy_settings):
    legacy_block = _indexed(gw)
    gw.client.__exit__(None, None, None)
    dead = legacy_settings.replace(rpc_url="http://127.0.0.1:9")  # nothing listens on the discard port
    with TestClient(create_app(dead)) as client:
        r = client.get(f"/01/{GTIN}/21/OLD-1", headers=JSON)
        assert r.status_code == 200, r.text
        verification = r.json()["verification"]
        assert (
            verification["verified"] is False
            and verification["reason"].startswith("chain unreachable")
            and verification["block"] == legacy_block
        )
        assert r.json()["deployment"]["readOnly"] is True
        page = client.get(f"/01/{GTIN}/21/OLD-1")
        assert page.status_code == 200 and "Not verified" in page.text and "previous deployment" in page.text


@pytest.mark.parametrize("kind", ["current schema", "no registry", "same registry twice"])
def test_a_legacy_manifest_that_is_not_a_previous_deployments_is_refused_at_start(
    gateway_settings, manifest, old, tmp_path, kind
):
    if kind == "current schema":
        manifests, error = (manifest,), "schema 2, the current one"
    elif kind == "no registry":
        v1 = json.loads(old.manifest.read_text())
        del v1["contracts"]["TraceRegistry"]
        path = tmp_path / "no-registry.json"
        path.write_text(json.dumps(v1))
        manifests, error = (path,), "has no TraceRegistry"
    else:
        manifests, error = (old.manifest, old.manifest), "another legacy manifest names"
    with (
        pytest.raises(ManifestError, match=error),
        TestClient(create_app(gateway_settings.replace(legacy_manifests=manifests))),
    ):
        pass
    assert not list(tmp_path.glob("*.legacy-*"))  # refused before any index file was made


def test_an_event_for_a_legacy_unit_is_an_unknown_unit(gw, old):
    _indexed(gw)
    body = gw.events_body(
        "carrier", [gw.event(old.units["OLD-1"], BizStep.DEPARTING, "carrier", Disposition.IN_TRANSIT)]
    )
    r = gw.post("/v1/events", body)
    assert r.status_code == 404 and r.json()["error"] == "unknown_unit", r.text
    assert "not commissioned in this deployment's registry" in r.json()["detail"]
