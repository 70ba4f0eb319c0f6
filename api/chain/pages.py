"""What the read side reads of the chain besides its proofs: when a block was mined (the indexer's
escrow rows, the page's escrow steps) and an order currency's symbol and decimals (the page)."""

from __future__ import annotations

from typing import Any

from requests.exceptions import RequestException

from returntrace import logs

from .cache import Permanent
from .guard import NodeGuard

ERC20_META_ABI = [
    {
        "name": "symbol",
        "type": "function",
        "stateMutability": "view",
        "inputs": [],
        "outputs": [{"name": "", "type": "string"}],
    },
    {
        "name": "decimals",
        "type": "function",
        "stateMutability": "view",
        "inputs": [],
        "outputs": [{"name": "", "type": "uint8"}],
    },
]


class BlockTimes:
    """When each block was mined, by number, read once (Permanent, bounded); None for a block the
    node does not have (not kept). Node errors propagate: the caller decides."""

    def __init__(self, w3: Any, size: int = 10_000) -> None:
        self.w3 = w3
        self._times = Permanent(size)

    def get(self, number: int) -> int | None:
        return self._times.get(number, lambda: self._read(number), keep=lambda t: t is not None)

    def _read(self, number: int) -> int | None:
        block = logs.rpc(self.w3, "eth_getBlockByNumber", [hex(number), False])
        return int(block["timestamp"], 16) if block else None


class PageReads:
    """The consumer page's block times and token metadata, behind the pages' fast-fail guard: with
    the node frozen, they fail at once after the first timeout instead of one timeout each. A
    failure is an answer (None), never an error."""

    def __init__(self, w3: Any, guard: NodeGuard) -> None:
        self.w3, self.guard = w3, guard
        self.block_times = BlockTimes(w3)
        self._tokens = Permanent()

    def block_time(self, block: int) -> int | None:
        """When `block` was mined; None if the node could not say."""
        try:
            return self.guard.guarded(lambda: self.block_times.get(block))
        except Exception:  # the page still renders, without that time
            return None

    def token(self, currency: str) -> tuple[str, int] | None:
        """(symbol, decimals) of an ERC-20, read once; None if it has none or the node is down (not kept)."""

        def metadata() -> tuple[str, int] | None:
            try:
                token = self.w3.eth.contract(address=self.w3.to_checksum_address(currency), abi=ERC20_META_ABI)
                return str(token.functions.symbol().call()), int(token.functions.decimals().call())
            except RequestException:  # the node did not answer: the guard marks it down
                raise
            except Exception:  # not an ERC-20 with metadata (the node is fine)
                return None

        def guarded() -> tuple[str, int] | None:
            try:
                return self.guard.guarded(metadata)
            except Exception:  # the node is down: no metadata this time
                return None

        return self._tokens.get(currency, guarded, keep=lambda found: found is not None)
