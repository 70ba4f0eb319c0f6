"""Every external function and custom error of contracts/interfaces/ documents its parameters and
return values: `@param` for each input, `@return` for each output, read from the compiled artifacts
(brownie's `natspec`, solc's devdoc and userdoc merged), so a tag solc did not accept counts as
missing."""

from __future__ import annotations

import json
from typing import Any

from tests.docs_text import REPO

BUILD = REPO / "build" / "contracts"
INTERFACES = sorted(p.stem for p in (REPO / "contracts" / "interfaces").glob("*.sol"))


def _type(param: dict[str, Any]) -> str:
    """The canonical ABI type, tuples spelt out as solc keys its docs."""
    kind = param["type"]
    if kind.startswith("tuple"):
        return "(" + ",".join(_type(c) for c in param["components"]) + ")" + kind[len("tuple") :]
    return kind


def _signature(item: dict[str, Any]) -> str:
    return f"{item['name']}({','.join(_type(i) for i in item['inputs'])})"


def undocumented(artifact: dict[str, Any]) -> list[str]:
    """What the artifact's external functions and errors leave undocumented."""
    natspec, gaps = artifact["natspec"], []
    for item in artifact["abi"]:
        if item["type"] == "function":
            doc = natspec.get("methods", {}).get(_signature(item), {})
            params, returns = doc.get("params", {}), doc.get("returns", {})
            outputs = item["outputs"]
        elif item["type"] == "error":
            docs = natspec.get("errors", {}).get(_signature(item), [{}])
            params, returns, outputs = docs[0].get("params", {}), {}, []
        else:
            continue
        for i, arg in enumerate(item["inputs"]):
            if not arg["name"]:
                gaps.append(f"{_signature(item)}: input {i} has no name to document")
            elif arg["name"] not in params:
                gaps.append(f"{_signature(item)}: no @param {arg['name']}")
        if len(returns) < len(outputs):
            gaps.append(f"{_signature(item)}: {len(outputs)} outputs, {len(returns)} @return")
    return gaps


def test_every_interface_function_and_error_documents_its_parameters_and_returns():
    assert INTERFACES, "no interfaces found"
    gaps = {}
    for name in INTERFACES:
        artifact = json.loads((BUILD / f"{name}.json").read_text(encoding="utf-8"))
        gaps.update({f"{name}.{gap}": None for gap in undocumented(artifact)})
    assert not gaps, "undocumented:\n  " + "\n  ".join(gaps)


def test_the_check_reads_params_and_returns_as_solc_writes_them():
    """A function with a tuple input and an output, and an error: each gap is found, and the
    documented ones pass (so an empty list is no blind spot)."""
    abi = [
        {
            "type": "function",
            "name": "f",
            "inputs": [
                {"name": "t", "type": "tuple[]", "components": [{"name": "a", "type": "uint8"}]},
                {"name": "n", "type": "uint256"},
            ],
            "outputs": [{"name": "", "type": "bool"}],
        },
        {"type": "error", "name": "E", "inputs": [{"name": "who", "type": "address"}]},
        {"type": "event", "name": "V", "inputs": [{"name": "x", "type": "uint8"}]},
    ]
    bare = {"abi": abi, "natspec": {}}
    assert undocumented(bare) == [
        "f((uint8)[],uint256): no @param t",
        "f((uint8)[],uint256): no @param n",
        "f((uint8)[],uint256): 1 outputs, 0 @return",
        "E(address): no @param who",
    ]
    documented = {
        "abi": abi,
        "natspec": {
            "methods": {"f((uint8)[],uint256)": {"params": {"t": ".", "n": "."}, "returns": {"_0": "."}}},
            "errors": {"E(address)": [{"params": {"who": "."}}]},
        },
    }
    assert undocumented(documented) == []
