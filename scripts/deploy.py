"""Deploys ReturnTrace's contracts and writes the deployment manifest the gateway and auditors read.

    brownie run scripts/deploy.py                       # local anvil (brownie's development network)
    RT_DEPLOYER_KEY=0x… brownie run scripts/deploy.py --network <id>

The manifest (deployments/<chain id>.json) holds the chain id, each contract's address, ABI
and EIP-712 domain, and the deployment block, from which log scans start.

The demo world (deploy_demo_world) adds accredited actors whose keys are derived from public
labels: they are test keys for a local chain only, never for a real network.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from brownie import ReissueDesk, ReturnEscrow, StorePoints, TraceRegistry, ZERO_ADDRESS, accounts, chain, network
from eth_utils import keccak

from returntrace import eip712, gs1, policies
from returntrace.vocab import HYGIENE_SEALED, AggregationAction, BizStep, Disposition, Role

ROOT = Path(__file__).resolve().parents[1]
DEPLOYMENTS = ROOT / "deployments"
REGISTRY_DOMAIN = ("ReturnTrace TraceRegistry", "1")
ESCROW_DOMAIN = ("ReturnTrace ReturnEscrow", "1")
POINTS_DOMAIN = ("ReturnTrace StorePoints", "1")
DESK_DOMAIN = ("ReturnTrace ReissueDesk", "1")
POINTS_URI = "urn:returntrace:points:{id}"

DEMO_GTIN = int(gs1.with_check_digit("0950600013435"))  # baby bottle 260 ml, hygiene-sealed
MARKET_EU, MARKET_US, MARKET_CN = policies.MARKET_EU, policies.MARKET_US, policies.MARKET_CN
ZERO32 = b"\x00" * 32


@dataclass
class Signer:
    """An actor's signing key (public test key: local chains only) and its accreditation."""

    name: str
    key: bytes
    roles: int
    gln: int
    account: Any = None

    @property
    def address(self) -> str:
        return self.account.address


@dataclass
class Deployment:
    registry: Any
    points: Any
    escrow: Any
    desk: Any
    block: int
    actors: dict[str, Signer] = field(default_factory=dict)
    extra_signers: list[Signer] = field(default_factory=list)

    @property
    def registry_domain(self) -> eip712.Domain:
        return eip712.Domain(*REGISTRY_DOMAIN, chain.id, self.registry.address)

    @property
    def escrow_domain(self) -> eip712.Domain:
        return eip712.Domain(*ESCROW_DOMAIN, chain.id, self.escrow.address)

    @property
    def points_domain(self) -> eip712.Domain:
        return eip712.Domain(*POINTS_DOMAIN, chain.id, self.points.address)

    @property
    def desk_domain(self) -> eip712.Domain:
        return eip712.Domain(*DESK_DOMAIN, chain.id, self.desk.address)


def test_signer(name: str, roles: int, gln_digits: str) -> Signer:
    key = keccak(text=f"returntrace-demo:{name}")
    return Signer(name, key, int(roles), int(gs1.with_check_digit(gln_digits)), accounts.add(key.hex()))


def deploy_contracts(admin: Any, market_policies: dict[int, policies.Policy] | None = None) -> Deployment:
    """Deploys the registry, the points, the escrow and its reissue desk, lets the escrow mint points
    and sets the market policies (default: the EU, US and China presets)."""
    registry = TraceRegistry.deploy(admin, {"from": admin}, silent=True)
    points = StorePoints.deploy(admin, ZERO_ADDRESS, POINTS_URI, {"from": admin}, silent=True)
    escrow = ReturnEscrow.deploy(admin, registry, points, {"from": admin}, silent=True)
    desk = ReissueDesk.deploy(escrow, registry, {"from": admin}, silent=True)
    escrow.setReissueDesk(desk, {"from": admin}, silent=True)
    points.grantRole(points.MINTER_ROLE(), escrow, {"from": admin}, silent=True)
    for market, policy in (policies.PRESETS if market_policies is None else market_policies).items():
        escrow.setPolicy(market, policy.as_tuple(), {"from": admin}, silent=True)
    return Deployment(registry=registry, points=points, escrow=escrow, desk=desk, block=registry.tx.block_number)


def accredit(registry: Any, admin: Any, signers: list[Signer]) -> None:
    for s in signers:
        registry.setActor(s.address, s.roles, s.gln, {"from": admin}, silent=True)


def write_manifest(d: Deployment, path: Path | None = None) -> Path:
    path = path or DEPLOYMENTS / f"{chain.id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    contracts = {
        "TraceRegistry": {"address": d.registry.address, "abi": d.registry.abi, "eip712": d.registry_domain.as_json()},
        "ReturnEscrow": {"address": d.escrow.address, "abi": d.escrow.abi, "eip712": d.escrow_domain.as_json()},
        "StorePoints": {"address": d.points.address, "abi": d.points.abi, "eip712": d.points_domain.as_json()},
        "ReissueDesk": {"address": d.desk.address, "abi": d.desk.abi, "eip712": d.desk_domain.as_json()},
    }
    manifest = {"network": network.show_active(), "chainId": chain.id, "deploymentBlock": d.block, "contracts": contracts}
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return path


def deploy_demo_world(admin: Any, extra_signers: int = 0) -> Deployment:
    """Contracts plus accredited demo actors and a registered product class (local chains only)."""
    d = deploy_contracts(admin)
    roles = [
        ("brand", Role.BRAND, "950600000001"),
        ("carrier", Role.CARRIER, "950600000002"),
        ("warehouse", Role.WAREHOUSE, "950600000003"),
        ("inspector", Role.INSPECTOR, "950600000004"),
        ("inspector2", Role.INSPECTOR, "950600000014"),  # another inspection house: second opinions
        ("charity", Role.CHARITY, "950600000005"),
        ("recycler", Role.RECYCLER, "950600000006"),
        ("buyer", 0, "950600000007"),
        ("arbiter", 0, "950600000008"),
    ]
    d.actors = {name: test_signer(name, role, gln) for name, role, gln in roles}
    d.extra_signers = [
        test_signer(f"signer{i}", Role.CARRIER if i % 2 else Role.WAREHOUSE, "950600000002") for i in range(extra_signers)
    ]
    accredit(d.registry, admin, [s for s in d.actors.values() if s.roles] + d.extra_signers)
    for s in d.actors.values():
        admin.transfer(s.account, "10 ether", silent=True)
    markets = (1 << MARKET_EU) | (1 << MARKET_US) | (1 << MARKET_CN)
    d.registry.registerProduct(DEMO_GTIN, HYGIENE_SEALED, markets, {"from": d.actors["brand"].account}, silent=True)
    d.escrow.grantRole(d.escrow.ARBITER_ROLE(), d.actors["arbiter"].address, {"from": admin}, silent=True)
    return d


def accredit_return_center(d: Deployment, admin: Any, name: str = "warehouse", markets: int = 1 << MARKET_EU) -> Any:
    """Accredits the actor's own site (its GLN, run by its organisation) as a local return center for
    `markets` (a bitmask): its receiving scans may then release refunds on receipt."""
    site = d.actors[name]
    return d.registry.setReturnCenter(site.gln, site.gln, markets, {"from": admin}, silent=True)


def commission_item(d: Deployment, serial: str, gtin: int = DEMO_GTIN, evidence: bytes = ZERO32) -> dict:
    return {"gtin": gtin, "serial": serial, "location": d.actors["brand"].gln, "eventTime": chain.time(), "evidence": evidence}


def unit_of(commission: dict) -> bytes:
    return gs1.unit_id(commission["gtin"], commission["serial"])


def event_item(
    signer: Signer,
    unit_id: bytes,
    step: BizStep,
    disposition: Disposition,
    biz_transaction: bytes = ZERO32,
    evidence: bytes = ZERO32,
) -> dict:
    return {
        "unitId": unit_id,
        "bizStep": int(step),
        "disposition": int(disposition),
        "location": signer.gln,
        "eventTime": chain.time(),
        "evidence": evidence,
        "bizTransaction": biz_transaction,
    }


def aggregation_item(
    signer: Signer,
    sscc: int,
    child_ids: list[bytes],
    action: AggregationAction = AggregationAction.ADD,
    step: BizStep | None = None,
    disposition: Disposition = Disposition.IN_PROGRESS,
    biz_transaction: bytes = ZERO32,
    evidence: bytes = ZERO32,
) -> dict:
    """Units packed into (ADD) or unpacked from (DELETE) the parcel `sscc` at the signer's GLN, now;
    the step defaults to packing for ADD and unpacking for DELETE."""
    if step is None:
        step = BizStep.PACKING if action == AggregationAction.ADD else BizStep.UNPACKING
    return {
        "sscc": int(sscc),
        "childIds": list(child_ids),
        "action": int(action),
        "bizStep": int(step),
        "disposition": int(disposition),
        "location": signer.gln,
        "eventTime": chain.time(),
        "evidence": evidence,
        "bizTransaction": biz_transaction,
    }


def signed_batch(domain: eip712.Domain, primary: str, signer: Signer, items_field: str, items: list[dict], nonce: int) -> tuple:
    """A signed CommissionBatch, EventBatch or AggregationBatch as the registry's calldata struct."""
    message = {"signer": signer.address, items_field: items, "nonce": nonce, "deadline": chain.time() + 3600}
    return eip712.call_args(primary, message, domain.sign(signer.key, primary, message))


def order_ref(escrow: Any, order_id: int) -> bytes:
    return bytes(escrow.orderRef(order_id))


def rma_ref(escrow: Any, order_id: int) -> bytes:
    return bytes(escrow.rmaRef(order_id))


def main() -> None:
    key = os.environ.get("RT_DEPLOYER_KEY")
    admin = accounts.add(key) if key else accounts[0]
    d = deploy_contracts(admin)
    path = write_manifest(d)
    print(f"TraceRegistry {d.registry.address}\nStorePoints   {d.points.address}\nReturnEscrow  {d.escrow.address}")
    print(f"deployed from block {d.block}; manifest {path}")
