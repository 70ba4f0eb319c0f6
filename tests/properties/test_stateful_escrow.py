"""Stateful test of ReturnEscrow: random sequences of the whole order lifecycle against a model.

Every rule either acts on an order for which its step applies, or (when none does, when the
rule draws `alt`, or when it draws an impostor caller) on any order, and then the model predicts
the exact custom error the contract must revert with. Nothing is silently skipped: with no order
at all, a rule asserts the unknown-order revert. Blocks are 1 s apart (`block_clock`), so the
model knows the timestamp of the next transaction exactly; still, predictions are never made
within EDGE seconds of a deadline (time is moved on first), and time-outs are claimed by sleeping
(mining a block) past their deadline.

Rules: list (commission + list a unit), relist, purchase (native coin or ERC-20), deliver
(carrier scan with orderRef), request a return (direct or EIP-712 signed; cash refund, exchange
voucher, or an invalid remedy), receive (warehouse scan with rmaRef at an accredited return
center of the order's market, or at a center of another market, one run by another
organisation, or an unaccredited dock), release the refund on receipt, attest (matching or
mismatching grade; first and second opinions above dualInspectionAbove, by the same or another
organisation or by an in-house inspector of the merchant; the disposition-only inspection of an
order refunded on receipt), contest, accept, finalize, arbitrate, claim the uninspected (also
after a second opinion that never came) / overdue refunds, release, release an unreturned unit,
cancel undelivered; on the ReissueDesk: claim a defect (direct or signed; auto-approved at or
under reissueAutoApproveLimit), decide it (arbiter, merchant, stranger; approve or reject), link a
replacement (fresh, any known unit, never commissioned), the replacement's delivery scan under
reissueRef, complete the reissue, claim the unfulfilled reissue; withdraw, and let hours to weeks
pass. Expected amounts (grade terms, exchange voucher = refund + exchangeBonusBps of it as points,
refund on receipt = a grade-A split with the seal taken as intact) come from the policy through
tests/properties/model.py, never from the contract.

Invariants after every step:
  (a) conservation: the escrow holds exactly totalOwed in the native coin and in the token, which
      equals the model (open escrow + credits) and everything paid in minus everything paid out;
      every credit and every points balance equals the model;
  (b) at most one money event (OrderSettled / OrderCompleted / OrderCancelled /
      RefundReleasedOnReceipt) per order in the logs, exactly one, of the kind the model booked,
      for an order whose money moved (every terminal order, and a Refunded one), none otherwise;
  (c) each order's on-chain status (and remedy) equals the model's, and a terminal status
      (Settled, Completed, Cancelled, Reissued) never changes;
  (d) nonces (registry, escrow and desk) only increase and count exactly the accepted signatures;
      every accepted signed message is re-submitted inside its rule and must revert.

Every example starts (initialize_orders) from seven orders at different stages, so deep states
(inspected, disputed, second inspection, refunded on receipt, reissue approved with or without a
replacement) are a step or two away. Prices are drawn in tiers around the presets' limits (1 coin
auto-approval, 5 coins dual inspection). Settlements are checked against the
independent model in tests/properties/model.py, to the wei.

Budget: hypothesis 6.27 spends its first ~20 examples on one-step runs and derives most later
ones by mutating earlier ones; how many steps "max_examples" 20 x 30 steps runs varies a lot
with the draws (200-1,000 steps, 1-3 min here; steps cost more than before the reissue/refund
rules, so max_examples went from 30 to 20). RT_STATEFUL_EXAMPLES=80 hunts longer. Run with -s to
see how often each operation succeeded or reverted.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from dataclasses import dataclass

import brownie
from eth_abi import encode as abi_encode
from eth_utils import keccak
import pytest
from brownie import ZERO_ADDRESS, chain, web3
from brownie.test import strategy
from hypothesis import HealthCheck
from hypothesis import strategies as st
from hypothesis.strategies._internal.featureflags import FeatureFlags

from returntrace import gs1
from returntrace.policies import DAY, Facts, Grade, Policy, UnitDisposition
from returntrace.vocab import BizStep, Disposition
from scripts import deploy
from tests.properties.conftest import ALL_MARKETS_MASK, GTIN_PLAIN, LOC_DOCK, LOC_HOME, LOC_PARTNER, LOC_US_DEPOT, PRODUCT_CLASSES, RETURN_CENTERS, WAREHOUSE_ORG, brand_of
from tests.properties.model import (
    TERMINAL,
    Split,
    Status,
    model_after_inspection,
    model_grade,
    model_settlement,
    policy_from_chain,
    refund_on_receipt_split,
    timeout_split,
)
from tests.support import GTIN_INT, MARKET_CN, MARKET_EU, MARKET_US, Remedy, err

EDGE = 5  # seconds kept between "now" and any deadline when predicting an outcome
HOUR = 3600
PRESET_MARKETS = (MARKET_EU, MARKET_US, MARKET_CN)
ACCOUNTS = ("buyer", "buyer2", "brand", "brand2", "stranger")
SEALED = {GTIN_INT: True, **{g: s for g, (_, s) in PRODUCT_CLASSES.items()}}
PRODUCT_MARKETS = {GTIN_INT: sum(1 << m for m in PRESET_MARKETS), **{g: ALL_MARKETS_MASK for g in PRODUCT_CLASSES}}
# The events that move an order's money out of escrow (into credits and points): exactly one per
# order whose money moved. RefundReleasedOnReceipt leaves the order Refunded (the disposition
# inspection then settles it without another money event); a reissue ends in OrderCompleted
# (delivered) or OrderSettled (grade None, unfulfilled).
MONEY_EVENTS = (
    "OrderSettled(uint256,uint8,bool,uint256,uint256,uint256,uint8)",
    "OrderCompleted(uint256,uint256)",
    "OrderCancelled(uint256,uint256)",
    "RefundReleasedOnReceipt(uint256,uint64,uint256,uint256,uint256)",
)

SETTINGS = {
    "max_examples": int(os.environ.get("RT_STATEFUL_EXAMPLES", "20")),  # more for a longer bug hunt
    "stateful_step_count": 30,
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}


@dataclass
class UnitModel:
    unit: bytes
    gtin: int
    serial: str
    merchant: str
    last_order: int = 0
    listing: tuple | None = None  # (market, currency, price, fee, ship) while listed


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
    policy: Policy
    sealed: bool
    purchased_at: int
    market: int = MARKET_EU
    status: Status = Status.ACTIVE
    delivery_scan: int = 0
    received_at: int = 0
    received_at_location: int = 0  # where the first receiving scan was made
    requested_at: int = 0
    request_statutory: bool = False
    remedy: int = Remedy.REFUND
    reason: int = 0
    facts: int = 0
    grade: int = 0
    dispute_deadline: int = 0
    first_opinion: tuple[int, int] | None = None  # (facts, grade) awaiting a second inspection
    first_org: int = 0  # the first inspector's organisation
    approved_at: int = 0  # ReissueDesk: the reissue's approval (kept after the order ends)
    replacement: bytes | None = None  # ReissueDesk: the linked replacement unit
    replacement_delivered_at: int = 0  # first delivery scan of the replacement under reissueRef
    money_event: str | None = None  # the one MONEY_EVENTS kind this order emitted

    @property
    def total(self) -> int:
        return self.price + self.fee

    @property
    def delivered_at(self) -> int:
        return max(self.delivery_scan, self.purchased_at) if self.delivery_scan else 0

    @property
    def closes_at(self) -> int:
        return self.delivered_at + max(self.policy.withdrawal_window, self.policy.return_window)

    @property
    def cancellable_after(self) -> int:
        return self.purchased_at + self.policy.delivery_timeout

    @property
    def sla_end(self) -> int:
        return max(self.received_at, self.requested_at) + self.policy.inspection_sla

    @property
    def refund_due(self) -> int:
        return max(self.requested_at + self.policy.refund_deadline, self.received_at)

    @property
    def unreturned_after(self) -> int:
        return self.requested_at + self.policy.delivery_timeout

    @property
    def reissue_due(self) -> int:
        """ReissueDesk.claimUnfulfilledReissue: the replacement may still arrive until then."""
        return self.approved_at + self.policy.delivery_timeout

    @property
    def escrowed(self) -> bool:
        """The order's price and fee are still held for it (no money event yet)."""
        return self.money_event is None

    @property
    def back_in_stock(self) -> bool:
        """The merchant may sell the unit again: the order was cancelled (never delivered), or the
        unit came back and is restocked (timeout refund after a return request, or a settled grade
        whose disposition is Restock); not while the order is open (Refunded included), nor once
        the buyer kept it (completed, reissued, or refunded for an unfulfilled reissue: the buyer
        keeps the defective unit) or it was donated, recycled or destroyed (IReturnEscrow.list)."""
        if self.status == Status.CANCELLED:
            return True
        if self.status != Status.SETTLED:
            return False
        if self.facts & Facts.DEFECTIVE:  # attested defective: never stock, whatever the grade terms say
            return False
        if self.grade == Grade.NONE:  # a timeout refund: back in stock unless attested used
            return self.requested_at != 0 and not self.facts & Facts.USED
        return self.policy.terms[self.grade - 1].disposition == UnitDisposition.RESTOCK

    def edges(self) -> list[int]:
        """Every instant at which some rule's outcome for this order flips."""
        e = [self.cancellable_after]
        if self.delivered_at:
            e += [self.delivered_at + self.policy.withdrawal_window, self.closes_at]
        if self.requested_at:
            e += [self.unreturned_after, self.refund_due]
            if self.received_at:
                e.append(self.sla_end)
        if self.dispute_deadline:
            e.append(self.dispute_deadline)
        if self.approved_at:
            e.append(self.reissue_due)
        return e


def latest_time() -> int:
    return int(web3.eth.get_block("latest")["timestamp"])


def pick_from(pool: list, pick: int):
    return pool[pick % len(pool)]


def read_batch(*reads) -> list:
    """Reads many views in one JSON-RPC batch (several times faster than one call each, and the
    invariants run after every step). A read is an address (its native balance) or a brownie
    view method followed by its arguments."""
    with web3.batch_requests() as batch:
        for r in reads:
            if isinstance(r, str):
                batch.add(web3.eth.get_balance(r))
            else:
                batch.add(web3.eth.call({"to": r[0]._address, "data": r[0].encode_input(*r[1:])}))
        raw = batch.execute()
    return [value if isinstance(r, str) else r[0].decode_output(value) for r, value in zip(reads, raw)]


class EscrowMachine:
    """Rules and invariants; state lives on the instance and is rebuilt by setup() per example."""

    st_pick = strategy("uint16")
    st_alt = st.sampled_from([False, False, False, True])  # 1 in 4: any order, maybe inapplicable
    st_impostor = st.sampled_from([False] * 7 + [True])  # 1 in 8: the wrong caller
    st_buyer = st.sampled_from(["buyer", "buyer2"])
    st_gtin = st.sampled_from([GTIN_INT, GTIN_PLAIN])
    st_market = st.sampled_from(PRESET_MARKETS)
    st_bool = st.booleans()
    # Prices around the presets' reissueAutoApproveLimit (1 coin) and dualInspectionAbove (5 coins)
    # too. A tier is drawn with sampled_from: in these state machines hypothesis (6.27) drew only the
    # first branches of an equivalent st.one_of (0 and 1), never a price above either limit.
    PRICE_TIERS = (
        lambda r: 0, lambda r: 1, lambda r: 1 + r % (3 * 10**18),
        lambda r: (10**18, 10**18 + 1, 5 * 10**18, 5 * 10**18 + 1)[r % 4], lambda r: 5 * 10**18 + 1 + r % (3 * 10**18),
    )
    st_price = st.tuples(st.sampled_from(range(len(PRICE_TIERS))), st.integers(0, 2**64)).map(lambda t: EscrowMachine.PRICE_TIERS[t[0]](t[1]))
    st_fee = st.one_of(st.just(0), st.integers(1, 10**17))
    st_pct = st.sampled_from([0, 1, 30, 99, 100])
    st_reason = st.sampled_from([0, 0, 0, 1, 2, 3, 4, 5, 6, 7])  # 7 is not a ReturnReason
    st_facts = strategy("uint8", max_value=15)
    st_grade = st.sampled_from([1, 2, 3])
    # "inhouse" works for brand's organisation (not independent on brand's orders); the warehouse
    # is no inspector.
    st_inspector = st.sampled_from(["inspector", "inspector", "inspector2", "inspector2", "warehouse", "inhouse"])
    st_remedy = st.sampled_from([Remedy.REFUND, Remedy.REFUND, Remedy.EXCHANGE, Remedy.EXCHANGE, 2])  # 2 is no Remedy
    # "center": the accredited return center of the order's market, else a drawn location.
    st_location = st.sampled_from(["center", "center", "center", LOC_HOME, LOC_US_DEPOT, LOC_PARTNER, LOC_DOCK])
    st_evidence = st.sampled_from([b"\x0e" * 32] * 7 + [b"\x00" * 32])  # 1 in 8: no evidence
    st_decider = st.sampled_from(["arbiter", "arbiter", "merchant", "merchant", "stranger"])
    st_replacement = st.sampled_from(["fresh", "fresh", "existing", "ghost"])
    st_sleep = st.sampled_from([HOUR, 6 * HOUR, DAY, 3 * DAY, 6 * DAY, 8 * DAY, 15 * DAY, 31 * DAY])
    st_account = st.sampled_from(ACCOUNTS)
    st_misbuy = st.sampled_from(["ok"] * 8 + ["stale_total", "wrong_value"])  # the buyer's mistakes
    st_wait = st.sampled_from([False, True, True])  # timeout rules: first sleep past the deadline
    st_match = st.sampled_from([True, True, False])  # attestation grade == grade derived from facts

    stats: Counter = Counter()

    def __init__(cls, lab, ops, actors, token):  # called once on the machine class (brownie)
        cls.lab, cls.ops, cls.actors, cls.token = lab, ops, actors, token
        cls.escrow, cls.registry, cls.points, cls.desk = lab.escrow, lab.registry, lab.points, lab.desk
        cls.policies = {m: policy_from_chain(cls.escrow.policy(m, cls.escrow.currentPolicyVersion(m))) for m in PRESET_MARKETS}
        cls.currencies = (ZERO_ADDRESS, token.address)
        cls.arbiter_role = bytes(cls.escrow.ARBITER_ROLE())
        cls.topics = {bytes(web3.keccak(text=sig)): sig.split("(")[0] for sig in MONEY_EVENTS}
        cls.signers = (
            [(cls.registry, name) for name in ("brand", "brand2", "carrier", "warehouse")]
            + [(cls.escrow, name) for name in ("buyer", "buyer2", "inspector", "inspector2", "warehouse", "inhouse")]
            + [(cls.desk, name) for name in ("buyer", "buyer2")]
        )
        cls.stats = Counter()

    def setup(self):
        # Hypothesis "swarm tests" rule-based machines: each example disables a random share of the
        # rules (hypothesis.stateful.RuleStrategy draws FeatureFlags). An order's lifecycle needs
        # many different rules in sequence, and with a few dozen examples swarming left whole
        # stages (accept, contest, finalize) untried; with all rules enabled every example mixes them.
        self._rules_strategy.enabled_rules_strategy = st.just(FeatureFlags())
        self.stats["examples"] += 1
        self.orders: dict[int, OrderModel] = {}
        self.units: dict[bytes, UnitModel] = {}
        self.credits: dict[tuple[str, str], int] = defaultdict(int)
        self.points_of: dict[tuple[str, str], int] = defaultdict(int)
        self.paid_in: dict[str, int] = defaultdict(int)
        self.paid_out: dict[str, int] = defaultdict(int)
        self.nonces = {(c.address, n): c.getNonce(self.actors[n].address) for c, n in self.signers}
        self.seen_nonces = dict(self.nonces)
        self.seen_status: dict[int, Status] = {}
        self.from_block = web3.eth.block_number + 1
        assert self.escrow.orderCount() == 0

    # ------------------------------------------------------------------ helpers

    def addr(self, name: str) -> str:
        return self.actors[name].address

    def acct(self, name: str):
        return self.actors[name].account

    @staticmethod
    def clock() -> int:
        """The timestamp the next transaction gets: blocks are 1 s apart (see `block_clock`)."""
        return latest_time() + 1

    @staticmethod
    def sleep(seconds: int) -> None:
        """Lets `seconds` pass: mines an empty block that much later."""
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
        """Lets time pass until just after the order's deadline, if it is ahead."""
        if o is None:
            return
        deadline = deadline_of(o)
        if deadline and self.clock() <= deadline + EDGE:
            chain.mine(timestamp=deadline + EDGE)  # the next transaction: deadline + EDGE + 1
            self.stats["wait"] += 1

    def choose(self, pick: int, alt: bool, applicable) -> OrderModel | None:
        """An order for which the step applies (any order if `alt` or none applies; None if no order)."""
        every = list(self.orders.values())
        if not every:
            return None
        fits = [o for o in every if applicable(o)]
        return pick_from(every if alt or not fits else fits, pick)

    def unknown_order(self) -> int:
        return self.escrow.orderCount() + 1

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

    def settle(self, o: OrderModel, tx, grade: int) -> None:
        """Checks an OrderSettled against the model and books it."""
        if grade == Grade.NONE:
            expected = timeout_split(o.price, o.fee, o.request_statutory)
        else:
            expected = model_settlement(o.policy, grade, price=o.price, fee=o.fee, ship=o.ship, in_withdrawal_window=o.request_statutory, hygiene_sealed=o.sealed, facts=o.facts, remedy=o.remedy)
        event = tx.events["OrderSettled"]
        assert event["orderId"] == o.id and event["grade"] == grade
        assert Split.of(event) == expected, (o, grade)
        assert expected.refund + expected.merchant_amount == o.total
        if grade != Grade.NONE:  # the view agrees with what was paid
            assert Split.of(self.escrow.quote(o.id, grade)) == expected
        o.status, o.grade = Status.SETTLED, grade
        self.pay(o, expected, "OrderSettled")
        if o.remedy == Remedy.EXCHANGE and grade != Grade.NONE:
            self.stats["exchange_settled"] += 1

    def pay(self, o: OrderModel, split: Split, event: str) -> None:
        """Books the order's one money event: credits and points."""
        assert o.money_event is None, (o, event)
        o.money_event = event
        self.credits[(o.currency, o.buyer)] += split.refund
        self.credits[(o.currency, o.merchant)] += split.merchant_amount
        self.points_of[(o.buyer, o.merchant)] += split.points

    def complete(self, o: OrderModel, tx, status: Status = Status.COMPLETED) -> None:
        assert tx.events["OrderCompleted"]["merchantAmount"] == o.total
        o.status = status
        self.pay(o, Split(False, 0, o.total, 0, 0), "OrderCompleted")

    # ------------------------------------------------------------------ units and purchases

    def do_list(self, gtin: int, market: int, native: bool, price: int, fee: int, pct: int) -> UnitModel:
        return self.list_new_units([(gtin, market, native)], price, fee, pct)[0]

    def list_new_units(self, specs: list[tuple[int, int, bool]], price: int, fee: int, pct: int) -> list[UnitModel]:
        """Commissions one unit per (gtin, market, native) - one signed batch per brand, all in one
        call - and lists each."""
        units = [UnitModel(b"", gtin, self.ops.next_serial("S"), brand_of(gtin)) for gtin, _, _ in specs]
        batches, signers = [], []
        for gtin in dict.fromkeys(u.gtin for u in units):
            batches.append(self.ops.commission_batch(gtin, *[u.serial for u in units if u.gtin == gtin], event_time=latest_time()))
            signers.append(brand_of(gtin))
            self.used_signature(self.registry, signers[-1])
        assert len(set(signers)) == len(signers)  # each batch read its brand's nonce from the chain
        self.registry.commission(batches, {"from": self.ops.relayer})
        self.replay_fails(self.registry, signers[0], lambda: self.registry.commission(batches[:1], {"from": self.ops.relayer}))
        for unit, (_, market, native) in zip(units, specs):
            unit.unit = gs1.unit_id(unit.gtin, unit.serial)
            self.units[unit.unit] = unit
            self.list_terms(unit, market, native, price, fee, pct)
        return units

    def list_terms(self, unit: UnitModel, market: int, native: bool, price: int, fee: int, pct: int) -> None:
        currency = ZERO_ADDRESS if native else self.token.address
        ship = price * pct // 100
        last = self.orders.get(unit.last_order)
        if last:
            self.stats[f"relist_after_{last.status.name.lower()}"] += 1
        error = err("ReturnEscrowUnitUnavailable", unit.unit, last.id) if last and not last.back_in_stock else None
        tx = self.expect(error, lambda: self.escrow.list(unit.gtin, unit.serial, market, currency, price, fee, ship, {"from": self.acct(unit.merchant)}), "list")
        if tx is not None:
            assert bytes(tx.events["Listed"]["unitId"]) == unit.unit
            unit.listing = (market, currency, price, fee, ship)

    def rule_list(self, gtin="st_gtin", market="st_market", native="st_bool", price="st_price", fee="st_fee", pct="st_pct"):
        self.do_list(gtin, market, native, price, fee, pct)

    def rule_relist(self, pick="st_pick", alt="st_alt", market="st_market", native="st_bool", price="st_price", fee="st_fee", pct="st_pct"):
        """Relisting a unit: refused unless it is back in stock (or still listed: new terms).
        Prefers units whose order has ended, where the answer depends on how it ended."""
        sold = [u for u in self.units.values() if u.last_order]
        ended = [u for u in sold if self.orders[u.last_order].status in TERMINAL]
        units = (ended if ended and not alt else sold) or list(self.units.values())
        if not units:
            serial = self.ops.next_serial("U")  # never commissioned
            unit_id = gs1.unit_id(GTIN_INT, serial)
            with brownie.reverts(err("ReturnEscrowUnknownUnit", unit_id)):
                self.escrow.list(GTIN_INT, serial, market, ZERO_ADDRESS, price, fee, 0, {"from": self.acct("brand")})
            self.stats["relist:revert"] += 1
            return
        self.list_terms(pick_from(units, pick), market, native, price, fee, pct)

    def do_purchase(self, unit: UnitModel, buyer: str, misbuy: str = "ok") -> OrderModel | None:
        market, currency, price, fee, ship = unit.listing
        total = price + fee
        native = currency == ZERO_ADDRESS
        expected_total = total + 1 if misbuy == "stale_total" else total  # the buyer saw other terms
        value = (total if native else 0) + (misbuy == "wrong_value")
        if expected_total != total:
            error = err("ReturnEscrowPriceChanged", unit.unit, total, expected_total)
        elif value != (total if native else 0):
            error = err("ReturnEscrowWrongPayment", total if native else 0, value)
        else:
            error = None
        before = self.balance(currency, self.addr(buyer))
        tx = self.expect(error, lambda: self.escrow.purchase(unit.unit, expected_total, {"from": self.acct(buyer), "value": value}), "purchase")
        if tx is None:
            return None
        gas = tx.gas_used * tx.gas_price if native else 0
        assert self.balance(currency, self.addr(buyer)) == before - total - gas
        o = OrderModel(
            id=tx.return_value, unit=unit.unit, buyer=buyer, merchant=unit.merchant, currency=currency, price=price,
            fee=fee, ship=ship, policy=self.policies[market], sealed=SEALED[unit.gtin], purchased_at=tx.timestamp, market=market,
        )
        assert o.id == len(self.orders) + 1
        self.orders[o.id] = o
        unit.listing, unit.last_order = None, o.id
        limits = (o.policy.reissue_auto_approve_limit, o.policy.dual_inspection_above)
        self.stats["price_" + ("low" if price <= limits[0] else "mid" if price <= limits[1] else "high")] += 1
        self.paid_in[currency] += total
        return o

    def rule_purchase(self, pick="st_pick", buyer="st_buyer", misbuy="st_misbuy"):
        listed = [u for u in self.units.values() if u.listing]
        if not listed:
            unit = pick_from(list(self.units.values()), pick).unit if self.units else gs1.unit_id(GTIN_INT, "NOSUCHUNIT")
            with brownie.reverts(err("ReturnEscrowNotListed", unit)):
                self.escrow.purchase(unit, 1, {"from": self.acct(buyer), "value": 1})
            self.stats["purchase:revert"] += 1
            return
        self.do_purchase(pick_from(listed, pick), buyer, misbuy)

    def balance(self, currency: str, account: str) -> int:
        return web3.eth.get_balance(account) if currency == ZERO_ADDRESS else self.token.balanceOf(account)

    # ------------------------------------------------------------------ registry scans

    def scan(self, orders: list[OrderModel], actor: str, batch: tuple) -> list[int]:
        """Records a signed scan batch (one event per order) and checks that its replay fails;
        returns the time each scan attests (the milestone it sets if it is the first)."""
        tx = self.registry.record([batch], {"from": self.ops.relayer})
        self.used_signature(self.registry, actor)
        self.replay_fails(self.registry, actor, lambda: self.registry.record([batch], {"from": self.ops.relayer}))
        return [min(event[4], tx.timestamp) for event in batch[1]]

    def do_deliver(self, *orders: OrderModel) -> None:
        """The carrier's delivery scan, under each order's orderRef (one parcel for several)."""
        refs = [(o.unit, deploy.order_ref(self.escrow, o.id)) for o in orders]
        batch = self.ops.parcel_batch("carrier", BizStep.DELIVERING, Disposition.DELIVERED, refs, event_time=latest_time())
        times = self.scan(list(orders), "carrier", batch)
        for o, t in zip(orders, times):
            o.delivery_scan = o.delivery_scan or t  # the first scan counts
            assert self.escrow.deliveredAt(o.id) == o.delivered_at
        self.stats["deliver"] += 1

    def rule_deliver(self, pick="st_pick", alt="st_alt"):
        o = self.choose(pick, alt, lambda o: o.status == Status.ACTIVE and not o.delivery_scan)
        if o is None:
            n = self.unknown_order()
            with brownie.reverts(err("ReturnEscrowUnknownOrder", n)):
                self.escrow.deliveredAt(n)
            return
        self.do_deliver(o)

    def do_receive(self, *orders: OrderModel, location: int = LOC_HOME) -> None:
        """The return warehouse's receiving scan at `location`, under each order's rmaRef (one
        parcel for several)."""
        refs = [(o.unit, deploy.rma_ref(self.escrow, o.id)) for o in orders]
        batch = self.ops.parcel_batch("warehouse", BizStep.RECEIVING, Disposition.RETURNED, refs, event_time=latest_time(), location=location)
        times = self.scan(list(orders), "warehouse", batch)
        for o, t in zip(orders, times):
            if not o.received_at:  # the first scan counts, with its place
                o.received_at, o.received_at_location = t, location
            assert self.escrow.returnReceivedAt(o.id) == o.received_at
        self.stats["receive"] += 1

    @staticmethod
    def center_of(market: int) -> int:
        """The location accredited as a return center for `market` run by the warehouse's
        organisation (LOC_HOME if none: then the scan is simply not accredited)."""
        for location, (org, markets) in RETURN_CENTERS.items():
            if org == WAREHOUSE_ORG and markets >> market & 1:
                return location
        return LOC_HOME

    @staticmethod
    def accredited(location: int, market: int) -> bool:
        """registry.returnCenterAccredited for a scan by the warehouse at `location`."""
        org, markets = RETURN_CENTERS.get(location, (0, 0))
        return org == WAREHOUSE_ORG and bool(markets >> market & 1)

    def rule_receive(self, pick="st_pick", alt="st_alt", location="st_location"):
        o = self.choose(pick, alt, lambda o: o.status == Status.RETURN_REQUESTED and not o.received_at)
        if o is None:
            n = self.unknown_order()
            with brownie.reverts(err("ReturnEscrowUnknownOrder", n)):
                self.escrow.returnReceivedAt(n)
            return
        self.do_receive(o, location=self.center_of(o.market) if location == "center" else location)

    # ------------------------------------------------------------------ returns

    def do_request(self, o: OrderModel | None, reason: int, by_sig: bool, impostor: bool, remedy: int = Remedy.REFUND) -> None:
        if o is None:
            n = self.unknown_order()
            if reason > 6:
                error = err("ReturnEscrowInvalidReason", reason)
            elif remedy > 1:
                error = err("ReturnEscrowInvalidRemedy", remedy)
            else:
                error = err("ReturnEscrowUnknownOrder", n)
            with brownie.reverts(error):
                self.escrow.requestReturn(n, reason, remedy, {"from": self.acct("buyer")})
            return
        caller = self.other_buyer(o.buyer) if impostor else o.buyer
        now = self.now([o])
        error = None
        if reason > 6:
            error = err("ReturnEscrowInvalidReason", reason)
        elif remedy > 1:
            error = err("ReturnEscrowInvalidRemedy", remedy)
        elif o.status != Status.ACTIVE:
            error = self.status_error(o)
        elif caller != o.buyer:
            error = err("ReturnEscrowNotBuyer", o.id, self.addr(caller))
        elif not o.delivered_at:
            error = err("ReturnEscrowNotDelivered", o.id)
        elif now > o.closes_at:
            error = err("ReturnEscrowReturnWindowClosed", o.id, o.closes_at)
        elif remedy == Remedy.EXCHANGE and not o.policy.exchange_offered:
            error = err("ReturnEscrowExchangeNotOffered", o.id)
        if by_sig:
            request, sig = self.ops.signed_return_request(o.id, reason, caller, remedy)
            send = lambda: self.escrow.requestReturnBySig(request, sig, {"from": self.acct("stranger")})  # noqa: E731
        else:
            send = lambda: self.escrow.requestReturn(o.id, reason, remedy, {"from": self.acct(caller)})  # noqa: E731
        label = ("request_by_sig" if by_sig else "request") + ("_exchange" if remedy == Remedy.EXCHANGE else "")
        tx = self.expect(error, send, label)
        if tx is None:
            return
        assert tx.timestamp == now  # the model's clock is exact
        if by_sig:
            self.used_signature(self.escrow, caller)
            self.replay_fails(self.escrow, caller, send)
        o.status, o.requested_at, o.remedy, o.reason = Status.RETURN_REQUESTED, tx.timestamp, remedy, reason
        w = o.policy.withdrawal_window
        o.request_statutory = w != 0 and tx.timestamp <= o.delivered_at + w
        event = tx.events["ReturnRequested"]
        assert (event["orderId"], event["reason"], event["statutory"], event["remedy"]) == (o.id, reason, o.request_statutory, remedy)

    def rule_request_return(self, pick="st_pick", alt="st_alt", reason="st_reason", by_sig="st_bool", impostor="st_impostor", remedy="st_remedy"):
        now = self.clock()
        o = self.choose(pick, alt, lambda o: o.status == Status.ACTIVE and o.delivered_at and now < o.closes_at)
        self.do_request(o, reason, by_sig, impostor, remedy)

    INSPECTABLE = (Status.RETURN_REQUESTED, Status.SECOND_INSPECTION, Status.REFUNDED)

    def org(self, name: str) -> int:
        """An actor's organisation (test actors are accredited with their GLN as organisation)."""
        return self.actors[name].gln

    def attest_error(self, o: OrderModel, inspector: str, now: int) -> str | None:
        """submitInspection's checks before the signature, in the NatSpec's order."""
        if o.status not in self.INSPECTABLE:
            return self.status_error(o)
        if inspector == "warehouse":
            return err("ReturnEscrowNotInspector", self.addr(inspector))
        org = self.org(inspector)
        if org == self.org(o.merchant) or (o.status == Status.SECOND_INSPECTION and org == o.first_org):
            return err("ReturnEscrowInspectorNotIndependent", self.addr(inspector), org)
        if not o.received_at:
            return err("ReturnEscrowNotReturned", o.id)
        if now > o.sla_end and o.status != Status.REFUNDED:  # refunded on receipt: a late inspection still decides the unit's fate
            return err("ReturnEscrowSlaElapsed", o.id, o.sla_end)
        return None

    def do_attest(self, o: OrderModel, facts: int, match: bool, inspector: str) -> None:
        """An attestation: with `match` consistent (a second opinion: the first one's facts and
        grade); otherwise a grade other than the facts give, or (second opinion) other facts."""
        if o.status == Status.SECOND_INSPECTION and match:
            facts = o.first_opinion[0]
        derived = model_grade(o.policy, facts)
        if match or (o.status == Status.SECOND_INSPECTION and facts != o.first_opinion[0]):
            claimed = derived
        else:
            claimed = derived % 3 + 1
        assert self.escrow.deriveGrade(o.id, facts) == derived
        now = self.now([o])
        error = self.attest_error(o, inspector, now)
        # Refund upon return comes before the inspection: the escrow releases it first, in the same call.
        releases = (
            o.status == Status.RETURN_REQUESTED and o.policy.refund_on_return and bool(o.received_at)
            and self.accredited(o.received_at_location, o.market)
        )
        before = Status.REFUNDED if releases else o.status
        if error is None and before == Status.REFUNDED and claimed != derived:
            error = err("ReturnEscrowGradeMismatch", o.id, claimed, derived)
        inspection, sig = self.ops.signed_inspection(o.id, facts, claimed, inspector)
        send = lambda: self.escrow.submitInspection(inspection, sig, {"from": self.ops.relayer})  # noqa: E731
        label = {Status.SECOND_INSPECTION: "attest_second", Status.REFUNDED: "attest_disposition"}.get(before, "attest")
        tx = self.expect(error, send, label if claimed == derived else label + "_mismatch")
        if tx is None:
            return
        assert tx.timestamp == now
        self.used_signature(self.escrow, inspector)
        if releases:
            self.book_refund_on_receipt(o, tx)
            self.stats["released_by_inspection"] += 1
        else:
            assert "RefundReleasedOnReceipt" not in tx.events
        after = model_after_inspection(o.policy, before, price=o.price, facts=facts, claimed=claimed, first=o.first_opinion)
        o.facts, o.grade = facts, claimed
        assert tx.events["InspectionSubmitted"]["derivedGrade"] == derived
        if before == Status.REFUNDED:  # the money moved at receipt: only the unit's fate is decided
            decided = tx.events["DispositionDecided"]
            assert (decided["orderId"], decided["grade"], decided["disposition"]) == (o.id, claimed, o.policy.terms[claimed - 1].disposition)
            assert "OrderSettled" not in tx.events
            o.status = Status.SETTLED
        elif after == Status.DISPUTED:
            o.status = Status.DISPUTED
            assert tx.events["OrderDisputed"]["contested"] is False
        elif after == Status.SECOND_INSPECTION:
            o.status, o.first_opinion, o.first_org = after, (facts, claimed), self.org(inspector)
            event = tx.events["SecondInspectionRequired"]
            assert (event["orderId"], event["firstOrganization"]) == (o.id, o.first_org)
        elif after == Status.SETTLED:
            assert claimed == Grade.A
            self.settle(o, tx, Grade.A)
        else:
            self.stats["inspected"] += 1
            o.status, o.dispute_deadline = Status.INSPECTED, tx.timestamp + o.policy.dispute_window
            assert tx.events["OrderInspected"]["disputeDeadline"] == o.dispute_deadline
        # The same attestation again: refused (the order moved on, or the first inspector's
        # organisation may not give the second opinion), and the nonce is spent.
        replay = self.attest_error(o, inspector, self.clock())
        assert replay is not None, o
        with brownie.reverts(replay):
            send()
        assert self.escrow.getNonce(self.addr(inspector)) == self.nonces[(self.escrow.address, inspector)]

    def rule_attest(self, pick="st_pick", alt="st_alt", facts="st_facts", match="st_match", inspector="st_inspector"):
        now = self.clock()
        o = self.choose(pick, alt, lambda o: o.status in self.INSPECTABLE and o.received_at and (now < o.sla_end or o.status == Status.REFUNDED))
        if o is None:
            n = self.unknown_order()
            inspection, sig = self.ops.signed_inspection(n, facts, 1, "inspector")
            with brownie.reverts(err("ReturnEscrowUnknownOrder", n)):
                self.escrow.submitInspection(inspection, sig, {"from": self.ops.relayer})
            return
        if o.status == Status.SECOND_INSPECTION and match and inspector in ("inspector", "inspector2"):
            # mostly a second opinion from another house; mismatching runs keep the drawn inspector
            inspector = "inspector2" if self.org("inspector") == o.first_org else "inspector"
        self.do_attest(o, facts, match, inspector)

    def rule_contest(self, pick="st_pick", alt="st_alt", impostor="st_impostor"):
        now = self.clock()
        o = self.choose(pick, alt, lambda o: o.status == Status.INSPECTED and now < o.dispute_deadline)
        if o is None:
            return self.unknown_buyer_call("contest")
        caller = self.other_buyer(o.buyer) if impostor else o.buyer
        now = self.now([o])
        error = self.buyer_error(o, caller)
        if error is None and o.status != Status.INSPECTED:
            error = self.status_error(o)
        elif error is None and now > o.dispute_deadline:
            error = err("ReturnEscrowDisputeWindowClosed", o.id, o.dispute_deadline)
        tx = self.expect(error, lambda: self.escrow.contest(o.id, {"from": self.acct(caller)}), "contest")
        if tx is not None:
            assert tx.events["OrderDisputed"]["contested"] is True
            o.status = Status.DISPUTED

    def rule_accept(self, pick="st_pick", alt="st_alt", impostor="st_impostor"):
        o = self.choose(pick, alt, lambda o: o.status == Status.INSPECTED)
        if o is None:
            return self.unknown_buyer_call("acceptInspection")
        caller = self.other_buyer(o.buyer) if impostor else o.buyer
        error = self.buyer_error(o, caller) or (self.status_error(o) if o.status != Status.INSPECTED else None)
        tx = self.expect(error, lambda: self.escrow.acceptInspection(o.id, {"from": self.acct(caller)}), "accept")
        if tx is not None:
            self.settle(o, tx, o.grade)

    def rule_finalize(self, pick="st_pick", alt="st_alt", wait="st_wait"):
        now = self.clock()
        o = self.choose(pick, alt, lambda o: o.status == Status.INSPECTED and (wait or now > o.dispute_deadline))
        if wait:
            self.wait_past(o, lambda o: o.dispute_deadline)
        if o is None:
            n = self.unknown_order()
            with brownie.reverts(err("ReturnEscrowUnknownOrder", n)):
                self.escrow.finalize(n, {"from": self.acct("stranger")})
            return
        now = self.now([o])
        error = None
        if o.status != Status.INSPECTED:
            error = self.status_error(o)
        elif now <= o.dispute_deadline:
            error = err("ReturnEscrowWindowOpen", o.id, o.dispute_deadline)
        tx = self.expect(error, lambda: self.escrow.finalize(o.id, {"from": self.acct("stranger")}), "finalize")
        if tx is not None:
            self.settle(o, tx, o.grade)

    def rule_arbitrate(self, pick="st_pick", alt="st_alt", grade="st_grade", impostor="st_impostor"):
        o = self.choose(pick, alt, lambda o: o.status == Status.DISPUTED)
        caller = "stranger" if impostor else "arbiter"
        order_id = o.id if o else self.unknown_order()
        if impostor:
            error = err("AccessControlUnauthorizedAccount", self.addr(caller), self.arbiter_role)
        elif o is None:
            error = err("ReturnEscrowUnknownOrder", order_id)
        elif o.status != Status.DISPUTED:
            error = self.status_error(o)
        else:
            error = None
        tx = self.expect(error, lambda: self.escrow.resolveDispute(order_id, grade, {"from": self.acct(caller)}), "arbitrate")
        if tx is not None:
            resolved = tx.events["DisputeResolved"]
            assert (resolved["orderId"], resolved["arbiter"], resolved["grade"]) == (o.id, self.addr(caller), grade)
            self.settle(o, tx, grade)

    def unknown_buyer_call(self, fn: str) -> None:
        n = self.unknown_order()
        with brownie.reverts(err("ReturnEscrowUnknownOrder", n)):
            getattr(self.escrow, fn)(n, {"from": self.acct("buyer")})

    # ------------------------------------------------------------------ timeouts

    def rule_claim_uninspected(self, pick="st_pick", alt="st_alt", impostor="st_impostor", wait="st_wait"):
        now = self.clock()
        uninspected = (Status.RETURN_REQUESTED, Status.SECOND_INSPECTION)  # a second opinion that never came
        o = self.choose(pick, alt, lambda o: o.status in uninspected and o.received_at and (wait or now > o.sla_end))
        if wait:
            self.wait_past(o, lambda o: o.received_at and o.sla_end)
        if o is None:
            return self.unknown_buyer_call("claimUninspectedRefund")
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
        label = "claim_uninspected" + ("_second" if o.status == Status.SECOND_INSPECTION else "")
        tx = self.expect(error, lambda: self.escrow.claimUninspectedRefund(o.id, {"from": self.acct(caller)}), label)
        if tx is not None:
            self.settle(o, tx, Grade.NONE)

    def rule_claim_overdue(self, pick="st_pick", alt="st_alt", impostor="st_impostor", wait="st_wait"):
        now = self.clock()
        open_claim = (Status.RETURN_REQUESTED, Status.DISPUTED, Status.SECOND_INSPECTION)  # the deadline runs on while a second opinion is awaited
        o = self.choose(pick, alt, lambda o: o.status in open_claim and o.request_statutory and o.received_at and (wait or now > o.refund_due))
        if wait:
            self.wait_past(o, lambda o: o.requested_at and o.refund_due)
        if o is None:
            return self.unknown_buyer_call("claimOverdueRefund")
        caller = self.other_buyer(o.buyer) if impostor else o.buyer
        now = self.now([o])
        error = self.buyer_error(o, caller)
        if error is None:
            if o.status not in open_claim:
                error = self.status_error(o)
            elif not o.request_statutory:
                error = err("ReturnEscrowNotStatutory", o.id)
            elif not o.received_at:
                error = err("ReturnEscrowNotReturned", o.id)
            elif now <= o.refund_due:
                error = err("ReturnEscrowRefundNotDue", o.id, o.refund_due)
        tx = self.expect(error, lambda: self.escrow.claimOverdueRefund(o.id, {"from": self.acct(caller)}), "claim_overdue")
        if tx is not None:
            self.settle(o, tx, Grade.NONE)

    def rule_release(self, pick="st_pick", alt="st_alt", wait="st_wait"):
        now = self.clock()
        o = self.choose(pick, alt, lambda o: o.status == Status.ACTIVE and o.delivered_at and (wait or now > o.closes_at))
        if wait:
            self.wait_past(o, lambda o: o.delivered_at and o.closes_at)
        if o is None:
            n = self.unknown_order()
            with brownie.reverts(err("ReturnEscrowUnknownOrder", n)):
                self.escrow.release(n, {"from": self.acct("stranger")})
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
        now = self.clock()
        o = self.choose(pick, alt, lambda o: o.status == Status.RETURN_REQUESTED and not o.received_at and (wait or now > o.unreturned_after))
        if wait:
            self.wait_past(o, lambda o: o.requested_at and o.unreturned_after)
        if o is None:
            n = self.unknown_order()
            with brownie.reverts(err("ReturnEscrowUnknownOrder", n)):
                self.escrow.releaseUnreturned(n, {"from": self.acct("stranger")})
            return
        now = self.now([o])
        error = None
        if o.status != Status.RETURN_REQUESTED:
            error = self.status_error(o)
        elif o.received_at:
            error = err("ReturnEscrowAlreadyReturned", o.id, o.received_at)
        elif now <= o.unreturned_after:
            error = err("ReturnEscrowWindowOpen", o.id, o.unreturned_after)
        tx = self.expect(error, lambda: self.escrow.releaseUnreturned(o.id, {"from": self.acct("stranger")}), "release_unreturned")
        if tx is not None:
            self.complete(o, tx)

    def rule_cancel_undelivered(self, pick="st_pick", alt="st_alt", impostor="st_impostor", wait="st_wait"):
        now = self.clock()
        o = self.choose(pick, alt, lambda o: o.status == Status.ACTIVE and not o.delivered_at and (wait or now > o.cancellable_after))
        if wait:
            self.wait_past(o, lambda o: o.cancellable_after)
        if o is None:
            return self.unknown_buyer_call("cancelUndelivered")
        caller = self.other_buyer(o.buyer) if impostor else o.buyer
        now = self.now([o])
        error = self.buyer_error(o, caller)
        if error is None:
            if o.status != Status.ACTIVE:
                error = self.status_error(o)
            elif o.delivered_at:
                error = err("ReturnEscrowAlreadyDelivered", o.id, o.delivered_at)
            elif now <= o.cancellable_after:
                error = err("ReturnEscrowDeliveryPending", o.id, o.cancellable_after)
        tx = self.expect(error, lambda: self.escrow.cancelUndelivered(o.id, {"from": self.acct(caller)}), "cancel")
        if tx is not None:
            assert tx.events["OrderCancelled"]["refund"] == o.total
            o.status = Status.CANCELLED
            self.pay(o, Split(False, o.total, 0, 0, 0), "OrderCancelled")

    # ------------------------------------------------------------------ refund on receipt

    def rule_refund_on_receipt(self, pick="st_pick", alt="st_alt"):
        """releaseRefundOnReceipt (anyone): a grade-A settlement's cash or voucher at the receiving
        scan, if the policy grants it and the scan was made at a center accredited for the market
        by the organisation running it."""
        o = self.choose(pick, alt, lambda o: o.status == Status.RETURN_REQUESTED and o.received_at and o.policy.refund_on_return)
        order_id = o.id if o else self.unknown_order()
        if o is None:
            error = err("ReturnEscrowUnknownOrder", order_id)
        elif o.status != Status.RETURN_REQUESTED:
            error = self.status_error(o)
        elif not o.policy.refund_on_return:
            error = err("ReturnEscrowNoRefundOnReturn", o.id)
        elif not o.received_at:
            error = err("ReturnEscrowNotReturned", o.id)
        elif not self.accredited(o.received_at_location, o.market):
            error = err("ReturnEscrowCenterNotAccredited", o.id, o.received_at_location, WAREHOUSE_ORG)
        elif self.now([o]) > o.sla_end:  # the buyer is owed the cash timeout refund instead
            error = err("ReturnEscrowSlaElapsed", o.id, o.sla_end)
        else:
            error = None
        tx = self.expect(error, lambda: self.escrow.releaseRefundOnReceipt(order_id, {"from": self.acct("stranger")}), "refund_on_receipt")
        if tx is None:
            return
        self.book_refund_on_receipt(o, tx)

    def book_refund_on_receipt(self, o: OrderModel, tx) -> None:
        """Checks and books a RefundReleasedOnReceipt (by releaseRefundOnReceipt or first thing in an inspection)."""
        expected = refund_on_receipt_split(o.policy, price=o.price, fee=o.fee, ship=o.ship, statutory=o.request_statutory, hygiene_sealed=o.sealed, remedy=o.remedy, reason=o.reason)
        event = tx.events["RefundReleasedOnReceipt"]
        got = (event["orderId"], event["location"], event["refund"], event["merchantAmount"], event["points"])
        assert got == (o.id, o.received_at_location, expected.refund, expected.merchant_amount, expected.points), (o, expected)
        assert expected.refund + expected.merchant_amount == o.total
        o.status = Status.REFUNDED
        self.pay(o, expected, "RefundReleasedOnReceipt")
        if o.remedy == Remedy.EXCHANGE:
            self.stats["refund_on_receipt_exchange"] += 1

    # ------------------------------------------------------------------ defects and reissue (ReissueDesk)

    def rule_claim_defect(self, pick="st_pick", alt="st_alt", by_sig="st_bool", impostor="st_impostor", evidence="st_evidence"):
        """A defect claim instead of a return: approved at once at or under the policy's
        reissueAutoApproveLimit, else DefectClaimed for the merchant or the arbiter."""
        now = self.clock()
        o = self.choose(pick, alt, lambda o: o.status == Status.ACTIVE and o.delivered_at and now < o.closes_at)
        if o is None:
            n = self.unknown_order()
            error = err("ReissueDeskEvidenceRequired") if evidence == bytes(32) else err("ReturnEscrowUnknownOrder", n)
            with brownie.reverts(error):
                self.desk.claimDefect(n, evidence, {"from": self.acct("buyer")})
            return
        self.do_claim_defect(o, by_sig, impostor, evidence)

    def do_claim_defect(self, o: OrderModel, by_sig: bool, impostor: bool, evidence: bytes) -> None:
        caller = self.other_buyer(o.buyer) if impostor else o.buyer
        now = self.now([o])
        error = None
        if evidence == bytes(32):
            error = err("ReissueDeskEvidenceRequired")
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
        auto = o.price <= o.policy.reissue_auto_approve_limit
        event = tx.events["DefectClaimed"]
        assert (event["orderId"], event["buyer"], event["autoApproved"]) == (o.id, self.addr(caller), auto)
        if auto:
            o.status, o.approved_at = Status.REISSUE_APPROVED, tx.timestamp
            self.stats["reissue_auto_approved"] += 1
        else:
            o.status = Status.DEFECT_CLAIMED

    def rule_decide_defect(self, pick="st_pick", alt="st_alt", approve="st_match", decider="st_decider"):
        """Above the limit the merchant may approve, the arbiter approve or reject (back to Active)."""
        o = self.choose(pick, alt, lambda o: o.status == Status.DEFECT_CLAIMED)
        if o is None:
            n = self.unknown_order()
            with brownie.reverts(err("ReturnEscrowUnknownOrder", n)):
                self.desk.decideDefectClaim(n, approve, {"from": self.acct("arbiter")})
            return
        self.do_decide_defect(o, approve, o.merchant if decider == "merchant" else decider)

    def do_decide_defect(self, o: OrderModel, approve: bool, caller: str) -> None:
        error = None
        if caller != "arbiter" and (not approve or caller != o.merchant):
            error = err("ReissueDeskNotDecider", o.id, self.addr(caller))
        elif o.status != Status.DEFECT_CLAIMED:
            error = self.status_error(o)
        now = self.now([o])
        tx = self.expect(error, lambda: self.desk.decideDefectClaim(o.id, approve, {"from": self.acct(caller)}), "approve_defect" if approve else "reject_defect")
        if tx is None:
            return
        assert tx.timestamp == now
        event = tx.events["DefectClaimDecided"]
        assert (event["orderId"], event["decider"], event["approved"]) == (o.id, self.addr(caller), approve)
        if approve:
            o.status, o.approved_at = Status.REISSUE_APPROVED, tx.timestamp
        else:
            o.status = Status.ACTIVE

    def reissue_ref(self, order_id: int) -> bytes:
        """IReissueDesk.reissueRef from its definition: keccak(abi.encode(orderRef, "REISSUE")), with
        orderRef = keccak(abi.encode(chainid, escrow, orderId))."""
        order_ref = keccak(abi_encode(["uint256", "address", "uint256"], [chain.id, self.escrow.address, order_id]))
        return keccak(abi_encode(["bytes32", "string"], [order_ref, "REISSUE"]))

    def commission_unlisted(self, gtin: int) -> UnitModel:
        """A new unit of `gtin`, commissioned by its brand and not listed."""
        unit = UnitModel(b"", gtin, self.ops.next_serial("R"), brand_of(gtin))
        batch = self.ops.commission_batch(gtin, unit.serial, event_time=latest_time())
        self.registry.commission([batch], {"from": self.ops.relayer})
        self.used_signature(self.registry, unit.merchant)
        unit.unit = gs1.unit_id(gtin, unit.serial)
        self.units[unit.unit] = unit
        return unit

    def rule_link_replacement(self, pick="st_pick", alt="st_alt", upick="st_pick", which="st_replacement", impostor="st_impostor", gtin="st_gtin"):
        """The merchant links and the escrow reserves a replacement: a fresh unit, any known unit
        (refused unless unlisted and back in stock or never sold), or one never commissioned."""
        o = self.choose(pick, alt, lambda o: o.status == Status.REISSUE_APPROVED and o.replacement is None)
        if o is None:
            n = self.unknown_order()
            with brownie.reverts(err("ReissueDeskNotApproved", n)):
                self.desk.linkReplacement(n, GTIN_INT, "NOSUCHUNIT", {"from": self.acct("brand")})
            return
        self.do_link(o, alt, upick, which, impostor, gtin)

    def do_link(self, o: OrderModel, alt: bool, upick: int, which: str, impostor: bool, gtin: int) -> None:
        caller = ("brand2" if o.merchant == "brand" else "brand") if impostor else o.merchant
        if which == "existing" and self.units:
            unit = pick_from(list(self.units.values()), upick)
            gtin, serial, unit_id = unit.gtin, unit.serial, unit.unit
        else:
            if brand_of(gtin) != o.merchant and not alt:  # mostly one of the merchant's products
                gtin = GTIN_PLAIN if gtin == GTIN_INT else GTIN_INT
            unit = self.commission_unlisted(gtin) if which != "ghost" else None
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
        elif not PRODUCT_MARKETS[gtin] >> o.market & 1:  # never here: both products are sold in markets 0-2
            error = err("ReissueDeskMarketNotServed", gtin, o.market)
        elif unit is None:
            error = err("ReissueDeskUnavailableUnit", unit_id)
        elif o.status != Status.REISSUE_APPROVED:
            error = self.status_error(o)
        elif unit.listing is not None or (last is not None and not last.back_in_stock):
            error = err("ReturnEscrowUnitUnavailable", unit_id, unit.last_order)
        tx = self.expect(error, lambda: self.desk.linkReplacement(o.id, gtin, serial, {"from": self.acct(caller)}), f"link_{which}")
        if tx is None:
            return
        event = tx.events["ReplacementLinked"]
        assert (event["orderId"], bytes(event["originalUnitId"]), bytes(event["replacementUnitId"])) == (o.id, o.unit, unit_id)
        o.replacement, unit.last_order = unit_id, o.id
        assert self.escrow.lastOrderOf(unit_id) == o.id

    def rule_deliver_replacement(self, pick="st_pick", alt="st_alt"):
        """The carrier's delivery scan of a linked replacement under the desk's reissueRef (again:
        the first scan counts)."""
        o = self.choose(pick, alt, lambda o: o.replacement is not None and not o.replacement_delivered_at)
        if o is None or o.replacement is None:
            n = self.unknown_order()
            with brownie.reverts(err("ReissueDeskNoReplacement", n)):
                self.desk.completeReissue(n, {"from": self.acct("stranger")})
            return
        ref = self.reissue_ref(o.id)
        assert bytes(self.desk.reissueRef(o.id)) == ref
        batch = self.ops.parcel_batch("carrier", BizStep.DELIVERING, Disposition.DELIVERED, [(o.replacement, ref)], event_time=latest_time())
        (t,) = self.scan([o], "carrier", batch)
        o.replacement_delivered_at = o.replacement_delivered_at or t
        self.stats["deliver_replacement"] += 1

    def rule_complete_reissue(self, pick="st_pick", alt="st_alt"):
        """Anyone completes a reissue once the replacement is delivered: the merchant is paid."""
        o = self.choose(pick, alt, lambda o: o.status == Status.REISSUE_APPROVED and o.replacement_delivered_at)
        order_id = o.id if o else self.unknown_order()
        if o is None or o.replacement is None:
            error = err("ReissueDeskNoReplacement", order_id)
        elif not o.replacement_delivered_at:
            error = err("ReissueDeskNotDelivered", o.id)
        elif o.status != Status.REISSUE_APPROVED:
            error = self.status_error(o)
        else:
            error = None
        tx = self.expect(error, lambda: self.desk.completeReissue(order_id, {"from": self.acct("stranger")}), "complete_reissue")
        if tx is None:
            return
        event = tx.events["ReissueCompleted"]
        assert (event["orderId"], bytes(event["replacementUnitId"]), event["deliveredAt"]) == (o.id, o.replacement, o.replacement_delivered_at)
        self.complete(o, tx, Status.REISSUED)

    def rule_claim_unfulfilled(self, pick="st_pick", alt="st_alt", impostor="st_impostor", wait="st_wait"):
        """No replacement delivered within deliveryTimeout of the approval: the buyer is refunded in
        full and a reserved replacement goes back to the merchant's stock."""
        now = self.clock()
        o = self.choose(pick, alt, lambda o: o.status == Status.REISSUE_APPROVED and not o.replacement_delivered_at and (wait or now > o.reissue_due))
        if wait:
            self.wait_past(o, lambda o: o.approved_at and o.reissue_due)
        if o is None:
            n = self.unknown_order()
            with brownie.reverts(err("ReissueDeskNotApproved", n)):
                self.desk.claimUnfulfilledReissue(n, {"from": self.acct("buyer")})
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
        tx = self.expect(error, lambda: self.desk.claimUnfulfilledReissue(o.id, {"from": self.acct(caller)}), "claim_unfulfilled")
        if tx is None:
            return
        assert tx.events["ReissueUnfulfilled"]["orderId"] == o.id
        self.settle(o, tx, Grade.NONE)
        if o.replacement is not None:
            self.units[o.replacement].last_order = 0
            assert self.escrow.lastOrderOf(o.replacement) == 0

    # ------------------------------------------------------------------ money and time

    def rule_withdraw(self, pick="st_pick", alt="st_alt", account="st_account", native="st_bool"):
        """Withdraws a credit (or, with `alt` or when nobody is owed anything, tries any account)."""
        owed_now = [key for key, v in self.credits.items() if v]
        if owed_now and not alt:
            currency, account = pick_from(sorted(owed_now), pick)
        else:
            currency = ZERO_ADDRESS if native else self.token.address
        native = currency == ZERO_ADDRESS
        owed = self.credits[(currency, account)]
        error = err("ReturnEscrowNothingToWithdraw", currency, self.addr(account)) if owed == 0 else None
        before = self.balance(currency, self.addr(account))
        tx = self.expect(error, lambda: self.escrow.withdraw(currency, {"from": self.acct(account)}), "withdraw")
        if tx is None:
            return
        gas = tx.gas_used * tx.gas_price if native else 0
        assert tx.events["Withdrawn"]["amount"] == owed
        assert self.balance(currency, self.addr(account)) == before + owed - gas
        self.credits[(currency, account)] = 0
        self.paid_out[currency] += owed

    def rule_time_passes(self, seconds="st_sleep"):
        self.sleep(seconds)
        self.stats["sleep"] += 1

    def initialize_orders(self, gtin="st_gtin", market="st_market", native="st_bool", price="st_price", fee="st_fee", pct="st_pct", facts="st_facts", match="st_match", exchange="st_bool"):
        """Seven orders to start from, across markets, currencies, buyers and product classes:
        undelivered, delivered, return requested, returned to the warehouse, inspected at grade B
        (awaiting the buyer), attested with drawn facts (settled, inspected, disputed, or waiting
        for a second opinion above dualInspectionAbove), and defect-claimed (reissue approved under
        the auto-approval limit, else awaiting a decision). With `exchange`, every other request
        takes the exchange voucher where the policy offers it. The return warehouse scans at its
        own GLN, an accredited return center for the EU. Every rule then has an order it applies
        to within a step or two."""
        gtins = (gtin, GTIN_PLAIN if gtin == GTIN_INT else GTIN_INT)
        specs = [(gtins[i % 2], PRESET_MARKETS[(market + i) % 3], native ^ bool(i % 2)) for i in range(7)]
        units = self.list_new_units(specs, price, fee, pct)
        orders = [self.do_purchase(unit, ("buyer", "buyer2")[i % 2]) for i, unit in enumerate(units)]
        self.do_deliver(*orders[1:])  # one consolidated parcel
        for i, o in enumerate(orders[2:6]):
            remedy = Remedy.EXCHANGE if exchange and i % 2 == 0 and o.policy.exchange_offered else Remedy.REFUND
            self.do_request(o, i, by_sig=bool(i % 2), impostor=False, remedy=remedy)
        self.do_claim_defect(orders[6], by_sig=exchange, impostor=False, evidence=b"\x0e" * 32)
        if orders[6].status == Status.DEFECT_CLAIMED:
            self.do_decide_defect(orders[6], True, orders[6].merchant if exchange else "arbiter")
        if not match:  # a third of the examples start with the replacement linked
            self.do_link(orders[6], False, 0, "fresh", False, gtin)
        self.do_receive(orders[3], location=self.center_of(orders[3].market))  # refund on receipt where offered
        self.do_receive(*orders[4:6])
        self.do_attest(orders[4], Facts.PACKAGING_INTACT, True, "inspector2")  # opened, unused: B
        self.do_attest(orders[5], facts, match, "inspector")

    # ------------------------------------------------------------------ invariants

    def owed(self, currency: str) -> int:
        escrowed = sum(o.total for o in self.orders.values() if o.currency == currency and o.escrowed)
        return escrowed + sum(v for (c, _), v in self.credits.items() if c == currency)

    def invariant_conservation(self):
        self.stats["steps"] += 1
        native, token = self.currencies
        pairs = [(c, name) for c in self.currencies for name in ACCOUNTS]
        holders = [(b, m) for b in ("buyer", "buyer2") for m in ("brand", "brand2")]
        held_native, held_token, owed_native, owed_token, *rest = read_batch(
            self.escrow.address,
            (self.token.balanceOf, self.escrow.address),
            (self.escrow.totalOwed, native),
            (self.escrow.totalOwed, token),
            *[(self.escrow.credits, c, self.addr(name)) for c, name in pairs],
            *[(self.points.pointsOf, self.addr(b), self.addr(m)) for b, m in holders],
        )
        for currency, held, owed in ((native, held_native, owed_native), (token, held_token, owed_token)):
            assert held == owed, f"escrow holds {held} but owes {owed} in {currency}"
            assert owed == self.owed(currency) == self.paid_in[currency] - self.paid_out[currency]
        credits, points = rest[: len(pairs)], rest[len(pairs) :]
        for (currency, name), credit in zip(pairs, credits):
            assert credit == self.credits[(currency, name)], (currency, name)
        for (buyer, merchant), balance in zip(holders, points):
            assert balance == self.points_of[(buyer, merchant)], (buyer, merchant)

    def invariant_one_money_event_per_order(self):
        """Each order's money leaves escrow once: at most one MONEY_EVENTS log per order, exactly
        one (of the kind the model booked) for an order whose money moved, none for the others;
        and every terminal order's money has moved."""
        logs = web3.eth.get_logs({"address": self.escrow.address, "fromBlock": self.from_block, "topics": [["0x" + t.hex() for t in self.topics]]})
        ends: dict[int, list[str]] = defaultdict(list)
        for log in logs:
            ends[int.from_bytes(bytes(log["topics"][1]), "big")].append(self.topics[bytes(log["topics"][0])])
        for order_id, kinds in ends.items():
            assert len(kinds) == 1, f"order {order_id} paid out {len(kinds)} times: {kinds}"
        for o in self.orders.values():
            assert ends.get(o.id, []) == ([o.money_event] if o.money_event else []), o
            assert o.status not in TERMINAL or o.money_event, o

    def invariant_statuses(self):
        count, *orders = read_batch((self.escrow.orderCount,), *[(self.escrow.order, i) for i in self.orders])
        assert count == len(self.orders)
        for o, stored in zip(self.orders.values(), orders):
            status = Status(stored[2])
            assert status == o.status, f"order {o.id}: chain {status.name}, model {o.status.name}"
            assert stored[8] == o.remedy, f"order {o.id}: remedy {stored[8]}, model {o.remedy}"
            seen = self.seen_status.get(o.id)
            assert seen not in TERMINAL or status == seen, f"terminal order {o.id} moved {seen.name} -> {status.name}"
            self.seen_status[o.id] = status

    def invariant_nonces(self):
        nonces = read_batch(*[(contract.getNonce, self.addr(name)) for contract, name in self.signers])
        for (contract, name), nonce in zip(self.signers, nonces):
            key = (contract.address, name)
            assert nonce >= self.seen_nonces[key], f"nonce of {name} went back"
            assert nonce == self.nonces[key], f"{name}: {nonce} signatures used, model {self.nonces[key]}"
            self.seen_nonces[key] = nonce

    def teardown_final(cls):  # called once on the class after all examples (brownie)
        print("\nstateful escrow coverage:", dict(sorted(cls.stats.items())))


@pytest.fixture
def block_clock():
    """Blocks exactly 1 s apart whatever the wall clock does (anvil_setBlockTimestampInterval), for
    the duration of the test; time moves on only by mining a block at a chosen timestamp. Each
    example then replays to the same timestamps, which hypothesis needs to shrink a failure (with
    wall-clock blocks a replay drifts by seconds, and a shrink can fail as "Flaky")."""
    web3.provider.make_request("anvil_setBlockTimestampInterval", [1])
    yield
    web3.provider.make_request("anvil_removeBlockTimestampInterval", [])


def test_escrow_lifecycle_state_machine(state_machine, block_clock, lab, ops, actors, token):
    state_machine(EscrowMachine, lab, ops, actors, token, settings=SETTINGS)
