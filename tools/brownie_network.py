"""Make brownie's `development` network the anvil this project needs.

brownie reads network settings only from ~/.brownie/network-config.yaml (its mypyc
config loader rejects `networks:` keys in brownie-config.yaml), so `make` runs this
before every brownie command. It is fast, idempotent and writes only when something
differs. Without ~/.brownie it first creates the file from brownie's bundled default,
as brownie itself would.

    python tools/brownie_network.py          # apply
    python tools/brownie_network.py --check  # exit 1 if not applied
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

import yaml

# Passed to anvil by brownie (brownie/network/rpc/anvil.py maps the keys to flags):
#   anvil --port 8545 --gas-limit 30000000 --accounts 10 --block-base-fee-per-gas 0
#         --hardfork cancun --chain-id 31337
DEVELOPMENT = {
    "name": "Anvil",
    "id": "development",
    "cmd": "anvil",
    "host": "http://127.0.0.1",
    "cmd_settings": {
        # RT_ANVIL_PORT lets two runs share a machine (each with its own HOME, hence its own ~/.brownie).
        "port": int(os.environ.get("RT_ANVIL_PORT", "8545")),
        "gas_limit": 30_000_000,  # batches of 100 events take ~4M gas
        "accounts": 10,
        "base_fee": 0,
        "evm_version": "cancun",  # --hardfork; matches compiler.evm_version
        "chain_id": 31337,
    },
}

CONFIG = Path.home() / ".brownie" / "network-config.yaml"


def _bundled_default() -> Path:
    spec = importlib.util.find_spec("brownie")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("brownie is not installed in this Python")
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "network-config.yaml"


def main(argv: list[str]) -> int:
    check_only = "--check" in argv
    if not CONFIG.exists():
        if check_only:
            print(f"{CONFIG} is missing", file=sys.stderr)
            return 1
        CONFIG.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_bundled_default(), CONFIG)

    data = yaml.safe_load(CONFIG.read_text())
    networks = data.setdefault("development", [])
    current = next((n for n in networks if n.get("id") == "development"), None)
    if current == DEVELOPMENT:
        return 0
    if check_only:
        print(f"{CONFIG}: development network differs: {current}", file=sys.stderr)
        return 1
    if current is None:
        networks.insert(0, dict(DEVELOPMENT))
    else:
        current.clear()
        current.update(DEVELOPMENT)
    CONFIG.write_text(yaml.safe_dump(data, sort_keys=False))
    print(f"brownie development network -> anvil {DEVELOPMENT['cmd_settings']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
