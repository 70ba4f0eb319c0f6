"""The chain as the gateway sees it: one web3 client per timeout profile (RpcProfile), and the
contracts a deployment manifest (returntrace.manifest) names, bound to one of those clients.

    w3 = REQUEST_RPC.web3(rpc_url)                   # one client per profile, shared by every deployment
    chain = Chain.on(w3, Manifest.load(path))        # the current deployment (schema 2)
    legacy = LegacyDeployment.on(w3, Manifest.load(old_path))   # a previous one: its registry only
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from web3 import Web3
from web3.contract import Contract

from returntrace import eip712
from returntrace.kinds import CONTRACT_NAMES, KINDS
from returntrace.manifest import LEGACY_SCHEMAS, SCHEMA, Manifest, ManifestError
from returntrace.rpc import RpcProfile

# The timeout profiles, here only (README, Configuration). Request threads (intake checks, nonces,
# /readyz, pages, audit queries): a frozen node is a 503 (a page: "not verified") within ~2 s.
REQUEST_RPC = RpcProfile(timeout=2.0)  # RT_RPC_TIMEOUT
# The relayer and the indexer, on threads and clients of their own: 2,000-block eth_getLogs ranges
# and 1,000-event transactions may take longer than a request should wait.
WORKER_RPC = RpcProfile(timeout=10.0)  # RT_WORKER_RPC_TIMEOUT
# The auditor (`returntrace audit`) has its own, AUDITOR_RPC, beside RpcProfile in returntrace/rpc.py: it runs
# without the gateway.


SIGNING_CONTRACTS = tuple(CONTRACT_NAMES.values())


def _contract(w3: Web3, manifest: Manifest, name: str, why: str = "") -> Contract:
    entry = manifest.entry(name, why)
    return w3.eth.contract(address=entry.address, abi=entry.abi)


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
    def on(cls, w3: Web3, manifest: Manifest) -> Chain:
        """The deployment `manifest` describes, its contracts bound to the client `w3`. ManifestError
        for a manifest of another schema or without a contract the gateway reads."""
        if manifest.schema != SCHEMA:
            raise ManifestError(
                f"{manifest.path} describes a deployment of schema {manifest.schema}; this gateway reads schema "
                f"{SCHEMA} (docs/operations.md, Moving to a new deployment: drain the outbox, deploy, switch the "
                "manifest)"
            )
        contracts = {name: _contract(w3, manifest, name) for name in (*SIGNING_CONTRACTS, "ReturnPolicies")}
        domains = {}
        for name in SIGNING_CONTRACTS:
            domain = manifest.entry(name).domain
            if domain is None:
                raise ManifestError(f"{manifest.path} has no EIP-712 domain for {name}")
            domains[name] = domain
        return cls(
            w3=w3,
            chain_id=manifest.chain_id,
            deployment_block=manifest.deployment_block,
            registry=contracts["TraceRegistry"],
            escrow=contracts["ReturnEscrow"],
            points=contracts["StorePoints"],
            desk=contracts["ReissueDesk"],
            policies=contracts["ReturnPolicies"],
            domains=domains,
        )

    @classmethod
    def connect(cls, rpc_url: str, manifest_path: Path, rpc: RpcProfile = REQUEST_RPC) -> Chain:
        """The deployment of the manifest at `manifest_path`, on a client of its own (tools and tests)."""
        return cls.on(rpc.web3(rpc_url), Manifest.load(manifest_path))

    @property
    def deployment(self) -> dict[str, Any]:
        """What identifies the deployment: the chain and every contract's address."""
        return {
            "chainId": self.chain_id,
            "TraceRegistry": self.registry.address,
            "ReturnEscrow": self.escrow.address,
            "StorePoints": self.points.address,
            "ReissueDesk": self.desk.address,
            "ReturnPolicies": self.policies.address,
        }

    def domain_for(self, primary: str) -> eip712.Domain:
        """The EIP-712 domain a message kind is signed under: its contract's (returntrace/kinds.py)."""
        return self.domains[CONTRACT_NAMES[KINDS[primary].contract]]


# Manifests of earlier deployments the gateway still reads (RT_LEGACY_MANIFESTS): schema 1, written by
# the scripts/deploy.py of v1 without a `schemaVersion`. A v1 registry's hash chains (type hashes of
# Commission, LifecycleEvent and Aggregation, and the events that carry them) are v2's, so
# returntrace.history rebuilds them and its `unitRecord` proves them.


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
    def on(cls, w3: Web3, manifest: Manifest) -> LegacyDeployment:
        if manifest.schema == SCHEMA:
            raise ManifestError(
                f"{manifest.path} describes a deployment of schema {manifest.schema}, the current one: it is "
                "RT_MANIFEST, not a legacy manifest"
            )
        if manifest.schema not in LEGACY_SCHEMAS:
            raise ManifestError(
                f"{manifest.path} describes a deployment of schema {manifest.schema}; legacy manifests are of "
                f"schema {', '.join(map(str, LEGACY_SCHEMAS))}"
            )
        registry = _contract(
            w3, manifest, "TraceRegistry", " (address and abi): a legacy deployment is read for its registry"
        )
        return cls(
            w3=w3,
            chain_id=manifest.chain_id,
            deployment_block=manifest.deployment_block,
            registry=registry,
            schema=manifest.schema,
        )

    @property
    def deployment(self) -> dict[str, Any]:
        """How its pages name it (UnitView.deployment)."""
        return {"schema": self.schema, "chainId": self.chain_id, "registry": self.registry.address, "readOnly": True}
