"""The auditor CLI (`returntrace audit`) needs only a node and the manifest, and says what the gateway says."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from brownie import chain, web3

from api.http.routes.resolver import unit_view
from returntrace.cli.audit import main as audit_main
from returntrace.escrow import Facts, Grade
from returntrace.vocab import BizStep, Disposition
from tests.api.indexing import journey, rows
from tests.support import GTIN

ROOT = Path(__file__).resolve().parents[2]
COMMON = ("block", "units", "parcels", "events", "mismatches")


def _cli(capsys, manifest, *args: str) -> tuple[int, str]:
    capsys.readouterr()  # drop what brownie printed so far
    code = audit_main(["--rpc", web3.provider.endpoint_uri, "--manifest", str(manifest), *args])
    return code, capsys.readouterr().out


def _world(gateway, shop):
    journey(gateway, ["CLI-1", "CLI-2"])
    order_id = shop.returned(reason=3)
    shop.inspect(order_id, Facts.SEAL_INTACT, Grade.B)
    shop.d.escrow.acceptInspection(
        order_id, {"from": shop.actors["buyer"].account}
    )  # settled: grade B sends it to a charity
    r = gateway.post(
        "/v1/events",
        gateway.events_body(
            "charity", [gateway.event(shop.unit(order_id), BizStep.RECEIVING, "charity", Disposition.DONATED)]
        ),
    )
    assert r.status_code == 202, r.text
    gateway.relay()
    gateway.services.indexer.index_once()
    (serial,) = rows(gateway, "SELECT serial FROM idx_units WHERE unit_id = ?", "0x" + shop.unit(order_id).hex())[0]
    return serial


def test_integrity_json_equals_the_gateway_report(gateway, shop, manifest, capsys):
    _world(gateway, shop)
    gateway_report = gateway.client.get("/v1/audit/integrity").json()
    block = gateway_report["block"]
    chain.mine(3)  # the chain moves on: the CLI checks at the gateway's block when told to
    code, out = _cli(capsys, manifest, "--block", str(block), "integrity", "--json")
    assert code == 0
    cli_report = json.loads(out)
    assert {k: cli_report[k] for k in COMMON} == {k: gateway_report[k] for k in COMMON}
    assert cli_report["units"] == {"total": 3, "verified": 3, "mismatched": 0}
    assert cli_report["evidence"]["checked"] is False

    code, out = _cli(capsys, manifest, "integrity")
    assert code == 0 and "3 units" in out and "3 verified, 0 mismatched" in out


def test_history_json_equals_the_unit_view_timeline(gateway, shop, manifest, capsys):
    returned = _world(gateway, shop)
    for serial in ("CLI-1", returned):
        view = unit_view(gateway.services, GTIN, serial)
        code, out = _cli(capsys, manifest, "--block", str(view.verification.block), "history", GTIN, serial, "--json")
        assert code == 0
        h = json.loads(out)
        assert h["verified"] and h["block"] == view.verification.block
        assert h["unitId"] == view.unit_id and h["onchainCount"] == view.verification.onchain_count
        assert h["timeline"] == [asdict(e) for e in view.timeline]
    labels = [e["label"] for e in h["timeline"]]
    assert labels == ["Made", "Delivered", "Received at return center", "Received by charity"]

    code, out = _cli(capsys, manifest, "history", GTIN, "CLI-1")
    assert code == 0 and "Cleared customs" in out and "VERIFIED at block" in out


def test_unknown_unit_bad_gtin_and_dead_node(manifest, capsys):
    """1: the unit is unknown; 3: the audit could not run (2 means evidence missing, see EXIT_CODES)."""
    code, out = _cli(capsys, manifest, "history", GTIN, "NEVER")
    assert code == 1 and "Unknown unit" in out
    assert _cli(capsys, manifest, "history", "09506000134353", "X")[0] == 3
    code = audit_main(["--rpc", "http://127.0.0.1:9", "--manifest", str(manifest), "integrity"])
    assert code == 3 and "did not answer" in capsys.readouterr().err
    assert audit_main(["--rpc", web3.provider.endpoint_uri, "--manifest", "/nonexistent.json", "integrity"]) == 3
    assert audit_main(["--rpc", web3.provider.endpoint_uri, "integrity"]) == 3  # usage errors too


def test_runs_as_the_installed_command_without_gateway_or_brownie(gateway, manifest):
    journey(gateway, ["CLI-MOD"], steps=())
    args = ["--rpc", web3.provider.endpoint_uri, "--manifest", str(manifest), "history", GTIN, "CLI-MOD", "--json"]
    out = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "returntrace"), "audit", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    h = json.loads(out.stdout)
    assert h["verified"] and [e["label"] for e in h["timeline"]] == ["Made"]
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, returntrace.cli.audit; sys.exit('brownie' in sys.modules or "
            "any(m == 'api' or m.startswith('api.') for m in sys.modules))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, "the auditor imports brownie or the gateway"
    # The deprecated alias, kept for one release (CHANGELOG): the same answer, and a notice.
    alias = subprocess.run(
        [sys.executable, "-m", "scripts.audit", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert alias.returncode == 0 and json.loads(alias.stdout) == h and "deprecated" in alias.stderr
