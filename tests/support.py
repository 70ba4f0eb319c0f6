"""Constants and helpers the tests share (fixtures live in conftest.py)."""

from __future__ import annotations

from typing import Any

from returntrace import gs1

GTIN = gs1.with_check_digit("0950600013435")  # 09506000134352
GTIN_INT = int(GTIN)
GLN_BRAND = int(gs1.with_check_digit("950600000001"))
GLN_CARRIER = int(gs1.with_check_digit("950600000002"))
GLN_WAREHOUSE = int(gs1.with_check_digit("950600000003"))
GLN_INSPECTION = int(gs1.with_check_digit("950600000004"))
GLN_CHARITY = int(gs1.with_check_digit("950600000005"))
MARKET_EU, MARKET_US, MARKET_CN = 0, 1, 2
ZERO32 = b"\x00" * 32
DEFAULT_PRICE = 10**18
DEFAULT_DELIVERY_FEE = 5 * 10**16
DEFAULT_RETURN_FEE = 3 * 10**16


def err(name: str, *args: Any) -> str:
    """A custom error as brownie renders its revert message: addresses lower-case, bytes as bytes."""
    rendered = []
    for a in args:
        if isinstance(a, str) and a.startswith("0x") and len(a) == 42:
            a = a.lower()
        rendered.append(str(a))
    return f"{name}: {', '.join(rendered)}"
