"""Parsing the path of a GS1 Digital Link URI that names one product unit (GTIN + serial).

GS1 Digital Link URI Syntax 1.2 gives a GTIN its key qualifiers in one fixed order, each optional:

    /01/{gtin}[/22/{consumer product variant}][/10/{batch/lot}][/21/{serial}]

A unit needs the serial, so the forms this resolver serves are

    /01/{gtin}/21/{serial}
    /01/{gtin}/10/{lot}/21/{serial}
    /01/{gtin}/22/{cpv}/21/{serial}
    /01/{gtin}/22/{cpv}/10/{lot}/21/{serial}

plus the alphabetic path codes of Digital Link 1.1 (`gtin`, `cpv`, `lot`, `ser`), which 1.2
deprecated but printed codes may still carry. The GTIN may be a GTIN-8, -12, -13 or -14 and is
normalised to 14 digits; values are percent-decoded (a serial may contain `/`, sent as `%2F`), so
this works on the raw request path, never the decoded one. The query string (data attributes such
as `?17=261231`, or `linkType`) is not part of the key and is ignored. Lot and variant identify
nothing further here: the unit id is GTIN + serial (see README, Units).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from . import gs1

# Path codes of the GTIN key and its qualifiers, numeric (1.2) and alphabetic (1.1, deprecated).
GTIN_CODES = {"01": "01", "gtin": "01"}
QUALIFIER_CODES = {"22": "22", "cpv": "22", "10": "10", "lot": "10", "21": "21", "ser": "21"}
QUALIFIER_ORDER = ("22", "10", "21")
QUALIFIER_NAMES = {"22": "consumer product variant (22)", "10": "batch/lot (10)", "21": "serial (21)"}
QR_SUFFIXES = {"qr.svg": "svg", "qr.png": "png"}


class LinkError(ValueError):
    """A path that is not a Digital Link for a unit; `code` is the API error code, str() the reason."""

    def __init__(self, code: str, reason: str, status: int = 400, gtin: str | None = None) -> None:
        super().__init__(reason)
        self.code, self.reason, self.status = code, reason, status
        self.gtin = gtin  # no_serial: the product the link names (its page is the return policy)


@dataclass(frozen=True)
class UnitLink:
    gtin: str  # GTIN-14
    serial: str
    lot: str | None = None
    cpv: str | None = None
    qr: str | None = None  # "svg" or "png" when the path asks for the QR code of the link

    def canonical_path(self) -> str:
        """`/01/{gtin14}/21/{serial}`: the URI path a unit's QR code carries."""
        return gs1.digital_link("", self.gtin, self.serial)


def _decode(raw: str, what: str) -> str:
    try:
        value = unquote(raw, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise LinkError("invalid_link", f"the {what} is not valid percent-encoded UTF-8") from None
    if not value:
        raise LinkError("invalid_link", f"the {what} is empty")
    return value


def _check_qualifier(code: str, value: str) -> str:
    if code == "21":
        try:
            return gs1.validate_serial(value)
        except gs1.GS1Error as exc:
            raise LinkError("invalid_serial", str(exc)) from None
    # Batch/lot and consumer product variant: 1-20 characters of GS1 character set 82.
    name = QUALIFIER_NAMES[code]
    if len(value) > 20:
        raise LinkError("invalid_link", f"the {name} must be 1-20 characters, got {len(value)}")
    bad = sorted({c for c in value if c not in gs1.CSET82})
    if bad:
        raise LinkError("invalid_link", f"the {name} has characters outside GS1 character set 82: {''.join(bad)!r}")
    return value


def parse_path(raw_path: str) -> UnitLink:
    """Parses a raw (still percent-encoded) path such as `/01/09506000134352/21/ABC%2F1`.

    Raises LinkError: 400 for a malformed link or invalid GTIN/serial, 404 `no_serial` for a valid link
    that names no unit (a GTIN without a serial: a product, `exc.gtin`, unless it asks for a QR code).
    """
    segments = raw_path.split("/")
    if segments and segments[0] == "":
        segments = segments[1:]
    if len(segments) > 1 and segments[-1] == "":
        segments = segments[:-1]  # tolerate one trailing slash
    if not segments or segments[0] not in GTIN_CODES:
        raise LinkError("invalid_link", "a unit's Digital Link starts with /01/<GTIN>")
    if len(segments) < 2 or not segments[1]:
        raise LinkError("invalid_gtin", "the link has no GTIN after /01/")
    try:
        gtin = gs1.normalize_gtin(_decode(segments[1], "GTIN"))
    except gs1.GS1Error as exc:
        raise LinkError("invalid_gtin", str(exc)) from None

    rest = segments[2:]
    qr = None
    if len(rest) % 2 == 1:
        qr = QR_SUFFIXES.get(rest[-1])
        if qr is None:
            raise LinkError("invalid_link", f"path element {_decode(rest[-1], 'path element')!r} has no value after it")
        rest = rest[:-1]

    values: dict[str, str] = {}
    last = -1
    for i in range(0, len(rest), 2):
        code = QUALIFIER_CODES.get(rest[i])
        if code is None:
            raise LinkError(
                "invalid_link",
                f"{rest[i]!r} is not a GTIN key qualifier; this resolver takes /22/<variant>, /10/<lot> and "
                "/21/<serial>, in that order",
            )
        position = QUALIFIER_ORDER.index(code)
        if position <= last:
            raise LinkError(
                "invalid_link",
                "key qualifiers must appear in the order 22, 10, 21 and at most once each (GS1 Digital Link): "
                f"/{rest[i]}/ comes too late",
            )
        last = position
        values[code] = _check_qualifier(code, _decode(rest[i + 1], QUALIFIER_NAMES[code]))

    if "21" not in values:
        raise LinkError(
            "no_serial",
            f"GTIN {gtin} without a serial names a product, not a unit; this resolver shows single units: "
            f"/01/{gtin}/21/<serial>",
            status=404,
            gtin=None if qr else gtin,
        )
    return UnitLink(gtin=gtin, serial=values["21"], lot=values.get("10"), cpv=values.get("22"), qr=qr)
