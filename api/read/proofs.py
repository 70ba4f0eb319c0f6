"""On-chain reads that prove what the index says, at the indexed block: a unit's record and a
parcel's content (ChainRecords), an order's state, reissues, the return's dispatch proof and the
options a buyer has (OrderLinks). Cached per block and block hash, behind one fast-fail guard
(ChainReads); any failure to read is ChainUnavailable, never a 500.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Any, Callable

from requests.exceptions import RequestException
from web3 import Web3

from returntrace import history
from returntrace.policies import Facts, Grade, Policy

from ..chain.client import REQUEST_RPC, RpcProfile

log = logging.getLogger("returntrace.unit_view")


class ChainUnavailable(Exception):
    """The node did not answer a verification read."""


class ChainReads:
    """On-chain reads for the pages: each with a short timeout, cached per (what, key, block number,
    block hash) — the hash, as the indexer saw it, keeps a reorganised block apart — and behind one
    fast-fail guard: a node that failed to answer is not asked again for `retry_after` seconds, so
    a page under load with the node down answers at once (not verified, chain unreachable). Any
    failure to read is ChainUnavailable, never a 500."""

    def __init__(self, cache_size: int = 200_000, retry_after: float = 2.0) -> None:
        self._cache: OrderedDict[tuple, Any] = OrderedDict()
        self._size, self._retry_after = cache_size, retry_after
        self._lock = threading.Lock()
        self._down: tuple[float, str] | None = None

    def guarded(self, read: Callable[[], Any]) -> Any:
        """`read()` unless the node failed within `retry_after` seconds; a failure marks it down."""
        down = self._down
        if down and time.monotonic() < down[0]:
            raise ChainUnavailable(down[1])
        try:
            value = read()
        except ChainUnavailable:
            raise
        except Exception as exc:  # any failure to read is "unreachable" for the page, never a 500
            reason = f"{type(exc).__name__}: {exc}"
            self._down = (time.monotonic() + self._retry_after, reason)
            raise ChainUnavailable(reason) from exc
        self._down = None
        return value

    def cached(self, key: tuple, read: Callable[[], Any]) -> Any:
        """`guarded(read)`, remembered under `key` (which names the block and its hash)."""
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        value = self.guarded(read)
        with self._lock:
            self._cache[key] = value
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return value


class ChainRecords:
    """The registry's state the pages prove the index against: `unitRecord` and a parcel's content
    (parentOf of each member, parcelSize), at a given block, through ChainReads."""

    def __init__(
        self, rpc_url: str, registry: str, rpc: RpcProfile = REQUEST_RPC, cache_size: int = 200_000, retry_after: float = 2.0, reads: ChainReads | None = None,
    ) -> None:
        self.w3 = rpc.web3(rpc_url)
        self.registry = self.w3.eth.contract(address=Web3.to_checksum_address(registry), abi=[
            {"type": "function", "name": "unitRecord", "stateMutability": "view", "inputs": [{"name": "unitId", "type": "bytes32"}], "outputs": [{"name": "", "type": "uint256"}]},
            {"type": "function", "name": "eventCount", "stateMutability": "view", "inputs": [{"name": "unitId", "type": "bytes32"}], "outputs": [{"name": "", "type": "uint32"}]},
        ])
        # Shared with the reads of other registries on the same node (a legacy deployment's): one fast-fail
        # guard for the node, keys that name the registry.
        self.reads = reads or ChainReads(cache_size, retry_after)

    def record(self, unit_id: bytes, block: int, block_hash: str | None = None) -> int:
        unit_id = bytes(unit_id)
        return self.reads.cached(("record", self.registry.address, unit_id, block, block_hash), lambda: int(self.registry.functions.unitRecord(unit_id).call(block_identifier=block)))

    def parcel_content(self, parcel_id: bytes, members: list[bytes], block: int, block_hash: str | None = None) -> tuple[dict[bytes, bytes], int]:
        """(parentOf of each member, parcelSize of the parcel) at `block`: two batched reads, cached."""
        def read() -> tuple[dict[bytes, bytes], int]:
            parents = history.read_parents(self.registry, members, block) if members else {}
            return parents, history.read_parcel_sizes(self.registry, [parcel_id], block)[parcel_id]

        return self.reads.cached(("parcel", self.registry.address, bytes(parcel_id), tuple(members), block, block_hash), read)

    def records(self, unit_ids: list[bytes], block: int) -> dict[bytes, int]:
        """Many units at one block (JSON-RPC batches), for the integrity report; not cached."""
        return self.reads.guarded(lambda: history.read_records(self.registry, unit_ids, block))

    def exists(self, unit_id: bytes) -> bool:
        return self.reads.guarded(lambda: int(self.registry.functions.eventCount(bytes(unit_id)).call()) > 0)


# IReturnEscrow.OrderStatus by the index's lower-case names.
ORDER_STATUSES = (
    "none", "active", "return_requested", "inspected", "disputed", "settled", "completed", "cancelled",
    "second_inspection", "refunded", "defect_claimed", "reissue_approved", "reissued",
)
ORDER_STATUS_POS, ORDER_FACTS_POS, ORDER_GRADE_POS = 2, 6, 7  # IReturnEscrow.Order tuple positions


class OrderLinks:
    """On-chain reads that prove what the index says about an order, at the indexed block: the
    order's state (`ReturnEscrow.order`), reissues (`ReissueDesk.reissue(order).replacement`,
    `ReturnEscrow.lastOrderOf(unit)`), the return's dispatch proof and the options a buyer has
    (`returnWindowCloses`, `quote`, the policy). Cached per (order or unit, block, block hash) and
    behind the same fast-fail guard as ChainRecords (`reads`); policies for good (a version never
    changes). Failures are answers (None, or "not verified" with the reason), never errors."""

    def __init__(self, rpc_url: str, chain: Any, rpc: RpcProfile = REQUEST_RPC, reads: ChainReads | None = None) -> None:
        self.w3 = rpc.web3(rpc_url)
        self.escrow = self.w3.eth.contract(address=chain.escrow.address, abi=chain.escrow.abi)
        self.desk = self.w3.eth.contract(address=chain.desk.address, abi=chain.desk.abi)
        self.policies = self.w3.eth.contract(address=chain.policies.address, abi=chain.policies.abi)
        self.reads = reads or ChainReads()
        self._policies: dict[tuple[int, int], Policy] = {}

    def replacement_of(self, order_id: int, block: int | None, block_hash: str | None = None) -> bytes | None:
        at = block if block is not None else "latest"
        replacement, _ = self.reads.cached(("reissue", order_id, at, block_hash), lambda: tuple(self.desk.functions.reissue(order_id).call(block_identifier=at)))
        return bytes(replacement) if int.from_bytes(bytes(replacement), "big") else None

    def last_order_of(self, unit_id: bytes, block: int | None, block_hash: str | None = None) -> int:
        at = block if block is not None else "latest"
        return self.reads.cached(("lastOrderOf", bytes(unit_id), at, block_hash), lambda: int(self.escrow.functions.lastOrderOf(unit_id).call(block_identifier=at)))

    def order_state(self, order_id: int, block: int | None, block_hash: str | None = None) -> tuple[str, int, int]:
        """(status name, facts, grade) of the order on-chain at `block`."""
        at = block if block is not None else "latest"
        o = self.reads.cached(("order", order_id, at, block_hash), lambda: tuple(self.escrow.functions.order(order_id).call(block_identifier=at)))
        status = int(o[ORDER_STATUS_POS])
        return (ORDER_STATUSES[status] if status < len(ORDER_STATUSES) else str(status)), int(o[ORDER_FACTS_POS]), int(o[ORDER_GRADE_POS])

    def dispatched_at(self, order_id: int, block: int | None, block_hash: str | None = None) -> int:
        """The escrow's time of the carrier's scan proving the return was sent back (0: none)."""
        at = block if block is not None else "latest"
        return self.reads.cached(("dispatchedAt", order_id, at, block_hash), lambda: int(self.escrow.functions.dispatchedAt(order_id).call(block_identifier=at)))

    def policy(self, market: int, version: int) -> Policy:
        key = (int(market), int(version))
        if key not in self._policies:
            self._policies[key] = self.reads.guarded(lambda: Policy.from_tuple(self.policies.functions.policy(*key).call()))
        return self._policies[key]

    def return_options(self, order: dict[str, Any], block: int | None, block_hash: str | None = None) -> dict[str, Any] | None:
        """While an Active order may still be returned: when the return period ends (the escrow's
        returnWindowCloses: the law's calendar or the policy's window), the cash a grade-A return
        brings (the escrow's quote, as the release on receipt pays it) and the voucher the policy
        offers instead."""
        at = block if block is not None else "latest"
        order_id = order["order_id"]
        sealed = int(Facts.SEAL_INTACT | Facts.PACKAGING_INTACT)
        try:
            policy = self.policy(order["market"], order["policy_version"])
            closes_at, now, quote = self.reads.cached(("options", order_id, at, block_hash), lambda: (
                int(self.escrow.functions.returnWindowCloses(order_id).call(block_identifier=at)),
                int(self.w3.eth.get_block(at)["timestamp"]),
                self.escrow.functions.quote(order_id, int(Grade.A), sealed, 0).call(block_identifier=at),
            ))
        except ChainUnavailable as exc:  # the page shows no options rather than failing
            log.info("return options of order %s not read: %s", order_id, exc)
            return None
        if closes_at == 0 or now > closes_at:
            return None
        statutory, refund = bool(quote[0]), int(quote[1])
        offered, bonus = policy.exchange_offered, policy.exchange_bonus_bps
        return {
            "closesAt": closes_at, "refund": str(refund), "statutory": statutory, "exchangeOffered": offered,
            "exchangeBonusBps": bonus if offered else 0, "voucher": str(refund + refund * bonus // 10_000) if offered else None,
            "refundOnReturn": policy.refund_on_return, "freePickup": policy.free_pickup,
        }


ERC20_META_ABI = [
    {"name": "symbol", "type": "function", "stateMutability": "view", "inputs": [], "outputs": [{"name": "", "type": "string"}]},
    {"name": "decimals", "type": "function", "stateMutability": "view", "inputs": [], "outputs": [{"name": "", "type": "uint8"}]},
]


class PageReads:
    """What the consumer page reads besides its proofs: an order currency's symbol and decimals (an
    ERC-20's, read once) and when a block was mined (for escrow steps the index gave no time). Both
    go through the pages' fast-fail guard (`reads`): with the node frozen, they fail at once after
    the first timeout instead of one timeout each. A failure is an answer (None), never an error."""

    BLOCK_TIME_CACHE = 10_000

    def __init__(self, chain: Any, reads: ChainReads) -> None:
        self.chain, self.reads = chain, reads
        self._currencies: dict[str, tuple[str, int]] = {}
        self._block_times: dict[int, int] = {}

    def token(self, currency: str) -> tuple[str, int] | None:
        """(symbol, decimals) of an ERC-20; None if it has none or the node is down (not remembered)."""
        if currency not in self._currencies:
            w3 = self.chain.w3

            def metadata() -> tuple[str, int] | None:
                try:
                    token = w3.eth.contract(address=w3.to_checksum_address(currency), abi=ERC20_META_ABI)
                    return str(token.functions.symbol().call()), int(token.functions.decimals().call())
                except RequestException:  # the node did not answer: the guard marks it down
                    raise
                except Exception:  # not an ERC-20 with metadata (the node is fine)
                    return None

            try:
                found = self.reads.guarded(metadata)
            except Exception:  # the node is down: no metadata this time
                found = None
            if found is None:
                return None
            self._currencies[currency] = found
        return self._currencies[currency]

    def block_time(self, block: int) -> int | None:
        """When `block` was mined; None if the node could not say (not remembered)."""
        if block not in self._block_times:
            if len(self._block_times) >= self.BLOCK_TIME_CACHE:
                self._block_times.clear()
            try:
                self._block_times[block] = self.reads.guarded(lambda: int(self.chain.w3.eth.get_block(block)["timestamp"]))
            except Exception:  # the page still renders, without that time
                return None
        return self._block_times[block]
