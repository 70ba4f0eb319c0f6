"""A scanned unit from what a handheld scanner exports: a GS1 element string in brackets
(`(01)09506000134352(21)ABC`), a raw GS1 barcode with FNC1 separators (GS, 0x1D; optionally behind
an AIM symbology identifier such as `]d2` DataMatrix, `]C1` GS1-128, `]Q3` QR, `]e0` DataBar), or a
GS1 Digital Link URL (returntrace/digital_link.py parses its path).

Pure: every check is local. The AI table is GS1's Barcode Syntax Dictionary, release 2026-01-27
(returntrace/data/gs1-syntax-dictionary.txt, read by returntrace/gs1_syntax.py; standards/gs1/README.md
names its source): each AI's components with their character sets (digits, character set 82, ...) and
lengths, which AIs have a predefined length and so end without a GS in a raw barcode, and the GS1 linters
enforced here, check digits (`csum`) and dates (`yymmd0`, `yymmdd`, `yyyymmdd`: month 01-12, day 01-31, or
00 where GS1 allows it). A unit needs AI 01 (GTIN) and AI 21 (serial); the other AIs of READ_AIS are read and
kept; any other AI is refused as unknown, as is anything that cannot be split into AIs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from . import gs1
from .digital_link import LinkError, parse_path
from .gs1_syntax import CHARSETS, AISpec, Component, dictionary

GS = "\x1d"
SYMBOLOGY_IDS = ("]d2", "]C1", "]Q3", "]e0", "]J1")  # AIM identifiers of symbols that carry GS1 data


class BarcodeError(ValueError):
    """What a scan is not: the reason, for the operator."""


# The AIs this reader takes, in GS1's notation (`n` any digit): which AIs a return scan may carry is this
# project's choice, what each one is comes from GS1's dictionary. Any other AI, even one GS1 defines (710, a
# national healthcare number), is refused as unknown. A pattern GS1 does not define fails at import.
READ_AIS = (
    *("00", "01", "02", "10", "11", "12", "13", "15", "16", "17", "20", "21", "22", "30", "37"),
    *("235", "240", "241", "250", "251", "254"),
    *("31nn", "32nn", "33nn", "34nn", "35nn", "36nn"),  # trade measures, the last digit the decimal point's position
    *("400", "401", "402", "403", "41n", "420", "421", "422"),  # 41n: GLNs (ship to, bill to, ...)
    *("7003", "7006", "8006", "8020", "9n"),  # 9n: company internal
)
AIS: dict[str, AISpec] = dictionary().select(READ_AIS)
ENFORCED_LINTERS = frozenset({"csum", "yymmd0", "yymmdd", "yyyymmdd"})
CHARSET_NAMES = {"X": "82", "Y": "39", "Z": "64"}  # GS1 character sets, by component type
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
    spec = AIS[ai]
    fixed = spec.fixed_length
    if fixed is not None and len(value) != fixed:
        raise BarcodeError(f"AI ({ai}) takes {fixed} characters, got {len(value)}: {value!r}")
    if not spec.min_length <= len(value) <= spec.max_length:
        raise BarcodeError(f"AI ({ai}) takes {spec.min_length}-{spec.max_length} characters, got {len(value)}")
    for component, start, part in _components(spec, value):
        charset = CHARSETS[component.charset]
        if not charset.issuperset(part):
            where = "" if len(part) == len(value) else f" in characters {start + 1}-{start + len(part)}"
            if component.charset == "N":
                raise BarcodeError(f"AI ({ai}) takes digits only{where}, got {value!r}")
            bad = "".join(sorted(set(part) - charset))
            name = CHARSET_NAMES[component.charset]
            raise BarcodeError(f"AI ({ai}) has characters outside GS1 character set {name}{where}: {bad!r}")
        for linter in component.linters:
            if linter in ENFORCED_LINTERS:
                _lint(ai, linter, part)


def _components(spec: AISpec, value: str) -> list[tuple[Component, int, str]]:
    """The value cut into its components, each with where it starts: each takes its length (a variable one,
    which GS1 puts last, takes the rest); optional components may be left out once the value is used up."""
    out, i = [], 0
    for component in spec.components:
        if i == len(value) and component.optional:
            break
        part = value[i : i + component.max_length]
        if len(part) < component.min_length:
            break
        out.append((component, i, part))
        i += len(part)
    # Mandatory components come first and _check has seen the value reach their length: none is left out.
    if i != len(value):
        raise BarcodeError(f"AI ({spec.ai}) takes {spec.specification}, got {len(value)} characters: {value!r}")
    return out


def _lint(ai: str, linter: str, part: str) -> None:
    """One of GS1's linters this reader enforces (ENFORCED_LINTERS) on one component."""
    if linter == "csum" and not gs1.has_valid_check_digit(part):
        raise BarcodeError(f"AI ({ai}) {part} has a wrong check digit (expected {gs1.check_digit(part[:-1])})")
    if linter in ("yymmd0", "yymmdd", "yyyymmdd"):
        month, day = int(part[-4:-2]), int(part[-2:])
        # Month and day in range, day 00 allowed by yymmd0 only; days per month are not checked.
        if not (1 <= month <= 12 and (0 if linter == "yymmd0" else 1) <= day <= 31):
            raise BarcodeError(f"AI ({ai}) {part} is not a date {'YYYYMMDD' if linter == 'yyyymmdd' else 'YYMMDD'}")


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
        spec = AIS[ai]
        if spec.predefined:  # GS1's predefined lengths end without a separator; every other AI ends with GS
            fixed = spec.max_length
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
