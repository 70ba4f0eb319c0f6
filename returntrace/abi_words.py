"""ABI encoding and decoding in whole 32-byte words, for the gateway's hot paths.

eth_abi encodes and validates value by value through its codec registry: ~25 µs per event of a
1,000-event `record` call and ~100 µs per decoded log, where the arithmetic is a few slices. The
gateway touches every event three times (its EIP-712 hash at intake, the relayer's calldata, the
indexer's hash chain) and decodes every log, so those paths use these functions instead. They give
eth_abi's results and refuse what eth_abi refuses (values out of range, wrong padding); the tests
(tests/test_abi_words.py) compare the two on every type the contracts' functions and events use.
eth_abi stays the codec everywhere else.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from eth_abi.grammar import ABIType, BasicType, TupleType, normalize, parse
from eth_utils import to_checksum_address

ZERO_WORD = bytes(32)


class AbiWordError(ValueError):
    """A value does not fit its ABI type, or a word is not the encoding of one."""


def _basic(t: BasicType) -> tuple[str, int]:
    """(base, bits or bytes) of an elementary static type: ("uint", 64), ("bytes", 32), ("address", 0)."""
    return t.base, t.sub if isinstance(t.sub, int) else 0


def _word_encoder(t: BasicType) -> Callable[[Any], bytes]:
    base, size = _basic(t)
    if base == "uint":
        top = 1 << size

        def uint(v: Any) -> bytes:
            if type(v) is not int or not 0 <= v < top:  # bool is no integer here, as in eth_abi
                raise AbiWordError(f"{v!r} is not a uint{size}")
            return v.to_bytes(32, "big")

        return uint
    if base == "int":
        low, high = -(1 << (size - 1)), 1 << (size - 1)

        def sint(v: Any) -> bytes:
            if type(v) is not int or not low <= v < high:
                raise AbiWordError(f"{v!r} is not an int{size}")
            return (v % (1 << 256)).to_bytes(32, "big")

        return sint
    if base == "address":
        return lambda v: bytes(12) + _address_bytes(v)
    if base == "bool":

        def boolean(v: Any) -> bytes:
            if not isinstance(v, bool):
                raise AbiWordError(f"{v!r} is not a bool")
            return int(v).to_bytes(32, "big")

        return boolean
    if base == "bytes" and size:

        def fixed(v: Any) -> bytes:
            if not isinstance(v, (bytes, bytearray)) or len(v) > size:
                raise AbiWordError(f"{v!r} is not a bytes{size}")
            return bytes(v).ljust(32, b"\0")

        return fixed
    raise AbiWordError(f"{t.to_type_str()} is not an elementary static type")


def _address_bytes(v: Any) -> bytes:
    """20 bytes, or 40 hex digits in any case (eth_abi checks no EIP-55 checksum either)."""
    if isinstance(v, (bytes, bytearray)) and len(v) == 20:
        return bytes(v)
    if isinstance(v, str):
        digits = v[2:] if v[:2] in ("0x", "0X") else v
        if len(digits) == 40:
            try:
                return bytes.fromhex(digits)
            except ValueError:
                pass
    raise AbiWordError(f"{v!r} is not an address")


def _padded(data: bytes) -> bytes:
    return len(data).to_bytes(32, "big") + data + bytes(-len(data) % 32)


def _build(t: ABIType) -> Callable[[Any], bytes]:
    """The encoder of one ABI type: its encoding as a tuple component would hold it (a dynamic
    value's tail, a static value inline)."""
    if t.is_array:
        element = t.item_type
        encode_element = _build(element)
        length = t.arrlist[-1][0] if t.arrlist[-1] else None
        encode_items = _sequence([element] * (length or 0), [encode_element] * (length or 0)) if length else None

        def array(v: Any) -> bytes:
            if not isinstance(v, (list, tuple)) or (length is not None and len(v) != length):
                raise AbiWordError(f"{v!r} is not a {t.to_type_str()}")
            if encode_items is not None:
                return encode_items(v)
            return len(v).to_bytes(32, "big") + _sequence([element] * len(v), [encode_element] * len(v))(v)

        return array
    if isinstance(t, TupleType):
        components = list(t.components)
        encode_tuple = _sequence(components, [_build(c) for c in components])

        def tuple_(v: Any) -> bytes:
            if not isinstance(v, (list, tuple)) or len(v) != len(components):
                raise AbiWordError(f"{v!r} is not a {t.to_type_str()}")
            return encode_tuple(v)

        return tuple_
    if not isinstance(t, BasicType):  # parse() makes nothing else
        raise AbiWordError(f"{t.to_type_str()} is not an ABI type abi_words encodes")
    if t.base == "bytes" and not t.sub:
        return lambda v: _padded(bytes(v)) if isinstance(v, (bytes, bytearray)) else _refuse(v, "bytes")
    if t.base == "string":
        return lambda v: _padded(v.encode()) if isinstance(v, str) else _refuse(v, "string")
    return _word_encoder(t)


def _refuse(v: Any, typ: str) -> bytes:
    raise AbiWordError(f"{v!r} is not a {typ}")


def _sequence(types: Sequence[ABIType], encoders: Sequence[Callable[[Any], bytes]]) -> Callable[[Sequence[Any]], bytes]:
    """Head/tail encoding of values of these types, one after the other (a tuple's components)."""
    dynamic = [t.is_dynamic for t in types]
    if not any(dynamic):
        return lambda values: b"".join(e(v) for e, v in zip(encoders, values, strict=True))
    head_size = sum(32 if d else _static_size(t) for t, d in zip(types, dynamic, strict=True))

    def encode(values: Sequence[Any]) -> bytes:
        heads: list[bytes] = []
        tails: list[bytes] = []
        offset = head_size
        for e, d, v in zip(encoders, dynamic, values, strict=True):
            data = e(v)
            if d:
                heads.append(offset.to_bytes(32, "big"))
                tails.append(data)
                offset += len(data)
            else:
                heads.append(data)
        return b"".join(heads) + b"".join(tails)

    return encode


def _static_size(t: ABIType) -> int:
    if t.is_array:
        return t.arrlist[-1][0] * _static_size(t.item_type)
    if isinstance(t, TupleType):
        return sum(_static_size(c) for c in t.components)
    return 32


@functools.cache
def _encoder(types: tuple[str, ...]) -> Callable[[Sequence[Any]], bytes]:
    parsed = [parse(normalize(t)) for t in types]
    return _sequence(parsed, [_build(t) for t in parsed])


def encode(types: Sequence[str], values: Sequence[Any]) -> bytes:
    """eth_abi.encode(types, values), in words."""
    if len(types) != len(values):
        raise AbiWordError(f"{len(values)} values for {len(types)} types")
    return _encoder(tuple(types))(values)


@functools.cache
def word_encoder(typ: str) -> Callable[[Any], bytes]:
    """The encoder of an elementary static type (uintN, intN, address, bool, bytesN): one word."""
    parsed = parse(normalize(typ))
    if not isinstance(parsed, BasicType) or parsed.is_dynamic or parsed.is_array:
        raise AbiWordError(f"{typ} does not encode as one word")
    return _word_encoder(parsed)


# ---------------------------------------------------------------------------- decoding


@functools.lru_cache(maxsize=4096)
def checksummed(address: str) -> str:
    """EIP-55 of a 0x address (the same few accounts sign thousands of logs: computed once each)."""
    return to_checksum_address(address)


def _word_decoder(t: BasicType) -> Callable[[bytes], Any]:
    base, size = _basic(t)
    if base == "uint":
        top = 1 << size

        def uint(w: bytes) -> int:
            v = int.from_bytes(w, "big")
            if v >= top:
                raise AbiWordError(f"0x{w.hex()} is not a uint{size}")
            return v

        return uint
    if base == "int":
        low, high = -(1 << (size - 1)), 1 << (size - 1)

        def sint(w: bytes) -> int:
            v = int.from_bytes(w, "big", signed=True)
            if not low <= v < high:
                raise AbiWordError(f"0x{w.hex()} is not an int{size}")
            return v

        return sint
    if base == "address":

        def address(w: bytes) -> str:
            if w[:12] != ZERO_WORD[:12]:
                raise AbiWordError(f"0x{w.hex()} is not an address")
            return checksummed("0x" + w[12:].hex())

        return address
    if base == "bool":

        def boolean(w: bytes) -> bool:
            v = int.from_bytes(w, "big")
            if v > 1:
                raise AbiWordError(f"0x{w.hex()} is not a bool")
            return v == 1

        return boolean
    if base == "bytes" and size:

        def fixed(w: bytes) -> bytes:
            if w[size:] != ZERO_WORD[size:]:
                raise AbiWordError(f"0x{w.hex()} is not a bytes{size}")
            return w[:size]

        return fixed
    raise AbiWordError(f"{t.to_type_str()} is not an elementary static type")


@functools.cache
def word_decoders(types: tuple[str, ...]) -> list[Callable[[bytes], Any]] | None:
    """Decoders of these types if each is one word (elementary and static), else None."""
    out = []
    for t in types:
        parsed = parse(normalize(t))
        if not isinstance(parsed, BasicType) or parsed.is_dynamic or parsed.is_array:
            return None
        out.append(_word_decoder(parsed))
    return out


def decode_words(decoders: list[Callable[[bytes], Any]], data: bytes) -> list[Any]:
    """Values of one-word types (word_decoders) from exactly their words; addresses checksummed."""
    if len(data) != 32 * len(decoders):
        raise AbiWordError(f"{len(data)} bytes are not {len(decoders)} words")
    return [d(data[32 * i : 32 * i + 32]) for i, d in enumerate(decoders)]
