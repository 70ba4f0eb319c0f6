"""Every error code the gateway can answer with is in docs/integrators.md's table, with its status.

The codes are read from the gateway's source, not listed by hand: a string that names an error in
any of the forms the gateway answers with — an exception built with a code (`ApiError(409,
"unit_closed", …)`, `LinkError("invalid_link", …)`, `_error(…, 404, "unknown_unit", …)`), an error
class's `code` attribute, an `{"error": code}` body or `error=code` argument, a refusal returned as
`(False, code, why)`, the framework's status map — and the table must list each one, no more (a row
whose code the gateway no longer answers with is stale)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.docs_text import DOCS, REPO, table_rows

API = REPO / "api"
# Library modules whose errors the gateway answers with as they are (the resolver forwards a LinkError's code).
FORWARDED = (REPO / "returntrace" / "digital_link.py",)
CODE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
STATUS = re.compile(r"\b[1-5](?:[0-9]{2}|xx)\b")  # 409, or 4xx for any status of a class


def _text(node: ast.AST | None) -> str | None:
    return (
        node.value
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.fullmatch(node.value)
        else None
    )


def _status(node: ast.AST | None) -> int | None:
    return (
        node.value if isinstance(node, ast.Constant) and type(node.value) is int and 100 <= node.value <= 599 else None
    )


def _codes_in(node: ast.AST) -> list[str]:
    """A code written as a constant or as `a if … else b`."""
    if isinstance(node, ast.IfExp):
        return _codes_in(node.body) + _codes_in(node.orelse)
    code = _text(node)
    return [code] if code else []


def _callee(call: ast.Call) -> str:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def _call_status(call: ast.Call) -> int | None:
    statuses = [s for s in map(_status, call.args) if s] + [
        s for k in call.keywords if k.arg in ("status", "status_code") if (s := _status(k.value))
    ]
    return statuses[0] if statuses else None


def answered_codes(root: Path = API, forwarded: tuple[Path, ...] = FORWARDED) -> dict[str, set[int]]:
    """{code: the statuses the source pairs it with (empty when the status is computed)}."""
    found: dict[str, set[int]] = {}

    def add(codes: list[str], status: int | None) -> None:
        for code in codes:
            found.setdefault(code, set()).update([status] if status else [])

    for path in [*sorted(root.rglob("*.py")), *forwarded]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = _callee(node)
                if name.endswith("Error") or name in (
                    "_error",
                    "error_response",
                ):  # an error built with its code, its first string
                    add(
                        next((codes for a in node.args if (codes := _codes_in(a))), []),
                        _call_status(node),
                    )
                statuses = (
                    node.func.value
                    if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Dict)
                    else None
                )
                if name == "get" and statuses and all(_status(k) for k in statuses.keys):
                    # the framework's statuses: {404: "not_found", …}.get(status, "http_error")
                    for k, v in zip(statuses.keys, statuses.values, strict=True):
                        add(_codes_in(v), _status(k))
                    add([c for a in node.args[1:] for c in _codes_in(a)], None)
                for arg in node.args:  # JSONResponse({"error": code, …}, status_code=…)
                    if isinstance(arg, ast.Dict):
                        add(
                            [
                                c
                                for k, v in zip(arg.keys, arg.values, strict=True)
                                if _text(k) == "error"
                                for c in _codes_in(v)
                            ],
                            _call_status(node),
                        )
                for kw in node.keywords:  # checks.update(error=code, detail=…)
                    if kw.arg == "error":
                        add(_codes_in(kw.value), _call_status(node))
            elif isinstance(node, ast.Assign):  # code = …; status, code = 404, "not_found"
                for target in node.targets:
                    names = target.elts if isinstance(target, ast.Tuple) else [target]
                    values = (
                        node.value.elts
                        if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple)
                        else [node.value]
                    )
                    if len(names) != len(values):
                        continue
                    named = {n.id: v for n, v in zip(names, values, strict=True) if isinstance(n, ast.Name)}
                    if "code" in named:
                        add(_codes_in(named["code"]), _status(named.get("status")))
            elif isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple):  # (False, code, why)
                elts = node.value.elts
                if len(elts) >= 2 and isinstance(elts[0], ast.Constant) and elts[0].value is False:
                    add(_codes_in(elts[1]), None)
    return found


def _statuses(cell: str) -> range:
    first = int(cell[0]) * 100
    return range(first, first + 100) if cell.endswith("xx") else range(int(cell), int(cell) + 1)


def documented_codes() -> dict[str, set[int]]:
    rows = table_rows(DOCS / "integrators.md", "Error codes")
    table: dict[str, set[int]] = {}
    for code_cell, status_cell, *_ in rows:
        code = code_cell.strip("`")
        assert code not in table, f"{code} has two rows"
        table[code] = {status for s in STATUS.findall(status_cell) for status in _statuses(s)}
    return table


def test_every_code_the_gateway_answers_with_is_documented_with_its_status():
    answered, table = answered_codes(), documented_codes()
    assert not answered.keys() - table.keys(), f"undocumented error codes: {sorted(answered.keys() - table.keys())}"
    wrong = {
        code: (sorted(statuses), sorted(table[code]))
        for code, statuses in answered.items()
        if not statuses <= table[code]
    }
    assert not wrong, f"statuses in the source vs the table: {wrong}"
    assert all(table.values()), f"rows without a status: {[c for c, s in table.items() if not s]}"


def test_no_documented_code_is_stale():
    stale = documented_codes().keys() - answered_codes().keys()
    assert not stale, f"the table lists codes the gateway no longer answers with: {sorted(stale)}"


def test_the_scanner_reads_each_form_of_error(tmp_path):
    """The scanner finds codes in each form the gateway uses (a missing row is no blind spot)."""
    (tmp_path / "forms.py").write_text(
        "raise ApiError(409, 'unit_closed', f'{x}')\n"
        "return error_response(422, 'invalid_request', detail)\n"
        "raise LinkError('no_serial', 'why', status=404)\n"
        "code = 'invalid_serial' if bad else 'invalid_gtin'\n"
        "class Gone(Base):\n    status, code = 410, 'evidence_corrupted'\n"
        "def releasable():\n    return False, 'sla_elapsed', 'why'\n"
        "JSONResponse({'error': 'chain_unavailable', 'detail': d}, status_code=503)\n"
        "{404: 'not_found'}.get(status, 'http_error')\n"
        "checks.update(error='read_only', detail=why)\n"
        "raise ValueError('not a code: a sentence')\n"
    )
    assert answered_codes(tmp_path, ()) == {
        "unit_closed": {409},
        "invalid_request": {422},
        "no_serial": {404},
        "invalid_serial": set(),
        "invalid_gtin": set(),
        "evidence_corrupted": {410},
        "sla_elapsed": set(),
        "chain_unavailable": {503},
        "not_found": {404},
        "http_error": set(),
        "read_only": set(),
    }
