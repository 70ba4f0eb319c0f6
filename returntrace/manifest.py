"""The deployment manifest: which contracts a deployment has, where, with which ABI and EIP-712
domain, on which chain and from which block. scripts/deploy.py writes it; the gateway, the legacy
deployments it serves and the auditor (returntrace/audit.py) read it, all through `Manifest`.

    Manifest.load(path)   -> Manifest     (ManifestError: unreadable, or not a deployment's description)
    manifest.write(path)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_typing import ChecksumAddress
from eth_utils import to_checksum_address

from .eip712 import Domain

# The manifest's schema: 2 for issue 9's contracts (their types and meanings); 1 was v1's, whose
# scripts/deploy.py wrote no `schemaVersion`. See CHANGELOG.md.
SCHEMA = 2
LEGACY_SCHEMAS = (1,)


class ManifestError(RuntimeError):
    """The deployment manifest is missing, unreadable, not of this version, or does not describe the contracts."""


@dataclass(frozen=True)
class Entry:
    """One contract of the deployment."""

    address: ChecksumAddress
    abi: list[dict[str, Any]]
    domain: Domain | None = None  # the EIP-712 domain of a contract that verifies signatures


@dataclass(frozen=True)
class Manifest:
    schema: int
    chain_id: int
    deployment_block: int
    contracts: dict[str, Entry] = field(default_factory=dict)
    network: str | None = None
    path: Path | None = None  # where it was read from (named in errors)

    @classmethod
    def load(cls, path: str | Path) -> Manifest:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise ManifestError(f"cannot read deployment manifest {path}: {exc}") from exc
        try:
            contracts = {}
            for name, entry in (data.get("contracts") or {}).items():
                if not entry or not entry.get("address") or not entry.get("abi"):
                    continue  # named without an address and an ABI: as good as absent
                d = entry.get("eip712")
                domain = Domain(d["name"], d["version"], int(d["chainId"]), d["verifyingContract"]) if d else None
                contracts[name] = Entry(to_checksum_address(entry["address"]), entry["abi"], domain)
            return cls(
                schema=data.get("schemaVersion", 1),
                chain_id=int(data["chainId"]),
                deployment_block=int(data["deploymentBlock"]),
                contracts=contracts,
                network=data.get("network"),
                path=Path(path),
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ManifestError(
                f"{path} does not describe a deployment (chainId, deploymentBlock, each contract's address and "
                f"abi): {exc!r}"
            ) from exc

    def entry(self, name: str, why: str = "") -> Entry:
        """The contract `name`; ManifestError if the manifest has none (`why`: what it is needed for)."""
        found = self.contracts.get(name)
        if found is None:
            raise ManifestError(f"{self.path} has no {name}{why}")
        return found

    def as_json(self) -> dict[str, Any]:
        contracts = {}
        for name, e in self.contracts.items():
            contracts[name] = {
                "address": e.address,
                "abi": e.abi,
                **({"eip712": e.domain.as_json()} if e.domain else {}),
            }
        return {
            "schemaVersion": self.schema,
            "network": self.network,
            "chainId": self.chain_id,
            "deploymentBlock": self.deployment_block,
            "contracts": contracts,
        }

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_json(), indent=2) + "\n")
        return path
