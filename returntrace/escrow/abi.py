"""Typed structs read from ABI values by component name, never by counted position.

A struct class names its Solidity struct (`SOLIDITY = "IReturnEscrow.Order"`) and declares its
fields in snake case (`purchased_at` for `purchasedAt`). `decode` takes what a contract call or a
log gave:

- a mapping of component names (brownie's event args, returntrace.logs' decoded logs), or
- a positional tuple (a web3 call, brownie's ReturnValue) with the ABI that produced it: the
  tuple is named with that ABI's components (found by the struct's internalType), so the ABI, not
  this module, says where each field is.

Values become the field's type: enums their class, addresses checksummed, bytes as bytes, nested
structs (and fixed arrays of them) decoded the same way. A component the ABI lacks raises
AbiMismatch; tests/unit/test_escrow_model.py keeps the fields equal to the compiled contracts.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import typing
from collections.abc import Mapping, Sequence
from enum import IntEnum
from functools import cache
from typing import Any, ClassVar, TypeVar

from eth_utils import to_checksum_address

from ..logs import named_value

S = TypeVar("S", bound="AbiStruct")
Abi = Sequence[Mapping[str, Any]]


class AbiMismatch(ValueError):
    """An ABI (or a value) does not hold the struct as the model declares it."""


def camel(snake: str) -> str:
    """`purchased_at` -> `purchasedAt`: a field's ABI component name."""
    head, *rest = snake.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def snake(camel_name: str) -> str:
    """`purchasedAt` -> `purchased_at`; `ReturnRequested` -> `return_requested`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", camel_name).lower()


class AbiStruct:
    """Base of the model's frozen dataclasses that mirror a Solidity struct."""

    SOLIDITY: ClassVar[str]  # "IReturnEscrow.Order": the struct an ABI's internalType names

    @classmethod
    def decode(cls: type[S], value: Any, abi: Abi | None = None) -> S:
        """The struct from a call's or a log's value: a mapping by component name, or a tuple
        named by the components of `abi` (the contract's ABI, as the manifest or brownie holds it)."""
        if not isinstance(value, Mapping):
            if abi is None:
                raise AbiMismatch(f"{cls.__name__}: a positional value needs the ABI that produced it")
            params = _struct_params(abi).get(cls.SOLIDITY)
            if params is None:
                raise AbiMismatch(f"the ABI has no struct {cls.SOLIDITY} ({cls.__name__})")
            if len(value) != len(params["components"]):
                raise AbiMismatch(
                    f"{cls.SOLIDITY} has {len(params['components'])} components in the ABI, the value {len(value)}"
                )
            value = named_value(params, value)
        return _build(cls, value)

    @classmethod
    def from_fields_of(cls: type[S], source: AbiStruct) -> S:
        """The struct holding `source`'s fields of the same names: for a struct that restates part of
        another in its own ABI order (`ListingTerms.from_fields_of(listing)`)."""
        names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
        missing = [n for n in names if not hasattr(source, n)]
        if missing:
            raise TypeError(f"{type(source).__name__} has no {missing} for {cls.__name__}")
        return cls(**{n: getattr(source, n) for n in names})

    def as_tuple(self) -> tuple:
        """The struct as a call argument, in the fields' order (which is the ABI's: see the tests)."""
        return tuple(_encode(getattr(self, f.name)) for f in dataclasses.fields(self))  # type: ignore[arg-type]

    def as_dict(self) -> dict[str, Any]:
        """{ABI component name: value}, nested structs as dicts."""
        return {camel(f.name): _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]


def _encode(value: Any) -> Any:
    if isinstance(value, AbiStruct):
        return value.as_tuple()
    if isinstance(value, tuple):
        return tuple(_encode(v) for v in value)
    return int(value) if isinstance(value, IntEnum) else value


def _plain(value: Any) -> Any:
    if isinstance(value, AbiStruct):
        return value.as_dict()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _build(cls: type[S], named: Mapping[str, Any]) -> S:
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        name = camel(f.name)
        if name not in named:
            raise AbiMismatch(f"{cls.SOLIDITY} has no component {name!r} ({cls.__name__}.{f.name})")
        kwargs[f.name] = _convert(_hints(typing.cast(type, cls))[f.name], named[name], f"{cls.__name__}.{f.name}")
    return cls(**kwargs)


def _convert(hint: Any, value: Any, where: str) -> Any:
    if isinstance(hint, type):
        if issubclass(hint, AbiStruct):
            return _build(hint, value) if isinstance(value, Mapping) else _fail(where, value)
        if issubclass(hint, IntEnum):
            return hint(int(value))
        if hint is bool:
            return bool(value)
        if hint is int:
            return int(value)
        if hint is bytes:
            return bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)
        if hint is str:  # the model's only strings are addresses
            return to_checksum_address(value)
    if typing.get_origin(hint) is tuple:
        (element, *_) = typing.get_args(hint)
        return tuple(_convert(element, v, where) for v in value)
    return _fail(where, value)


def _fail(where: str, value: Any) -> Any:
    raise AbiMismatch(f"{where}: cannot decode {value!r}")


# ---------------------------------------------------------------- an ABI's structs, by Solidity name

_lock = threading.Lock()
_index: dict[
    int, tuple[Abi, dict[str, dict[str, Any]]]
] = {}  # id(abi) -> (abi, structs); the ABI is held, so its id stays its own


def _struct_params(abi: Abi) -> dict[str, dict[str, Any]]:
    """{"IReturnEscrow.Order": a tuple parameter with its components, …} of every struct the ABI
    mentions (function inputs and outputs, event inputs, nested), computed once per ABI object."""
    hit = _index.get(id(abi))
    if hit is not None and hit[0] is abi:
        return hit[1]
    found: dict[str, dict[str, Any]] = {}

    def walk(params: Any) -> None:
        for p in params or ():
            internal = str(p.get("internalType", ""))
            if p.get("type", "").startswith("tuple") and internal.startswith("struct "):
                found.setdefault(internal[len("struct ") :].split("[")[0], {**p, "type": "tuple"})
            walk(p.get("components"))

    for entry in abi:
        walk(entry.get("inputs"))
        walk(entry.get("outputs"))
    with _lock:
        if len(_index) >= 64:  # a caller that builds a new ABI list for every read: stay bounded
            _index.clear()
        _index[id(abi)] = (abi, found)
    return found


def struct_components(abi: Abi, solidity: str) -> list[dict[str, Any]]:
    """The components of struct `solidity` ("IReturnEscrow.Order") as `abi` declares them."""
    params = _struct_params(abi).get(solidity)
    if params is None:
        raise AbiMismatch(f"the ABI has no struct {solidity}")
    return list(params["components"])
