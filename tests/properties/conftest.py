"""Fixtures for the property-based and stateful tests (contracts v2, issue 9).

Hypothesis reverts the chain between examples while function-scoped fixtures live on, so
nothing here caches chain state: every signature takes its nonce from the contract at the
moment it is signed (the shared `sign` fixture counts pending nonces across calls, which a
revert would leave ahead of the chain).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from brownie import ZERO_ADDRESS, web3

from returntrace import gs1
from returntrace.vocab import HYGIENE_SEALED, BizStep, Disposition, Role
from scripts import deploy
from scripts.builder import Builder
from tests.support import MARKET_CN, MARKET_EU, MARKET_US

# Markets 5-10 get laws and policies set by the property tests; 0-2 keep the conftest presets.
PROPERTY_MARKETS = tuple(range(5, 11))
ALL_MARKETS_MASK = sum(1 << m for m in (MARKET_EU, MARKET_US, MARKET_CN, *PROPERTY_MARKETS))

# Two more product classes: hygiene-sealed (brand) and plain (brand2), sold everywhere above.
GTIN_SEALED = int(gs1.with_check_digit("0950600013436"))
GTIN_PLAIN = int(gs1.with_check_digit("0950600013443"))
PRODUCT_CLASSES = {GTIN_SEALED: ("brand", True), GTIN_PLAIN: ("brand2", False)}


def brand_of(gtin: int) -> str:
    """The actor name of the brand that registered `gtin` (conftest's product: "brand")."""
    return PRODUCT_CLASSES.get(gtin, ("brand", True))[0]


# Return centers (registry.setReturnCenter: location -> (organisation running it, markets)). The
# warehouse scans at its own GLN (accredited for the EU), at a US depot it runs, at a partner's
# center run by another organisation, or at an unaccredited dock. The organisations are GLNs
# without the check digit (the warehouse's is tests/conftest.py's).
WAREHOUSE_ORG = int(gs1.with_check_digit("950600000003"))
PARTNER_ORG = int(gs1.with_check_digit("950600000043"))
LOC_HOME = WAREHOUSE_ORG
LOC_US_DEPOT = int(gs1.with_check_digit("950600000023"))
LOC_PARTNER = int(gs1.with_check_digit("950600000033"))
LOC_DOCK = int(gs1.with_check_digit("950600000053"))
LOC_LAB = int(gs1.with_check_digit("950600000063"))  # the warehouse's center for the property markets
PROPERTY_MASK = sum(1 << m for m in PROPERTY_MARKETS)
RETURN_CENTERS = {
    LOC_HOME: (WAREHOUSE_ORG, 1 << MARKET_EU),
    LOC_US_DEPOT: (WAREHOUSE_ORG, 1 << MARKET_US),
    LOC_PARTNER: (PARTNER_ORG, ALL_MARKETS_MASK),
    LOC_LAB: (WAREHOUSE_ORG, PROPERTY_MASK),
}
# An inspector employed by the brand's organisation: never independent for the brand's orders.
INHOUSE_INSPECTOR = ("inhouse", "950600000001")
# Merchant staff (issue 9): of the brand's organisation, and of brand2's.
STAFF = {"staff": "950600000001", "staff2": "950600000011"}
# The currencies' terms in the property markets: no second inspection, and defect claims up to 1
# coin (native) or 1 token (6 decimals) are approved at once.
PROPERTY_NATIVE = (True, 18, 10**18, 0)
PROPERTY_TOKEN = (True, 6, 10**6, 0)

TOKEN_FUNDS = 2**100  # above 2 * uint96 max: any price + delivery fee is payable
NATIVE_TOPUP = 1_000 * 10**18


class Ops:
    """Signed chain operations with nonces read from the chain at signing time (scripts/builder.py
    with count_pending off: hypothesis reverts the chain under it between examples)."""

    def __init__(self, deployment, actors, relayer):
        self.builder = Builder(deployment, relayer, actors=actors, count_pending=False)
        self.d, self.actors, self.relayer = deployment, actors, relayer
        self.registry, self.escrow = deployment.registry, deployment.escrow

    def next_serial(self, prefix: str = "P") -> str:
        return self.builder.next_serial(prefix)

    # -- registry (brand, carrier, warehouse)

    def commission_batch(self, gtin: int, *serials: str, event_time: int | None = None) -> tuple:
        """A signed CommissionBatch (calldata struct) of `serials` by the product's brand, observed
        at `event_time` (default: now), not yet submitted."""
        when = {} if event_time is None else {"eventTime": event_time}
        units = [
            self.builder.commission_item(serial, gtin, location=self.actors[brand_of(gtin)].gln, **when)
            for serial in serials
        ]
        return self.builder.batch("CommissionBatch", brand_of(gtin), units).args

    def commission(self, gtin: int, serial: str):
        """Commissions gtin/serial as the product's brand; returns (unit id, tx)."""
        tx = self.registry.commission([self.commission_batch(gtin, serial)], {"from": self.relayer})
        return gs1.unit_id(gtin, serial), tx

    def scan_batch(
        self, actor: str, unit_id: bytes, step: BizStep, disposition: Disposition, biz_transaction: bytes
    ) -> tuple:
        """A signed one-event batch (calldata struct), not yet submitted."""
        return self.parcel_batch(actor, step, disposition, [(unit_id, biz_transaction)])

    def parcel_batch(
        self,
        actor: str,
        step: BizStep,
        disposition: Disposition,
        scans: list[tuple[bytes, bytes]],
        event_time: int | None = None,
        location: int | None = None,
    ) -> tuple:
        """One signed batch scanning several (unit id, bizTransaction): a consolidated parcel,
        observed at `event_time` (default: now) at `location` (default: the signer's GLN)."""
        at = {k: v for k, v in (("eventTime", event_time), ("location", location)) if v is not None}
        events = [
            self.builder.event(unit_id, step, actor, disposition, bizTransaction=ref, **at) for unit_id, ref in scans
        ]
        return self.builder.batch("EventBatch", actor, events).args

    def unit(self, order_id: int) -> bytes:
        return self.builder.unit(order_id)

    def delivery_batch(self, order_id: int, unit_id: bytes | None = None) -> tuple:
        unit_id = unit_id or self.unit(order_id)
        return self.scan_batch(
            "carrier", unit_id, BizStep.DELIVERING, Disposition.DELIVERED, self.builder.order_ref(order_id)
        )

    def receiving_batch(self, order_id: int, unit_id: bytes | None = None) -> tuple:
        unit_id = unit_id or self.unit(order_id)
        return self.scan_batch(
            "warehouse", unit_id, BizStep.RECEIVING, Disposition.RETURNED, self.builder.rma_ref(order_id)
        )

    def dispatch_batch(self, order_id: int, unit_id: bytes | None = None) -> tuple:
        """The carrier's pickup of a return (Accepting under the RMA): the buyer's proof of dispatch."""
        unit_id = unit_id or self.unit(order_id)
        return self.scan_batch(
            "carrier", unit_id, BizStep.ACCEPTING, Disposition.IN_TRANSIT, self.builder.rma_ref(order_id)
        )

    def decommission_batch(
        self,
        signer: str,
        gtin: int,
        serial: str,
        disposition: Disposition = Disposition.DESTROYED,
        event_time: int | None = None,
    ) -> tuple:
        """A signed DecommissionBatch of one unit by `signer` (calldata struct), not yet submitted."""
        when = {} if event_time is None else {"eventTime": event_time}
        item = self.builder.decommission_item(serial, gtin, disposition, signer, **when)
        return self.builder.batch("DecommissionBatch", signer, [item]).args

    def deliver(self, order_id: int):
        return self.registry.record([self.delivery_batch(order_id)], {"from": self.relayer})

    def receive(self, order_id: int):
        return self.registry.record([self.receiving_batch(order_id)], {"from": self.relayer})

    # -- escrow (buyer, inspector)

    def signed_inspection(
        self,
        order_id: int,
        facts: int,
        grade: int,
        inspector: str = "inspector",
        diminished: int = 0,
        evidence: bytes = b"\x0e" * 32,
    ) -> tuple:
        """(inspection struct, signature) for submitInspection."""
        s = self.builder.sign_inspection(
            order_id, facts, grade, inspector, evidence=evidence, diminishedValue=diminished
        )
        return s.struct, s.signature

    def inspect(self, order_id: int, facts: int, grade: int, inspector: str = "inspector", diminished: int = 0):
        inspection, sig = self.signed_inspection(order_id, facts, grade, inspector, diminished)
        return self.escrow.submitInspection(inspection, sig, {"from": self.relayer})

    def signed_return_request(self, order_id: int, reason: int, buyer: str, remedy: int = 0) -> tuple:
        """(request struct, signature) for requestReturnBySig."""
        s = self.builder.sign_return_request(order_id, reason, remedy, buyer)
        return s.struct, s.signature

    def signed_defect_claim(self, order_id: int, evidence: bytes, buyer: str) -> tuple:
        """(claim struct, signature) for ReissueDesk.claimDefectBySig."""
        s = self.builder.sign_defect_claim(order_id, evidence, buyer)
        return s.struct, s.signature


def _pure_python_state_machine():
    """brownie's own `state_machine`, loaded from the pure-Python source it ships.

    eth-brownie 1.22.2 installs brownie/test/stateful.py compiled with mypyc (brownie PR #1952),
    and the compiled `_BrownieStateMachine.__init__` rejects the very machine class that
    `state_machine()` generates ("TypeError: brownie.test.stateful._BrownieStateMachine object
    expected; got ...BrownieStateMachine"), so every brownie state machine fails before its first
    step. The .py next to the extension is the same code; imported as a plain module it works.
    """
    import brownie.test

    source = Path(brownie.test.__file__).with_name("stateful.py")
    spec = importlib.util.spec_from_file_location("tests.properties._brownie_stateful", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.state_machine


@pytest.fixture
def state_machine():
    """Overrides brownie's `state_machine` fixture for this folder (see _pure_python_state_machine)."""
    return _pure_python_state_machine()


@pytest.fixture(scope="module")
def lab(deployment, actors, token, admin):
    """The conftest deployment plus two product classes sold in markets 0-2 and 5-10 (registered with
    the accreditor's approval), the native coin and the token allowed in 5-10 (PROPERTY_NATIVE,
    PROPERTY_TOKEN), buyers funded with effectively unlimited tokens (approved to the escrow) and more
    native coin, the RETURN_CENTERS accredited, an in-house inspector of the brand (actors["inhouse"])
    and merchant staff (actors["staff"], actors["staff2"]). `admin` is the accreditor, law admin and
    policy admin here (tests/conftest.py)."""
    assert actors["warehouse"].gln == WAREHOUSE_ORG
    for location, (organization, markets) in RETURN_CENTERS.items():
        deployment.registry.setReturnCenter(location, organization, markets, {"from": admin})
    name, org = INHOUSE_INSPECTOR
    actors[name] = deploy.test_signer(name, Role.INSPECTOR, org)
    for name, org in STAFF.items():
        actors[name] = deploy.test_signer(name, Role.MERCHANT_STAFF, org)
    deploy.accredit(deployment.registry, admin, [actors[n] for n in (INHOUSE_INSPECTOR[0], *STAFF)])
    for n in STAFF:
        admin.transfer(actors[n].account, "10 ether", silent=True)
    for gtin, (brand, sealed) in PRODUCT_CLASSES.items():
        deploy.register_product(deployment, actors[brand], gtin, HYGIENE_SEALED if sealed else 0, ALL_MARKETS_MASK)
    for market in PROPERTY_MARKETS:
        deployment.policies.setCurrency(market, ZERO_ADDRESS, PROPERTY_NATIVE, {"from": admin})
        deployment.policies.setCurrency(market, token, PROPERTY_TOKEN, {"from": admin})
    for name in ("buyer", "buyer2"):
        token.mint(actors[name].address, TOKEN_FUNDS, {"from": admin})
        token.approve(deployment.escrow, 2**256 - 1, {"from": actors[name].account})
        admin.transfer(actors[name].account, NATIVE_TOPUP, silent=True)
    return deployment


def read_batch(*reads) -> list:
    """Reads many views in one JSON-RPC batch (several times faster than one call each). A read is an
    address (its native balance) or a brownie view method followed by its arguments."""
    with web3.batch_requests() as batch:
        for r in reads:
            if isinstance(r, str):
                batch.add(web3.eth.get_balance(r))
            else:
                batch.add(web3.eth.call({"to": r[0]._address, "data": r[0].encode_input(*r[1:])}))
        raw = batch.execute()
    return [value if isinstance(r, str) else r[0].decode_output(value) for r, value in zip(reads, raw, strict=True)]


@pytest.fixture
def ops(lab, actors, relayer) -> Ops:
    return Ops(lab, actors, relayer)
