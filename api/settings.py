"""Gateway settings, read once from the environment (RT_* variables); see README, Configuration."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .chain import REQUEST_RPC, WORKER_RPC, RpcProfile

ROOT = Path(__file__).resolve().parents[1]


def _env(name: str, default: str | None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    rpc_url: str = "http://127.0.0.1:8545"
    # Seconds a JSON-RPC call may wait for the node (api.chain.RpcProfile): on request threads, and
    # in the relayer and indexer. No call is retried by web3, so a frozen node costs one timeout.
    rpc_timeout: float = REQUEST_RPC.timeout
    worker_rpc_timeout: float = WORKER_RPC.timeout
    manifest: Path = ROOT / "deployments" / "31337.json"
    # Manifests of previous deployments served read-only (api/legacy.py): their units keep verified pages.
    legacy_manifests: tuple[Path, ...] = ()
    # The relayer's key pays gas for submitted messages; without it the gateway only reads.
    relayer_key: str | None = field(default=None, repr=False)
    database: Path = ROOT / "data" / "gateway.sqlite3"
    evidence_dir: Path = ROOT / "data" / "evidence"
    ipfs_api: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    max_upload_bytes: int = 10 * 1024 * 1024
    batch_max_events: int = 1000
    batch_interval: float = 0.05
    index_interval: float = 0.2
    index_block_range: int = 2000  # blocks per eth_getLogs request (halved when a node refuses)
    index_confirmations: int = 0  # blocks the indexer stays behind the head: reorg safety on public chains
    min_deadline_margin: int = 60  # seconds a message must still be valid for when accepted
    relay: bool = True
    index: bool = True
    # Fault injection for the crash tests only: seconds the relayer waits between storing a
    # signed transaction and broadcasting it, the window a crash must not lose anything in.
    pause_before_broadcast: float = 0.0

    @property
    def index_database(self) -> Path:
        """The index's file, beside the outbox's (RT_DATABASE): derived data, rebuilt from the chain
        if lost, and written by the indexer's own process while this one writes the outbox."""
        return self.database.with_name(f"{self.database.stem}.index.sqlite3")

    @property
    def request_rpc(self) -> RpcProfile:
        return RpcProfile(self.rpc_timeout)

    @property
    def worker_rpc(self) -> RpcProfile:
        return RpcProfile(self.worker_rpc_timeout)

    @classmethod
    def from_env(cls) -> "Settings":
        defaults = cls()
        return cls(
            rpc_url=_env("RT_RPC_URL", defaults.rpc_url),
            rpc_timeout=float(_env("RT_RPC_TIMEOUT", str(defaults.rpc_timeout))),
            worker_rpc_timeout=float(_env("RT_WORKER_RPC_TIMEOUT", str(defaults.worker_rpc_timeout))),
            manifest=Path(_env("RT_MANIFEST", str(defaults.manifest))),
            legacy_manifests=tuple(Path(p.strip()) for p in (_env("RT_LEGACY_MANIFESTS", "") or "").split(",") if p.strip()),
            relayer_key=_env("RT_RELAYER_KEY", None),
            database=Path(_env("RT_DATABASE", str(defaults.database))),
            evidence_dir=Path(_env("RT_EVIDENCE_DIR", str(defaults.evidence_dir))),
            ipfs_api=_env("RT_IPFS_API", None),
            public_url=_env("RT_PUBLIC_URL", defaults.public_url),
            max_upload_bytes=int(_env("RT_MAX_UPLOAD_BYTES", str(defaults.max_upload_bytes))),
            batch_max_events=int(_env("RT_BATCH_MAX_EVENTS", str(defaults.batch_max_events))),
            batch_interval=float(_env("RT_BATCH_INTERVAL", str(defaults.batch_interval))),
            index_interval=float(_env("RT_INDEX_INTERVAL", str(defaults.index_interval))),
            index_block_range=int(_env("RT_INDEX_BLOCK_RANGE", str(defaults.index_block_range))),
            index_confirmations=int(_env("RT_INDEX_CONFIRMATIONS", str(defaults.index_confirmations))),
            relay=_env("RT_RELAY", "1") != "0",
            index=_env("RT_INDEX", "1") != "0",
            pause_before_broadcast=float(_env("RT_PAUSE_BEFORE_BROADCAST", "0")),
        )
