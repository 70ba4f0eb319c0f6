"""The registry's state of many units at one block (unitRecord, parentOf, parcelSize), read in
JSON-RPC batches: what the gateway's reads and the auditor CLI share."""

from __future__ import annotations

from typing import Any

from eth_utils import keccak

from .. import logs

_UNIT_RECORD_SELECTOR = keccak(text="unitRecord(bytes32)")[:4]
_PARENT_OF_SELECTOR = keccak(text="parentOf(bytes32)")[:4]
_PARCEL_SIZE_SELECTOR = keccak(text="parcelSize(bytes32)")[:4]


def read_records(registry: Any, ids: list[bytes], block: int | str, batch: int = 200) -> dict[bytes, int]:
    """`unitRecord(id)` of many units at `block`, in JSON-RPC batches where the node takes them."""
    return read_words(registry, _UNIT_RECORD_SELECTOR, ids, block, batch)


def read_parents(registry: Any, ids: list[bytes], block: int | str) -> dict[bytes, bytes]:
    """`parentOf(id)` of many units at `block`: the parcel each is packed in (zero bytes: none)."""
    return {u: w.to_bytes(32, "big") for u, w in read_words(registry, _PARENT_OF_SELECTOR, ids, block).items()}


def read_parcel_sizes(registry: Any, ids: list[bytes], block: int | str) -> dict[bytes, int]:
    """`parcelSize(id)` of many parcels at `block` (0 for an empty parcel or a unit)."""
    return read_words(registry, _PARCEL_SIZE_SELECTOR, ids, block)


def read_words(
    registry: Any, selector: bytes, ids: list[bytes], block: int | str, batch: int = 200
) -> dict[bytes, int]:
    """A one-word view `selector(bytes32 id)` of many ids at `block` (a number or a tag such as
    "latest"), in JSON-RPC batches where the node takes them. `registry` is any web3 contract."""
    w3 = registry.w3
    tag = block if isinstance(block, str) else hex(block)
    out: dict[bytes, int] = {}

    def params(u: bytes) -> list[Any]:
        return [{"to": registry.address, "data": "0x" + (selector + bytes(u)).hex()}, tag]

    make_batch = getattr(w3.provider, "make_batch_request", None)
    for i in range(0, len(ids), batch):
        chunk = ids[i : i + batch]
        answers: list[Any] | None = None
        if make_batch is not None and len(chunk) > 1:
            try:
                responses = make_batch([("eth_call", params(u)) for u in chunk])
                if (
                    isinstance(responses, list)
                    and len(responses) == len(chunk)
                    and all("result" in r for r in responses)
                ):
                    answers = [r["result"] for r in sorted(responses, key=lambda r: int(r["id"]))]
            except (NotImplementedError, ValueError, TypeError, KeyError):
                answers = None
        if answers is None:
            answers = [logs.rpc(w3, "eth_call", params(u)) for u in chunk]
        for u, value in zip(chunk, answers, strict=True):
            out[bytes(u)] = int(value, 16) if value not in ("0x", None) else 0
    return out
