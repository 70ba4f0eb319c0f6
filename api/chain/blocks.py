"""Where a read is made: the latest block, or one block by number and hash.

Every read of the chain layer takes one. The write side asks about the latest block (is this
message valid now?); the read side about the block its index describes, so that a page's proof and
its rows speak of the same state. The hash, as the indexer saw it, keeps a reorganised block apart
in caches (two blocks of one number are two keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class BlockRef:
    number: int | None = None  # None: the latest block
    hash: str | None = None

    @property
    def identifier(self) -> int | Literal["latest"]:
        """What web3 and JSON-RPC take as `block_identifier`."""
        return "latest" if self.number is None else self.number

    @property
    def is_latest(self) -> bool:
        return self.number is None


LATEST = BlockRef()


def at(number: int | None, block_hash: str | None = None) -> BlockRef:
    """The block `number` (seen with `block_hash`); LATEST for None."""
    return LATEST if number is None else BlockRef(number, block_hash)


def head(w3: Any) -> BlockRef:
    """The latest block, by number and hash: where a read that a proof must name is made."""
    block = w3.eth.get_block("latest")
    return BlockRef(int(block["number"]), "0x" + bytes(block["hash"]).hex())
