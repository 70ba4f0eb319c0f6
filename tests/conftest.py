"""Shared fixtures: a registry with accredited actors, signing keys, and message builders.

Every test runs in its own EVM snapshot (fn_isolation), so fixtures deployed once per module
are fresh for each test.
"""

from __future__ import annotations

from typing import Callable

import pytest
from brownie import accounts, chain

from returntrace import eip712, gs1
from returntrace.vocab import HYGIENE_SEALED, BizStep, Disposition, Role

from scripts import deploy
from tests.support import GTIN_INT, MARKET_CN, MARKET_EU, MARKET_US, ZERO32


@pytest.fixture(scope="function", autouse=True)
def isolate(fn_isolation):
    pass


@pytest.fixture(scope="session")
def admin():
    return accounts[0]


@pytest.fixture(scope="session")
def relayer():
    return accounts[1]


ACTORS = {
    # name: (roles, organisation GLN without check digit)
    "brand": (Role.BRAND, "950600000001"),
    "brand2": (Role.BRAND, "950600000011"),
    "carrier": (Role.CARRIER, "950600000002"),
    "warehouse": (Role.WAREHOUSE, "950600000003"),
    "inspector": (Role.INSPECTOR, "950600000004"),
    "inspector2": (Role.INSPECTOR, "950600000014"),
    "charity": (Role.CHARITY, "950600000005"),
    "recycler": (Role.RECYCLER, "950600000006"),
    "buyer": (0, "950600000007"),
    "buyer2": (0, "950600000017"),
    "stranger": (0, "950600000008"),
}


@pytest.fixture(scope="module")
def actors(admin) -> dict[str, deploy.Signer]:
    made = {name: deploy.test_signer(name, roles, gln) for name, (roles, gln) in ACTORS.items()}
    for a in made.values():
        admin.transfer(a.account, "100 ether", silent=True)
    return made


@pytest.fixture(scope="module")
def registry(TraceRegistry, admin, actors):
    reg = TraceRegistry.deploy(admin, {"from": admin})
    deploy.accredit(reg, admin, [a for a in actors.values() if a.roles])
    markets = (1 << MARKET_EU) | (1 << MARKET_US) | (1 << MARKET_CN)
    reg.registerProduct(GTIN_INT, HYGIENE_SEALED, markets, {"from": actors["brand"].account})
    return reg


@pytest.fixture(scope="module")
def registry_domain(registry):
    return eip712.Domain(*deploy.REGISTRY_DOMAIN, chain.id, registry.address)


@pytest.fixture
def sign(registry):
    """sign(domain, primary, actor, contract=None, **fields) -> (message, signature).

    Fills the signer, the nonce (counting on from the contract's nonce for messages not yet
    submitted, so a test can sign several before sending) and a deadline an hour ahead."""
    pending: dict[tuple[str, str], int] = {}

    def _sign(domain: eip712.Domain, primary: str, actor: deploy.Signer, contract=None, **fields) -> tuple[dict, bytes]:
        contract = contract or registry
        message = dict(fields)
        message[eip712.SIGNER_FIELD[primary]] = actor.address
        if "nonce" not in message:
            key = (contract.address, actor.address)
            message["nonce"] = max(contract.getNonce(actor.address), pending.get(key, -1) + 1)
            pending[key] = message["nonce"]
        message.setdefault("deadline", chain.time() + 3600)
        return message, domain.sign(actor.key, primary, message)

    return _sign


@pytest.fixture
def commission(registry, registry_domain, sign, actors, relayer) -> Callable[..., bytes]:
    """Commissions `serial` of GTIN as the brand in a batch of one; returns its unit id."""

    def _commission(serial: str = "SN0001", actor: str = "brand", **fields) -> bytes:
        fields.setdefault("gtin", GTIN_INT)
        fields.setdefault("location", actors["brand"].gln)
        fields.setdefault("eventTime", chain.time())
        fields.setdefault("evidence", ZERO32)
        message, sig = sign(registry_domain, "CommissionBatch", actors[actor], units=[{"serial": serial, **fields}])
        registry.commission([eip712.call_args("CommissionBatch", message, sig)], {"from": relayer})
        return gs1.unit_id(fields["gtin"], serial)

    return _commission


@pytest.fixture
def event(actors) -> Callable[..., dict]:
    """An unsigned lifecycle event: event(unit, step, actor_name, disposition, **fields)."""

    def _event(unit_id: bytes, step: BizStep, actor: str, disposition: Disposition = Disposition.IN_PROGRESS, **fields) -> dict:
        fields.setdefault("location", actors[actor].gln)
        fields.setdefault("eventTime", chain.time())
        fields.setdefault("evidence", ZERO32)
        fields.setdefault("bizTransaction", ZERO32)
        return {"unitId": unit_id, "bizStep": int(step), "disposition": int(disposition), **fields}

    return _event


@pytest.fixture
def sign_events(registry_domain, sign, actors) -> Callable[..., tuple[dict, bytes]]:
    """Signs events as one EventBatch: sign_events(actor_name, events, **batch_fields)."""

    def _sign_events(actor: str, events: list[dict], **batch_fields) -> tuple[dict, bytes]:
        return sign(registry_domain, "EventBatch", actors[actor], events=events, **batch_fields)

    return _sign_events


@pytest.fixture
def record(registry, event, sign_events, relayer):
    """Records one event signed by `actor` in a batch of one and returns the transaction.
    `nonce` and `deadline` go to the signed batch, other keywords to the event."""

    def _record(unit_id: bytes, step: BizStep, actor: str, disposition: Disposition = Disposition.IN_PROGRESS, **fields):
        batch_fields = {k: fields.pop(k) for k in ("nonce", "deadline") if k in fields}
        message, sig = sign_events(actor, [event(unit_id, step, actor, disposition, **fields)], **batch_fields)
        return registry.record([eip712.call_args("EventBatch", message, sig)], {"from": relayer})

    return _record
