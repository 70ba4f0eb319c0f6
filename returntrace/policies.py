"""Presets for real markets with their legal basis: consumer laws, return policies and currencies as
ReturnPolicies takes them (the types are returntrace.escrow's).

The laws and the merchants' policies, each with the law it follows, are data reviewed by people who
read law rather than Python: returntrace/data/policies.toml. This module loads and checks that file
once, at import, into the same Law and Policy values (EU_LAW, EU, ...) the deploy script and the
tests use; a preset that does not fit is a PresetError naming the file, the preset and the field.

Policy times are seconds, the law's periods whole days. Basis points: 10,000 = 100 %.
"""

from __future__ import annotations

import tomllib
from dataclasses import MISSING, fields
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

from .escrow import Currency, GradeTerms, Law, Policy

DAY = 24 * 3600
PRESETS_FILE = Path(__file__).resolve().parent / "data" / "policies.toml"
DAYS = "_days"  # a policy time written in whole days in the file: `return_window_days = 30`
# The policy's periods, each written in the file as `<field>_days` and only so (seconds would invite a
# second, conflicting key for one field).
TIMES = ("return_window", "inspection_sla", "dispute_window", "delivery_timeout", "arbiter_timeout", "max_relay_delay")

S = TypeVar("S", Law, Policy, GradeTerms)


class PresetError(ValueError):
    """A preset in returntrace/data/policies.toml that does not fit its type."""


def _struct(cls: type[S], values: dict[str, Any], where: str) -> S:
    """`cls` from the file's `values`: every field without a default given, none unknown, each of its
    type (an enum by member name). TOML has no bool/int confusion of its own, so none is let in."""
    hints = get_type_hints(cls)
    declared = {f.name: f for f in fields(cls)}
    unknown = sorted(values.keys() - declared.keys())
    missing = sorted(n for n, f in declared.items() if f.default is MISSING and n not in values)
    if unknown or missing:
        raise PresetError(f"{PRESETS_FILE.name} {where}: unknown fields {unknown}, missing fields {missing}")
    out = {}
    for name, value in values.items():
        kind = hints[name]
        if isinstance(kind, type) and issubclass(kind, Enum):
            if not isinstance(value, str) or value not in kind.__members__:
                raise PresetError(
                    f"{PRESETS_FILE.name} {where}.{name}: {value!r} is not one of {list(kind.__members__)}"
                )
            value = kind[value]
        elif kind in (int, bool) and type(value) is not kind:
            raise PresetError(f"{PRESETS_FILE.name} {where}.{name}: {value!r} is not {kind.__name__}")
        out[name] = value
    return cls(**out)


def _basis(table: dict[str, Any], where: str) -> dict[str, Any]:
    """The preset's values without its basis, which it must state."""
    values = dict(table)
    basis = values.pop("basis", None)
    if not isinstance(basis, str) or not basis.strip():
        raise PresetError(f"{PRESETS_FILE.name} {where}: no basis (the law or offer its values follow)")
    return values


def _law(table: dict[str, Any], where: str) -> Law:
    return _struct(Law, _basis(table, where), where)


def _policy(table: dict[str, Any], where: str) -> Policy:
    values = {}
    for key, value in _basis(table, where).items():
        if key in TIMES:
            raise PresetError(f"{PRESETS_FILE.name} {where}.{key}: a period is written in days, as {key}{DAYS}")
        if key.removesuffix(DAYS) in TIMES:
            if type(value) is not int:
                raise PresetError(f"{PRESETS_FILE.name} {where}.{key}: {value!r} is not a whole number of days")
            key, value = key.removesuffix(DAYS), value * DAY
        values[key] = value
    terms = values.get("terms")
    if not isinstance(terms, list) or len(terms) != 3:
        raise PresetError(f"{PRESETS_FILE.name} {where}.terms: the terms of grades A, B and C, three of them")
    values["terms"] = tuple(_struct(GradeTerms, t, f"{where}.terms[{i}]") for i, t in enumerate(terms))
    return _struct(Policy, values, where)


def _load(markets: dict[int, str]) -> tuple[dict[int, Law], dict[int, Policy]]:
    """Each market's law and policy from the file, which must hold exactly `markets` in each."""
    data = tomllib.loads(PRESETS_FILE.read_text(encoding="utf-8"))
    if sorted(data) != ["law", "policy"]:
        raise PresetError(f"{PRESETS_FILE.name}: holds [law.*] and [policy.*] tables only, not {sorted(data)}")
    for kind, table in data.items():
        if sorted(table) != sorted(markets.values()):
            raise PresetError(f"{PRESETS_FILE.name}: [{kind}.*] for {sorted(table)}, not {sorted(markets.values())}")
    law, policy = data["law"], data["policy"]
    return (
        {m: _law(law[name], f"law.{name}") for m, name in markets.items()},
        {m: _policy(policy[name], f"policy.{name}") for m, name in markets.items()},
    )


# The native coin (18 decimals) in every market: defects up to 1 coin reissued on the buyer's evidence,
# two independent inspections above 5 coins.
NATIVE = Currency(allowed=True, decimals=18, reissue_auto_approve_limit=10**18, dual_inspection_above=5 * 10**18)

MARKET_EU, MARKET_US, MARKET_CN = 0, 1, 2
MARKET_NAMES = {MARKET_EU: "EU", MARKET_US: "US", MARKET_CN: "CN"}
LAWS, PRESETS = _load(MARKET_NAMES)
EU_LAW, US_LAW, CN_LAW = LAWS[MARKET_EU], LAWS[MARKET_US], LAWS[MARKET_CN]
EU, US, CN = PRESETS[MARKET_EU], PRESETS[MARKET_US], PRESETS[MARKET_CN]
