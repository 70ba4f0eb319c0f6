"""Driving the installed `returntrace` command (.venv/bin/returntrace, put there by `make setup`)
against a gateway served on a loopback port: a subprocess, as an operator runs it."""

from __future__ import annotations

import json
import os
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from brownie import chain, web3

from api.main import create_app
from scripts.gateway import free_port
from tests.api.processes import served
from tests.support import next_block_at

ROOT = Path(__file__).resolve().parents[2]
COMMAND = ROOT / ".venv" / "bin" / "returntrace"
PASSPHRASE = "correct horse battery staple"


def chain_at_wall_clock() -> None:
    """The command dates rows by the operator's clock, the wall's. After a snapshot revert anvil's clock
    restarts from the snapshot's block, so it runs behind the wall by the time since that snapshot: since
    the suite's baseline for a module's first blocks, beyond the registry's 5-minute skew
    (TraceRegistry.MAX_CLOCK_SKEW) for a module that runs late. A block at the wall's time puts the chain
    there (the test's revert takes it back)."""
    wall = int(time.time())
    if web3.eth.get_block("latest").timestamp < wall:  # what the gateway checks event times against
        next_block_at(wall)
        chain.mine()


class Cli:
    """The command with its own keystore folder and a gateway URL; `run(...)` returns the finished process."""

    def __init__(self, home: Path, gateway_url: str | None = None) -> None:
        assert COMMAND.exists(), f"{COMMAND} is missing: `make setup` installs the project (pip install -e .)"
        self.home = home
        self.keystores = home / "keystores"
        self.passphrase_file = home / "passphrase"
        self.passphrase_file.write_text(PASSPHRASE + "\n")
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),  # this checkout's package, whichever checkout installed the script
            "RETURNTRACE_KEYSTORE_DIR": str(self.keystores),
            "RETURNTRACE_TEST_SCRYPT_N": "1024",  # test-only: cheap unlocks (production is 2**18)
            "COLUMNS": "200",
        }
        if gateway_url:
            self.env["RETURNTRACE_GATEWAY"] = gateway_url
        chain_at_wall_clock()

    def run(self, *args: str, input: str | None = None, env: dict[str, str] | None = None, timeout: float = 300):
        return subprocess.run(
            [str(COMMAND), *args],
            input=input,
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**self.env, **(env or {})},
            timeout=timeout,
        )

    def import_key(self, name: str, key: bytes) -> str:
        key_file = self.home / f"{name}.key"
        key_file.write_text("0x" + key.hex())
        r = self.run(
            "keys", "import", name, "--key-file", str(key_file), "--passphrase-file", str(self.passphrase_file)
        )
        assert r.returncode == 0, r.stderr
        key_file.unlink()
        return r.stdout.split()[1]

    def scan(self, path: Path, *args: str, env: dict[str, str] | None = None):
        return self.run("scan", str(path), "--passphrase-file", str(self.passphrase_file), "--json", *args, env=env)


def summary(result: subprocess.CompletedProcess) -> dict[str, Any]:
    return json.loads(result.stdout)


@contextmanager
def _served(settings, index: bool):
    port = free_port()
    # 500 commissionings (~17M gas) per relayed transaction: 1,000 would not fit in the 30M block gas limit.
    app = create_app(
        settings.replace(relay=True, index=index, batch_interval=0.05, index_interval=0.1, batch_max_events=500)
    )
    with served(app, port) as url, httpx.Client(base_url=url, timeout=10) as http:
        yield url, http


@pytest.fixture
def live_gateway(gateway_settings):
    """The gateway served by uvicorn in a thread, relayer and indexer on (the unit views need the index)."""
    with _served(gateway_settings, index=True) as served_gateway:
        yield served_gateway


@pytest.fixture
def live_relay(gateway_settings):
    """The gateway served with its relayer only: the 10,000-row scan does not wait for an index."""
    with _served(gateway_settings, index=False) as served_gateway:
        yield served_gateway
