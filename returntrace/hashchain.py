"""Rebuilding a unit's hash chain from its events (see contracts/TraceRegistry.sol).

record_0 = 0; record_n = (keccak256(abi.encode(record_{n-1}, structHash_n)) & ~0xffffffff) | n
"""

from __future__ import annotations

from typing import Iterable

from eth_abi import encode
from eth_utils import keccak

COUNT_MASK = 0xFFFFFFFF


def link(previous: int, struct_hash: bytes) -> int:
    count = (previous & COUNT_MASK) + 1
    head = int.from_bytes(keccak(encode(["uint256", "bytes32"], [previous, struct_hash])), "big")
    return (head & ~COUNT_MASK & (2**256 - 1)) | count


def rebuild(struct_hashes: Iterable[bytes]) -> int:
    """The record a unit must hold on-chain after exactly these events, in this order."""
    record = 0
    for h in struct_hashes:
        record = link(record, h)
    return record


def count_of(record: int) -> int:
    return record & COUNT_MASK
