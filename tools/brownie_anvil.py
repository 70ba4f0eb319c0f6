"""Fix brownie 1.22.2's anvil backend: `chain.mine(timestamp=...)` / `chain.mine(timedelta=...)`.

brownie/network/rpc/anvil.py sends `evm_mine` with the bare timestamp as JSON-RPC
`params` (an int, not a list), and anvil answers `Invalid request`, surfaced as
`brownie.exceptions.RPCRequestError: Invalid request`. This wraps it in a list as the
hardhat backend does.

Loaded for every `brownie test` as a pytest plugin (pyproject.toml: `-p tools.brownie_anvil`).
In a `brownie run` script call `tools.brownie_anvil.patch()` before mining with a timestamp.
"""

from __future__ import annotations


def patch() -> None:
    from brownie.network.rpc import anvil

    if getattr(anvil.mine, "_returntrace_fixed", False):
        return

    def mine(timestamp: int | None = None) -> None:
        anvil._request("evm_mine", [] if timestamp is None else [timestamp])

    mine._returntrace_fixed = True  # type: ignore[attr-defined]
    anvil.mine = mine


def pytest_configure(config) -> None:  # pytest plugin hook
    patch()
