"""Contract revert data → the custom error's name and arguments, for messages the chain refused."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address


def abi_type(inp: dict[str, Any]) -> str:
    """The canonical ABI type string of a function or error input (tuples spelled out)."""
    if inp["type"].startswith("tuple"):
        return "(" + ",".join(abi_type(c) for c in inp["components"]) + ")" + inp["type"][5:]
    return inp["type"]


def _render(typ: str, value: Any) -> str:
    """An argument as the rest of the API writes it: addresses checksummed, bytes in 0x-hex."""
    if typ == "address":
        return to_checksum_address(value)
    return "0x" + value.hex() if isinstance(value, bytes) else str(value)


class RevertDecoder:
    def __init__(self, abis: Iterable[Sequence[Any]]) -> None:  # web3's typed ABIs or the manifest's JSON
        self._errors: dict[bytes, tuple[str, list[str]]] = {}
        for abi in abis:
            for item in abi:
                if item.get("type") == "error":
                    types = [abi_type(i) for i in item["inputs"]]
                    selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
                    self._errors[selector] = (item["name"], types)

    def decode(self, data: bytes) -> str:
        name, types = self._errors.get(data[:4], (None, []))
        if name is None:
            return f"unknown revert 0x{data.hex()}"
        try:
            values = decode(types, data[4:])
        except Exception:
            return f"{name}(undecodable arguments)"
        return f"{name}({', '.join(_render(t, v) for t, v in zip(types, values, strict=True))})"

    def describe(self, exc: Exception) -> str:
        data = getattr(exc, "data", None)
        if isinstance(data, str) and data.startswith("0x"):
            return self.decode(bytes.fromhex(data[2:]))
        return str(exc)
