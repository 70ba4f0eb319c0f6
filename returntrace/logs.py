"""Contract logs straight from JSON-RPC: fetched in block ranges, decoded with the contracts' ABIs.

Used by the gateway's indexer and by the auditor CLI. It asks the node for raw `eth_getLogs`
results and decodes them itself (eth_abi), which is several times faster than web3's event
objects and needs nothing but a node URL and the ABIs from the deployment manifest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import decode
from eth_utils import collapse_if_tuple, event_abi_to_log_topic, to_checksum_address

from . import abi_words

log = logging.getLogger("returntrace.logs")


class RpcError(RuntimeError):
    """The node answered a JSON-RPC request with an error."""


@dataclass(frozen=True)
class DecodedLog:
    address: str  # checksummed contract address
    name: str  # event name
    args: dict[str, Any]  # bytes32 as bytes, addresses checksummed, integers as int
    block: int
    block_hash: str
    tx_hash: str
    log_index: int


class _EventSpec:
    """One event's decoding. Topics and data of one-word types (every event of the registry's hot
    path) are read word by word (returntrace.abi_words); other data through eth_abi."""

    def __init__(self, abi: dict[str, Any]) -> None:
        self.name = abi["name"]
        inputs = abi["inputs"]
        self.indexed = [(i["name"], collapse_if_tuple(i)) for i in inputs if i.get("indexed")]
        self.data_inputs = [i for i in inputs if not i.get("indexed")]
        self.data_names = [i["name"] for i in self.data_inputs]
        self.data_types = [collapse_if_tuple(i) for i in self.data_inputs]
        # A dynamic indexed value is only its hash (a topic as is): bytes32 says so.
        topic_types = tuple("bytes32" if _hashed(typ) else typ for _, typ in self.indexed)
        topic_decoders = abi_words.word_decoders(topic_types)
        if topic_decoders is None:
            raise ValueError(f"event {self.name}: an indexed type is not one word")
        self.topic_decoders = topic_decoders
        self.data_decoders = abi_words.word_decoders(tuple(self.data_types))

    def decode(self, topics: Sequence[bytes], data: bytes) -> dict[str, Any]:
        args: dict[str, Any] = {}
        for (name, _), decode_topic, topic in zip(self.indexed, self.topic_decoders, topics[1:], strict=True):
            args[name] = decode_topic(topic)
        if self.data_decoders is not None:
            args.update(zip(self.data_names, abi_words.decode_words(self.data_decoders, data), strict=True))
        elif self.data_types:
            args.update(
                (i["name"], _checksummed(named_value(i, v)))
                for i, v in zip(self.data_inputs, decode(self.data_types, data), strict=True)
            )
        return args


def _hashed(typ: str) -> bool:
    return typ in ("string", "bytes") or typ.endswith("]") or typ.startswith("(")


def _checksummed(value: Any) -> Any:
    """eth_abi's lower-case address as EIP-55 (top-level values only, as the index has always kept them)."""
    if isinstance(value, str) and len(value) == 42 and value.startswith("0x"):
        return abi_words.checksummed(value)
    return value


def named_value(abi_input: dict[str, Any], value: Any) -> Any:
    """A decoded struct as a dict of its fields' names (arrays of structs as lists of them)."""
    typ = abi_input["type"]
    if not typ.startswith("tuple"):
        return value
    if typ != "tuple":  # tuple[] or tuple[n]
        element = {**abi_input, "type": "tuple"}
        return [named_value(element, v) for v in value]
    return {c["name"]: named_value(c, v) for c, v in zip(abi_input["components"], value, strict=True)}


class LogDecoder:
    """Decodes raw logs of known contracts: {address: abi}."""

    def __init__(
        self, contracts: Mapping[str, Sequence[Any]]
    ) -> None:  # an ABI: web3's typed one or the manifest's JSON
        self._specs: dict[tuple[str, bytes], _EventSpec] = {}
        self.addresses = [to_checksum_address(a) for a in contracts]
        for address, abi in contracts.items():
            for item in abi:
                if item.get("type") == "event" and not item.get("anonymous"):
                    self._specs[(to_checksum_address(address).lower(), event_abi_to_log_topic(item))] = _EventSpec(item)

    def decode(self, raw: dict[str, Any]) -> DecodedLog | None:
        """A decoded log, or None for an event this decoder does not know."""
        topics = [bytes.fromhex(t[2:]) for t in raw["topics"]]
        if not topics:
            return None
        spec = self._specs.get((raw["address"].lower(), topics[0]))
        if spec is None:
            return None
        return DecodedLog(
            address=abi_words.checksummed(raw["address"]),
            name=spec.name,
            args=spec.decode(topics, bytes.fromhex(raw["data"][2:])),
            block=int(raw["blockNumber"], 16),
            block_hash=raw["blockHash"],
            tx_hash=raw["transactionHash"],
            log_index=int(raw["logIndex"], 16),
        )


def rpc(w3: Any, method: str, params: list[Any]) -> Any:
    """One raw JSON-RPC request (no web3 result formatters): the `result`, or RpcError."""
    response = w3.provider.make_request(method, params)
    if "error" in response:
        error = response["error"]
        raise RpcError(error.get("message", str(error)) if isinstance(error, dict) else str(error))
    return response["result"]


def _too_many(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(
        s in text for s in ("too many", "limit", "range", "exceed", "response size", "timeout", "query returned more")
    )


def raw_logs(
    w3: Any, addresses: list[str], from_block: int, to_block: int, topics: list[Any] | None = None
) -> list[dict[str, Any]]:
    """eth_getLogs over [from_block, to_block] for the addresses; the node's JSON as is."""
    params: dict[str, Any] = {"address": addresses, "fromBlock": hex(from_block), "toBlock": hex(to_block)}
    if topics:
        params["topics"] = topics
    return rpc(w3, "eth_getLogs", [params])


def iter_ranges(
    w3: Any,
    addresses: Sequence[str],
    from_block: int,
    to_block: int,
    step: int = 2000,
    topics: list[Any] | None = None,
    fetch: Callable[..., list[dict[str, Any]]] = raw_logs,
) -> Iterator[tuple[int, int, list[dict[str, Any]]]]:
    """Yields (first, last, raw logs) for consecutive block ranges covering [from_block, to_block],
    in order. A range the node refuses as too large is halved and retried."""
    start = from_block
    size = max(1, step)
    while start <= to_block:
        end = min(to_block, start + size - 1)
        try:
            logs = fetch(w3, addresses, start, end, topics)
        except RpcError as exc:
            if end > start and _too_many(exc):
                size = max(1, (end - start + 1) // 2)
                log.info("node refused %d blocks of logs (%s); trying %d", end - start + 1, exc, size)
                continue
            raise
        logs.sort(key=lambda entry: (int(entry["blockNumber"], 16), int(entry["logIndex"], 16)))
        yield start, end, logs
        start = end + 1


def decoded(decoder: LogDecoder, logs: Iterable[dict[str, Any]]) -> Iterator[DecodedLog]:
    for raw in logs:
        if raw.get("removed"):
            continue
        entry = decoder.decode(raw)
        if entry is not None:
            yield entry
