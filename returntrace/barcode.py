"""A scanned unit from what a handheld scanner exports: a GS1 element string in brackets
(`(01)09506000134352(21)ABC`), a raw GS1 barcode with FNC1 separators (GS, 0x1D; optionally behind
an AIM symbology identifier such as `]d2` DataMatrix, `]C1` GS1-128, `]Q3` QR, `]e0` DataBar), or a
GS1 Digital Link URL (returntrace/digital_link.py parses its path).

Pure: every check is local (GS1 General Specifications: the AI table's lengths, check digits,
character set 82). A unit needs AI 01 (GTIN) and AI 21 (serial); other known AIs are read and
kept; an AI outside the table below is refused, as is anything that cannot be split into AIs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from . import gs1
from .digital_link import LinkError, parse_path

GS = "\x1d"
SYMBOLOGY_IDS = ("]d2", "]C1", "]Q3", "]e0", "]J1")  # AIM identifiers of symbols that carry GS1 data


class BarcodeError(ValueError):
    """What a scan is not: the reason, for the operator."""


def _ais() -> dict[str, tuple[int | None, int]]:
    """AI -> (fixed length or None, maximum length) for the AIs this reader knows."""
    table: dict[str, tuple[int | None, int]] = {
        "00": (18, 18),
        "01": (14, 14),
        "02": (14, 14),
        "10": (None, 20),
        "11": (6, 6),
        "12": (6, 6),
        "13": (6, 6),
        "15": (6, 6),
        "16": (6, 6),
        "17": (6, 6),
        "20": (2, 2),
        "21": (None, 20),
        "22": (None, 20),
        "30": (None, 8),
        "37": (None, 8),
        "235": (None, 28),
        "240": (None, 30),
        "241": (None, 30),
        "250": (None, 30),
        "251": (None, 30),
        "254": (None, 20),
        "400": (None, 30),
        "401": (None, 30),
        "402": (17, 17),
        "403": (None, 30),
        "420": (None, 20),
        "421": (None, 12),
        "422": (3, 3),
        "7003": (10, 10),
        "7006": (6, 6),
        "8006": (18, 18),
        "8020": (None, 25),
        "90": (None, 30),
    }
    table.update({f"41{i}": (13, 13) for i in range(8)})  # GLNs: ship to, bill to, ...
    # Trade measures (310n-369n): six digits, n the decimal point's position.
    table.update({f"3{a}{b}{n}": (6, 6) for a in range(1, 7) for b in range(10) for n in range(10)})
    table.update({f"9{i}": (None, 90) for i in range(1, 10)})  # company internal
    return table


AIS = _ais()
# AI -> how many leading digits end in a GS1 check digit: the whole key, except an ITIP (8006), whose
# GTIN-14 is followed by the piece number and the count of pieces.
CHECK_DIGITS = {"00": 18, "01": 14, "02": 14, "402": 17, "8006": 14} | {f"41{i}": 13 for i in range(8)}
DATE_AIS = {"11", "12", "13", "15", "16", "17"}
BRACKETED = re.compile(r"\((\d{2,4})\)([^()]*)")


@dataclass(frozen=True)
class Scan:
    """One unit as scanned: GTIN-14, serial and the other AIs read with them."""

    gtin: str
    serial: str
    ais: dict[str, str] = field(default_factory=dict)

    @property
    def unit_id(self) -> bytes:
        return gs1.unit_id(self.gtin, self.serial)


def _check(ai: str, value: str) -> None:
    fixed, longest = AIS[ai]
    if fixed is not None and len(value) != fixed:
        raise BarcodeError(f"AI ({ai}) takes {fixed} characters, got {len(value)}: {value!r}")
    if not 1 <= len(value) <= longest:
        raise BarcodeError(f"AI ({ai}) takes 1-{longest} characters, got {len(value)}")
    if fixed is not None and not value.isdigit():
        raise BarcodeError(f"AI ({ai}) takes digits only, got {value!r}")
    key = value[: CHECK_DIGITS.get(ai, 0)]
    if key and not gs1.has_valid_check_digit(key):
        raise BarcodeError(f"AI ({ai}) {key} has a wrong check digit (expected {gs1.check_digit(key[:-1])})")
    if ai in DATE_AIS and not (1 <= int(value[2:4]) <= 12 and 0 <= int(value[4:6]) <= 31):
        raise BarcodeError(f"AI ({ai}) {value} is not a date YYMMDD")
    bad = sorted({c for c in value if c not in gs1.CSET82})
    if bad:
        raise BarcodeError(f"AI ({ai}) has characters outside GS1 character set 82: {''.join(bad)!r}")


def _ai_at(text: str, i: int) -> str:
    for size in (2, 3, 4):
        if text[i : i + size] in AIS:
            return text[i : i + size]
    raise BarcodeError(f"unknown AI at position {i}: {text[i : i + 4]!r}")


def parse_bracketed(text: str) -> dict[str, str]:
    """`(01)…(21)…` into {AI: value}; every character must belong to an (AI)value pair."""
    pairs, end = [], 0
    for m in BRACKETED.finditer(text):
        if m.start() != end:
            raise BarcodeError(f"unexpected {text[end : m.start()]!r} in the element string")
        pairs.append((m.group(1), m.group(2)))
        end = m.end()
    if end != len(text) or not pairs:
        raise BarcodeError(f"not a GS1 element string: {text[end:] or text!r}")
    return _collect(pairs)


def parse_raw(text: str) -> dict[str, str]:
    """A raw barcode's data: AIs one after another, a variable-length value ended by GS (or the end)."""
    if text.startswith(GS):
        text = text[1:]  # a leading FNC1 some scanners transmit
    pairs, i = [], 0
    while i < len(text):
        ai = _ai_at(text, i)
        i += len(ai)
        fixed, _ = AIS[ai]
        if fixed is not None:
            value, i = text[i : i + fixed], i + fixed
            if i < len(text) and text[i] == GS:
                i += 1  # a separator after a fixed-length field is tolerated
        else:
            end = text.find(GS, i)
            end = len(text) if end < 0 else end
            value, i = text[i:end], end + 1
        pairs.append((ai, value))
    if not pairs:
        raise BarcodeError("empty barcode")
    return _collect(pairs)


def _collect(pairs: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for ai, value in pairs:
        if ai not in AIS:
            raise BarcodeError(f"unknown AI ({ai})")
        if ai in out:
            raise BarcodeError(f"AI ({ai}) appears twice")
        _check(ai, value)
        out[ai] = value
    return out


def _unit(ais: dict[str, str]) -> Scan:
    if "01" not in ais:
        raise BarcodeError("no GTIN (AI 01): not a unit's code")
    if "21" not in ais:
        raise BarcodeError(f"GTIN {ais['01']} without a serial (AI 21) names a product, not a unit")
    try:
        gtin = gs1.normalize_gtin(ais["01"])
        serial = gs1.validate_serial(ais["21"])
    except gs1.GS1Error as exc:
        raise BarcodeError(str(exc)) from None
    return Scan(gtin, serial, {k: v for k, v in ais.items() if k not in ("01", "21")})


def parse_link(url: str) -> Scan:
    """A Digital Link URL on any resolver (a path prefix before /01/ is allowed)."""
    path = urlsplit(url).path
    segments = path.split("/")
    start = next((i for i, s in enumerate(segments) if s in ("01", "gtin")), None)
    if start is None:
        raise BarcodeError("a unit's Digital Link has /01/<GTIN>/21/<serial> in its path")
    try:
        link = parse_path("/".join(segments[start:]))
    except LinkError as exc:
        raise BarcodeError(exc.reason) from None
    extras = {k: v for k, v in (("10", link.lot), ("22", link.cpv)) if v}
    return Scan(link.gtin, link.serial, extras)


def parse(code: str) -> Scan:
    """A unit from any of the three forms; BarcodeError with the reason otherwise."""
    text = code.strip("\r\n ")
    for prefix in SYMBOLOGY_IDS:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    if not text:
        raise BarcodeError("empty barcode")
    if text.lower().startswith(("http://", "https://")):
        return parse_link(text)
    if text.startswith("("):
        return _unit(parse_bracketed(text))
    return _unit(parse_raw(text))
