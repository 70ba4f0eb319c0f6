"""Rebuilding a unit's hash chain from its events (see contracts/TraceRegistry.sol).

record_0 = 0; record_n = (keccak256(abi.encode(record_{n-1}, signer_n, structHash_n)) & ~0xffffffff) | n
where structHash_n is the EIP-712 struct hash of the n-th Commission or LifecycleEvent.
"""

from __future__ import annotations

from typing import Iterable

from eth_abi import encode
from eth_utils import keccak

COUNT_MASK = 0xFFFFFFFF


def link(previous: int, signer: str, struct_hash: bytes) -> int:
    count = (previous & COUNT_MASK) + 1
    head = int.from_bytes(keccak(encode(["uint256", "address", "bytes32"], [previous, signer, struct_hash])), "big")
    return (head & ~COUNT_MASK & (2**256 - 1)) | count


def rebuild(links: Iterable[tuple[str, bytes]]) -> int:
    """The record a unit must hold on-chain after exactly these (signer, struct hash) events, in order."""
    record = 0
    for signer, h in links:
        record = link(record, signer, h)
    return record


def count_of(record: int) -> int:
    return record & COUNT_MASK
