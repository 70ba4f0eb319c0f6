"""Shared fixtures: a registry with accredited actors, signing keys, and message builders.

Every test runs in its own EVM snapshot (fn_isolation), so fixtures deployed once per module
are fresh for each test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import pytest
from brownie import accounts, chain
from eth_utils import keccak

from returntrace import eip712, gs1
from returntrace.vocab import HYGIENE_SEALED, BizStep, Disposition, Role

from tests.support import GLN_BRAND, GLN_CARRIER, GLN_CHARITY, GLN_INSPECTION, GLN_WAREHOUSE, GTIN_INT, MARKET_CN, MARKET_EU, MARKET_US, ZERO32


@pytest.fixture(scope="function", autouse=True)
def isolate(fn_isolation):
    pass


@dataclass
class Actor:
    """A signing key the tests control, with its brownie account for sending transactions."""

    name: str
    key: bytes
    account: Any

    @property
    def address(self) -> str:
        return self.account.address


def _actor(name: str) -> Actor:
    key = keccak(text=f"returntrace-test:{name}")
    return Actor(name, key, accounts.add(key.hex()))


@pytest.fixture(scope="session")
def admin():
    return accounts[0]


@pytest.fixture(scope="session")
def relayer():
    return accounts[1]


@pytest.fixture(scope="module")
def actors(admin):
    made = {n: _actor(n) for n in ("brand", "brand2", "carrier", "warehouse", "inspector", "inspector2", "charity", "recycler", "buyer", "buyer2", "stranger")}
    for a in made.values():
        admin.transfer(a.account, "100 ether")
    return made


@pytest.fixture(scope="module")
def registry(TraceRegistry, admin, actors):
    reg = TraceRegistry.deploy(admin, {"from": admin})
    roles = {
        "brand": (Role.BRAND, GLN_BRAND),
        "brand2": (Role.BRAND, GLN_BRAND),
        "carrier": (Role.CARRIER, GLN_CARRIER),
        "warehouse": (Role.WAREHOUSE, GLN_WAREHOUSE),
        "inspector": (Role.INSPECTOR, GLN_INSPECTION),
        "inspector2": (Role.INSPECTOR, GLN_WAREHOUSE),
        "charity": (Role.CHARITY, GLN_CHARITY),
        "recycler": (Role.RECYCLER, GLN_CHARITY),
    }
    for name, (role, org) in roles.items():
        reg.setActor(actors[name].address, int(role), org, {"from": admin})
    reg.registerProduct(GTIN_INT, HYGIENE_SEALED, (1 << MARKET_EU) | (1 << MARKET_US) | (1 << MARKET_CN), {"from": actors["brand"].account})
    return reg


@pytest.fixture(scope="module")
def registry_domain(registry):
    return eip712.Domain("ReturnTrace TraceRegistry", "1", chain.id, registry.address)


def _next_nonce(contract, signer: str, pending: dict[tuple[str, str], int]) -> int:
    key = (contract.address, signer)
    nonce = max(contract.getNonce(signer), pending.get(key, -1) + 1)
    pending[key] = nonce
    return nonce


@pytest.fixture
def sign(registry):
    """sign(domain, primary, actor, **fields) -> (message, signature), filling nonce and deadline.

    Nonces count on from the contract's current nonce for messages not yet submitted, so a test
    can build a batch from one signer."""
    pending: dict[tuple[str, str], int] = {}

    def _sign(domain: eip712.Domain, primary: str, actor: Actor, contract=None, **fields) -> tuple[dict, bytes]:
        contract = contract or registry
        message = dict(fields)
        message[eip712.SIGNER_FIELD[primary]] = actor.address
        message.setdefault("nonce", _next_nonce(contract, actor.address, pending))
        message.setdefault("deadline", chain.time() + 3600)
        return message, domain.sign(actor.key, primary, message)

    return _sign


@pytest.fixture
def commission(registry, registry_domain, sign, actors, relayer) -> Callable[..., bytes]:
    """Commissions `serial` of GTIN as the brand; returns its unit id."""

    def _commission(serial: str = "SN0001", actor: str = "brand", **fields) -> bytes:
        fields.setdefault("gtin", GTIN_INT)
        fields.setdefault("location", GLN_BRAND)
        fields.setdefault("eventTime", chain.time())
        fields.setdefault("evidence", ZERO32)
        message, sig = sign(registry_domain, "Commission", actors[actor], serial=serial, **fields)
        registry.commission([eip712.call_args("Commission", message, sig)], {"from": relayer})
        return gs1.unit_id(fields["gtin"], serial)

    return _commission


@pytest.fixture
def event(registry_domain, sign, actors, chain_time) -> Callable[..., tuple[dict, bytes]]:
    """Builds a signed lifecycle event: event(unit, step, actor_name, **fields) -> (message, sig)."""

    def _event(unit_id: bytes, step: BizStep, actor: str, disposition: Disposition = Disposition.IN_PROGRESS, **fields):
        fields.setdefault("location", GLN_CARRIER)
        fields.setdefault("eventTime", chain_time())
        fields.setdefault("evidence", ZERO32)
        fields.setdefault("bizTransaction", ZERO32)
        return sign(registry_domain, "LifecycleEvent", actors[actor], unitId=unit_id, bizStep=int(step), disposition=int(disposition), **fields)

    return _event


@pytest.fixture
def record(registry, event, relayer):
    """Records one signed event and returns the transaction."""

    def _record(unit_id: bytes, step: BizStep, actor: str, disposition: Disposition = Disposition.IN_PROGRESS, **fields):
        message, sig = event(unit_id, step, actor, disposition, **fields)
        return registry.record([eip712.call_args("LifecycleEvent", message, sig)], {"from": relayer})

    return _record


@pytest.fixture(scope="session")
def chain_time() -> Callable[[], int]:
    return lambda: chain.time()
