"""GS1 identifiers: GTIN, GLN, serial and SSCC checks, the on-chain unit and parcel ids (see
contracts/utils/GS1.sol)."""

from __future__ import annotations

import string

from eth_utils import keccak

# GS1 AI encodable character set 82 (GS1 General Specifications, figure 7.11-1).
CSET82 = frozenset("!\"%&'()*+,-./0123456789:;<=>?" + string.ascii_uppercase + "_" + string.ascii_lowercase)
MAX_SERIAL_LENGTH = 20


class GS1Error(ValueError):
    """An identifier that is not a valid GS1 key."""


def check_digit(digits_without_check: str) -> int:
    """GS1 mod-10 check digit: weights 3,1,3,… from the rightmost data digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits_without_check)))
    return (10 - total % 10) % 10


def has_valid_check_digit(key: str) -> bool:
    return key.isascii() and key.isdigit() and len(key) >= 2 and check_digit(key[:-1]) == int(key[-1])


def normalize_gtin(gtin: str | int) -> str:
    """Returns the GTIN-14 form of a GTIN-8, -12, -13 or -14 (left-padded with zeros), checking its check digit."""
    text = f"{gtin:014d}" if isinstance(gtin, int) else str(gtin)
    if not (text.isascii() and text.isdigit()) or len(text) not in (8, 12, 13, 14):
        raise GS1Error(f"GTIN must be 8, 12, 13 or 14 digits, got {text!r}")
    text = text.zfill(14)
    if not has_valid_check_digit(text):
        raise GS1Error(f"GTIN {text} has a wrong check digit (expected {check_digit(text[:-1])})")
    return text


def validate_gln(gln: str | int) -> int:
    """Returns the GLN as the integer the contracts take, checking 13 digits and the check digit."""
    text = f"{gln:013d}" if isinstance(gln, int) else str(gln)
    # Zero passes the mod-10 check but is no GLN: the contracts refuse it (GS1.hasValidCheckDigit).
    if len(text) != 13 or not has_valid_check_digit(text) or int(text) == 0:
        raise GS1Error(f"GLN must be 13 digits with a valid check digit, got {text!r}")
    return int(text)


def validate_serial(serial: str) -> str:
    """Checks a serial (AI 21): 1-20 characters of GS1 character set 82."""
    if not 1 <= len(serial) <= MAX_SERIAL_LENGTH:
        raise GS1Error(f"serial must be 1-{MAX_SERIAL_LENGTH} characters, got {len(serial)}")
    bad = sorted({c for c in serial if c not in CSET82})
    if bad:
        raise GS1Error(f"serial has characters outside GS1 character set 82: {''.join(bad)!r}")
    return serial


def unit_id(gtin: str | int, serial: str) -> bytes:
    """keccak256(utf8("01" + gtin14 + "21" + serial)), as TraceRegistry computes it."""
    return keccak(("01" + normalize_gtin(gtin) + "21" + validate_serial(serial)).encode("ascii"))


def digital_link(resolver: str, gtin: str | int, serial: str) -> str:
    """The GS1 Digital Link URI the unit's QR code carries."""
    from urllib.parse import quote

    return f"{resolver.rstrip('/')}/01/{normalize_gtin(gtin)}/21/{quote(validate_serial(serial), safe='')}"


def validate_sscc(sscc: str | int) -> int:
    """Returns the SSCC (AI 00) as the integer the contracts take, checking 18 digits and the check digit."""
    text = f"{sscc:018d}" if isinstance(sscc, int) and sscc >= 0 else str(sscc)
    if len(text) != 18 or not has_valid_check_digit(text) or int(text) == 0:
        raise GS1Error(f"SSCC must be 18 digits with a valid check digit, got {text!r}")
    return int(text)


def sscc18(sscc: str | int) -> str:
    """The 18-digit text of a valid SSCC (zero-padded), as GS1 element strings and Digital Links carry it."""
    return f"{validate_sscc(sscc):018d}"


def parcel_id(sscc: str | int) -> bytes:
    """keccak256(utf8("00" + sscc18)), as TraceRegistry.parcelIdOf computes it."""
    return keccak(("00" + sscc18(sscc)).encode("ascii"))


def parcel_link(resolver: str, sscc: str | int) -> str:
    """The GS1 Digital Link URI of a parcel: <resolver>/00/<sscc18>."""
    return f"{resolver.rstrip('/')}/00/{sscc18(sscc)}"


def with_check_digit(data_digits: str) -> str:
    """Appends the check digit: builds valid GTINs and GLNs for fixtures and demos."""
    return data_digits + str(check_digit(data_digits))
