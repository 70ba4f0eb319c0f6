"""The escrow model (returntrace.escrow) equals the compiled contracts: every enum member, every struct
field's name, order and type, read from build/contracts (the AST for enums and structs, the ABI for
what a call or a log carries). No chain: nothing here deploys or calls, so it runs in the fast tier;
it needs the compiled contracts (`make compile`, or any brownie run, writes build/).

A member added to an enum, a field to a struct or a struct to IReturnEscrow, IReturnPolicies or
IReissueDesk fails here until the model has it; a renamed or reordered field fails too.
"""

from __future__ import annotations

import dataclasses
import json
import random
import typing
from enum import IntEnum
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from returntrace import eip712, vocab
from returntrace.escrow import ENUMS, STRUCTS, AbiMismatch, AbiStruct, Order, Policy, Settlement
from returntrace.escrow.abi import camel, snake, struct_components

BUILD = Path(__file__).resolve().parents[2] / "build" / "contracts"
INTERFACES = ("IReturnEscrow", "IReturnPolicies", "IReissueDesk")
CONTRACTS = (
    "ReturnEscrow",
    "ReturnPolicies",
    "ReissueDesk",
)  # what the gateway's manifest carries: their ABIs name the same structs


@cache
def artifact(name: str) -> dict[str, Any]:
    path = BUILD / f"{name}.json"
    if not path.exists():
        pytest.fail(f"{path} is missing: compile the contracts first (make compile)")
    return json.loads(path.read_text())


def definitions(interface: str, node_type: str) -> dict[str, dict[str, Any]]:
    """{canonical name: AST node} of the enums or structs `interface` declares."""
    (contract,) = [n for n in artifact(interface)["ast"]["nodes"] if n["nodeType"] == "ContractDefinition"]
    return {n["canonicalName"]: n for n in contract["nodes"] if n["nodeType"] == node_type}


def upper_snake(name: str) -> str:
    return snake(name).upper()


# ---------------------------------------------------------------- enums


def test_every_enum_of_the_interfaces_is_modelled():
    declared = {name for i in INTERFACES for name in definitions(i, "EnumDefinition")}
    assert declared == set(ENUMS)


@pytest.mark.parametrize("solidity", sorted(ENUMS))
def test_enum_members_are_the_contract_members_in_order(solidity):
    interface = solidity.split(".")[0]
    node = definitions(interface, "EnumDefinition")[solidity]
    expected = [(upper_snake(m["name"]), i) for i, m in enumerate(node["members"])]
    assert [(m.name, int(m)) for m in ENUMS[solidity]] == expected


@pytest.mark.parametrize(
    "solidity, cls",
    [
        ("ITraceRegistry.BizStep", vocab.BizStep),
        ("ITraceRegistry.Disposition", vocab.Disposition),
        ("ITraceRegistry.AggregationAction", vocab.AggregationAction),
        ("ITraceRegistry.Milestone", vocab.Milestone),
    ],
)
def test_registry_vocabulary_is_the_contract_members(solidity, cls):
    """returntrace.vocab numbers the registry's enums as ITraceRegistry does; a Solidity `None` at 0
    (no step, no action) is the only member the Python enum may leave out."""
    node = definitions("ITraceRegistry", "EnumDefinition")[solidity]
    expected = [
        (upper_snake(m["name"]), i)
        for i, m in enumerate(node["members"])
        if not (i == 0 and m["name"] == "None" and "NONE" not in cls.__members__)
    ]
    assert [(m.name, int(m)) for m in cls] == expected


def test_keys_are_lower_case_names():
    from returntrace.escrow import OrderStatus, ReturnReason, SettlementPath

    assert OrderStatus.RETURN_REQUESTED.key == "return_requested"
    assert OrderStatus.from_key("second_inspection") is OrderStatus.SECOND_INSPECTION
    assert SettlementPath.keys()[SettlementPath.ON_RECEIPT] == "on_receipt"
    assert (ReturnReason.key_of(2), ReturnReason.key_of(99)) == ("not_as_described", "99")


# ---------------------------------------------------------------- structs


def test_every_struct_of_the_interfaces_is_modelled_or_a_signed_message():
    declared = {name for i in INTERFACES for name in definitions(i, "StructDefinition")}
    messages = {name for name in declared if name.split(".")[1] in eip712.TYPES}
    assert messages == {"IReturnEscrow.ReturnRequest", "IReturnEscrow.Inspection", "IReissueDesk.DefectClaim"}
    assert declared - messages == set(STRUCTS)


def expected_hint(type_string: str) -> Any:
    """The model's field type for a Solidity member type."""
    if type_string.startswith("enum "):
        return ENUMS[type_string[len("enum ") :]]
    if type_string.startswith("struct "):
        name, _, size = type_string[len("struct ") :].partition("[")
        element = STRUCTS[name]
        return tuple[(element,) * int(size.rstrip("]"))] if size else element  # type: ignore[misc]
    if type_string == "bool":
        return bool
    if type_string == "address":
        return str
    if type_string == "bytes32":
        return bytes
    if type_string.startswith(("uint", "int")):
        return int
    raise AssertionError(f"no model type for {type_string}")


@pytest.mark.parametrize("solidity", sorted(STRUCTS))
def test_struct_fields_are_the_contract_members_in_order_and_type(solidity):
    cls = STRUCTS[solidity]
    node = definitions(solidity.split(".")[0], "StructDefinition")[solidity]
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    assert [camel(f.name) for f in fields] == [m["name"] for m in node["members"]]
    assert [hints[f.name] for f in fields] == [
        expected_hint(m["typeDescriptions"]["typeString"]) for m in node["members"]
    ]


@pytest.mark.parametrize("solidity", sorted(STRUCTS))
def test_abi_components_are_the_model_fields(solidity):
    """Wherever a compiled ABI carries the struct (a call's value, an argument, a log), its components
    are the model's fields, so decoding by name finds every one; its own interface's ABI carries it."""
    fields = [camel(f.name) for f in dataclasses.fields(STRUCTS[solidity])]  # type: ignore[arg-type]
    carried: dict[str, list[str]] = {}
    for contract in INTERFACES + CONTRACTS:
        try:
            carried[contract] = [c["name"] for c in struct_components(artifact(contract)["abi"], solidity)]
        except AbiMismatch:
            continue
    assert solidity.split(".")[0] in carried
    assert {contract: fields for contract in carried} == carried


# ---------------------------------------------------------------- decoding by name


def sample(param: dict[str, Any], rng: random.Random) -> Any:
    """A value of an ABI parameter as web3 decodes one: tuples for structs and arrays."""
    typ, internal = param["type"], param.get("internalType", "")
    if typ.endswith("]"):
        element = {**param, "type": typ[: typ.rindex("[")], "internalType": internal[: internal.rindex("[")]}
        return tuple(sample(element, rng) for _ in range(int(typ[typ.rindex("[") + 1 : -1])))
    if typ == "tuple":
        return tuple(sample(c, rng) for c in param["components"])
    if internal.startswith("enum "):
        return rng.randrange(len(ENUMS[internal[len("enum ") :]]))
    if typ == "bool":
        return rng.random() < 0.5
    if typ == "address":
        return "0x" + rng.randbytes(20).hex()
    if typ == "bytes32":
        return rng.randbytes(32)
    bits = int(typ.removeprefix("u").removeprefix("int") or 256)
    return rng.randrange(-(2 ** (bits - 1)), 2 ** (bits - 1)) if typ.startswith("int") else rng.randrange(2**bits)


def normalised(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(normalised(v) for v in value)
    if isinstance(value, str):
        return value.lower()
    return int(value) if isinstance(value, IntEnum) else value


@pytest.mark.parametrize("solidity", sorted(STRUCTS))
def test_decode_then_encode_gives_back_the_abi_value(solidity):
    cls, rng = STRUCTS[solidity], random.Random(solidity)
    abi = artifact(solidity.split(".")[0])["abi"]
    (param,) = [{"type": "tuple", "components": struct_components(abi, solidity)}]
    for _ in range(20):
        value = sample(param, rng)
        decoded = cls.decode(value, abi)
        assert normalised(decoded.as_tuple()) == normalised(value)
        assert cls.decode(decoded.as_dict()) == decoded  # a log's struct: a mapping by name


def test_decoding_follows_the_abi_not_the_position():
    """The same order under an ABI whose components come in another order (as a reordered struct
    would compile) decodes to the same fields: names place the values, never positions."""
    abi = artifact("IReturnEscrow")["abi"]
    components = struct_components(abi, Order.SOLIDITY)
    value = sample({"type": "tuple", "components": components}, random.Random(7))
    order = Order.decode(value, abi)
    shuffled = list(range(len(components)))
    random.Random(8).shuffle(shuffled)
    other_abi = [
        {
            "type": "function",
            "name": "order",
            "inputs": [],
            "outputs": [
                {
                    "type": "tuple",
                    "internalType": "struct IReturnEscrow.Order",
                    "name": "",
                    "components": [components[i] for i in shuffled],
                },
            ],
        }
    ]
    assert Order.decode(tuple(value[i] for i in shuffled), other_abi) == order
    assert order.status == value[[c["name"] for c in components].index("status")]


def test_a_component_the_abi_lacks_is_refused():
    abi = artifact("IReturnPolicies")["abi"]
    components = struct_components(abi, Settlement.SOLIDITY)
    value = sample({"type": "tuple", "components": components}, random.Random(3))
    without_bonus = [
        {
            "type": "function",
            "name": "quote",
            "inputs": [],
            "outputs": [
                {
                    "type": "tuple",
                    "internalType": "struct IReturnPolicies.Settlement",
                    "name": "",
                    "components": [c for c in components if c["name"] != "bonus"],
                },
            ],
        }
    ]
    with pytest.raises(AbiMismatch, match="bonus"):
        Settlement.decode(
            tuple(v for c, v in zip(components, value, strict=True) if c["name"] != "bonus"), without_bonus
        )
    with pytest.raises(AbiMismatch, match="IReturnPolicies.Policy"):
        Policy.decode(value, without_bonus)  # this ABI has no Policy at all
    with pytest.raises(AbiMismatch):
        Settlement.decode(value)  # a positional value needs the ABI that produced it


def test_every_model_struct_is_an_abi_struct():
    assert all(issubclass(cls, AbiStruct) and dataclasses.is_dataclass(cls) for cls in STRUCTS.values())
