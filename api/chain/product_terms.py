"""A product's return terms as the chain states them at one block: for each market the registry says
it is sold in (`product(gtin).markets`), that market's consumer law, its policy version in force, the
currencies it sells in and the accredited return centres serving it (ReturnPolicies and TraceRegistry).

Nothing here is a second copy of the rules: every figure is read from the contracts at the stated
block (the latest one when the page is asked for), so the product page (api/http/pages/policy_page.py)
says what the escrow would apply to a purchase made at that block. Currencies and return centres are
mappings the contracts cannot list: their `CurrencySet` and `ReturnCenterSet` logs up to the block name
the candidates, and each is kept only if the contract's view at the block still allows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from eth_typing import ABIEvent
from eth_utils import event_abi_to_log_topic, keccak
from web3.exceptions import ContractCustomError, ContractLogicError

from returntrace import logs
from returntrace.escrow import Currency, Law, Order, OrderStatus, Policy

from .cache import PerBlock
from .client import Chain
from .guard import NodeGuard

RETURN_CENTER_SET = "0x" + keccak(text="ReturnCenterSet(uint64,uint64,uint64)").hex()
MAX_MARKETS = 64
SETTLED = (OrderStatus.SETTLED, OrderStatus.REFUNDED, OrderStatus.CANCELLED, OrderStatus.COMPLETED)


@dataclass(frozen=True)
class MarketTerms:
    market: int
    law: Law | None  # None: the law admin set no law for the market (the escrow sells nothing there)
    policy_version: int
    policy: Policy | None  # None: no policy version yet
    currencies: list[tuple[str, Currency]] = field(default_factory=list)  # (address, terms), native as ZERO
    return_centers: list[tuple[int, int]] = field(default_factory=list)  # (location GLN, organisation GLN)


@dataclass(frozen=True)
class ProductTerms:
    gtin: str  # GTIN-14
    brand: str
    class_flags: int
    markets_bitmap: int
    block: int
    block_hash: str
    block_time: int
    markets: list[MarketTerms]


@dataclass(frozen=True)
class OrderTerms:
    order_id: int
    hygiene_sealed: bool
    market: MarketTerms  # at the order's policy version
    window_closes_at: int  # ReturnEscrow.returnWindowCloses: 0 until delivered
    refund_due_at: int  # ReturnEscrow.refundDueAt: 0 unless a statutory withdrawal runs and the goods are on their way
    in_withdrawal: bool  # the return request fell in the statutory withdrawal period
    block: int
    block_time: int


def market_bits(bitmap: int) -> list[int]:
    """The markets of a registry bitmap (bit m: market m), in order."""
    return [m for m in range(MAX_MARKETS) if (bitmap >> m) & 1]


class ProductTermsReads:
    """Reads a product's terms at the latest block, behind the pages' guard, cached per block."""

    def __init__(self, chain: Chain, guard: NodeGuard, cache: PerBlock | None = None) -> None:
        self.chain, self.guard = chain, guard
        self.cache = cache if cache is not None else PerBlock()
        currency_set = next(
            item for item in chain.policies.abi if item.get("type") == "event" and item.get("name") == "CurrencySet"
        )
        self._currency_topic = "0x" + event_abi_to_log_topic(cast(ABIEvent, currency_set)).hex()

    def terms(self, gtin14: str) -> ProductTerms | None:
        """The product's terms at the latest block; None for a GTIN no brand registered. Raises
        ChainUnavailable when the node does not answer."""
        return self.guard.guarded(lambda: self._terms(gtin14))

    def _terms(self, gtin14: str) -> ProductTerms | None:
        head = self.chain.w3.eth.get_block("latest")
        number, block_hash = int(head["number"]), "0x" + bytes(head["hash"]).hex()
        return self.cache.get(("productTerms", gtin14, number, block_hash), lambda: self._read(gtin14, head))

    def _read(self, gtin14: str, head: Any) -> ProductTerms | None:
        number = int(head["number"])
        brand, class_flags, bitmap = self.chain.registry.functions.product(int(gtin14)).call(block_identifier=number)
        if int(brand, 16) == 0:
            return None
        centers = self._center_logs(number)  # read once for every market
        markets = [self._market(m, number, centers=centers) for m in market_bits(int(bitmap))]
        return ProductTerms(
            gtin=gtin14,
            brand=brand,
            class_flags=int(class_flags),
            markets_bitmap=int(bitmap),
            block=number,
            block_hash="0x" + bytes(head["hash"]).hex(),
            block_time=int(head["timestamp"]),
            markets=markets,
        )

    def order_terms(self, order_id: int, unit_id: bytes) -> OrderTerms | None:
        """The terms an order of the unit was bought under (its market, the policy version in force at
        purchase) and its dates as the escrow computes them, at the latest block; None when the escrow
        has no such order of this unit. Raises ChainUnavailable."""
        return self.guard.guarded(lambda: self._order_terms(order_id, bytes(unit_id)))

    def _order_terms(self, order_id: int, unit_id: bytes) -> OrderTerms | None:
        head = self.chain.w3.eth.get_block("latest")
        number, block_hash = int(head["number"]), "0x" + bytes(head["hash"]).hex()

        def read() -> OrderTerms | None:
            e = self.chain.escrow.functions
            try:
                values = e.order(order_id).call(block_identifier=number)
            except (ContractCustomError, ContractLogicError):  # no such order: an answer, not a node failure
                return None
            order = Order.decode(values, self.chain.escrow.abi)
            if bytes(order.unit_id) != unit_id:
                return None
            return OrderTerms(
                order_id=order_id,
                hygiene_sealed=order.hygiene_sealed,
                market=self._market(order.market, number, order.policy_version),
                window_closes_at=int(e.returnWindowCloses(order_id).call(block_identifier=number)),
                refund_due_at=int(e.refundDueAt(order_id).call(block_identifier=number)),
                in_withdrawal=order.in_withdrawal and order.status not in SETTLED,
                block=number,
                block_time=int(head["timestamp"]),
            )

        return self.cache.get(("orderTerms", order_id, unit_id, number, block_hash), read)

    def _market(
        self, market: int, block: int, version: int | None = None, centers: dict[int, int] | None = None
    ) -> MarketTerms:
        """A market's terms at `block`: its policy version `version`, or the one in force."""
        p = self.chain.policies.functions
        has_law = bool(p.hasLaw(market).call(block_identifier=block))
        law = Law.decode(p.law(market).call(block_identifier=block), self.chain.policies.abi) if has_law else None
        if version is None:
            version = int(p.currentPolicyVersion(market).call(block_identifier=block))
        policy = (
            Policy.decode(p.policy(market, version).call(block_identifier=block), self.chain.policies.abi)
            if version
            else None
        )
        if centers is None:
            centers = self._center_logs(block)
        return MarketTerms(
            market, law, version, policy, self._currencies(market, block), self._return_centers(market, block, centers)
        )

    def _logs(self, address: str, topics: list[Any], block: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for _first, _last, batch in logs.iter_ranges(
            self.chain.w3, [address], self.chain.deployment_block, block, step=50_000, topics=topics
        ):
            found += batch
        return found

    def _currencies(self, market: int, block: int) -> list[tuple[str, Currency]]:
        market_topic = "0x" + market.to_bytes(32, "big").hex()
        seen = dict.fromkeys(
            self.chain.w3.to_checksum_address("0x" + raw["topics"][2][-40:])
            for raw in self._logs(self.chain.policies.address, [self._currency_topic, market_topic], block)
        )
        out: list[tuple[str, Currency]] = []
        for address in seen:
            terms = Currency.decode(
                self.chain.policies.functions.currency(market, address).call(block_identifier=block),
                self.chain.policies.abi,
            )
            if terms.allowed:
                out.append((address, terms))
        return out

    def _center_logs(self, block: int) -> dict[int, int]:
        """location -> organisation of each site's last ReturnCenterSet up to `block`."""
        latest: dict[int, int] = {}
        for raw in self._logs(self.chain.registry.address, [RETURN_CENTER_SET], block):
            latest[int(raw["topics"][1], 16)] = int(raw["topics"][2], 16)
        return latest

    def _return_centers(self, market: int, block: int, latest: dict[int, int]) -> list[tuple[int, int]]:
        """The sites whose last accreditation serves `market`, as the registry says at `block`."""
        accredited = self.chain.registry.functions.returnCenterAccredited
        return sorted(
            (location, organization)
            for location, organization in latest.items()
            if accredited(location, organization, market).call(block_identifier=block)
        )
