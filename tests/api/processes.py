"""A standalone anvil for the durability tests (the gateway process lives in scripts/gateway.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from scripts.gateway import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
ANVIL = ROOT / "node_modules" / ".bin" / "anvil"


class AnvilProcess:
    """A standalone anvil whose state survives restarts (--load-state / --dump-state)."""

    def __init__(self, state: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.state = state
        self.proc: subprocess.Popen | None = None

    def start(self) -> "AnvilProcess":
        cmd = [str(ANVIL), "--port", str(self.port), "--chain-id", "31337", "--hardfork", "cancun", "--gas-limit", "30000000",
               "--block-base-fee-per-gas", "0", "--dump-state", str(self.state), "--quiet"]
        if self.state.exists():
            cmd += ["--load-state", str(self.state)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self._up, 20, f"anvil on {self.url}")
        return self

    def _up(self) -> bool:
        try:
            return httpx.post(self.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        """SIGTERM: anvil dumps its state, as an operator's restart would."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)
