"""returntrace/gs1.py's client-side SSCC checks (moved from tests/registry/test_aggregation.py,
whose other tests hold the contract's parcel ids to the same encoding)."""

from __future__ import annotations

import pytest

from returntrace import gs1


def sscc(n: int) -> int:
    """tests/registry/conftest.py's n-th test SSCC: extension digit 3, the brand's company prefix 9506000, serial
    reference n."""
    return int(gs1.with_check_digit(f"39506000{n:09d}"))


def test_client_sscc_checks():
    assert gs1.sscc18(sscc(7)) == f"{sscc(7):018d}"
    assert gs1.parcel_link("https://r.example/", sscc(7)) == f"https://r.example/00/{sscc(7):018d}"
    for bad in ("12345", "3" * 19, str(sscc(7) + 1), 0, "00000000000000000x"):
        with pytest.raises(gs1.GS1Error):
            gs1.validate_sscc(bad)


@pytest.mark.parametrize("key", ["96385074", "036000291452", "4006381333931", "09506000134352"])
def test_published_keys_carry_valid_check_digits(key):
    """EAN-8, UPC-A and EAN-13 examples as published (the EAN/UPC articles' own), and the test GTIN."""
    assert gs1.has_valid_check_digit(key) and gs1.with_check_digit(key[:-1]) == key
    wrong = key[:-1] + str((int(key[-1]) + 1) % 10)
    assert not gs1.has_valid_check_digit(wrong)
    with pytest.raises(gs1.GS1Error, match="check digit"):
        gs1.normalize_gtin(wrong)


def test_every_gtin_length_names_the_same_unit_as_its_gtin_14():
    assert gs1.normalize_gtin("96385074") == "00000096385074"
    assert gs1.normalize_gtin(9506000134352) == "09506000134352"
    assert gs1.unit_id("4006381333931", "A1") == gs1.unit_id("04006381333931", "A1") == gs1.unit_id(4006381333931, "A1")
    assert gs1.unit_id("4006381333931", "A1") != gs1.unit_id("4006381333931", "A2")
    for bad in ("1234567", "12345678901", "0950600013435X", "9" * 15):
        with pytest.raises(gs1.GS1Error):
            gs1.normalize_gtin(bad)


def test_glns_and_serials_are_checked_as_the_contracts_check_them():
    assert gs1.validate_gln("9506000000039") == 9506000000039
    for bad in (0, "950600000003", "9506000000038"):  # zero passes mod 10 but is no GLN
        with pytest.raises(gs1.GS1Error):
            gs1.validate_gln(bad)
    assert gs1.validate_serial("AB/12-x") == "AB/12-x"
    for bad in ("", "X" * 21, "has space", "café"):
        with pytest.raises(gs1.GS1Error):
            gs1.validate_serial(bad)
