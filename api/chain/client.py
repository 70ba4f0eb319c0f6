"""The chain as the gateway sees it: a web3 connection and the contracts named in the deployment manifest."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from web3 import Web3
from web3.contract import Contract

from returntrace import eip712


@dataclass(frozen=True)
class RpcProfile:
    """How long a web3 client waits for the chain node. `timeout` bounds the connection and each
    read of an answer (requests' timeout); web3's exception retries are off. A frozen node
    (connections accepted, nothing answered, as a stalled or overloaded node behaves) costs a call
    at most `timeout` seconds, where web3's defaults (a 10 s timeout and 5 attempts with back-off)
    cost ~52 s. Whoever wants another attempt makes it: the workers' rounds back off and retry,
    a client retries a 503."""

    timeout: float

    def web3(self, rpc_url: str) -> Web3:
        return Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": self.timeout}, exception_retry_configuration=None))


# The timeout profiles, here only (README, Configuration). Request threads (intake checks, nonces,
# /readyz, pages, audit queries): a frozen node is a 503 (a page: "not verified") within ~2 s.
REQUEST_RPC = RpcProfile(timeout=2.0)  # RT_RPC_TIMEOUT
# The relayer and the indexer, on threads and clients of their own: 2,000-block eth_getLogs ranges
# and 1,000-event transactions may take longer than a request should wait.
WORKER_RPC = RpcProfile(timeout=10.0)  # RT_WORKER_RPC_TIMEOUT
# The auditor CLI: whole-history log ranges from a possibly remote node (scripts/audit.py --timeout).
AUDITOR_RPC = RpcProfile(timeout=30.0)


class ManifestError(RuntimeError):
    """The deployment manifest is missing, not of this version, or does not describe the contracts."""


MANIFEST_SCHEMA = 2  # scripts/deploy.py SCHEMA_VERSION: the contracts and meanings this gateway reads
SIGNING_CONTRACTS = ("TraceRegistry", "ReturnEscrow", "StorePoints", "ReissueDesk")


def read_manifest(path: Path) -> tuple[dict[str, Any], Any]:
    """A deployment manifest and its schema (1: v1's scripts/deploy.py wrote no `schemaVersion`)."""
    try:
        manifest = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ManifestError(f"cannot read deployment manifest {path}: {exc}") from exc
    return manifest, manifest.get("schemaVersion", 1)


@dataclass
class Chain:
    w3: Web3
    chain_id: int
    deployment_block: int
    registry: Contract
    escrow: Contract
    points: Contract
    desk: Contract
    policies: Contract
    domains: dict[str, eip712.Domain]

    @classmethod
    def connect(cls, rpc_url: str, manifest_path: Path, rpc: RpcProfile = REQUEST_RPC) -> "Chain":
        manifest, schema = read_manifest(manifest_path)
        if schema != MANIFEST_SCHEMA:
            raise ManifestError(
                f"{manifest_path} describes a deployment of schema {schema}; this gateway reads schema "
                f"{MANIFEST_SCHEMA} (docs/operations.md, Moving to a new deployment: drain the outbox, deploy, switch the manifest)"
            )
        w3 = rpc.web3(rpc_url)
        contracts: dict[str, Any] = {}
        domains: dict[str, eip712.Domain] = {}
        for name in (*SIGNING_CONTRACTS, "ReturnPolicies"):
            entry = manifest.get("contracts", {}).get(name)
            if not entry:
                raise ManifestError(f"{manifest_path} has no {name}")
            contracts[name] = w3.eth.contract(address=Web3.to_checksum_address(entry["address"]), abi=entry["abi"])
            if name in SIGNING_CONTRACTS:
                d = entry["eip712"]
                domains[name] = eip712.Domain(d["name"], d["version"], int(d["chainId"]), d["verifyingContract"])
        return cls(
            w3=w3,
            chain_id=int(manifest["chainId"]),
            deployment_block=int(manifest["deploymentBlock"]),
            registry=contracts["TraceRegistry"],
            escrow=contracts["ReturnEscrow"],
            points=contracts["StorePoints"],
            desk=contracts["ReissueDesk"],
            policies=contracts["ReturnPolicies"],
            domains=domains,
        )

    @property
    def deployment(self) -> dict[str, Any]:
        """What identifies the deployment: the chain and every contract's address."""
        return {
            "chainId": self.chain_id, "TraceRegistry": self.registry.address, "ReturnEscrow": self.escrow.address,
            "StorePoints": self.points.address, "ReissueDesk": self.desk.address, "ReturnPolicies": self.policies.address,
        }

    def domain_for(self, primary: str) -> eip712.Domain:
        """The EIP-712 domain a message type is signed under."""
        if primary in ("EventBatch", "CommissionBatch", "AggregationBatch", "DecommissionBatch"):
            return self.domains["TraceRegistry"]
        if primary in ("Inspection", "ReturnRequest"):
            return self.domains["ReturnEscrow"]
        if primary == "DefectClaim":
            return self.domains["ReissueDesk"]
        return self.domains["StorePoints"]


# Manifests of earlier deployments the gateway still reads (RT_LEGACY_MANIFESTS): schema 1, written by
# the scripts/deploy.py of v1 without a `schemaVersion`. A v1 registry's hash chains (type hashes of
# Commission, LifecycleEvent and Aggregation, and the events that carry them) are v2's, so
# returntrace.history rebuilds them and its `unitRecord` proves them.
LEGACY_SCHEMAS = (1,)


@dataclass
class LegacyDeployment:
    """A previous deployment, read for its registry only: it accepts no messages here and its
    escrow's orders are not read (no escrow, no desk: the indexer folds no orders)."""

    w3: Web3
    chain_id: int
    deployment_block: int
    registry: Contract
    schema: int = 1
    escrow: None = None
    desk: None = None

    @classmethod
    def connect(cls, rpc_url: str, manifest_path: Path, rpc: RpcProfile = REQUEST_RPC) -> "LegacyDeployment":
        manifest, schema = read_manifest(manifest_path)
        if schema == MANIFEST_SCHEMA:
            raise ManifestError(f"{manifest_path} describes a deployment of schema {schema}, the current one: it is RT_MANIFEST, not a legacy manifest")
        if schema not in LEGACY_SCHEMAS:
            raise ManifestError(f"{manifest_path} describes a deployment of schema {schema}; legacy manifests are of schema {', '.join(map(str, LEGACY_SCHEMAS))}")
        entry = manifest.get("contracts", {}).get("TraceRegistry") or {}
        if not entry.get("address") or not entry.get("abi"):
            raise ManifestError(f"{manifest_path} has no TraceRegistry (address and abi): a legacy deployment is read for its registry")
        try:
            w3 = rpc.web3(rpc_url)
            registry = w3.eth.contract(address=Web3.to_checksum_address(entry["address"]), abi=entry["abi"])
            return cls(w3=w3, chain_id=int(manifest["chainId"]), deployment_block=int(manifest["deploymentBlock"]), registry=registry, schema=schema)
        except (KeyError, TypeError, ValueError) as exc:
            raise ManifestError(f"{manifest_path} does not describe its registry's chain (chainId, deploymentBlock, address): {exc!r}") from exc

    @property
    def deployment(self) -> dict[str, Any]:
        """How its pages name it (UnitView.deployment)."""
        return {"schema": self.schema, "chainId": self.chain_id, "registry": self.registry.address, "readOnly": True}
