"""Stateful test of ReturnEscrow v2 (issue 9): random sequences of the whole order lifecycle, honest
and adversarial, against a model.

Honest rules act on an order for which their step applies, or (when none does, when the rule draws
`alt`, or when it draws an impostor caller) on any order, and the model predicts the exact custom
error the contract must revert with; nothing is silently skipped. Blocks are 1 s apart
(`block_clock`), so the model knows the timestamp of the next transaction exactly; predictions are
never made within EDGE seconds of a deadline (time is moved on first), and timeouts are claimed by
sleeping past their deadline. Amounts come from tests/properties/model.py (the independent model of
the settlement arithmetic and of the return clock), never from the contract.

Markets: the EU, US and China laws with their presets (0-2), and market 5 under the EU law with a
policy that collects returns at the door (freePickup), waives a defective unit's return when its
replacement never comes, and lets scans be relayed up to 3 days late. Two brands: `brand` sells a
hygiene-sealed class, `brand2` a plain one; native coin and an ERC-20.

Rules (honest): list, relist, delist, purchase (committing to the listing; wrong value), deliver,
request a return (direct or signed; cash, exchange or an invalid remedy; any reason), choose the
remedy again, the carrier's pickup (proof of dispatch), the warehouse's receipt (at the market's
return center, another's, an unaccredited dock), refund on receipt, attest (first and second
opinions, disposition-only after a refund), accept, contest, finalize, open a dispute before any
inspection (buyer, merchant, staff, or someone else), arbitrate, settle a lapsed dispute, the
uninspected / overdue / dispatched refunds, release, release unreturned, cancel undelivered; on the
ReissueDesk: claim a defect (direct or signed), decide it (arbiter, merchant, staff, others), return
an undecided claim, link, deliver and complete a replacement, claim an unfulfilled reissue;
withdraw, withdrawTo, and time passing.

Adversaries (issue 9): a merchant who closes units (decommissions them, or has a charity, recycler or
warehouse close them, whatever holds them), relists in front of a purchase (other terms, the same
total split otherwise, in another market; or delists), and never scans returns (one merchant per
example may be silent); an inspector who lies (facts other than the unit's, or a grade its facts do
not give) and whom the arbiter corrects to the unit's true facts; an arbiter who never acts (one
example in three: disputes lapse); a relayer who delays scans (signed up to beyond the policy's
maxRelayDelay before they are recorded).

Invariants after every step:
  (a) coin conservation: per currency, the escrow's balance == totalOwed == the model's (open escrow
      + credits) == paid in - paid out; every credit and every points balance equals the model's;
  (b) each order's money leaves escrow once (OrderSettled, OrderCompleted or OrderCancelled), of the
      kind the model booked;
  (c) each order's stored status, remedy, facts, grade, diminished value, inWithdrawal, requestedAt,
      disputedAt, windowExtension and inspectorOrg equal the model's; a terminal status never changes;
  (d) no signature is usable twice: nonces (registry, escrow, desk) only increase and count exactly
      the accepted signatures, and every accepted signed message is re-submitted and refused;
  (e) the withdrawal floor: a buyer who withdrew in a statutory period (or whose defect claim there
      turned into a return), chose cash, and returned the unit (received or dispatched, as the chain
      counts it) unused with the seal intact, is refunded at least price + (delivery where the law
      refunds it) - the return shipping they were told they bear, in the purchase currency, unless
      the facts that settled it were an inspector's lie no arbiter corrected;
  (f) the merchant is never paid for a unit whose return was dispatched or received unless an
      inspection or the arbiter decided: without attested facts the buyer gets at least what a
      sealed, unused (grade A) unit would;
  (g) every order whose money is still escrowed has a path to a settlement: the timeout of its state
      (release, cancel, releaseUnreturned / claimDispatchedRefund / claimUninspectedRefund,
      finalize, settleLapsedDispute, returnUndecidedClaim, completeReissue / claimUnfulfilledReissue)
      succeeds once enough time has passed (eth_call with the block time 1,000 days ahead).

Every example starts (initialize_orders) from seven orders at different stages. Budget: the default
examples keep tests/properties under about 3 minutes here; RT_STATEFUL_EXAMPLES hunts longer. The last
long hunt (RT_STATEFUL_EXAMPLES=80, 2026-12-06): 111 runs of which 80 full-length, 2,221 steps, every
invariant checked after each, no failure, 14 min on the 2-core machine under load ~7 (the two hunts
before it found the model's two gaps fixed with it: a timeout's quote keeps the chosen remedy; the
brand may retire a unit its settled order restocked). Run with -s to see how often each operation
succeeded or reverted.
"""

from __future__ import annotations

import os
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from functools import partial

import brownie
import pytest
import requests
from brownie import ZERO_ADDRESS, chain, web3
from brownie.test import strategy
from eth_abi import encode as abi_encode
from eth_utils import keccak
from hypothesis import HealthCheck, reject
from hypothesis import strategies as st
from hypothesis.strategies._internal.featureflags import FeatureFlags

from returntrace import gs1
from returntrace.escrow import Grade, Law, Policy
from returntrace.policies import EU
from returntrace.vocab import BizStep, Disposition
from scripts.builder import listing_terms, order_ref, rma_ref
from tests.properties.conftest import (
    GTIN_PLAIN,
    GTIN_SEALED,
    LOC_DOCK,
    LOC_HOME,
    LOC_PARTNER,
    LOC_US_DEPOT,
    PRODUCT_CLASSES,
    PROPERTY_NATIVE,
    PROPERTY_TOKEN,
    RETURN_CENTERS,
    WAREHOUSE_ORG,
    brand_of,
    read_batch,
)
from tests.properties.model import (
    DAY,
    DEFECTIVE,
    PACKAGING,
    SEAL,
    TERMINAL,
    USED,
    OrderTerms,
    Path,
    Split,
    full_refund,
    model_grade,
    model_settlement,
    on_path,
    period_end,
    scan_time,
    statutory_floor,
    unproved_settlement,
)
from tests.support import MARKET_CN, MARKET_EU, MARKET_US, Remedy, Status, err

EDGE = 5  # seconds kept between "now" and any deadline when predicting an outcome
HOUR = 3600
FAR = 1_000 * DAY  # invariant (g): "once enough time has passed"
PICKUP_MARKET = 5
MARKETS = (MARKET_EU, MARKET_US, MARKET_CN, PICKUP_MARKET)
PICKUP_POLICY = replace(EU, refund_on_return=False, free_pickup=True, waive_defect_return=True, max_relay_delay=3 * DAY)
ACCOUNTS = ("buyer", "buyer2", "brand", "brand2", "stranger")
SEALED = {g: s for g, (_, s) in PRODUCT_CLASSES.items()}
DEFECTIVE_REASON = 1  # IReturnEscrow.ReturnReason.Defective
DECOMMISSIONING = int(BizStep.DECOMMISSIONING)
# A partner's closing: (actor, step, disposition, the grade terms' disposition it must follow).
PARTNER_CLOSINGS = {
    "charity": (BizStep.RECEIVING, Disposition.DONATED, 1),
    "recycler": (BizStep.RECEIVING, Disposition.RECYCLED, 2),
    "warehouse": (BizStep.DESTROYING, Disposition.DESTROYED, 3),
    "carrier": (BizStep.DEPARTING, Disposition.DESTROYED, 3),
}
RETURNING = (Status.RETURN_REQUESTED, Status.SECOND_INSPECTION, Status.INSPECTED, Status.DISPUTED)

SETTINGS = {
    "max_examples": int(os.environ.get("RT_STATEFUL_EXAMPLES", "8")),  # more for a longer bug hunt
    "stateful_step_count": 25,
    "deadline": None,
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
}
# Hypothesis 6.27 first tries up to 50 "small" examples (each a prefix then zeros, which end the run after
# a step or two); here each costs a full initialize and tests little. A run shorter than this is
# discarded (teardown rejects it, unless something failed), and after five in a row hypothesis moves on
# to full-length runs, where the lifecycles are.
MIN_STEPS = 6


@dataclass
class Scan:
    """A milestone as the registry keeps it: the signed time (never after its block) and the block's time."""

    at: int
    recorded: int
    location: int = 0


@dataclass
class UnitModel:
    unit: bytes
    gtin: int
    serial: str
    merchant: str
    last_order: int = 0
    listing: tuple | None = None  # IReturnEscrow.ListingTerms while listed
    closed: bool = False


@dataclass
class OrderModel:
    id: int
    unit: bytes
    buyer: str
    merchant: str
    currency: str
    price: int
    fee: int
    ship: int
    market: int
    law: Law
    policy: Policy
    currency_terms: tuple  # IReturnPolicies.Currency
    sealed: bool
    confirmed: bool
    purchased_at: int
    status: Status = Status.ACTIVE
    delivery: Scan | None = None
    receipt: Scan | None = None  # the receiving scan under the RMA the registry keeps (`return_scan`)
    dispatch: Scan | None = None  # the carrier pickup under the RMA the registry keeps (`return_scan`)
    requested_at: int = 0  # the return request, or the defect claim until it turns into one
    in_withdrawal: bool = False
    remedy: int = Remedy.REFUND
    reason: int = 0
    facts: int = 0
    grade: int = 0
    diminished: int = 0
    dispute_deadline: int = 0
    disputed_at: int = 0
    first_opinion: tuple[int, int] | None = None  # (facts, grade) awaiting a second inspection
    first_org: int = 0
    inspector_org: int = 0  # the house of the inspection a dispute is or would be about (may not arbitrate it)
    window_extension: int = 0
    claimed_at: int = 0  # ReissueDesk: a claim awaiting a decision
    approved_at: int = 0  # ReissueDesk: the reissue's approval (kept after the order ends)
    claim_rejected: bool = False  # ReissueDesk: the arbiter rejected its claim, the order's only one
    replacement: bytes | None = None
    replacement_delivered_at: int = 0
    true_facts: int | None = None  # the condition the buyer sends the unit back in
    lie_stands: bool = False  # the facts on record are an inspector's lie
    money_event: str | None = None
    paid: Split | None = None  # what the chain paid (its event), for invariants (e) and (f)
    paid_decided: bool = False  # an inspection's or the arbiter's facts decided the payment
    paid_returning: bool = False  # the money moved while the unit was on its way back (or back)
    paid_back: bool = False  # the chain counted a receipt or a dispatch when the money moved
    paid_remedy: int = Remedy.REFUND
    paid_lie: bool = False  # the facts the payment went by were an inspector's lie nobody corrected

    # -- the clock (model.py's calendar and scan times; see IReturnEscrow and ReturnClock)

    @property
    def relay(self) -> int:
        return self.policy.max_relay_delay

    @property
    def total(self) -> int:
        return self.price + self.fee

    def terms(self, remedy: int | None = None) -> OrderTerms:
        remedy = self.remedy if remedy is None else remedy
        return OrderTerms(self.price, self.fee, self.ship, self.sealed, self.confirmed, remedy == Remedy.EXCHANGE)

    def _after_request(self, scan: Scan | None) -> int:
        """A return scan counts if recorded after the request (before any request, the views count any)."""
        if scan is None or scan.recorded < self.requested_at:
            return 0  # a scan recorded before the request proves nothing of this return
        return max(scan_time(scan.at, scan.recorded, self.relay), self.requested_at)

    @property
    def delivered_at(self) -> int:
        return (
            max(scan_time(self.delivery.at, self.delivery.recorded, self.relay), self.purchased_at)
            if self.delivery
            else 0
        )

    @property
    def received_at(self) -> int:
        return self._after_request(self.receipt)

    @property
    def dispatched_at(self) -> int:
        return self._after_request(self.dispatch)

    @property
    def statutory_end(self) -> int:
        wd = self.law.withdrawal_days
        return period_end(self.law, self.delivered_at, wd) if wd and self.delivered_at else 0

    def withdrawal_open(self, t: int) -> bool:
        return bool(self.law.withdrawal_days) and t <= self.statutory_end + self.window_extension

    @property
    def closes_at(self) -> int:
        return max(self.statutory_end, self.delivered_at + self.policy.return_window) + self.window_extension

    @property
    def cancellable_after(self) -> int:
        return self.purchased_at + self.policy.delivery_timeout + self.relay

    @property
    def unreturned_after(self) -> int:
        return self.requested_at + self.policy.delivery_timeout + self.relay

    @property
    def sla_end(self) -> int:
        return self.received_at + self.policy.inspection_sla

    @property
    def dispatch_due(self) -> int:
        return self.dispatched_at + self.policy.delivery_timeout + self.relay

    @property
    def lapses_at(self) -> int:
        return self.disputed_at + self.policy.arbiter_timeout

    @property
    def decide_by(self) -> int:
        return self.claimed_at + self.policy.inspection_sla

    @property
    def reissue_due(self) -> int:
        return self.approved_at + self.policy.delivery_timeout + self.relay

    @property
    def refund_due(self) -> int:
        """ReturnClock.refundDueAt: from the receipt where the law counts from it; else the law's days
        from the request, withheld until the earlier of receipt and dispatch unless the merchant
        collects at the door, and a return back after that gives the merchant its SLA after it."""
        law = self.law
        if not law.refund_days:
            return 0
        received = self.received_at
        if law.refund_from_receipt:
            return period_end(law, received, law.refund_days) if received else 0
        due = period_end(law, self.requested_at, law.refund_days)
        if self.policy.free_pickup:
            return due
        back = min([t for t in (received, self.dispatched_at) if t], default=0)
        if not back:
            return 0
        return back + self.policy.inspection_sla if back > due else due

    def edges(self) -> list[int]:
        """Every instant at which some rule's outcome for this order flips."""
        e = [self.cancellable_after]
        if self.delivered_at:
            e += [self.statutory_end + self.window_extension, self.closes_at]
        if self.requested_at:
            e += [self.unreturned_after, self.refund_due]
            if self.received_at:
                e.append(self.sla_end)
            if self.dispatched_at:
                e.append(self.dispatch_due)
        if self.dispute_deadline:
            e.append(self.dispute_deadline)
        if self.disputed_at:
            e.append(self.lapses_at)
        if self.claimed_at:
            e.append(self.decide_by)
        if self.approved_at:
            e.append(self.reissue_due)
        return e

    # -- custody (UnitCustody)

    def disposition(self) -> int:
        return int(self.policy.terms[model_grade(self.policy, self.facts) - 1].disposition)

    @property
    def back_in_stock(self) -> bool:
        """The unit is the merchant's to sell again: the order was cancelled (never delivered), or an
        inspection attested it unused, not defective, seal intact where the class is sealed, and its
        grade terms restock it."""
        if self.status == Status.CANCELLED:
            return True
        if self.status != Status.SETTLED or self.grade == Grade.NONE:
            return False
        if self.facts & (USED | DEFECTIVE) or (self.sealed and not self.facts & SEAL):
            return False
        return self.disposition() == 0

    @property
    def returned_to_merchant(self) -> bool:
        """The order settled on attested facts whose grade terms restock the unit: the brand may retire
        it (decommission) even where the facts keep it from being sold again."""
        return self.status == Status.SETTLED and self.grade != Grade.NONE and self.disposition() == 0

    @property
    def escrowed(self) -> bool:
        return self.money_event is None


def latest_time() -> int:
    return int(web3.eth.get_block("latest")["timestamp"])


def pick_from(pool: list, pick: int):
    return pool[pick % len(pool)]


class EscrowMachine:
    """Rules and invariants; state lives on the instance and is rebuilt by setup() per example."""

    st_pick = strategy("uint16")
    st_alt = st.sampled_from([False, False, False, True])  # 1 in 4: any order, maybe inapplicable
    st_impostor = st.sampled_from([False] * 7 + [True])  # 1 in 8: the wrong caller
    st_buyer = st.sampled_from(["buyer", "buyer2"])
    st_gtin = st.sampled_from([GTIN_SEALED, GTIN_PLAIN])
    st_market = st.sampled_from(range(len(MARKETS)))
    st_bool = st.booleans()
    # Prices around the currencies' auto-approval limit (1 coin / 1 token) and dual inspection (5 coins).
    PRICE_TIERS = (
        lambda r: 0,
        lambda r: 1,
        lambda r: 1 + r % (3 * 10**18),
        lambda r: (10**6, 10**6 + 1, 10**18, 10**18 + 1, 5 * 10**18, 5 * 10**18 + 1)[r % 6],
        lambda r: 5 * 10**18 + 1 + r % (3 * 10**18),
    )
    st_price = st.tuples(st.sampled_from(range(len(PRICE_TIERS))), st.integers(0, 2**64)).map(
        lambda t: EscrowMachine.PRICE_TIERS[t[0]](t[1])
    )
    st_prices = st.tuples(
        st.sampled_from(range(len(PRICE_TIERS))), st.integers(0, 2**64)
    )  # initialize: a tier per order, in turn
    st_fee = st.one_of(st.just(0), st.integers(1, 10**17))
    st_pct = st.sampled_from([0, 1, 30, 99, 100])
    st_reason = st.sampled_from([0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7])  # 7 is not a ReturnReason
    # The unit's condition when the buyer sends it back.
    st_truth = st.sampled_from(
        [
            SEAL | PACKAGING,
            SEAL | PACKAGING,
            SEAL,
            PACKAGING,
            USED | PACKAGING,
            USED,
            DEFECTIVE | SEAL | PACKAGING,
            DEFECTIVE,
        ]
    )
    st_facts = strategy("uint8", max_value=15)
    st_attest = st.sampled_from(
        ["truth", "truth", "truth", "lie", "mismatch"]
    )  # the inspector: honest, lying, or inconsistent
    st_dim = st.sampled_from(
        [0, 0, 10, 30, 100]
    )  # the attested diminished value, in % of the price (capped by the policy)
    st_grade = st.sampled_from([1, 2, 3])
    # "inhouse" works for brand's organisation (not independent on brand's orders); the warehouse is no inspector.
    st_inspector = st.sampled_from(["inspector", "inspector", "inspector2", "inspector2", "warehouse", "inhouse"])
    st_remedy = st.sampled_from([Remedy.REFUND, Remedy.REFUND, Remedy.EXCHANGE, Remedy.EXCHANGE, 2])  # 2 is no Remedy
    # "center": the accredited return center of the order's market, else a drawn location.
    st_location = st.sampled_from(["center", "center", "center", LOC_HOME, LOC_US_DEPOT, LOC_PARTNER, LOC_DOCK])
    st_lag = st.sampled_from(
        [0, 0, 0, HOUR, DAY - HOUR, DAY + HOUR, 3 * DAY - HOUR, 3 * DAY + HOUR]
    )  # the relayer's delay
    st_evidence = st.sampled_from([b"\x0e" * 32] * 7 + [b"\x00" * 32])  # 1 in 8: no evidence
    st_decider = st.sampled_from(["arbiter", "arbiter", "merchant", "staff", "staff2", "stranger"])
    st_disputer = st.sampled_from(["buyer", "merchant", "staff", "staff2", "stranger"])
    st_replacement = st.sampled_from(["fresh", "fresh", "existing", "ghost"])
    st_sleep = st.sampled_from([HOUR, 6 * HOUR, DAY, 3 * DAY, 6 * DAY, 8 * DAY, 15 * DAY, 31 * DAY])
    st_account = st.sampled_from(ACCOUNTS)
    st_misbuy = st.sampled_from(["ok"] * 8 + ["wrong_value"])
    st_race = st.sampled_from(["swap", "swap", "other", "same", "delist"])  # the merchant in front of a purchase
    st_closer = st.sampled_from(
        ["merchant", "merchant", "merchant", "rival", "carrier", "charity", "recycler", "warehouse"]
    )
    st_among = st.sampled_from(["held", "held", "stock", "any"])
    st_wait = st.sampled_from([False, True, True])  # timeout rules: first sleep past the deadline
    st_match = st.sampled_from([True, True, False])

    stats: Counter = Counter()

    def __init__(cls, lab, ops, actors, token, ERC20Mock):  # called once on the machine class (brownie)
        cls.lab, cls.ops, cls.actors, cls.token = lab, ops, actors, token
        cls.escrow, cls.registry, cls.points, cls.desk, cls.policy_contract = (
            lab.escrow,
            lab.registry,
            lab.points,
            lab.desk,
            lab.policies,
        )
        admin = brownie.accounts[0]
        # Market 5: the EU law, collection at the door, defective units kept when a reissue fails.
        cls.policy_contract.setLaw(PICKUP_MARKET, cls.policy_contract.law(MARKET_EU), {"from": admin})
        cls.policy_contract.setPolicy(PICKUP_MARKET, PICKUP_POLICY.as_tuple(), {"from": admin})
        cls.policy_contract.setCurrency(PICKUP_MARKET, ZERO_ADDRESS, PROPERTY_NATIVE, {"from": admin})
        cls.policy_contract.setCurrency(PICKUP_MARKET, token, PROPERTY_TOKEN, {"from": admin})
        cls.rogue = ERC20Mock.deploy("Rogue", "RGE", 0, {"from": admin})  # a currency no market allows
        cls.laws = {m: Law.decode(cls.policy_contract.law(m), cls.policy_contract.abi) for m in MARKETS}
        cls.versions = {m: cls.policy_contract.currentPolicyVersion(m) for m in MARKETS}
        cls.policies = {
            m: Policy.decode(cls.policy_contract.policy(m, cls.versions[m]), cls.policy_contract.abi) for m in MARKETS
        }
        assert cls.policies[PICKUP_MARKET] == PICKUP_POLICY
        cls.currencies = (ZERO_ADDRESS, token.address)
        cls.currency_terms = {
            (m, c): tuple(cls.policy_contract.currency(m, c)) for m in MARKETS for c in cls.currencies
        }
        cls.arbiter_role = bytes(cls.policy_contract.ARBITER_ROLE())
        cls.money_topics = {
            bytes.fromhex(cls.escrow.topics[name][2:]): name
            for name in ("OrderSettled", "OrderCompleted", "OrderCancelled")
        }
        cls.signers = (
            [(cls.registry, name) for name in ("brand", "brand2", "carrier", "warehouse", "charity", "recycler")]
            + [(cls.escrow, name) for name in ("buyer", "buyer2", "inspector", "inspector2", "warehouse", "inhouse")]
            + [(cls.desk, name) for name in ("buyer", "buyer2")]
        )
        cls.rpc = web3.provider.endpoint_uri
        cls.stats = Counter()

    def setup(self):
        # Hypothesis "swarm tests" rule-based machines: each example disables a random share of the
        # rules. An order's lifecycle needs many different rules in sequence; with all rules enabled
        # every example mixes them.
        self._rules_strategy.enabled_rules_strategy = st.just(FeatureFlags())
        self.stats["examples"] += 1
        self.orders: dict[int, OrderModel] = {}
        self.units: dict[bytes, UnitModel] = {}
        self.credits: dict[tuple[str, str], int] = defaultdict(int)
        self.points_of: dict[tuple[str, str, str], int] = defaultdict(int)
        self.paid_in: dict[str, int] = defaultdict(int)
        self.paid_out: dict[str, int] = defaultdict(int)
        self.nonces = {(c.address, n): c.getNonce(self.actors[n].address) for c, n in self.signers}
        self.seen_nonces = dict(self.nonces)
        self.seen_status: dict[int, Status] = {}
        self.from_block = web3.eth.block_number + 1
        self.silent_merchant: str | None = None  # set by initialize_orders
        self.arbiter_silent = False
        self.steps_run = 0
        assert self.escrow.orderCount() == 0

    def teardown(self):
        # Never over an exception in flight: a failure, or hypothesis ending the run itself (StopTest).
        if sys.exc_info()[0] is not None:
            self.stats["runs_ended_by_" + sys.exc_info()[0].__name__] += 1
        elif self.steps_run < MIN_STEPS and not type(self)._failed:
            self.stats["short_runs_discarded"] += 1
            reject()

    # ------------------------------------------------------------------ helpers

    def addr(self, name: str) -> str:
        return self.actors[name].address

    def acct(self, name: str):
        return self.actors[name].account

    def org(self, name: str) -> int:
        """An actor's organisation (test actors are accredited with their GLN as organisation)."""
        return self.actors[name].gln

    def merchant_side(self, o: OrderModel, name: str) -> bool:
        """The merchant, or merchant staff of its organisation (staff: brand's, staff2: brand2's)."""
        return name == o.merchant or (name in ("staff", "staff2") and self.org(name) == self.org(o.merchant))

    @staticmethod
    def clock() -> int:
        """The timestamp the next transaction gets: blocks are 1 s apart (see `block_clock`)."""
        return latest_time() + 1

    @staticmethod
    def sleep(seconds: int) -> None:
        chain.mine(timestamp=latest_time() + seconds)

    def now(self, orders=()) -> int:
        """clock(), first moved off any deadline of `orders` by more than EDGE seconds."""
        edges = [e for o in orders for e in o.edges()]
        while True:
            t = self.clock()
            if all(abs(t - e) > EDGE for e in edges):
                return t
            self.sleep(2 * EDGE + 1)

    def wait_past(self, o: OrderModel | None, deadline_of) -> None:
        if o is None:
            return
        deadline = deadline_of(o)
        if deadline and self.clock() <= deadline + EDGE:
            chain.mine(timestamp=deadline + EDGE)
            self.stats["wait"] += 1

    def choose(self, pick: int, alt: bool, applicable) -> OrderModel | None:
        every = list(self.orders.values())
        if not every:
            return None
        fits = [o for o in every if applicable(o)]
        return pick_from(every if alt or not fits else fits, pick)

    def unknown_order(self) -> int:
        return len(self.orders) + 1

    def status_error(self, o: OrderModel) -> str:
        return err("ReturnEscrowInvalidStatus", o.id, int(o.status))

    def buyer_error(self, o: OrderModel, caller: str) -> str | None:
        return None if caller == o.buyer else err("ReturnEscrowNotBuyer", o.id, self.addr(caller))

    def other_buyer(self, name: str) -> str:
        return "buyer2" if name == "buyer" else "buyer"

    def expect(self, error: str | None, send, label: str):
        """Sends; asserts the predicted revert, or success. Returns the receipt (None on revert)."""
        if error is not None:
            with brownie.reverts(error):
                send()
            self.stats[f"{label}:revert"] += 1
            return None
        tx = send()
        self.stats[label] += 1
        return tx

    def used_signature(self, contract, signer: str) -> None:
        self.nonces[(contract.address, signer)] += 1

    def replay_fails(self, contract, signer: str, send) -> None:
        """An accepted signed message submitted again must be refused for its spent nonce."""
        n = self.nonces[(contract.address, signer)]
        with brownie.reverts(err("SignatureInvalidNonce", self.addr(signer), n, n - 1)):
            send()

    def unit_of(self, o: OrderModel) -> UnitModel:
        return self.units[o.unit]

    # ------------------------------------------------------------------ money

    def pay(self, o: OrderModel, split: Split, event: str, decided: bool = False) -> None:
        """Books the order's one money event (credits and points) and what invariants (e) and (f) judge."""
        assert o.money_event is None, (o, event)
        o.money_event, o.paid, o.paid_decided, o.paid_remedy, o.paid_lie = (
            event,
            split,
            decided,
            o.remedy,
            decided and o.lie_stands,
        )
        o.paid_returning = o.status in RETURNING
        o.paid_back = bool(o.received_at or o.dispatched_at)
        self.credits[(o.currency, o.buyer)] += split.refund
        self.credits[(o.currency, o.merchant)] += split.merchant_amount
        self.points_of[(o.buyer, o.merchant, o.currency)] += split.points

    def settle(
        self,
        o: OrderModel,
        tx,
        path: int,
        grade: int,
        expected: Split,
        status: Status = Status.SETTLED,
        quoted: Split | None = None,
    ) -> None:
        """Checks an OrderSettled against the model's split and books it. `quoted`: what `quote` gives
        where it differs from what was paid (the view quotes the remedy chosen; a timeout pays cash)."""
        event = tx.events["OrderSettled"]
        assert (event["orderId"], event["path"], event["grade"]) == (o.id, path, grade), (o, path, grade)
        got = Split.of(event["settlement"])
        assert got == expected, (o, path, grade, got, expected)
        assert got.refund + got.merchant_amount == o.total
        decided = grade != Grade.NONE
        if decided:  # the view agrees with what was paid
            assert Split.of(self.escrow.quote(o.id, grade, o.facts, o.diminished)) == (quoted or expected)
        self.pay(o, got, "OrderSettled", decided)
        o.status = status
        if decided:
            o.grade = grade
        self.stats[f"path_{path}"] += 1

    def settle_by_facts(self, o: OrderModel, tx, path: int, grade: int) -> None:
        model = partial(
            model_settlement,
            o.law,
            o.policy,
            grade,
            in_withdrawal=o.in_withdrawal,
            facts=o.facts,
            diminished_value=o.diminished,
        )
        self.settle(o, tx, path, grade, model(on_path(o.terms(), path)), quoted=model(o.terms()))

    def settle_unproved(self, o: OrderModel, tx, path: int) -> None:
        """A return nobody attested: as grade A sealed (defective where that was the reason); the unit's fate waits
        (Refunded)."""
        expected = unproved_settlement(
            o.law,
            o.policy,
            on_path(o.terms(), path),
            in_withdrawal=o.in_withdrawal,
            defective_reason=o.reason == DEFECTIVE_REASON,
        )
        self.settle(o, tx, path, Grade.NONE, expected, Status.REFUNDED)

    def refund_in_full(self, o: OrderModel, tx, path: int, status: Status) -> None:
        self.settle(o, tx, path, Grade.NONE, full_refund(o.terms(), in_withdrawal=o.in_withdrawal), status)

    def complete(self, o: OrderModel, tx, status: Status = Status.COMPLETED) -> None:
        assert tx.events["OrderCompleted"]["merchantAmount"] == o.total
        self.pay(o, Split(False, 0, o.total, 0), "OrderCompleted")  # booked in the state it was paid from
        o.status = status

    # ------------------------------------------------------------------ units, listings, purchases

    def commission(self, gtin: int, count: int = 1) -> list[UnitModel]:
        units = [UnitModel(b"", gtin, self.ops.next_serial("S"), brand_of(gtin)) for _ in range(count)]
        batch = self.ops.commission_batch(gtin, *[u.serial for u in units], event_time=latest_time())
        self.registry.commission([batch], {"from": self.ops.relayer})
        self.used_signature(self.registry, units[0].merchant)
        self.replay_fails(
            self.registry, units[0].merchant, lambda: self.registry.commission([batch], {"from": self.ops.relayer})
        )
        for u in units:
            u.unit = gs1.unit_id(gtin, u.serial)
            self.units[u.unit] = u
        return units

    def listing_error(self, unit: UnitModel, caller: str, market: int, currency: str) -> str | None:
        """IReturnEscrow.list's checks, in its order."""
        if caller != unit.merchant:
            return err("ReturnEscrowNotMerchant", self.addr(caller))
        if currency not in self.currencies:
            return err("ReturnEscrowCurrencyNotAllowed", market, currency)
        last = self.orders.get(unit.last_order)
        if (last is not None and not last.back_in_stock) or unit.closed:
            return err("ReturnEscrowUnitUnavailable", unit.unit, unit.last_order)
        return None

    def list_terms(
        self, unit: UnitModel, market: int, currency: str, price: int, fee: int, ship: int, caller: str | None = None
    ) -> None:
        caller = caller or unit.merchant
        last = self.orders.get(unit.last_order)
        if last:
            self.stats[f"relist_after_{last.status.name.lower()}"] += 1
        error = self.listing_error(unit, caller, market, currency)
        tx = self.expect(
            error,
            lambda: self.escrow.list(
                unit.gtin, unit.serial, market, currency, price, fee, ship, {"from": self.acct(caller)}
            ),
            "list",
        )
        if tx is not None:
            assert bytes(tx.events["Listed"]["unitId"]) == unit.unit
            unit.listing = (market, self.versions[market], currency, price, fee, ship, int(SEALED[unit.gtin]))
            assert listing_terms(self.escrow, unit.unit) == unit.listing

    def rule_list(
        self,
        gtin="st_gtin",
        market="st_market",
        native="st_bool",
        price="st_price",
        fee="st_fee",
        pct="st_pct",
        impostor="st_impostor",
    ):
        """A new unit listed; an impostor brand tries to list another brand's product, or a currency no market
        allows."""
        (unit,) = self.commission(gtin)
        caller = ("brand2" if unit.merchant == "brand" else "brand") if impostor else None
        currency = self.rogue.address if impostor and native else (ZERO_ADDRESS if native else self.token.address)
        self.list_terms(
            unit, MARKETS[market], currency, price, fee, price * pct // 100, caller=caller if not native else None
        )

    def rule_relist(
        self,
        pick="st_pick",
        alt="st_alt",
        market="st_market",
        native="st_bool",
        price="st_price",
        fee="st_fee",
        pct="st_pct",
    ):
        """Relisting a unit: refused unless it is back in stock or still listed (new terms), and never once closed."""
        sold = [u for u in self.units.values() if u.last_order]
        ended = [u for u in sold if self.orders[u.last_order].status in TERMINAL]
        units = (ended if ended and not alt else sold) or list(self.units.values())
        if not units:
            serial = self.ops.next_serial("U")  # never commissioned
            unit_id = gs1.unit_id(GTIN_SEALED, serial)
            with brownie.reverts(err("ReturnEscrowUnknownUnit", unit_id)):
                self.escrow.list(
                    GTIN_SEALED, serial, MARKETS[market], ZERO_ADDRESS, price, fee, 0, {"from": self.acct("brand")}
                )
            return
        self.list_terms(
            pick_from(units, pick),
            MARKETS[market],
            ZERO_ADDRESS if native else self.token.address,
            price,
            fee,
            price * pct // 100,
        )

    def do_purchase(
        self, unit: UnitModel, buyer: str, terms: tuple | None = None, misbuy: str = "ok", confirms: bool = False
    ) -> OrderModel | None:
        """The buyer commits to `terms` (default: the listing as it stands)."""
        if unit.listing is None:
            with brownie.reverts(err("ReturnEscrowNotListed", unit.unit)):
                self.escrow.purchase(
                    unit.unit, terms or (0, 0, ZERO_ADDRESS, 0, 0, 0, 0), confirms, {"from": self.acct(buyer)}
                )
            self.stats["purchase:not_listed"] += 1
            return None
        terms = terms or unit.listing
        market, _, currency, price, fee, ship, _ = unit.listing
        total = price + fee
        native = currency == ZERO_ADDRESS
        value = (total if native else 0) + (misbuy == "wrong_value")
        if terms != unit.listing:
            error = err("ReturnEscrowListingChanged", unit.unit)
        elif value != (total if native else 0):
            error = err("ReturnEscrowWrongPayment", total if native else 0, value)
        else:
            error = None
        before = self.balance(currency, self.addr(buyer))
        tx = self.expect(
            error,
            lambda: self.escrow.purchase(unit.unit, terms, confirms, {"from": self.acct(buyer), "value": value}),
            "purchase",
        )
        if tx is None:
            return None
        gas = tx.gas_used * tx.gas_price if native else 0
        assert self.balance(currency, self.addr(buyer)) == before - total - gas
        o = OrderModel(
            id=tx.return_value,
            unit=unit.unit,
            buyer=buyer,
            merchant=unit.merchant,
            currency=currency,
            price=price,
            fee=fee,
            ship=ship,
            market=market,
            law=self.laws[market],
            policy=self.policies[market],
            currency_terms=self.currency_terms[(market, currency)],
            sealed=SEALED[unit.gtin],
            confirmed=confirms,
            purchased_at=tx.timestamp,
        )
        placed = tx.events["OrderPlaced"]
        assert (placed["orderId"], placed["hygieneSealed"], placed["exceptionConfirmed"], placed["policyVersion"]) == (
            o.id,
            o.sealed,
            confirms,
            self.versions[market],
        )
        assert o.id == len(self.orders) + 1
        self.orders[o.id] = o
        unit.listing, unit.last_order = None, o.id
        limit, dual = o.currency_terms[2], o.currency_terms[3]
        self.stats["price_" + ("low" if price <= limit else "mid" if not dual or price <= dual else "high")] += 1
        self.paid_in[currency] += total
        return o

    def rule_purchase(self, pick="st_pick", buyer="st_buyer", misbuy="st_misbuy", confirms="st_bool"):
        listed = [u for u in self.units.values() if u.listing]
        if not listed:
            if self.units:
                self.do_purchase(pick_from(list(self.units.values()), pick), buyer)
            return
        self.do_purchase(pick_from(listed, pick), buyer, misbuy=misbuy, confirms=confirms)

    def rule_relist_in_front(
        self,
        pick="st_pick",
        race="st_race",
        market="st_market",
        price="st_price",
        fee="st_fee",
        buyer="st_buyer",
        confirms="st_bool",
    ):
        """Adversarial merchant (issue 9 item 4): between the buyer's reading of a listing and the
        purchase, it relists with other terms (the same total split the other way, in another market;
        or anything), the same terms, or delists. The purchase, committed to what the buyer saw,
        reverts unless the listing is still exactly that."""
        listed = [u for u in self.units.values() if u.listing]
        if not listed:
            return
        unit = pick_from(listed, pick)
        seen = unit.listing
        m, _, currency, p, f, s, _ = seen
        if race == "delist":
            tx = self.escrow.delist(unit.unit, {"from": self.acct(unit.merchant)})
            assert bytes(tx.events["Delisted"]["unitId"]) == unit.unit
            unit.listing = None
        else:
            if race == "swap":
                other = MARKETS[(MARKETS.index(m) + 1 + market % 3) % len(MARKETS)]
                m, p, f, s = other, f, p, min(s, f)  # EU 1 + 0.05 relisted as US 0.05 + 1: same total
            elif race == "other":
                m, p, f = MARKETS[market], price, fee
                s = min(s, p)
            self.list_terms(unit, m, currency, p, f, s)
        self.stats[f"race_{race}"] += 1
        self.do_purchase(unit, buyer, terms=seen, confirms=confirms)

    def rule_delist(self, pick="st_pick", impostor="st_impostor"):
        units = list(self.units.values())
        if not units:
            return
        unit = pick_from([u for u in units if u.listing] or units, pick)
        caller = ("brand2" if unit.merchant == "brand" else "brand") if impostor else unit.merchant
        if unit.listing is None:
            error = err("ReturnEscrowNotListed", unit.unit)
        elif caller != unit.merchant:
            error = err("ReturnEscrowNotMerchant", self.addr(caller))
        else:
            error = None
        if self.expect(error, lambda: self.escrow.delist(unit.unit, {"from": self.acct(caller)}), "delist") is not None:
            unit.listing = None

    def balance(self, currency: str, account: str) -> int:
        return web3.eth.get_balance(account) if currency == ZERO_ADDRESS else self.token.balanceOf(account)

    # ------------------------------------------------------------------ closing units (the merchant's side)

    def rule_decommission(self, pick="st_pick", closer="st_closer", among="st_among"):
        """Adversarial merchant (issue 9 item 1): the brand decommissions a unit whatever holds it (an
        open order, a reservation, a listing), a rival brand decommissions it, a carrier tries; only
        the brand's own unlisted stock closes (`among`: held units, the brand's stock, or any)."""
        units = list(self.units.values())
        if not units:
            return
        held = [u for u in units if u.listing or (u.last_order and not self.orders[u.last_order].back_in_stock)]
        stock = [u for u in units if u not in held and not u.closed]
        pool = {"held": held, "stock": stock}.get(among) or units
        unit = pick_from(pool, pick)
        signer = {"rival": "brand2" if unit.merchant == "brand" else "brand", "carrier": "carrier"}.get(
            closer, unit.merchant
        )
        last = self.orders.get(unit.last_order)
        if signer == "carrier":
            error = err("TraceRegistryRoleNotAllowed", self.addr(signer), DECOMMISSIONING, 1)
        elif signer != unit.merchant:
            error = err("TraceRegistryNotBrandOf", self.addr(signer), unit.gtin)
        elif unit.closed:
            error = err("TraceRegistryUnitClosed", unit.unit)
        elif unit.listing is not None or (last is not None and not (last.back_in_stock or last.returned_to_merchant)):
            error = err("TraceRegistryClosingNotAllowed", unit.unit, self.addr(signer))
        else:
            error = None
        batch = self.ops.decommission_batch(signer, unit.gtin, unit.serial, event_time=latest_time())
        send = lambda: self.registry.decommission([batch], {"from": self.ops.relayer})  # noqa: E731
        label = "decommission_" + ("held" if unit in held else "stock")
        if self.expect(error, send, label) is None:
            return
        self.used_signature(self.registry, signer)
        self.replay_fails(self.registry, signer, send)
        unit.closed = True

    def rule_partner_close(self, pick="st_pick", closer="st_closer", alt="st_alt"):
        """A partner closes a unit by its receipt (charity: Donated, recycler: Recycled) or its
        destruction (warehouse: Destroying; a carrier: Destroyed on a step of its own): only a unit a
        settled order's attested facts send that way, never one an order holds. `merchant`: the
        merchant's partner for the unit's disposition (if any), the others as drawn."""
        units = [u for u in self.units.values() if u.last_order]
        if not units:
            return
        settled = [
            u for u in units if self.orders[u.last_order].status == Status.SETTLED and self.orders[u.last_order].grade
        ]
        unit = pick_from(settled if settled and not alt else units, pick)
        o = self.orders[unit.last_order]
        if closer in ("merchant", "rival"):
            wanted = o.disposition() if o.grade else 0
            partner = next((p for p, (_, _, follows) in PARTNER_CLOSINGS.items() if follows == wanted), "charity")
        else:
            partner = closer
        step, disposition, follows = PARTNER_CLOSINGS[partner]
        if unit.closed:
            error = err("TraceRegistryUnitClosed", unit.unit)
        elif o.status != Status.SETTLED or o.grade == Grade.NONE or o.disposition() != follows:
            error = err("TraceRegistryClosingNotAllowed", unit.unit, self.addr(partner))
        else:
            error = None
        batch = self.ops.parcel_batch(partner, step, disposition, [(unit.unit, bytes(32))], event_time=latest_time())
        send = lambda: self.registry.record([batch], {"from": self.ops.relayer})  # noqa: E731
        label = f"close_{partner}_" + ("held" if o.status not in TERMINAL else "settled")
        if self.expect(error, send, label) is None:
            return
        self.used_signature(self.registry, partner)
        self.replay_fails(self.registry, partner, send)
        unit.closed = True

    # ------------------------------------------------------------------ registry scans (the relayer may be late)

    def scan(self, orders: list[OrderModel], actor: str, batch: tuple) -> list[Scan] | None:
        """Records a signed scan batch (one event per order): refused if a unit is closed; else
        checks that its replay fails and returns each event's Scan."""
        closed = next((self.units[o.unit].unit for o in orders if self.units[o.unit].closed), None)
        send = lambda: self.registry.record([batch], {"from": self.ops.relayer})  # noqa: E731
        if closed is not None:
            with brownie.reverts(err("TraceRegistryUnitClosed", closed)):
                send()
            self.stats["scan_closed_unit:revert"] += 1
            return None
        tx = send()
        self.used_signature(self.registry, actor)
        self.replay_fails(self.registry, actor, send)
        return [Scan(min(event[4], tx.timestamp), tx.timestamp, event[3]) for event in batch[1]]

    def do_deliver(self, *orders: OrderModel, lag: int = 0) -> None:
        """The carrier's delivery scan under each order's orderRef (one parcel for several), signed `lag` seconds before
        it is recorded."""
        refs = [(o.unit, order_ref(self.escrow, o.id)) for o in orders]
        batch = self.ops.parcel_batch(
            "carrier", BizStep.DELIVERING, Disposition.DELIVERED, refs, event_time=latest_time() - lag
        )
        scans = self.scan(list(orders), "carrier", batch)
        for o, s in zip(orders, scans or (), strict=False):  # no scans when refused
            o.delivery = o.delivery or s  # the first scan counts
            assert self.escrow.deliveredAt(o.id) == o.delivered_at
        self.stats["deliver" + ("_late" if lag > orders[0].relay else "")] += 1

    def rule_deliver(self, pick="st_pick", alt="st_alt", lag="st_lag"):
        o = self.choose(pick, alt, lambda o: o.status == Status.ACTIVE and not o.delivery)
        if o is not None:
            self.do_deliver(o, lag=lag)

    def do_receive(self, *orders: OrderModel, location: int = LOC_HOME, lag: int = 0) -> None:
        """The return warehouse's receiving scan at `location` under each order's rmaRef."""
        refs = [(o.unit, rma_ref(self.escrow, o.id)) for o in orders]
        batch = self.ops.parcel_batch(
            "warehouse",
            BizStep.RECEIVING,
            Disposition.RETURNED,
            refs,
            event_time=latest_time() - lag,
            location=location,
        )
        scans = self.scan(list(orders), "warehouse", batch)
        for o, s in zip(orders, scans or (), strict=False):  # no scans when refused
            o.receipt = self.return_scan(o, o.receipt, s)
            assert self.escrow.returnReceivedAt(o.id) == o.received_at
        self.stats["receive"] += 1

    def return_scan(self, o: OrderModel, kept: Scan | None, scan: Scan) -> Scan:
        """The scan the registry keeps under the order's RMA: the first, unless it was recorded before
        the return request (or there is none yet) while the order is its unit's last: such a scan proves
        nothing, and the next one replaces it (TraceRegistry._recordMilestone asks
        ReturnEscrow.scanPredatesOrder)."""
        predates = kept is not None and (o.requested_at == 0 or kept.recorded < o.requested_at)
        return scan if kept is None or (predates and self.units[o.unit].last_order == o.id) else kept

    @staticmethod
    def center_of(market: int) -> int:
        for location, (org, markets) in RETURN_CENTERS.items():
            if org == WAREHOUSE_ORG and markets >> market & 1:
                return location
        return LOC_HOME

    @staticmethod
    def accredited(location: int, market: int) -> bool:
        org, markets = RETURN_CENTERS.get(location, (0, 0))
        return org == WAREHOUSE_ORG and bool(markets >> market & 1)

    def rule_receive(self, pick="st_pick", alt="st_alt", location="st_location", lag="st_lag"):
        """The warehouse scans a return in, unless its merchant is the one that never scans returns."""
        o = self.choose(pick, alt, lambda o: o.status == Status.RETURN_REQUESTED and not o.receipt)
        if o is None:
            return
        if o.merchant == self.silent_merchant:
            self.stats["receive_withheld"] += 1
            return
        self.do_receive(o, location=self.center_of(o.market) if location == "center" else location, lag=lag)

    def do_dispatch(self, o: OrderModel, lag: int = 0) -> None:
        """The carrier's pickup of the return (Accepting under the RMA): the buyer's proof of dispatch."""
        batch = self.ops.parcel_batch(
            "carrier",
            BizStep.ACCEPTING,
            Disposition.IN_TRANSIT,
            [(o.unit, rma_ref(self.escrow, o.id))],
            event_time=latest_time() - lag,
        )
        scans = self.scan([o], "carrier", batch)
        if scans:
            o.dispatch = self.return_scan(o, o.dispatch, scans[0])
            assert self.escrow.dispatchedAt(o.id) == o.dispatched_at
        self.stats["dispatch"] += 1

    def rule_dispatch(self, pick="st_pick", alt="st_alt", lag="st_lag"):
        o = self.choose(pick, alt, lambda o: o.status == Status.RETURN_REQUESTED and not o.dispatch)
        if o is not None:
            self.do_dispatch(o, lag)

    # ------------------------------------------------------------------ returns

    def return_opened(self, o: OrderModel, tx, reason: int, truth: int) -> None:
        """Books a return request (the buyer's, or a defect claim turned into one) and checks its event."""
        o.status, o.requested_at, o.reason, o.true_facts = Status.RETURN_REQUESTED, tx.timestamp, reason, truth
        o.in_withdrawal = o.withdrawal_open(tx.timestamp)
        event = tx.events["ReturnRequested"]
        assert (event["orderId"], event["buyer"], event["reason"], event["inWithdrawal"], event["remedy"]) == (
            o.id,
            self.addr(o.buyer),
            reason,
            o.in_withdrawal,
            o.remedy,
        )
        if o.in_withdrawal:
            self.stats["request_in_withdrawal"] += 1

    def do_request(
        self, o: OrderModel | None, reason: int, by_sig: bool, impostor: bool, remedy: int, truth: int
    ) -> None:
        if o is None:
            return
        caller = self.other_buyer(o.buyer) if impostor else o.buyer
        now = self.now([o])
        error = None
        if reason > 6:
            error = err("ReturnEscrowInvalidReason", reason)
        elif o.status != Status.ACTIVE:
            error = self.status_error(o)
        elif caller != o.buyer:
            error = err("ReturnEscrowNotBuyer", o.id, self.addr(caller))
        elif not o.delivered_at:
            error = err("ReturnEscrowNotDelivered", o.id)
        elif now > o.closes_at:
            error = err("ReturnEscrowReturnWindowClosed", o.id, o.closes_at)
        elif remedy > 1:
            error = err("ReturnEscrowInvalidRemedy", remedy)
        elif remedy == Remedy.EXCHANGE and not o.policy.exchange_offered:
            error = err("ReturnEscrowExchangeNotOffered", o.id)
        if by_sig:
            request, sig = self.ops.signed_return_request(o.id, reason, caller, remedy)
            send = lambda: self.escrow.requestReturnBySig(request, sig, {"from": self.acct("stranger")})  # noqa: E731
        else:
            send = lambda: self.escrow.requestReturn(o.id, reason, remedy, {"from": self.acct(caller)})  # noqa: E731
        tx = self.expect(
            error,
            send,
            ("request_by_sig" if by_sig else "request") + ("_exchange" if remedy == Remedy.EXCHANGE else ""),
        )
        if tx is None:
            return
        assert tx.timestamp == now  # the model's clock is exact
        if by_sig:
            self.used_signature(self.escrow, caller)
            self.replay_fails(self.escrow, caller, send)
        o.remedy = remedy
        self.return_opened(o, tx, reason, truth)

    def rule_request_return(
        self,
        pick="st_pick",
        alt="st_alt",
        reason="st_reason",
        by_sig="st_bool",
        impostor="st_impostor",
        remedy="st_remedy",
        truth="st_truth",
    ):
        now = self.clock()
        o = self.choose(pick, alt, lambda o: o.status == Status.ACTIVE and o.delivered_at and now < o.closes_at)
        self.do_request(o, reason, by_sig, impostor, remedy, truth)

    def rule_choose_remedy(self, pick="st_pick", alt="st_alt", remedy="st_remedy", impostor="st_impostor"):
        """The exchange stays revocable until the refund is paid (EU 2011/83 Art. 13(1))."""
        o = self.choose(pick, alt, lambda o: o.status in RETURNING)
        if o is None:
            return
        caller = self.other_buyer(o.buyer) if impostor else o.buyer
        error = self.buyer_error(o, caller)
        if error is None:
            if o.status not in RETURNING:
                error = self.status_error(o)
            elif remedy > 1:
                error = err("ReturnEscrowInvalidRemedy", remedy)
            elif remedy == Remedy.EXCHANGE and not o.policy.exchange_offered:
                error = err("ReturnEscrowExchangeNotOffered", o.id)
        tx = self.expect(
            error, lambda: self.escrow.chooseRemedy(o.id, remedy, {"from": self.acct(caller)}), "choose_remedy"
        )
        if tx is not None:
            assert tx.events["RemedyChosen"]["remedy"] == remedy
            o.remedy = remedy

    # ------------------------------------------------------------------ inspections (the inspector may lie)

    INSPECTABLE = (Status.RETURN_REQUESTED, Status.SECOND_INSPECTION, Status.REFUNDED)

    def attest_error(self, o: OrderModel, inspector: str, now: int) -> str | None:
        """ReturnInspection.check, in its order (before the signature)."""
        refunded = o.status == Status.REFUNDED and o.grade == Grade.NONE
        attesting = o.status == Status.DISPUTED and not o.inspector_org  # a party's dispute before any inspection
        if o.status not in (Status.RETURN_REQUESTED, Status.SECOND_INSPECTION) and not refunded and not attesting:
            return self.status_error(o)
        if inspector == "warehouse":
            return err("ReturnEscrowNotInspector", self.addr(inspector))
        org = self.org(inspector)
        if org in (self.org(o.merchant), self.org(o.buyer)) or (
            (o.status == Status.SECOND_INSPECTION or attesting) and org == o.first_org
        ):
            return err("ReturnEscrowInspectorNotIndependent", self.addr(inspector), org)
        if not refunded:
            if not o.received_at:
                return err("ReturnEscrowNotReturned", o.id)
            if now > o.sla_end:
                return err("ReturnEscrowSlaElapsed", o.id, o.sla_end)
        return None

    def accredited_receipt(self, o: OrderModel) -> bool:
        return bool(o.received_at) and self.accredited(o.receipt.location, o.market)

    def do_attest(self, o: OrderModel, mode: str, drawn: int, dim_pct: int, inspector: str) -> None:
        """An attestation. `truth`: the unit's true facts and the grade they give (a second opinion:
        the first one's); `lie`: other facts, the grade they give; `mismatch`: a grade the facts do not give."""
        truth = o.true_facts if o.true_facts is not None else drawn
        # A second opinion is due: after a first one, or after a first house's attestation during a dispute.
        second_due = o.status == Status.SECOND_INSPECTION or (o.status == Status.DISPUTED and o.first_opinion)
        if mode == "truth":
            facts = o.first_opinion[0] if second_due else truth
        else:
            facts = drawn if drawn != truth else drawn ^ USED
        derived = model_grade(o.policy, facts)
        if mode == "truth" and second_due:
            claimed = o.first_opinion[1]
        else:
            claimed = derived if mode != "mismatch" else derived % 3 + 1
        diminished = o.price * dim_pct // 100
        now = self.now([o])
        error = self.attest_error(o, inspector, now)
        # Refund upon return comes before the inspection: the escrow releases it first, in the same call.
        releases = o.status == Status.RETURN_REQUESTED and o.policy.refund_on_return and self.accredited_receipt(o)
        before = Status.REFUNDED if releases else o.status
        if error is None and before in (Status.REFUNDED, Status.DISPUTED) and claimed != derived:
            error = err("ReturnEscrowGradeMismatch", o.id, claimed, derived)
        inspection, sig = self.ops.signed_inspection(o.id, facts, claimed, inspector, diminished)
        send = lambda: self.escrow.submitInspection(inspection, sig, {"from": self.ops.relayer})  # noqa: E731
        label = {
            Status.SECOND_INSPECTION: "attest_second",
            Status.REFUNDED: "attest_disposition",
            Status.DISPUTED: "attest_in_dispute",
        }.get(before, "attest") + f"_{mode}"
        tx = self.expect(error, send, label)
        if tx is None:
            return
        assert tx.timestamp == now
        self.used_signature(self.escrow, inspector)
        if releases:
            assert tx.events["RefundReleasedOnReceipt"]["location"] == o.receipt.location
            self.settle_unproved(o, tx, Path.ON_RECEIPT)
        else:
            assert "RefundReleasedOnReceipt" not in tx.events
        submitted = tx.events["InspectionSubmitted"]
        assert (
            submitted["facts"],
            submitted["claimedGrade"],
            submitted["derivedGrade"],
            submitted["diminishedValue"],
        ) == (facts, claimed, derived, diminished)
        high = bool(o.currency_terms[3]) and o.price > o.currency_terms[3]
        if before == Status.DISPUTED:  # attested for the arbiter; the order stays disputed
            assert "OrderDisputed" not in tx.events and "OrderSettled" not in tx.events
            o.lie_stands = facts != truth
            if high and not o.first_org:  # the first house's facts wait for a second house's
                o.first_opinion, o.first_org = (facts, claimed), self.org(inspector)
                o.facts, o.grade, o.diminished = facts, Grade.NONE, diminished
                assert tx.events["SecondInspectionRequired"]["firstOrganization"] == o.first_org
            else:
                agree = not high or facts == o.facts
                o.diminished = min(o.diminished, diminished) if high else diminished
                o.facts, o.grade, o.inspector_org = facts, claimed if agree else Grade.NONE, self.org(inspector)
            replay = self.attest_error(o, inspector, self.clock())
            assert replay is not None, o
            with brownie.reverts(replay):
                send()
            return
        second = before == Status.SECOND_INSPECTION
        disagrees = claimed != derived or (second and (facts, claimed) != o.first_opinion)
        o.facts, o.grade = facts, claimed
        o.diminished = min(o.diminished, diminished) if second else diminished
        o.lie_stands = facts != truth
        if before == Status.REFUNDED:  # the money moved already: only the unit's fate is decided
            decided = tx.events["DispositionDecided"]
            assert (decided["orderId"], decided["grade"], decided["disposition"]) == (o.id, claimed, o.disposition())
            assert tx.events["OrderSettled"] if releases else "OrderSettled" not in tx.events
            o.status = Status.SETTLED
        elif disagrees:
            if second or high:
                o.grade = Grade.NONE  # no two houses agreed: a lapse counts the inspections as none
            o.inspector_org = self.org(inspector)
            self.open_dispute(o, tx, by=ZERO_ADDRESS)
        elif not second and high:
            o.status, o.first_opinion, o.first_org = Status.SECOND_INSPECTION, (facts, claimed), self.org(inspector)
            event = tx.events["SecondInspectionRequired"]
            assert (event["orderId"], event["firstOrganization"]) == (o.id, o.first_org)
        elif claimed == Grade.A:
            self.settle_by_facts(o, tx, Path.GRADED, Grade.A)
        else:
            o.status, o.dispute_deadline = Status.INSPECTED, tx.timestamp + o.policy.dispute_window
            o.inspector_org = self.org(inspector)
            assert tx.events["OrderInspected"]["disputeDeadline"] == o.dispute_deadline
        # The same attestation again: refused (the order moved on, or the first inspector's house may
        # not give the second opinion), its nonce spent.
        replay = self.attest_error(o, inspector, self.clock())
        assert replay is not None, o
        with brownie.reverts(replay):
            send()

    def rule_attest(
        self, pick="st_pick", alt="st_alt", mode="st_attest", facts="st_facts", dim="st_dim", inspector="st_inspector"
    ):
        now = self.clock()
        o = self.choose(
            pick,
            alt,
            lambda o: (
                (o.status in (Status.RETURN_REQUESTED, Status.SECOND_INSPECTION) and o.received_at and now < o.sla_end)
                or (o.status == Status.DISPUTED and not o.inspector_org and o.received_at and now < o.sla_end)
                or (o.status == Status.REFUNDED and not o.grade)
            ),
        )
        if o is None:
            return
        second_due = o.status == Status.SECOND_INSPECTION or (o.status == Status.DISPUTED and o.first_opinion)
        if second_due and mode == "truth" and inspector in ("inspector", "inspector2"):
            inspector = "inspector2" if self.org("inspector") == o.first_org else "inspector"  # mostly another house
        if o.status == Status.REFUNDED and mode == "mismatch":
            mode = "truth"  # a disposition-only inspection must be consistent (else GradeMismatch: tried on RR orders)
        self.do_attest(o, mode, facts, dim, inspector)

    def open_dispute(self, o: OrderModel, tx, by: str) -> None:
        o.status, o.disputed_at = Status.DISPUTED, tx.timestamp
        event = tx.events["OrderDisputed"]
        assert (event["orderId"], event["by"], event["decideBy"]) == (o.id, by, o.lapses_at)

    def rule_accept(self, pick="st_pick", alt="st_alt", impostor="st_impostor"):
        o = self.choose(pick, alt, lambda o: o.status == Status.INSPECTED)
        if o is None:
            return
        caller = self.other_buyer(o.buyer) if impostor else o.buyer
        error = self.buyer_error(o, caller) or (self.status_error(o) if o.status != Status.INSPECTED else None)
        tx = self.expect(error, lambda: self.escrow.acceptInspection(o.id, {"from": self.acct(caller)}), "accept")
        if tx is not None:
            self.settle_by_facts(o, tx, Path.GRADED, o.grade)

    def rule_contest(self, pick="st_pick", alt="st_alt", impostor="st_impostor"):
        now = self.clock()
        o = self.choose(pick, alt, lambda o: o.status == Status.INSPECTED and now < o.dispute_deadline)
        if o is None:
            return
        caller = self.other_buyer(o.buyer) if impostor else o.buyer
        now = self.now([o])
        error = self.buyer_error(o, caller)
        if error is None and o.status != Status.INSPECTED:
            error = self.status_error(o)
        elif error is None and now > o.dispute_deadline:
            error = err("ReturnEscrowDisputeWindowClosed", o.id, o.dispute_deadline)
        tx = self.expect(error, lambda: self.escrow.contest(o.id, {"from": self.acct(caller)}), "contest")
        if tx is not None:
            self.open_dispute(o, tx, by=self.addr(caller))

    def rule_finalize(self, pick="st_pick", alt="st_alt", wait="st_wait"):
        now = self.clock()
        o = self.choose(pick, alt, lambda o: o.status == Status.INSPECTED and (wait or now > o.dispute_deadline))
        if wait:
            self.wait_past(o, lambda o: o.status == Status.INSPECTED and o.dispute_deadline)
        if o is None:
            return
        now = self.now([o])
        error = None
        if o.status != Status.INSPECTED:
            error = self.status_error(o)
        elif now <= o.dispute_deadline:
            error = err("ReturnEscrowWindowOpen", o.id, o.dispute_deadline)
        tx = self.expect(error, lambda: self.escrow.finalize(o.id, {"from": self.acct("stranger")}), "finalize")
        if tx is not None:
            self.settle_by_facts(o, tx, Path.GRADED, o.grade)

    # ------------------------------------------------------------------ disputes (the arbiter may never act)

    def rule_open_dispute(self, pick="st_pick", alt="st_alt", who="st_disputer"):
        """A dispute before any inspection: the buyer or the merchant's side (its staff included)."""
        o = self.choose(pick, alt, lambda o: o.status == Status.RETURN_REQUESTED)
        if o is not None:
            self.do_open_dispute(o, who)

    def rule_open_dispute_after_receipt(self, pick="st_pick", alt="st_alt", who="st_disputer"):
        """The same, once the unit is received and before its inspection (a buyer's dispute there must not
        keep the inspector out: the attestation goes to the arbiter)."""
        now = self.clock()
        o = self.choose(pick, alt, lambda o: o.status == Status.RETURN_REQUESTED and o.received_at and now < o.sla_end)
        if o is not None:
            self.do_open_dispute(o, who)

    def do_open_dispute(self, o: OrderModel, who: str) -> None:
        caller = {"buyer": o.buyer, "merchant": o.merchant}.get(who, who)
        now = self.now([o])
        if o.status != Status.RETURN_REQUESTED:
            error = self.status_error(o)
        elif caller != o.buyer and not self.merchant_side(o, caller):
            error = err("ReturnEscrowNotMerchantSide", o.id, self.addr(caller))
        elif o.disputed_at:  # once: re-opening each lapsed dispute would hold the money for ever
            error = err("ReturnEscrowAlreadyDisputed", o.id, o.disputed_at)
        else:
            error = None
        tx = self.expect(
            error, lambda: self.escrow.openDispute(o.id, {"from": self.acct(caller)}), f"open_dispute_{who}"
        )
        if tx is not None:
            assert tx.timestamp == now
            self.open_dispute(o, tx, by=self.addr(caller))

    def rule_arbitrate(self, pick="st_pick", alt="st_alt", facts="st_facts", dim="st_dim", impostor="st_impostor"):
        """The arbiter states the unit's true facts (correcting a lying inspector) within its time; a
        silent arbiter (some examples) never does, and an impostor is refused."""
        o = self.choose(pick, alt, lambda o: o.status == Status.DISPUTED and self.clock() < o.lapses_at)
        if o is None or (self.arbiter_silent and not impostor):
            return
        caller = "stranger" if impostor else "arbiter"
        stated = o.true_facts if o.true_facts is not None else facts
        diminished = o.price * dim // 100
        now = self.now([o])
        if impostor:
            error = err("AccessControlUnauthorizedAccount", self.addr(caller), self.arbiter_role)
        elif o.status != Status.DISPUTED:
            error = self.status_error(o)
        elif now > o.lapses_at:
            error = err("ReturnEscrowDisputeLapsed", o.id, o.lapses_at)
        else:
            error = None

        def send():
            return self.escrow.resolveDispute(
                o.id, stated, diminished, b"\x01" * 32, b"\x02" * 32, {"from": self.acct(caller)}
            )

        tx = self.expect(error, send, "arbitrate")
        if tx is None:
            return
        grade = model_grade(o.policy, stated)
        resolved = tx.events["DisputeResolved"]
        assert (
            resolved["orderId"],
            resolved["arbiter"],
            resolved["facts"],
            resolved["grade"],
            resolved["diminishedValue"],
        ) == (o.id, self.addr(caller), stated, grade, diminished)
        if o.lie_stands:
            self.stats["arbiter_corrected_a_lie"] += 1
        o.facts, o.diminished, o.lie_stands = stated, diminished, False
        self.settle_by_facts(o, tx, Path.ARBITRATED, grade)

    def rule_settle_lapsed_dispute(self, pick="st_pick", alt="st_alt", wait="st_wait"):
        """Anyone ends a dispute the arbiter let lapse: by the attested facts, or back to the return's own timeouts."""
        o = self.choose(pick, alt, lambda o: o.status == Status.DISPUTED)
        if wait:
            self.wait_past(o, lambda o: o.status == Status.DISPUTED and o.lapses_at)
        if o is None:
            return
        now = self.now([o])
        if o.status != Status.DISPUTED:
            error = self.status_error(o)
        elif now <= o.lapses_at:
            error = err("ReturnEscrowWindowOpen", o.id, o.lapses_at)
        else:
            error = None
        tx = self.expect(
            error, lambda: self.escrow.settleLapsedDispute(o.id, {"from": self.acct("stranger")}), "settle_lapsed"
        )
        if tx is None:
            return
        assert tx.events["DisputeLapsed"]["decideBy"] == o.lapses_at
        if o.grade == Grade.NONE:
            o.status = Status.RETURN_REQUESTED
            assert "OrderSettled" not in tx.events
            self.stats["lapsed_back_to_return"] += 1
        else:
            self.settle_by_facts(o, tx, Path.ARBITER_SILENT, model_grade(o.policy, o.facts))

    # ------------------------------------------------------------------ the buyer's claims and the timeouts

    def rule_claim_uninspected(self, pick="st_pick", alt="st_alt", impostor="st_impostor", wait="st_wait"):
        uninspected = (Status.RETURN_REQUESTED, Status.SECOND_INSPECTION)
        now = self.clock()
        o = self.choose(pick, alt, lambda o: o.status in uninspected and o.received_at and (wait or now > o.sla_end))
        if wait:
            self.wait_past(o, lambda o: o.received_at and o.sla_end)
        if o is None:
            return
        caller = self.other_buyer(o.buyer) if impostor else o.buyer
        now = self.now([o])
        error = self.buyer_error(o, caller)
        if error is None:
            if o.status not in uninspected:
                error = self.status_error(o)
            elif not o.received_at:
                error = err("ReturnEscrowNotReturned", o.id)
            elif now <= o.sla_end:
                error = err("ReturnEscrowSlaNotElapsed", o.id, o.sla_end)
        tx = self.expect(
            error, lambda: self.escrow.claimUninspectedRefund(o.id, {"from": self.acct(caller)}), "claim_uninspected"
        )
        if tx is not None:
            self.refund_in_full(o, tx, Path.UNINSPECTED, Status.REFUNDED if o.grade == Grade.NONE else Status.SETTLED)

    def rule_claim_overdue(self, pick="st_pick", alt="st_alt", impostor="st_impostor", wait="st_wait"):
        now = self.clock()
        o = self.choose(
            pick,
            alt,
            lambda o: o.status in RETURNING and o.in_withdrawal and o.refund_due and (wait or now > o.refund_due),
        )
        if wait:
            self.wait_past(o, lambda o: o.status in RETURNING and o.refund_due)
        if o is None:
            return
        caller = self.other_buyer(o.buyer) if impostor else o.buyer
        now = self.now([o])
        error = self.buyer_error(o, caller)
        if error is None:
            if o.status not in RETURNING:
                error = self.status_error(o)
            elif not o.in_withdrawal:
                error = err("ReturnEscrowNotStatutory", o.id)
            elif not o.refund_due or now <= o.refund_due:
                error = err("ReturnEscrowRefundNotDue", o.id, o.refund_due)
        tx = self.expect(
            error, lambda: self.escrow.claimOverdueRefund(o.id, {"from": self.acct(caller)}), "claim_overdue"
        )
        if tx is None:
            return
        if o.grade != Grade.NONE:  # the attested facts decide, whatever grade was claimed
            self.settle_by_facts(o, tx, Path.OVERDUE, model_grade(o.policy, o.facts))
        else:
            self.settle_unproved(o, tx, Path.OVERDUE)

    def rule_claim_dispatched(self, pick="st_pick", alt="st_alt", impostor="st_impostor", wait="st_wait"):
        """The carrier's pickup proves the return; it never arrived: refunded as a sealed grade A unit."""
        now = self.clock()
        o = self.choose(
            pick,
            alt,
            lambda o: (
                o.status == Status.RETURN_REQUESTED
                and o.dispatched_at
                and not o.received_at
                and (wait or now > o.dispatch_due)
            ),
        )
        if wait:
            self.wait_past(o, lambda o: o.dispatched_at and o.dispatch_due)
        if o is None:
            return
        caller = self.other_buyer(o.buyer) if impostor else o.buyer
        now = self.now([o])
        error = self.buyer_error(o, caller)
        if error is None:
            if o.status != Status.RETURN_REQUESTED:
                error = self.status_error(o)
            elif not o.dispatched_at or o.received_at:
                error = err("ReturnEscrowNotDispatched", o.id)
            elif now <= o.dispatch_due:
                error = err("ReturnEscrowWindowOpen", o.id, o.dispatch_due)
        tx = self.expect(
            error, lambda: self.escrow.claimDispatchedRefund(o.id, {"from": self.acct(caller)}), "claim_dispatched"
        )
        if tx is not None:
            self.settle_unproved(o, tx, Path.DISPATCHED)

    def rule_refund_on_receipt(self, pick="st_pick", alt="st_alt"):
        o = self.choose(
            pick, alt, lambda o: o.status == Status.RETURN_REQUESTED and o.received_at and o.policy.refund_on_return
        )
        if o is None:
            return
        now = self.now([o])
        if o.status != Status.RETURN_REQUESTED:
            error = self.status_error(o)
        elif not o.policy.refund_on_return:
            error = err("ReturnEscrowNoRefundOnReturn", o.id)
        elif not o.received_at:
            error = err("ReturnEscrowNotReturned", o.id)
        elif not self.accredited(o.receipt.location, o.market):
            error = err("ReturnEscrowCenterNotAccredited", o.id, o.receipt.location, WAREHOUSE_ORG)
        elif now > o.sla_end:  # the buyer is owed the cash timeout refund instead
            error = err("ReturnEscrowSlaElapsed", o.id, o.sla_end)
        else:
            error = None
        tx = self.expect(
            error,
            lambda: self.escrow.releaseRefundOnReceipt(o.id, {"from": self.acct("stranger")}),
            "refund_on_receipt",
        )
        if tx is not None:
            assert tx.events["RefundReleasedOnReceipt"]["location"] == o.receipt.location
            self.settle_unproved(o, tx, Path.ON_RECEIPT)

    def rule_release(self, pick="st_pick", alt="st_alt", wait="st_wait"):
        now = self.clock()
        o = self.choose(
            pick, alt, lambda o: o.status == Status.ACTIVE and o.delivered_at and (wait or now > o.closes_at)
        )
        if wait:
            self.wait_past(o, lambda o: o.status == Status.ACTIVE and o.delivered_at and o.closes_at)
        if o is None:
            return
        now = self.now([o])
        error = None
        if o.status != Status.ACTIVE:
            error = self.status_error(o)
        elif not o.delivered_at:
            error = err("ReturnEscrowNotDelivered", o.id)
        elif now <= o.closes_at:
            error = err("ReturnEscrowWindowOpen", o.id, o.closes_at)
        tx = self.expect(error, lambda: self.escrow.release(o.id, {"from": self.acct("stranger")}), "release")
        if tx is not None:
            self.complete(o, tx)

    def rule_release_unreturned(self, pick="st_pick", alt="st_alt", wait="st_wait"):
        """The merchant asks to be paid for a return it never got (mostly one it never scanned in, sent
        back or not): refused once the chain counts a receipt or a dispatch."""
        now = self.clock()
        o = self.choose(
            pick,
            alt,
            lambda o: o.status == Status.RETURN_REQUESTED and not o.received_at and (wait or now > o.unreturned_after),
        )
        if wait:
            self.wait_past(o, lambda o: o.status == Status.RETURN_REQUESTED and o.unreturned_after)
        if o is None:
            return
        now = self.now([o])
        error = None
        if o.status != Status.RETURN_REQUESTED:
            error = self.status_error(o)
        elif o.received_at or o.dispatched_at:
            error = err("ReturnEscrowAlreadyReturned", o.id, o.received_at or o.dispatched_at)
        elif now <= o.unreturned_after:
            error = err("ReturnEscrowWindowOpen", o.id, o.unreturned_after)
        label = "release_unreturned" + ("_back" if o.received_at or o.dispatched_at else "")
        tx = self.expect(error, lambda: self.escrow.releaseUnreturned(o.id, {"from": self.acct(o.merchant)}), label)
        if tx is not None:
            self.complete(o, tx)

    def rule_cancel_undelivered(self, pick="st_pick", alt="st_alt", impostor="st_impostor", wait="st_wait"):
        now = self.clock()
        o = self.choose(
            pick,
            alt,
            lambda o: o.status == Status.ACTIVE and not o.delivered_at and (wait or now > o.cancellable_after),
        )
        if wait:
            self.wait_past(o, lambda o: o.status == Status.ACTIVE and not o.delivered_at and o.cancellable_after)
        if o is None:
            return
        caller = self.other_buyer(o.buyer) if impostor else o.buyer
        now = self.now([o])
        error = self.buyer_error(o, caller)
        if error is None:
            if o.status != Status.ACTIVE:
                error = self.status_error(o)
            elif o.delivered_at:
                error = err("ReturnEscrowAlreadyDelivered", o.id, o.delivered_at)
            elif now <= o.cancellable_after:
                error = err("ReturnEscrowWindowOpen", o.id, o.cancellable_after)
        tx = self.expect(error, lambda: self.escrow.cancelUndelivered(o.id, {"from": self.acct(caller)}), "cancel")
        if tx is not None:
            assert tx.events["OrderCancelled"]["refund"] == o.total
            o.status = Status.CANCELLED
            self.pay(o, Split(False, o.total, 0, 0), "OrderCancelled")

    # ------------------------------------------------------------------ defects and reissue (ReissueDesk)

    def rule_claim_defect(
        self, pick="st_pick", alt="st_alt", by_sig="st_bool", impostor="st_impostor", evidence="st_evidence"
    ):
        now = self.clock()
        o = self.choose(pick, alt, lambda o: o.status == Status.ACTIVE and o.delivered_at and now < o.closes_at)
        if o is not None:
            self.do_claim_defect(o, by_sig, impostor, evidence)

    def do_claim_defect(self, o: OrderModel, by_sig: bool, impostor: bool, evidence: bytes) -> None:
        caller = self.other_buyer(o.buyer) if impostor else o.buyer
        now = self.now([o])
        error = None
        if evidence == bytes(32):
            error = err("ReissueDeskEvidenceRequired")
        elif o.claim_rejected:
            error = err("ReissueDeskClaimRejected", o.id)
        elif o.status != Status.ACTIVE:
            error = self.status_error(o)
        elif caller != o.buyer:
            error = err("ReturnEscrowNotBuyer", o.id, self.addr(caller))
        elif not o.delivered_at:
            error = err("ReturnEscrowNotDelivered", o.id)
        elif now > o.closes_at:
            error = err("ReturnEscrowReturnWindowClosed", o.id, o.closes_at)
        if by_sig:
            claim, sig = self.ops.signed_defect_claim(o.id, evidence, caller)
            send = lambda: self.desk.claimDefectBySig(claim, sig, {"from": self.acct("stranger")})  # noqa: E731
        else:
            send = lambda: self.desk.claimDefect(o.id, evidence, {"from": self.acct(caller)})  # noqa: E731
        tx = self.expect(error, send, "claim_defect_by_sig" if by_sig else "claim_defect")
        if tx is None:
            return
        assert tx.timestamp == now
        if by_sig:
            self.used_signature(self.desk, caller)
            self.replay_fails(self.desk, caller, send)
        auto = o.price <= o.currency_terms[2]  # the currency's own limit in the market
        event = tx.events["DefectClaimed"]
        assert (event["orderId"], event["buyer"], event["autoApproved"]) == (o.id, self.addr(caller), auto)
        o.reason, o.requested_at = DEFECTIVE_REASON, tx.timestamp
        if auto:
            o.status, o.approved_at = Status.REISSUE_APPROVED, tx.timestamp
            self.stats["reissue_auto_approved"] += 1
        else:
            o.status, o.claimed_at = Status.DEFECT_CLAIMED, tx.timestamp

    def rule_decide_defect(self, pick="st_pick", alt="st_alt", approve="st_match", decider="st_decider"):
        """Above the limit the merchant's side may approve, the arbiter approve or reject (the pending time given
        back)."""
        o = self.choose(pick, alt, lambda o: o.status == Status.DEFECT_CLAIMED)
        if o is not None:
            self.do_decide_defect(o, approve, o.merchant if decider == "merchant" else decider)

    def do_decide_defect(self, o: OrderModel, approve: bool, caller: str) -> None:
        error = None
        now = self.now([o])
        if caller != "arbiter" and (not approve or not self.merchant_side(o, caller)):
            error = err("ReissueDeskNotDecider", o.id, self.addr(caller))
        elif o.claimed_at and now > o.decide_by:  # past its time the claim can only become a return
            error = err("ReissueDeskDecisionLapsed", o.id, o.decide_by)
        elif o.status != Status.DEFECT_CLAIMED:
            error = self.status_error(o)
        tx = self.expect(
            error,
            lambda: self.desk.decideDefectClaim(o.id, approve, {"from": self.acct(caller)}),
            "approve_defect" if approve else "reject_defect",
        )
        if tx is None:
            return
        assert tx.timestamp == now
        event = tx.events["DefectClaimDecided"]
        assert (event["orderId"], event["decider"], event["approved"]) == (o.id, self.addr(caller), approve)
        if approve:
            o.status, o.approved_at = Status.REISSUE_APPROVED, tx.timestamp
        else:
            o.status, o.claim_rejected = Status.ACTIVE, True
            o.window_extension += tx.timestamp - o.claimed_at  # the return period did not run while it was pending
        o.claimed_at = 0

    def defect_return_opened(self, o: OrderModel, tx, truth: int) -> None:
        """openDefectReturn: the time since the claim extends the return period; the return is requested now,
        unless the unit was received or its dispatch proved under the RMA since the claim: then it runs from
        the claim, so that those scans count."""
        assert tx.events["DefectReturnOpened"]["orderId"] == o.id
        claimed = o.requested_at
        back = o.received_at or o.dispatched_at  # read while requested_at is still the claim
        o.window_extension += tx.timestamp - claimed
        self.return_opened(o, tx, DEFECTIVE_REASON, truth)
        if back:
            o.requested_at = claimed
            self.stats["defect_return_already_back"] += 1
        if o.replacement is not None and self.units[o.replacement].last_order == o.id:
            self.units[o.replacement].last_order = 0  # the reservation is freed

    def rule_return_undecided_claim(self, pick="st_pick", alt="st_alt", wait="st_wait", truth="st_truth"):
        """Nobody decided a claim within the SLA: anyone turns it into a return at the merchant's expense, never an
        approval."""
        o = self.choose(pick, alt, lambda o: o.status == Status.DEFECT_CLAIMED)
        if wait:
            self.wait_past(o, lambda o: o.claimed_at and o.decide_by)
        if o is None:
            return
        now = self.now([o])
        if not o.claimed_at:
            error = err("ReissueDeskNoOpenClaim", o.id)
        elif now <= o.decide_by:
            error = err("ReissueDeskDecisionPending", o.id, o.decide_by)
        else:
            error = None
        tx = self.expect(
            error, lambda: self.desk.returnUndecidedClaim(o.id, {"from": self.acct("stranger")}), "return_undecided"
        )
        if tx is None:
            return
        assert tx.events["DefectClaimLapsed"]["decideBy"] == o.decide_by
        o.claimed_at = 0
        self.defect_return_opened(o, tx, truth)

    def reissue_ref(self, order_id: int) -> bytes:
        """IReissueDesk.reissueRef from its definition: keccak(abi.encode(orderRef, "REISSUE"))."""
        order_ref = keccak(abi_encode(["uint256", "address", "uint256"], [chain.id, self.escrow.address, order_id]))
        return keccak(abi_encode(["bytes32", "string"], [order_ref, "REISSUE"]))

    def rule_link_replacement(
        self,
        pick="st_pick",
        alt="st_alt",
        upick="st_pick",
        which="st_replacement",
        impostor="st_impostor",
        gtin="st_gtin",
    ):
        o = self.choose(pick, alt, lambda o: o.status == Status.REISSUE_APPROVED and o.replacement is None)
        if o is not None:
            self.do_link(o, alt, upick, which, impostor, gtin)

    def do_link(self, o: OrderModel, alt: bool, upick: int, which: str, impostor: bool, gtin: int) -> None:
        caller = ("brand2" if o.merchant == "brand" else "brand") if impostor else o.merchant
        if which == "existing" and self.units:
            unit = pick_from(list(self.units.values()), upick)
            gtin, serial, unit_id = unit.gtin, unit.serial, unit.unit
        else:
            if brand_of(gtin) != o.merchant and not alt:  # mostly one of the merchant's products
                gtin = GTIN_PLAIN if gtin == GTIN_SEALED else GTIN_SEALED
            unit = self.commission(gtin)[0] if which != "ghost" else None
            serial = unit.serial if unit else self.ops.next_serial("G")
            unit_id = gs1.unit_id(gtin, serial)
        last = self.orders.get(unit.last_order) if unit else None
        error = None
        if not o.approved_at:
            error = err("ReissueDeskNotApproved", o.id)
        elif o.replacement is not None:
            error = err("ReissueDeskReplacementLinked", o.id, o.replacement)
        elif caller != o.merchant or brand_of(gtin) != caller:
            error = err("ReissueDeskNotMerchant", o.id, self.addr(caller))
        elif unit is None or unit.closed:
            error = err("ReissueDeskUnavailableUnit", unit_id)
        elif o.status != Status.REISSUE_APPROVED:
            error = self.status_error(o)
        elif unit.listing is not None or (last is not None and not last.back_in_stock):
            error = err("ReturnEscrowUnitUnavailable", unit_id, unit.last_order)
        tx = self.expect(
            error, lambda: self.desk.linkReplacement(o.id, gtin, serial, {"from": self.acct(caller)}), f"link_{which}"
        )
        if tx is None:
            return
        event = tx.events["ReplacementLinked"]
        assert (event["orderId"], bytes(event["originalUnitId"]), bytes(event["replacementUnitId"])) == (
            o.id,
            o.unit,
            unit_id,
        )
        o.replacement, unit.last_order = unit_id, o.id
        assert self.escrow.lastOrderOf(unit_id) == o.id

    def rule_deliver_replacement(self, pick="st_pick", alt="st_alt", lag="st_lag"):
        """The carrier's delivery scan of a linked replacement under the desk's reissueRef (the first counts)."""
        o = self.choose(pick, alt, lambda o: o.replacement is not None and not o.replacement_delivered_at)
        if o is None or o.replacement is None:
            return
        ref = self.reissue_ref(o.id)
        assert bytes(self.desk.reissueRef(o.id)) == ref
        batch = self.ops.parcel_batch(
            "carrier", BizStep.DELIVERING, Disposition.DELIVERED, [(o.replacement, ref)], event_time=latest_time() - lag
        )
        closed = self.units[o.replacement].closed
        send = lambda: self.registry.record([batch], {"from": self.ops.relayer})  # noqa: E731
        if closed:
            with brownie.reverts(err("TraceRegistryUnitClosed", o.replacement)):
                send()
            return
        tx = send()
        self.used_signature(self.registry, "carrier")
        self.replay_fails(self.registry, "carrier", send)
        o.replacement_delivered_at = o.replacement_delivered_at or min(batch[1][0][4], tx.timestamp)
        self.stats["deliver_replacement"] += 1

    def rule_complete_reissue(self, pick="st_pick", alt="st_alt"):
        o = self.choose(pick, alt, lambda o: o.status == Status.REISSUE_APPROVED and o.replacement_delivered_at)
        if o is None:
            return
        if o.replacement is None:
            error = err("ReissueDeskNoReplacement", o.id)
        elif not o.replacement_delivered_at:
            error = err("ReissueDeskNotDelivered", o.id)
        elif o.status != Status.REISSUE_APPROVED:
            error = self.status_error(o)
        else:
            error = None
        tx = self.expect(
            error, lambda: self.desk.completeReissue(o.id, {"from": self.acct("stranger")}), "complete_reissue"
        )
        if tx is None:
            return
        event = tx.events["ReissueCompleted"]
        assert (event["orderId"], bytes(event["replacementUnitId"]), event["deliveredAt"]) == (
            o.id,
            o.replacement,
            o.replacement_delivered_at,
        )
        self.complete(o, tx, Status.REISSUED)

    def rule_claim_unfulfilled(
        self, pick="st_pick", alt="st_alt", impostor="st_impostor", wait="st_wait", truth="st_truth"
    ):
        """No replacement within deliveryTimeout (+ relay) of the approval: the defective unit goes back
        at the merchant's expense (a return), or, where the policy waives that, the buyer is refunded now."""
        now = self.clock()
        o = self.choose(
            pick,
            alt,
            lambda o: (
                o.status == Status.REISSUE_APPROVED and not o.replacement_delivered_at and (wait or now > o.reissue_due)
            ),
        )
        if wait:
            self.wait_past(o, lambda o: o.approved_at and o.reissue_due)
        if o is None:
            return
        caller = self.other_buyer(o.buyer) if impostor else o.buyer
        now = self.now([o])
        error = None
        if not o.approved_at:
            error = err("ReissueDeskNotApproved", o.id)
        elif caller != o.buyer:
            error = err("ReissueDeskNotBuyer", o.id, self.addr(caller))
        elif o.replacement_delivered_at:
            error = err("ReissueDeskAlreadyDelivered", o.id, o.replacement_delivered_at)
        elif now <= o.reissue_due:
            error = err("ReissueDeskDeliveryPending", o.id, o.reissue_due)
        elif o.status != Status.REISSUE_APPROVED:
            error = self.status_error(o)
        waived = o.policy.waive_defect_return
        tx = self.expect(
            error,
            lambda: self.desk.claimUnfulfilledReissue(o.id, {"from": self.acct(caller)}),
            "claim_unfulfilled" + ("_waived" if waived else ""),
        )
        if tx is None:
            return
        assert (tx.events["ReissueUnfulfilled"]["orderId"], tx.events["ReissueUnfulfilled"]["returnWaived"]) == (
            o.id,
            waived,
        )
        if waived:
            self.refund_in_full(o, tx, Path.REISSUE_FAILED, Status.SETTLED)
            if o.replacement is not None:
                self.units[o.replacement].last_order = 0
        else:
            self.defect_return_opened(o, tx, truth)
        if o.replacement is not None:
            assert self.escrow.lastOrderOf(o.replacement) == 0

    # ------------------------------------------------------------------ money and time

    def rule_withdraw(self, pick="st_pick", alt="st_alt", account="st_account", native="st_bool", elsewhere="st_bool"):
        """Withdraws a credit, to itself or (withdrawTo) to another address."""
        owed_now = [key for key, v in self.credits.items() if v]
        if owed_now and not alt:
            currency, account = pick_from(sorted(owed_now), pick)
        else:
            currency = ZERO_ADDRESS if native else self.token.address
        owed = self.credits[(currency, account)]
        to = "stranger" if elsewhere and account != "stranger" else account
        error = err("ReturnEscrowNothingToWithdraw", currency, self.addr(account)) if owed == 0 else None
        before = self.balance(currency, self.addr(to))
        if elsewhere:
            send = lambda: self.escrow.withdrawTo(currency, self.addr(to), {"from": self.acct(account)})  # noqa: E731
        else:
            send = lambda: self.escrow.withdraw(currency, {"from": self.acct(account)})  # noqa: E731
        tx = self.expect(error, send, "withdraw_to" if elsewhere else "withdraw")
        if tx is None:
            return
        gas = tx.gas_used * tx.gas_price if currency == ZERO_ADDRESS and to == account else 0
        event = tx.events["Withdrawn"]
        assert (event["currency"], event["account"], event["to"], event["amount"]) == (
            currency,
            self.addr(account),
            self.addr(to),
            owed,
        )
        assert self.balance(currency, self.addr(to)) == before + owed - gas
        self.credits[(currency, account)] = 0
        self.paid_out[currency] += owed

    def rule_time_passes(self, seconds="st_sleep"):
        self.sleep(seconds)
        self.stats["sleep"] += 1

    def initialize_orders(
        self,
        gtin="st_gtin",
        market="st_market",
        native="st_bool",
        prices="st_prices",
        fee="st_fee",
        pct="st_pct",
        facts="st_facts",
        mode="st_attest",
        exchange="st_bool",
        silent="st_alt",
        quiet="st_match",
    ):
        """Eight orders to start from, across markets, currencies, buyers and product classes:
        undelivered; delivered; return requested and picked up by the carrier; returned to the
        market's return center; inspected at grade B; attested by a (maybe lying or inconsistent)
        inspector; in a dispute opened before any inspection; defect-claimed. And one unit listed,
        not sold. Prices take the tiers in turn (under, at and above the auto-approval and the dual
        inspection amounts). With `exchange` every other request takes the exchange voucher where offered. Per
        example: maybe one merchant never scans returns (`silent`), and one example in three has an
        arbiter who never acts (`quiet` False)."""
        self.silent_merchant = brand_of(gtin) if silent else None
        self.arbiter_silent = not quiet
        other = GTIN_PLAIN if gtin == GTIN_SEALED else GTIN_SEALED
        mine, theirs = self.commission(gtin, count=5), self.commission(other, count=4)
        units = [mine[i // 2] if i % 2 == 0 else theirs[i // 2] for i in range(9)]
        orders = []
        for i, unit in enumerate(units):
            m = MARKETS[(market + i) % len(MARKETS)]
            currency = ZERO_ADDRESS if native ^ bool(i % 2) else self.token.address
            price = self.PRICE_TIERS[(prices[0] + i) % len(self.PRICE_TIERS)](prices[1] + i)
            self.list_terms(unit, m, currency, price, fee, price * pct // 100)
            if i < 8:  # the last stays listed
                orders.append(self.do_purchase(unit, ("buyer", "buyer2")[i % 2], confirms=bool(i % 3 == 0)))
        self.do_deliver(*orders[1:])  # one consolidated parcel
        truths = (SEAL | PACKAGING, SEAL | PACKAGING, PACKAGING, facts, SEAL | PACKAGING)
        for i, o in enumerate(orders[2:7]):
            remedy = Remedy.EXCHANGE if exchange and i % 2 == 0 and o.policy.exchange_offered else Remedy.REFUND
            self.do_request(o, i, by_sig=bool(i % 2), impostor=False, remedy=remedy, truth=truths[i])
        self.do_dispatch(orders[2])
        self.do_receive(orders[3], location=self.center_of(orders[3].market))  # refund on receipt where offered
        for o in orders[4:6]:
            if o.merchant != self.silent_merchant:
                self.do_receive(o, location=LOC_DOCK)
        if orders[4].received_at:
            self.do_attest(orders[4], "truth", 0, 0, "inspector2")  # opened, unused: B
        if orders[5].received_at:
            self.do_attest(orders[5], mode, facts ^ USED, 30, "inspector")
        self.do_open_dispute(orders[6], "buyer" if exchange else "staff" if orders[6].merchant == "brand" else "staff2")
        self.do_claim_defect(orders[7], by_sig=exchange, impostor=False, evidence=b"\x0e" * 32)
        if orders[7].status == Status.DEFECT_CLAIMED and quiet:
            self.do_decide_defect(orders[7], True, "staff" if orders[7].merchant == "brand" else "staff2")
        if orders[7].status == Status.REISSUE_APPROVED and not exchange:
            self.do_link(orders[7], False, 0, "fresh", False, gtin)

    # ------------------------------------------------------------------ invariants

    def owed(self, currency: str) -> int:
        escrowed = sum(o.total for o in self.orders.values() if o.currency == currency and o.escrowed)
        return escrowed + sum(v for (c, _), v in self.credits.items() if c == currency)

    def chain_view(self) -> dict:
        """Everything the invariants read, in one JSON-RPC batch per block (a read changes nothing,
        and each transaction mines a block: the view of a block holds until the next)."""
        block = web3.eth.block_number
        if getattr(self, "_view", None) and self._view["block"] == block:
            return self._view
        native, token = self.currencies
        pairs = [(c, name) for c in self.currencies for name in ACCOUNTS]
        holders = [(b, m, c) for b in ("buyer", "buyer2") for m in ("brand", "brand2") for c in self.currencies]
        reads = [
            self.escrow.address,
            (self.token.balanceOf, self.escrow.address),
            (self.escrow.totalOwed, native),
            (self.escrow.totalOwed, token),
            (self.escrow.orderCount,),
            *[(self.escrow.credits, c, self.addr(name)) for c, name in pairs],
            *[(self.points.pointsOf, self.addr(b), self.addr(m), c) for b, m, c in holders],
            *[(contract.getNonce, self.addr(name)) for contract, name in self.signers],
            *[(self.escrow.order, i) for i in self.orders],
        ]
        values = iter(read_batch(*reads))
        view = {
            "block": block,
            "held": {native: next(values), token: next(values)},
            "owed": {native: next(values), token: next(values)},
            "count": next(values),
        }
        view["credits"] = {key: next(values) for key in pairs}
        view["points"] = {key: next(values) for key in holders}
        view["nonces"] = {(contract.address, name): next(values) for contract, name in self.signers}
        view["orders"] = {i: next(values) for i in self.orders}
        self._view = view
        return view

    def invariant_conservation(self):
        """(a) Per currency: balance == totalOwed == the model's == paid in - paid out; credits and points as the
        model."""
        self.stats["steps"] += 1
        self.steps_run += 1
        view = self.chain_view()
        for currency in self.currencies:
            held, owed = view["held"][currency], view["owed"][currency]
            assert held == owed, f"escrow holds {held} but owes {owed} in {currency}"
            assert owed == self.owed(currency) == self.paid_in[currency] - self.paid_out[currency]
        for key, credit in view["credits"].items():
            assert credit == self.credits[key], key
        for key, balance in view["points"].items():
            assert balance == self.points_of[key], key

    def invariant_one_money_event_per_order(self):
        """(b) Each order's money leaves escrow once, by the kind of event the model booked."""
        logs = web3.eth.get_logs(
            {
                "address": self.escrow.address,
                "fromBlock": self.from_block,
                "topics": [["0x" + t.hex() for t in self.money_topics]],
            }
        )
        ends: dict[int, list[str]] = defaultdict(list)
        for log in logs:
            ends[int.from_bytes(bytes(log["topics"][1]), "big")].append(self.money_topics[bytes(log["topics"][0])])
        for o in self.orders.values():
            assert ends.get(o.id, []) == ([o.money_event] if o.money_event else []), o
            assert o.status not in TERMINAL or o.money_event, o

    def invariant_orders(self):
        """(c) Each stored order as the model has it; terminal statuses never change."""
        view = self.chain_view()
        assert view["count"] == len(self.orders)
        for o in self.orders.values():
            s = view["orders"][o.id]
            status = Status(s[2])
            got = (status, s[8], s[6], s[7], s[20], s[5], s[17], s[21], s[22], s[23])
            want = (
                o.status,
                o.remedy,
                o.facts,
                o.grade,
                o.diminished,
                o.in_withdrawal,
                o.requested_at,
                o.disputed_at,
                o.window_extension,
                o.inspector_org,
            )
            assert got == want, f"order {o.id}: chain {got}, model {want}"
            seen = self.seen_status.get(o.id)
            assert seen not in TERMINAL or status == seen, f"terminal order {o.id} moved {seen.name} -> {status.name}"
            self.seen_status[o.id] = status

    def invariant_nonces(self):
        """(d) Nonces only increase and count exactly the accepted signatures (replays are tried in the rules)."""
        for key, nonce in self.chain_view()["nonces"].items():
            assert nonce >= self.seen_nonces[key], f"nonce of {key[1]} went back"
            assert nonce == self.nonces[key], f"{key[1]}: {nonce} signatures used, model {self.nonces[key]}"
            self.seen_nonces[key] = nonce

    def invariant_withdrawal_floor(self):
        """(e) A cash withdrawal of an unused unit with its seal intact that came back is refunded at
        least price + (delivery where the law refunds it) - the told return shipping."""
        for o in self.orders.values():
            if not (o.paid and o.paid_returning and o.paid_back and o.in_withdrawal and o.paid_remedy == Remedy.REFUND):
                continue
            if o.true_facts is None or o.true_facts & USED or not o.true_facts & SEAL or o.paid_lie:
                continue
            floor = statutory_floor(o.law, o.terms(Remedy.REFUND))
            assert o.paid.refund >= floor, (
                f"order {o.id}: a withdrawal of an unused sealed unit refunded {o.paid.refund} < {floor} "
                f"({o.money_event})"
            )
            self.stats["floor_checked"] += 1

    def invariant_no_pay_for_a_unit_sent_back(self):
        """(f) Once the return was dispatched or received, without an inspection's or the arbiter's
        facts the buyer gets at least what a sealed grade A unit would (cash or voucher)."""
        for o in self.orders.values():
            if not (o.paid and o.paid_returning and o.paid_back) or o.paid_decided:
                continue
            least = unproved_settlement(
                o.law,
                o.policy,
                o.terms(Remedy.REFUND),
                in_withdrawal=o.in_withdrawal,
                defective_reason=o.reason == DEFECTIVE_REASON,
            ).refund
            got = o.paid.refund + o.paid.voucher - o.paid.bonus
            assert got >= least, (
                f"order {o.id}: the merchant kept a unit sent back without a decision ({o.money_event}: buyer "
                f"{got} < {least})"
            )
            self.stats["sent_back_checked"] += 1

    def timeout_of(self, o: OrderModel) -> tuple:
        """The call that ends (or moves on) an order in its state once enough time has passed: (function, caller)."""
        s = o.status
        if s == Status.ACTIVE:
            return (self.escrow.release, "stranger") if o.delivered_at else (self.escrow.cancelUndelivered, o.buyer)
        if s == Status.RETURN_REQUESTED:
            if o.received_at:
                return self.escrow.claimUninspectedRefund, o.buyer
            if o.dispatched_at:
                return self.escrow.claimDispatchedRefund, o.buyer
            return self.escrow.releaseUnreturned, "stranger"
        if s == Status.SECOND_INSPECTION:
            return self.escrow.claimUninspectedRefund, o.buyer
        if s == Status.INSPECTED:
            return self.escrow.finalize, "stranger"
        if s == Status.DISPUTED:
            return self.escrow.settleLapsedDispute, "stranger"
        if s == Status.DEFECT_CLAIMED:
            return self.desk.returnUndecidedClaim, "stranger"
        if s == Status.REISSUE_APPROVED:
            return (
                (self.desk.completeReissue, "stranger")
                if o.replacement_delivered_at
                else (self.desk.claimUnfulfilledReissue, o.buyer)
            )
        raise AssertionError(f"order {o.id}: no timeout for {s.name} with its money escrowed")

    def invariant_every_open_order_can_end(self):
        """(g) For each order whose money is escrowed, the timeout of its state succeeds 1,000 days
        from now (an eth_call with the block time moved, in one batch); where it only moves the order
        on (a lapsed dispute without facts, an undecided claim, a reissue whose unit must come back),
        the state it leads to has a timeout of its own (RETURN_REQUESTED: always)."""
        open_orders = [o for o in self.orders.values() if o.escrowed]
        if not open_orders:
            return
        when = hex(latest_time() + FAR)
        calls = []
        for o in open_orders:
            fn, caller = self.timeout_of(o)
            calls.append(
                {"to": fn._address, "from": self.addr(caller), "data": fn.encode_input(o.id), "gas": hex(10_000_000)}
            )
        payload = [
            {"jsonrpc": "2.0", "id": i, "method": "eth_call", "params": [c, "latest", {}, {"time": when}]}
            for i, c in enumerate(calls)
        ]
        answers = sorted(requests.post(self.rpc, json=payload, timeout=60).json(), key=lambda a: a["id"])
        for o, answer in zip(open_orders, answers, strict=True):
            assert "error" not in answer, f"order {o.id} ({o.status.name}) has no way out: {answer.get('error')}"
        self.stats["open_orders_checked"] += len(open_orders)

    def teardown_final(cls):  # called once on the class after all examples (brownie)
        print("\nstateful escrow coverage:", dict(sorted(cls.stats.items())))


@pytest.fixture
def block_clock():
    """Blocks exactly 1 s apart whatever the wall clock does (anvil_setBlockTimestampInterval), for
    the duration of the test; time moves on only by mining a block at a chosen timestamp. Each
    example then replays to the same timestamps, which hypothesis needs to shrink a failure."""
    web3.provider.make_request("anvil_setBlockTimestampInterval", [1])
    yield
    web3.provider.make_request("anvil_removeBlockTimestampInterval", [])


def test_escrow_lifecycle_state_machine(state_machine, block_clock, lab, ops, actors, token, ERC20Mock):
    state_machine(EscrowMachine, lab, ops, actors, token, ERC20Mock, settings=SETTINGS)
