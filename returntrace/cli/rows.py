"""The rows of a scanner's export (CSV with a header, or JSON lines), each read into a scan to sign
or a refusal with its reason. Pure: no gateway (unknown units are scan.py's question).

Columns (CSV header names, JSON keys): `barcode` (also `code`, `scan`, `link`: the unit as a GS1
element string, a raw barcode or a Digital Link URL), and optionally per row `step`, `disposition`
(CBV words such as `shipping`, `in_transit`, or their numbers), `location` (a 13-digit GLN), `time`
(unix seconds or ISO 8601) and `bizTransaction` (0x and 64 hex digits). A JSON line may also be the
code alone, as a JSON string. What a row leaves out comes from the command's options.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .. import gs1
from ..barcode import BarcodeError, Scan, parse
from ..messages import ZERO32
from ..vocab import BizStep, Disposition

CODE_COLUMNS = ("barcode", "code", "scan", "link")


class RowError(ValueError):
    """A row that cannot be signed: the reason."""


@dataclass(frozen=True)
class Defaults:
    """The file's step, disposition, location and time, for rows that do not carry their own."""

    step: str | None = None
    disposition: str | None = None
    location: str | None = None
    time: int | None = None


@dataclass(frozen=True)
class Row:
    """A row read and checked: the unit, what happened to it, where and when."""

    line: int
    scan: Scan
    step: BizStep
    disposition: Disposition
    location: int
    event_time: int
    biz_transaction: bytes = ZERO32

    @property
    def commissioning(self) -> bool:
        return self.step == BizStep.COMMISSIONING


def vocabulary_word(enum: type[BizStep] | type[Disposition], value: Any, what: str) -> Any:
    text = str(value).strip()
    try:
        return enum(int(text)) if text.isdigit() else enum[text.upper().replace("-", "_")]
    except (KeyError, ValueError):
        raise RowError(f"unknown {what} {text!r}") from None


def parse_time(value: Any) -> int:
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise RowError(f"time {text!r} is neither unix seconds nor ISO 8601") from None
    if moment.tzinfo is None:
        raise RowError(f"time {text!r} has no time zone (add Z or +hh:mm)")
    return int(moment.timestamp())


def read_row(line: int, record: dict[str, Any], defaults: Defaults, now: int) -> Row:
    """One record checked into a Row; RowError with the reason otherwise."""
    code = next((record[c] for c in CODE_COLUMNS if record.get(c) not in (None, "")), None)
    if code is None:
        raise RowError(f"no barcode (a column named one of {', '.join(CODE_COLUMNS)})")
    try:
        scan = parse(str(code))
    except BarcodeError as exc:
        raise RowError(str(exc)) from None
    step_text = record.get("step") or defaults.step
    if not step_text:
        raise RowError("no step (a `step` column or --step)")
    step = vocabulary_word(BizStep, step_text, "step")
    if step == BizStep.DECOMMISSIONING:
        raise RowError("decommissioning is the brand's DecommissionBatch, not a scan")
    disposition_text = record.get("disposition") or defaults.disposition
    if step == BizStep.COMMISSIONING:
        disposition = Disposition.ACTIVE  # a commissioning signs no disposition: the unit is active
    elif not disposition_text:
        raise RowError("no disposition (a `disposition` column or --disposition)")
    else:
        disposition = vocabulary_word(Disposition, disposition_text, "disposition")
    location_text = record.get("location") or defaults.location
    if not location_text:
        raise RowError("no location (a `location` column or --location, the GLN where it was scanned)")
    try:
        location = gs1.validate_gln(str(location_text).strip())
    except gs1.GS1Error as exc:
        raise RowError(str(exc)) from None
    time_text = record.get("time")
    event_time = parse_time(time_text) if time_text not in (None, "") else (defaults.time or now)
    biz = record.get("bizTransaction") or ""
    try:
        biz_transaction = bytes.fromhex(str(biz).removeprefix("0x")) if biz else ZERO32
    except ValueError:
        biz_transaction = b""
    if len(biz_transaction) != 32:
        raise RowError(f"bizTransaction {biz!r} is not 0x and 64 hex digits")
    return Row(line, scan, step, disposition, location, event_time, biz_transaction)


def records(path: Path, fmt: str | None = None) -> list[tuple[int, dict[str, Any] | str]]:
    """(line number, record) for each data row; a record that cannot be read is its reason (a str)."""
    fmt = fmt or ("csv" if path.suffix.lower() == ".csv" else "jsonl")
    out: list[tuple[int, dict[str, Any] | str]] = []
    with path.open(encoding="utf-8", newline="") as f:
        if fmt == "csv":
            reader = csv.DictReader(f)
            if not reader.fieldnames or not set(reader.fieldnames) & set(CODE_COLUMNS):
                raise RowError(f"{path}: the CSV needs a header with a barcode column ({', '.join(CODE_COLUMNS)})")
            for record in reader:
                out.append((reader.line_num, {k: v for k, v in record.items() if k is not None}))
            return out
        for number, text in enumerate(f, 1):
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except ValueError:
                out.append((number, "not a JSON line"))
                continue
            if isinstance(value, str):
                value = {"barcode": value}
            out.append((number, value if isinstance(value, dict) else "a JSON line is an object or a string"))
    return out
