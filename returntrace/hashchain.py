"""Rebuilding a unit's hash chain from its events (see contracts/TraceRegistry.sol).

record_0 = 0; record_n = (keccak256(abi.encode(record_{n-1}, signer_n, structHash_n)) & ~0xffffffff) | n
where structHash_n is the EIP-712 struct hash of the n-th Commission or LifecycleEvent.
"""

from __future__ import annotations

from typing import Iterable

from eth_utils import keccak

COUNT_MASK = 0xFFFFFFFF
_HEAD_MASK = ~COUNT_MASK & (2**256 - 1)
_ADDRESS_PAD = bytes(12)


def _address_bytes(signer: str | bytes) -> bytes:
    raw = bytes.fromhex(signer[2:] if signer[:2] in ("0x", "0X") else signer) if isinstance(signer, str) else bytes(signer)
    if len(raw) != 20:
        raise ValueError(f"not an address: {signer!r}")
    return raw


def link(previous: int, signer: str | bytes, struct_hash: bytes) -> int:
    """The record after one more event. abi.encode(uint256, address, bytes32) is three 32-byte
    words, written out here directly (this runs once per event when indexing or auditing)."""
    if len(struct_hash) != 32:
        raise ValueError("a struct hash is 32 bytes")
    count = (previous & COUNT_MASK) + 1
    head = int.from_bytes(keccak(previous.to_bytes(32, "big") + _ADDRESS_PAD + _address_bytes(signer) + bytes(struct_hash)), "big")
    return (head & _HEAD_MASK) | count


def rebuild(links: Iterable[tuple[str, bytes]]) -> int:
    """The record a unit must hold on-chain after exactly these (signer, struct hash) events, in order."""
    record = 0
    for signer, h in links:
        record = link(record, signer, h)
    return record


def count_of(record: int) -> int:
    return record & COUNT_MASK


def to_hex(record: int) -> str:
    """A record as the 0x-prefixed 64-digit hex the gateway and the auditor CLI print."""
    return f"0x{record:064x}"
