"""Shared fixtures: a registry with accredited actors, signing keys, and message builders.

Every test runs in its own EVM snapshot (fn_isolation), so fixtures deployed once per module
are fresh for each test.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from brownie import ZERO_ADDRESS, accounts

from returntrace import eip712
from returntrace import policies as policies_mod
from returntrace.escrow import Facts, Grade, UnitDisposition
from returntrace.vocab import HYGIENE_SEALED, Role
from scripts import deploy
from scripts.builder import Builder, Offer
from tests import outside_files
from tests.support import (
    DEFAULT_DELIVERY_FEE,
    DEFAULT_PRICE,
    DEFAULT_RETURN_FEE,
    GTIN_INT,
    MARKET_CN,
    MARKET_EU,
    MARKET_SPARE,
    MARKET_US,
    PLAIN_GTIN_INT,
    Status,
)
from tools import brownie_anvil

# brownie on anvil (tools/brownie_anvil.py) and the clock races on demand (tests/clock_race.py): plugins
# of the chain tests only, so the fast tier (tests/unit, plain pytest) loads neither.
pytest_plugins = ("tools.brownie_anvil", "tests.clock_race")

# Nothing beside the repository may be read (tests/outside_files.py): watched from here on.
OUTSIDE_FILES = outside_files.install(Path(__file__).resolve().parents[1])


def pytest_sessionfinish(session, exitstatus):
    outside_files.fail_session(session, OUTSIDE_FILES)


@pytest.fixture(scope="module", autouse=True)
def _thaw_after_module():
    """Torn down before brownie's module_isolation resets the chain: what the module's tests froze (its
    fixtures, brownie's history of their transactions) is garbage after that reset, whose full collection
    frees it (a frozen cycle is never collected)."""
    yield
    gc.unfreeze()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After a module's last teardown (brownie's reset and its full collection done), what still lives
    (the project, the baseline) is frozen: the next module's first reset collects again, and would walk
    all of it for nothing (about half a second a module)."""
    result = yield
    if nextitem is None or getattr(nextitem, "module", None) is not getattr(item, "module", None):
        gc.freeze()
    return result


@pytest.fixture(scope="function", autouse=True)
def isolate(fn_isolation):
    """Each test in its own EVM snapshot. brownie runs a full gc.collect() on every revert (each
    test's teardown); what lives when the test starts (the loaded project, the module's fixtures and
    their transactions in brownie's history) is frozen, so that collection walks only what the test
    made. Thawed when the module ends."""
    gc.freeze()


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
    "arbiter": (0, "950600000009"),
    "buyer2": (0, "950600000017"),
    "stranger": (0, "950600000008"),
}


@pytest.fixture(scope="session", autouse=True)
def baseline(admin) -> deploy.Deployment:
    """The chain every test module starts from, built once before the first: the test actors funded and
    accredited; the registry, policies, points and escrow deployed (the EU, US and China laws and policy
    presets); the hygiene-sealed test product registered for all three markets. `admin` also holds the
    accreditor, law-admin and policy-admin roles here (tests/escrow/test_roles_and_law.py checks the
    separate keys the deployment gives them); the arbiter is the `arbiter` actor. brownie resets the chain
    before and after each module: to here (tools.brownie_anvil.reset_to_here), so no module redeploys."""
    made = {name: deploy.test_signer(name, roles, gln) for name, (roles, gln) in ACTORS.items()}
    for a in made.values():
        admin.transfer(a.account, "100 ether", silent=True)
    d = deploy.deploy_contracts(admin, gov=deploy.Governance(admin, admin, admin, admin, made["arbiter"].account))
    deploy.accredit(d.registry, admin, [a for a in made.values() if a.roles])
    markets = (1 << MARKET_EU) | (1 << MARKET_US) | (1 << MARKET_CN)
    d.actors = made
    deploy.register_product(d, made["brand"], GTIN_INT, HYGIENE_SEALED, markets)
    brownie_anvil.reset_to_here()
    gc.freeze()  # as after each module (pytest_runtest_teardown): the first module's reset walks none of it
    return d


@pytest.fixture(scope="module")
def actors(baseline) -> dict[str, deploy.Signer]:
    """The baseline's actors; a module may add its own (tests/properties' lab), for itself."""
    return dict(baseline.actors)


@pytest.fixture(scope="session")
def deployment(baseline) -> deploy.Deployment:
    """The baseline's contracts (see `baseline`)."""
    return baseline


@pytest.fixture(scope="module")
def policies(deployment):
    return deployment.policies


@pytest.fixture(scope="module")
def plain_gtin(deployment, actors) -> int:
    """A product class of the brand that is not hygiene-sealed, sold in the EU, US, CN and the
    spare market 3 (no policy there until a test sets one)."""
    markets = (1 << MARKET_EU) | (1 << MARKET_US) | (1 << MARKET_CN) | (1 << MARKET_SPARE)
    deploy.register_product(deployment, actors["brand"], PLAIN_GTIN_INT, 0, markets)
    return PLAIN_GTIN_INT


@pytest.fixture(scope="module")
def registry(deployment):
    return deployment.registry


@pytest.fixture(scope="module")
def escrow(deployment):
    return deployment.escrow


@pytest.fixture(scope="module")
def points(deployment):
    return deployment.points


@pytest.fixture(scope="module")
def desk(deployment):
    return deployment.desk


@pytest.fixture(scope="module")
def registry_domain(deployment):
    return deployment.domain_of("registry")


@pytest.fixture(scope="module")
def escrow_domain(deployment):
    return deployment.domain_of("escrow")


@pytest.fixture(scope="module")
def points_domain(deployment):
    return deployment.domain_of("points")


@pytest.fixture(scope="module")
def desk_domain(deployment):
    return deployment.domain_of("desk")


@pytest.fixture(scope="module")
def token(ERC20Mock, admin, actors, deployment):
    """A 6-decimal stablecoin every market allows (with thresholds that no test price reaches: no
    auto-approved reissue needs them, no second inspection); every buyer holds 1,000,000 and has
    approved nothing yet."""
    t = ERC20Mock.deploy("Test USD", "tUSD", 0, {"from": admin})
    deploy.allow_currency(deployment, t, 6, reissue_limit=10**18, dual_above=5 * 10**18)
    for name in ("buyer", "buyer2"):
        t.mint(actors[name].address, 1_000_000 * 10**6, {"from": admin})
    return t


@pytest.fixture
def builder(deployment, relayer) -> Builder:
    """Orders, events and signed messages on the test deployment (scripts/builder.py); the fixtures
    below and `Shop` are its test-shaped faces."""
    return Builder(deployment, relayer)


@pytest.fixture
def sign(builder):
    """sign(domain, primary, actor, **fields) -> (message, signature).

    Fills the signer, the nonce (the domain's contract's, counting on past messages signed and not
    yet submitted, so a test can sign several before sending) and a deadline an hour ahead."""

    def _sign(domain: eip712.Domain, primary: str, actor: deploy.Signer, **fields) -> tuple[dict, bytes]:
        signed = builder.sign(primary, domain, actor, **fields)
        return signed.message, signed.signature

    return _sign


@pytest.fixture
def commission(builder) -> Callable[..., bytes]:
    """Commissions `serial` of GTIN as the brand in a batch of one; returns its unit id."""

    def _commission(serial: str = "SN0001", actor: str = "brand", **fields) -> bytes:
        item = builder.commission_item(serial, **fields)
        builder.commission(actor, [item])
        return builder.unit_of(item)

    return _commission


@pytest.fixture
def event(builder) -> Callable[..., dict]:
    """An unsigned lifecycle event: event(unit, step, actor_name, disposition, **fields)."""
    return builder.event


@pytest.fixture
def sign_events(builder) -> Callable[..., tuple[dict, bytes]]:
    """Signs events as one EventBatch: sign_events(actor_name, events, **batch_fields)."""

    def _sign_events(actor: str, events: list[dict], **batch_fields) -> tuple[dict, bytes]:
        signed = builder.batch("EventBatch", actor, events, **batch_fields)
        return signed.message, signed.signature

    return _sign_events


@pytest.fixture
def record(builder):
    """Records one event signed by `actor` in a batch of one and returns the transaction.
    `nonce` and `deadline` go to the signed batch, other keywords to the event."""
    return builder.scan


INSPECTION_EVIDENCE = b"\x0e" * 32  # what a test's inspection attests unless it says otherwise


class Shop:
    """The order flow, one step per method, as the buyer, carrier, warehouse and inspector do it:
    the test defaults (tests/support.py) over scripts/builder.py."""

    def __init__(self, builder: Builder):
        self.builder = builder
        self.d, self.actors, self.relayer = builder.d, builder.actors, builder.relayer
        self.last_serial: str | None = None  # the last ORD serial the shop made up

    def list_unit(
        self,
        market=MARKET_EU,
        currency=ZERO_ADDRESS,
        price=DEFAULT_PRICE,
        delivery_fee=DEFAULT_DELIVERY_FEE,
        return_fee=DEFAULT_RETURN_FEE,
        serial=None,
        gtin=GTIN_INT,
    ):
        if serial is None:
            serial = self.last_serial = self.builder.next_serial("ORD", 5)
        unit, _ = self.builder.list_unit(serial, Offer(market, currency, price, delivery_fee, return_fee, gtin))
        return unit

    def buy(
        self,
        market=MARKET_EU,
        currency=ZERO_ADDRESS,
        price=DEFAULT_PRICE,
        delivery_fee=DEFAULT_DELIVERY_FEE,
        return_fee=DEFAULT_RETURN_FEE,
        buyer="buyer",
        token=None,
        gtin=GTIN_INT,
        confirms=False,
        serial=None,
    ) -> int:
        """Lists a fresh unit (`serial`, else the next ORD serial) and buys it, committing to the listing
        (`confirms`: the buyer confirms the statutory exceptions at purchase); an ERC-20 `token`
        (approved here) is the currency when given."""
        if token is not None and currency == ZERO_ADDRESS:
            currency = token.address
        unit = self.list_unit(market, currency, price, delivery_fee, return_fee, serial=serial, gtin=gtin)
        return self.builder.purchase(unit, buyer, confirms, token).return_value

    def unit(self, order_id: int) -> bytes:
        return self.builder.unit(order_id)

    def deliver(self, order_id: int, **fields):
        return self.builder.deliver(order_id, **fields)

    def request_return(self, order_id: int, reason: int = 0, buyer: str = "buyer", remedy: int = 0):
        return self.builder.request_return(order_id, reason, remedy, buyer)

    def receive(self, order_id: int, **fields):
        return self.builder.receive(order_id, **fields)

    def sign_inspection(self, order_id: int, facts: int, grade: int, inspector: str = "inspector", **fields):
        fields.setdefault("evidence", INSPECTION_EVIDENCE)
        signed = self.builder.sign_inspection(order_id, facts, grade, inspector, **fields)
        return signed.message, signed.signature

    def inspect(self, order_id: int, facts: int, grade: int, inspector: str = "inspector", **fields):
        fields.setdefault("evidence", INSPECTION_EVIDENCE)
        return self.builder.inspect(order_id, facts, grade, inspector, **fields)

    def returned(self, order_id: int | None = None, reason: int = 0, **buy) -> int:
        """Bought, delivered, return requested and received by the warehouse."""
        return self.builder.returned(order_id or self.buy(**buy), reason)

    def assert_solvent(self, *tokens) -> None:
        """The escrow holds exactly what it owes, in the native coin and in every token."""
        from brownie import web3

        escrow = self.d.escrow
        assert web3.eth.get_balance(escrow.address) == escrow.totalOwed(ZERO_ADDRESS)
        for t in tokens:
            assert t.balanceOf(escrow) == escrow.totalOwed(t)


@pytest.fixture
def shop(builder) -> Shop:
    return Shop(builder)


# Each disposition's grade terms, and facts that give that grade: EU grade B (packaging intact, seal
# broken, unused) donates, grade C (used) recycles; no preset destroys, so the spare market gets a
# policy whose grade C does.
DESTINATIONS = {
    UnitDisposition.DONATE: (Facts.PACKAGING_INTACT, Grade.B),
    UnitDisposition.RECYCLE: (Facts.USED, Grade.C),
    UnitDisposition.DESTROY: (Facts.USED, Grade.C),
}


@pytest.fixture
def destined(shop, escrow, policies, plain_gtin, actors, admin) -> Callable[..., bytes]:
    """destined(disposition, serial=None) -> unit id: a unit sold, delivered, returned, inspected and
    settled (the buyer accepted the grade), whose grade terms send it to a partner (DONATE, RECYCLE)
    or to destruction (DESTROY): the only units a charity, a recycler or a destroying warehouse may close."""

    def _destined(disposition: UnitDisposition, serial: str | None = None) -> bytes:
        facts, grade = DESTINATIONS[disposition]
        if disposition == UnitDisposition.DESTROY:
            c = policies_mod.US.terms[2]
            destroying = replace(
                policies_mod.US, terms=(*policies_mod.US.terms[:2], replace(c, disposition=UnitDisposition.DESTROY))
            )
            policies.setLaw(MARKET_SPARE, policies_mod.US_LAW.as_tuple(), {"from": admin})
            policies.setPolicy(MARKET_SPARE, destroying.as_tuple(), {"from": admin})
            policies.setCurrency(MARKET_SPARE, ZERO_ADDRESS, policies_mod.NATIVE.as_tuple(), {"from": admin})
            order = shop.returned(market=MARKET_SPARE, gtin=plain_gtin, serial=serial)
        else:
            order = shop.returned(serial=serial)
        shop.inspect(order, facts, int(grade))
        escrow.acceptInspection(order, {"from": actors["buyer"].account})
        assert escrow.order(order)["status"] == Status.SETTLED
        return shop.unit(order)

    return _destined
