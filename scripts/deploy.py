"""Deploys ReturnTrace's contracts and writes the deployment manifest the gateway and auditors read.

    brownie run scripts/deploy.py                       # local anvil (brownie's development network)
    RT_DEPLOYER_KEY=0x… brownie run scripts/deploy.py --network <id>

The manifest (deployments/<chain id>.json) holds the chain id, each contract's address, ABI
and EIP-712 domain, and the deployment block, from which log scans start.

The demo world (deploy_demo_world) adds accredited actors whose keys are derived from public
labels: they are test keys for a local chain only, never for a real network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from brownie import (
    ZERO_ADDRESS,
    BuyerClaims,
    ReissueDesk,
    ReturnClock,
    ReturnEscrow,
    ReturnInspection,
    ReturnPolicies,
    ReturnSettlement,
    StorePoints,
    TraceRegistry,
    UnitCustody,
    accounts,
    chain,
    network,
)
from eth_utils import keccak

from api.settings import DeploySettings, SettingsError
from returntrace import eip712, gs1, kinds, manifest, policies
from returntrace.escrow import Currency, Policy
from returntrace.vocab import HYGIENE_SEALED, Role

ROOT = Path(__file__).resolve().parents[1]
DEPLOYMENTS = ROOT / "deployments"
REGISTRY_DOMAIN = ("ReturnTrace TraceRegistry", "2")
ESCROW_DOMAIN = ("ReturnTrace ReturnEscrow", "2")
POINTS_DOMAIN = ("ReturnTrace StorePoints", "2")
DESK_DOMAIN = ("ReturnTrace ReissueDesk", "2")
DOMAINS = {"registry": REGISTRY_DOMAIN, "escrow": ESCROW_DOMAIN, "points": POINTS_DOMAIN, "desk": DESK_DOMAIN}
DEMO_COMPANY_PREFIX = (9506000, 7)  # the demo brand's GS1 company prefix and its length
POINTS_URI = "urn:returntrace:points:{id}"

DEMO_GTIN = int(gs1.with_check_digit("0950600013435"))  # baby bottle 260 ml, hygiene-sealed
MARKET_EU, MARKET_US, MARKET_CN = policies.MARKET_EU, policies.MARKET_US, policies.MARKET_CN


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
class Governance:
    """The deployment's trusted powers, each held by its own key (a multisig behind a timelock on a
    real network; here public test keys derived from labels: local chains only)."""

    admin: Any  # sets the registry's close guard, the escrow's reissue desk, the points' minter; recovers surplus
    accreditor: Any  # accredits actors, return centers, company prefixes; reviews class flags
    law_admin: Any  # each market's consumer law and holidays
    policy_admin: Any  # merchants' return policies and the currencies markets sell in
    arbiter: Any  # decides disputes and defect claims the merchant does not concede


def governance(admin: Any, arbiter: Any = None) -> Governance:
    """Separate keys for the powers (`admin` deploys and keeps the admin role), funded for gas;
    `arbiter` when the caller has the arbiter's key already."""
    keys = {}
    for name in ("accreditor", "law-admin", "policy-admin", "arbiter"):
        account = accounts.add(keccak(text=f"returntrace-demo:{name}").hex())
        if account.balance() < 10**18:
            admin.transfer(account, "10 ether", silent=True)
        keys[name] = account
    return Governance(admin, keys["accreditor"], keys["law-admin"], keys["policy-admin"], arbiter or keys["arbiter"])


@dataclass
class Deployment:
    registry: Any
    points: Any
    escrow: Any
    desk: Any
    block: int
    policies: Any = None
    gov: Governance | None = None
    actors: dict[str, Signer] = field(default_factory=dict)
    extra_signers: list[Signer] = field(default_factory=list)

    def domain_of(self, contract: str) -> eip712.Domain:
        """The EIP-712 domain of the deployment's "registry", "escrow", "desk" or "points"."""
        return eip712.Domain(*DOMAINS[contract], chain.id, getattr(self, contract).address)

    @property
    def documents_domain(self) -> eip712.Domain:
        """The domain of the off-chain documents (returntrace/documents.py), bound to the registry."""
        return eip712.documents_domain(chain.id, self.registry.address)


def test_signer(name: str, roles: int, gln_digits: str) -> Signer:
    key = keccak(text=f"returntrace-demo:{name}")
    return Signer(name, key, int(roles), int(gs1.with_check_digit(gln_digits)), accounts.add(key.hex()))


def deploy_contracts(
    admin: Any, market_policies: dict[int, Policy] | None = None, gov: Governance | None = None
) -> Deployment:
    """Deploys the registry, the policies, the points, the escrow (with its linked libraries) and its
    reissue desk; binds them (the escrow guards the registry's closings and is the points' one
    minter); sets each market's law, the native coin and the market policies (default: the EU, US and
    China presets) with the keys of `gov` (default: separate test keys)."""
    gov = gov or governance(admin)
    tx = {"from": admin}
    registry = TraceRegistry.deploy(admin, gov.accreditor, tx, silent=True)
    rules = ReturnPolicies.deploy(admin, gov.law_admin, gov.policy_admin, gov.arbiter, tx, silent=True)
    points = StorePoints.deploy(admin, POINTS_URI, tx, silent=True)
    # Linked libraries: brownie links a contract to the latest deployment of each library it uses.
    for library in (ReturnClock, ReturnSettlement, UnitCustody, ReturnInspection, BuyerClaims):
        library.deploy(tx, silent=True)
    escrow = ReturnEscrow.deploy(registry, points, rules, tx, silent=True)
    desk = ReissueDesk.deploy(escrow, registry, rules, tx, silent=True)
    escrow.setReissueDesk(desk, tx, silent=True)
    points.setMinter(escrow, tx, silent=True)
    registry.setCloseGuard(escrow, tx, silent=True)
    for market, law in policies.LAWS.items():
        rules.setLaw(market, law.as_tuple(), {"from": gov.law_admin}, silent=True)
    for market, policy in (policies.PRESETS if market_policies is None else market_policies).items():
        if market not in policies.LAWS:
            rules.setLaw(market, policies.US_LAW.as_tuple(), {"from": gov.law_admin}, silent=True)
        rules.setPolicy(market, policy.as_tuple(), {"from": gov.policy_admin}, silent=True)
        rules.setCurrency(market, ZERO_ADDRESS, policies.NATIVE.as_tuple(), {"from": gov.policy_admin}, silent=True)
    return Deployment(
        registry=registry,
        points=points,
        escrow=escrow,
        desk=desk,
        block=registry.tx.block_number,
        policies=rules,
        gov=gov,
    )


def accredit(registry: Any, admin: Any, signers: list[Signer]) -> None:
    """Accredits `signers` (`admin`: the accreditor's account)."""
    for s in signers:
        registry.setActor(s.address, s.roles, s.gln, {"from": admin}, silent=True)


def allow_currency(
    d: Deployment,
    currency: Any,
    decimals: int,
    reissue_limit: int = 0,
    dual_above: int = 0,
    markets: tuple[int, ...] = (0, 1, 2),
) -> None:
    """The policy admin allows an ERC-20 in `markets` with its thresholds in its own base units."""
    terms = Currency(True, decimals, reissue_limit, dual_above).as_tuple()
    for market in markets:
        d.policies.setCurrency(market, currency, terms, {"from": d.gov.policy_admin}, silent=True)


def register_product(d: Deployment, brand: Signer, gtin: int, class_flags: int, markets: int) -> Any:
    """The accreditor approves `brand` for `gtin` (outside any recorded company prefix), and the brand registers it."""
    d.registry.approveProduct(gtin, brand.address, {"from": d.gov.accreditor}, silent=True)
    return d.registry.registerProduct(gtin, class_flags, markets, {"from": brand.account}, silent=True)


def write_manifest(d: Deployment, path: Path | None = None) -> Path:
    """The deployment manifest (returntrace.manifest, schema manifest.SCHEMA) the gateway and the auditor read."""
    # The contracts that verify signed messages, each with its domain (returntrace/kinds.py names them).
    signing = {name: (getattr(d, short), d.domain_of(short)) for short, name in kinds.CONTRACT_NAMES.items()}
    contracts = {name: manifest.Entry(c.address, c.abi, domain) for name, (c, domain) in signing.items()}
    contracts["ReturnPolicies"] = manifest.Entry(d.policies.address, d.policies.abi)
    m = manifest.Manifest(
        schema=manifest.SCHEMA,
        chain_id=chain.id,
        deployment_block=d.block,
        contracts=contracts,
        network=network.show_active(),
    )
    return m.write(path or DEPLOYMENTS / f"{chain.id}.json")


def deploy_demo_world(admin: Any, extra_signers: int = 0) -> Deployment:
    """Contracts plus accredited demo actors and a registered product class (local chains only)."""
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
    actors = {name: test_signer(name, role, gln) for name, role, gln in roles}
    d = deploy_contracts(admin, gov=governance(admin, arbiter=actors["arbiter"].account))
    d.actors = actors
    d.extra_signers = [
        test_signer(f"signer{i}", Role.CARRIER if i % 2 else Role.WAREHOUSE, "950600000002")
        for i in range(extra_signers)
    ]
    accredit(d.registry, d.gov.accreditor, [s for s in d.actors.values() if s.roles] + d.extra_signers)
    for s in d.actors.values():
        admin.transfer(s.account, "10 ether", silent=True)
    markets = (1 << MARKET_EU) | (1 << MARKET_US) | (1 << MARKET_CN)
    prefix, digits = DEMO_COMPANY_PREFIX  # the brand's GS1 licence: it registers the GTINs that carry it
    d.registry.setCompanyPrefix(prefix, digits, d.actors["brand"].address, {"from": d.gov.accreditor}, silent=True)
    d.registry.registerProduct(DEMO_GTIN, HYGIENE_SEALED, markets, {"from": d.actors["brand"].account}, silent=True)
    return d


def accredit_return_center(d: Deployment, name: str = "warehouse", markets: int = 1 << MARKET_EU) -> Any:
    """The accreditor accredits the actor's own site (its GLN, run by its organisation) as a local
    return center for `markets` (a bitmask): its receiving scans may then release refunds on receipt."""
    site = d.actors[name]
    return d.registry.setReturnCenter(site.gln, site.gln, markets, {"from": d.gov.accreditor}, silent=True)


LOCAL_CHAIN_IDS = (31337, 1337)  # anvil, ganache: the only chains the public test keys may govern
POWERS = ("accreditor", "law_admin", "policy_admin", "arbiter")
POWER_KEYS = {power: DeploySettings.env_name(f"{power}_key") for power in POWERS}  # RT_ACCREDITOR_KEY, …


def _settings() -> DeploySettings:
    try:
        return DeploySettings.from_env()
    except SettingsError as exc:  # a malformed key stops the deployment, naming the variable
        raise SystemExit(str(exc)) from None


def governance_from_env(admin: Any) -> Governance:
    """The four powers' keys from RT_ACCREDITOR_KEY, RT_LAW_ADMIN_KEY, RT_POLICY_ADMIN_KEY and
    RT_ARBITER_KEY (all four, each its own key); without them, public test keys, on a local chain only."""
    keys = _settings()
    given = {power: getattr(keys, f"{power}_key") for power in POWERS}
    if all(given.values()):
        if len(set(given.values())) < len(given):
            raise SystemExit("the four powers need four different keys")
        return Governance(admin, **{power: accounts.add(key) for power, key in given.items()})
    if any(given.values()) or chain.id not in LOCAL_CHAIN_IDS:
        raise SystemExit(
            f"set {', '.join(POWER_KEYS.values())} (four separate keys; multisigs behind a timelock on a public "
            "network): "
            f"the public test keys govern local chains only (chain ids {LOCAL_CHAIN_IDS})"
        )
    return governance(admin)


def main() -> None:
    key = _settings().deployer_key
    admin = accounts.add(key) if key else accounts[0]
    d = deploy_contracts(admin, gov=governance_from_env(admin))
    path = write_manifest(d)
    print(
        f"TraceRegistry  {d.registry.address}\nReturnPolicies {d.policies.address}\nReturnEscrow   {d.escrow.address}\n"
        f"ReissueDesk    {d.desk.address}\nStorePoints    {d.points.address}"
    )
    print(f"deployed from block {d.block}; manifest {path}")
