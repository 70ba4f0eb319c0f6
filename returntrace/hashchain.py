"""Rebuilding a unit's hash chain from its events (see contracts/TraceRegistry.sol).

record_0 = 0;
record_n = (keccak256(abi.encode(record_{n-1}, signer_n, structHash_n)) & ~0xffffffff) | closes_n << 31 | n
where structHash_n is the EIP-712 struct hash of the n-th Commission, LifecycleEvent or Aggregation
and closes_n is 1 when that event closes the unit (returntrace.vocab.closes). The low 32 bits are
the closed flag (bit 31) and the event count (bits 0-30).
"""

from __future__ import annotations

from collections.abc import Iterable

from eth_utils import keccak

LOW_MASK = 0xFFFFFFFF
CLOSED = 1 << 31
COUNT_MASK = CLOSED - 1
_HEAD_MASK = ~LOW_MASK & (2**256 - 1)
_ADDRESS_PAD = bytes(12)


def _address_bytes(signer: str | bytes) -> bytes:
    raw = (
        bytes.fromhex(signer[2:] if signer[:2] in ("0x", "0X") else signer)
        if isinstance(signer, str)
        else bytes(signer)
    )
    if len(raw) != 20:
        raise ValueError(f"not an address: {signer!r}")
    return raw


def link(previous: int, signer: str | bytes, struct_hash: bytes, closes: bool = False) -> int:
    """The record after one more event; `closes`: the event closes the unit (vocab.closes).
    abi.encode(uint256, address, bytes32) is three 32-byte words, written out here directly (this
    runs once per event when indexing or auditing). Like the contract, it counts on from the
    previous count; the contract never links past a closed record, so neither flag is carried."""
    if len(struct_hash) != 32:
        raise ValueError("a struct hash is 32 bytes")
    count = (previous & COUNT_MASK) + 1
    head = int.from_bytes(
        keccak(previous.to_bytes(32, "big") + _ADDRESS_PAD + _address_bytes(signer) + bytes(struct_hash)), "big"
    )
    return (head & _HEAD_MASK) | (CLOSED if closes else 0) | count


def rebuild(links: Iterable[tuple[str, bytes, bool]]) -> int:
    """The record a unit must hold on-chain after exactly these (signer, struct hash, closes)
    events, in order."""
    record = 0
    for signer, h, closes in links:
        record = link(record, signer, h, closes)
    return record


def count_of(record: int) -> int:
    """The number of events in a record (bits 0-30)."""
    return record & COUNT_MASK


def is_closed(record: int) -> bool:
    """Whether the record's unit is closed (bit 31): it accepts no further event."""
    return bool(record & CLOSED)


def to_hex(record: int) -> str:
    """A record as the 0x-prefixed 64-digit hex the gateway and the auditor CLI print."""
    return f"0x{record:064x}"
