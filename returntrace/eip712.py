"""EIP-712 messages the contracts accept: type definitions, hashing and signing.

The type strings here must match the contracts' type hashes; tests compare them with the
on-chain getters and cross-check digests against eth-account's own typed-data encoder.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_abi import encode
from eth_account import Account
from eth_utils import keccak, to_checksum_address

from . import abi_words
from .documents import DOCUMENTS, DOMAIN_NAME, DOMAIN_VERSION
from .kinds import KINDS

# Field lists in signing order, of every signed kind and of the items a batch signs inside it
# (Commission, LifecycleEvent, Aggregation, Decommission): one entry per kind in returntrace/kinds.py;
# and of every off-chain document kind and the structs it nests (returntrace/documents.py).
TYPES: dict[str, list[tuple[str, str]]] = {
    **{k.item[0]: list(k.item[1]) for k in KINDS.values() if k.item is not None},
    **{k.name: list(k.fields) for k in KINDS.values()},
    **{name: list(fields) for d in DOCUMENTS.values() for name, fields in d.structs},
    **{d.name: list(d.fields) for d in DOCUMENTS.values()},
}

# The signer field of each signed message type.
SIGNER_FIELD = {k.name: k.signer for k in KINDS.values()}

_DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"


def _referenced(primary: str) -> list[str]:
    """The struct types `primary` references, directly or through another, sorted by name (encodeType)."""
    found: set[str] = set()
    todo = [primary]
    while todo:
        for typ, _ in TYPES[todo.pop()]:
            name = typ.removesuffix("[]")
            if name in TYPES and name not in found and name != primary:
                found.add(name)
                todo.append(name)
    return sorted(found)


def type_string(primary: str) -> str:
    """encodeType: the primary type, then the struct types it references, sorted by name."""
    return "".join(
        f"{name}(" + ",".join(f"{t} {n}" for t, n in TYPES[name]) + ")" for name in [primary, *_referenced(primary)]
    )


@functools.cache
def type_hash(primary: str) -> bytes:
    """keccak(encodeType), computed once per type (TYPES never changes): struct_hash asks for it
    once per item, a hundred times for a session of events."""
    return keccak(text=type_string(primary))


def _as_bytes32(value: Any) -> bytes:
    raw = bytes.fromhex(value[2:] if value.startswith("0x") else value) if isinstance(value, str) else bytes(value)
    if len(raw) != 32:
        raise ValueError(f"expected 32 bytes, got {len(raw)}")
    return raw


def _field_encoder(typ: str) -> Callable[[Any], bytes]:
    """encodeData of one field: its 32-byte word (EIP-712: strings, arrays and structs by their hash)."""
    if typ.endswith("[]") and typ[:-2] in TYPES:
        item = typ[:-2]
        return lambda items: keccak(b"".join(struct_hash(item, i) for i in items))
    if typ in TYPES:  # a nested struct: its hashStruct
        return lambda value: struct_hash(typ, value)
    if typ.endswith("[]"):  # an array of atomic values: the keccak of their concatenated encodings
        element = _field_encoder(typ[:-2])
        return lambda values: keccak(b"".join(element(v) for v in values))
    if typ == "string":
        return lambda text: keccak(text=text)
    if typ == "bytes32":
        return _as_bytes32
    word = abi_words.word_encoder(typ)
    if typ == "address":
        return lambda v: word(to_checksum_address(v))
    return lambda v: word(int(v))


@functools.cache
def _fields(primary: str) -> tuple[tuple[str, Callable[[Any], bytes]], ...]:
    return tuple((name, _field_encoder(typ)) for typ, name in TYPES[primary])


def struct_hash(primary: str, message: Mapping[str, Any]) -> bytes:
    """hashStruct(message) per EIP-712, for the flat types above: keccak(typeHash ‖ a word per
    field). The words come from abi_words and per-type encoders made once: a session hashes a
    hundred events, and eth_abi took ~10x longer."""
    return keccak(type_hash(primary) + b"".join(word(message[name]) for name, word in _fields(primary)))


@dataclass(frozen=True)
class Domain:
    """An EIP-712 domain: one contract on one chain."""

    name: str
    version: str
    chain_id: int
    verifying_contract: str

    @functools.cached_property
    def separator(self) -> bytes:  # computed once per domain: every digest needs it
        return keccak(
            encode(
                ["bytes32", "bytes32", "bytes32", "uint256", "address"],
                [
                    keccak(text=_DOMAIN_TYPE),
                    keccak(text=self.name),
                    keccak(text=self.version),
                    self.chain_id,
                    to_checksum_address(self.verifying_contract),
                ],
            )
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": to_checksum_address(self.verifying_contract),
        }

    def digest(self, primary: str, message: Mapping[str, Any]) -> bytes:
        return keccak(b"\x19\x01" + self.separator + struct_hash(primary, message))

    def sign(self, private_key: bytes | str, primary: str, message: Mapping[str, Any]) -> bytes:
        """65-byte r‖s‖v signature of the message's EIP-712 digest."""
        signed = Account.unsafe_sign_hash(self.digest(primary, message), private_key)
        return signed.signature

    def typed_data(self, primary: str, message: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The eth_signTypedData_v4 JSON for a wallet (message omitted: the schema alone)."""
        data: dict[str, Any] = {
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                **{name: [{"name": n, "type": t} for t, n in TYPES[name]] for name in [primary, *_referenced(primary)]},
            },
            "primaryType": primary,
            "domain": self.as_json(),
        }
        if message is not None:
            data["message"] = dict(message)
        return data


def documents_domain(chain_id: int, registry: str) -> Domain:
    """The domain every off-chain document is signed under (returntrace/documents.py)."""
    return Domain(DOMAIN_NAME, DOMAIN_VERSION, chain_id, registry)


def _as_tuple(primary: str, message: Mapping[str, Any]) -> tuple:
    return tuple(
        [_as_tuple(t[:-2], item) for item in message[n]] if t.endswith("[]") and t[:-2] in TYPES else message[n]
        for t, n in TYPES[primary]
    )


def call_args(primary: str, message: Mapping[str, Any], signature: bytes) -> tuple:
    """The contracts' calldata struct for a signed message: its fields in type order (nested
    structs as tuples), then the signature."""
    return _as_tuple(primary, message) + (signature,)


def to_json(value: Any) -> Any:
    """A message as JSON: bytes as 0x-hex, nested items alike."""
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, Mapping):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value
