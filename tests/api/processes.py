"""A standalone anvil for the durability and hung-node tests (the gateway process lives in
scripts/gateway.py), a node that never answers, and a gateway app served on a loopback port in a
thread (the browser tests)."""

from __future__ import annotations

import gzip
import os
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from brownie import web3

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

    def start(self) -> AnvilProcess:
        cmd = [
            str(ANVIL),
            "--port",
            str(self.port),
            "--chain-id",
            "31337",
            "--hardfork",
            "cancun",
            "--gas-limit",
            "30000000",
            "--block-base-fee-per-gas",
            "0",
            "--dump-state",
            str(self.state),
            "--quiet",
        ]
        if self.state.exists():
            cmd += ["--load-state", str(self.state)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self._up, 20, f"anvil on {self.url}")
        return self

    def _up(self) -> bool:
        try:
            return (
                httpx.post(
                    self.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}, timeout=1
                ).status_code
                == 200
            )
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        """SIGTERM: anvil dumps its state, as an operator's restart would."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)

    def freeze(self) -> None:
        """SIGSTOP: connections are still accepted (by the kernel), nothing is answered, as a stalled
        or overloaded node behaves. Always `thaw()` in a finally."""
        assert self.proc is not None and self.proc.poll() is None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)


def standalone_chain(tmp_path: Path) -> AnvilProcess:
    """Moves the test chain's state into an anvil of its own that can be stopped, frozen and restarted
    (never brownie's shared one)."""
    dumped = web3.provider.make_request("anvil_dumpState", [])["result"]
    state = tmp_path / "anvil-state.json"
    state.write_bytes(gzip.decompress(bytes.fromhex(dumped[2:])))
    return AnvilProcess(state).start()


class HungNode:
    """A port where connections open and nothing is ever answered: a listening socket that never
    accepts (the kernel completes the handshakes into its backlog). `with HungNode() as url:`"""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"

    def __enter__(self) -> str:
        self._socket.listen(256)
        return self.url

    def __exit__(self, *_: object) -> None:
        self._socket.close()


@contextmanager
def served(app: Any, port: int) -> Iterator[str]:
    """`app` served by uvicorn on 127.0.0.1:`port` in a thread, with its lifespan; yields its URL."""
    url = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="gateway-under-test", daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started or not thread.is_alive(), 30, f"the gateway on {url}")
        assert server.started, "the gateway did not start (see the log above)"
        yield url
    finally:
        server.should_exit = True
        thread.join(15)
