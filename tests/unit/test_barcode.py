"""What a scanner exports, read into units (returntrace/barcode.py) and rows (returntrace/cli/rows.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from returntrace import gs1
from returntrace.barcode import BarcodeError, parse
from returntrace.cli.rows import Defaults, RowError, read_row
from returntrace.vocab import BizStep, Disposition

GTIN = "09506000134352"
GS = "\x1d"
JAN_2 = int(datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp())


@pytest.mark.parametrize(
    "code",
    [
        f"(01){GTIN}(21)A/1",
        f"]d201{GTIN}21A/1",  # DataMatrix, serial last: no separator needed
        f"]C101{GTIN}10LOT{GS}21A/1",  # GS1-128, variable-length lot ended by FNC1
        f"01{GTIN}17261231{GS}21A/1",  # a separator after a fixed-length field is tolerated
        f"{GS}01{GTIN}21A/1",  # a leading FNC1
        f"https://id.example.com/some/prefix/01/{GTIN}/21/A%2F1?17=261231",
        "https://example.com/01/9506000134352/21/A%2F1",  # a GTIN-13, normalised
    ],
)
def test_every_form_names_the_same_unit(code):
    scan = parse(code)
    assert (scan.gtin, scan.serial, scan.unit_id) == (GTIN, "A/1", gs1.unit_id(GTIN, "A/1"))


def test_other_ais_are_kept():
    assert parse(f"]C101{GTIN}10LOT7{GS}17261231" + "21S").ais == {"10": "LOT7", "17": "261231"}


def test_an_itip_is_checked_on_its_gtin_not_on_its_piece_counts():
    # AI 8006: the GTIN-14 of the whole trade item, then piece 01 of 02 (GS1 General Specifications 3.9.12).
    assert parse(f"(01){GTIN}(21)A(8006){GTIN}0102").ais == {"8006": f"{GTIN}0102"}


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (f"(01){GTIN[:-1]}3(21)A", "wrong check digit (expected 2)"),
        ("(01)12(21)A", "takes 14 characters"),
        (f"(01){GTIN}(21)A(8006){GTIN[:-1]}30102", "wrong check digit (expected 2)"),
        (f"(01){GTIN}(21)A(402)95060001343520001", "wrong check digit (expected 0)"),
        (f"(01){GTIN}(20)A1(21)A", "digits only"),
        (f"(01){GTIN}(21)A(710)X", "unknown AI (710)"),
        (f"01{GTIN}7100X", "unknown AI at position 16"),
        (f"(01){GTIN}", "names a product, not a unit"),
        ("(00)009506000000000019", "no GTIN"),
        (f"(01){GTIN}(21)A(21)B", "appears twice"),
        (f"(01){GTIN}(17)261331(21)A", "not a date"),
        (f"(01){GTIN}(21)A B", "character set 82"),
        (f"(01){GTIN}(21)A)", "not a GS1 element string"),
        (f"https://id.example.com/01/{GTIN}", "names a product"),
        ("https://id.example.com/product/1", "/01/<GTIN>/21/<serial>"),
        ("", "empty"),
    ],
)
def test_malformed_codes_are_refused_with_the_reason(code, reason):
    with pytest.raises(BarcodeError) as refused:
        parse(code)
    assert reason in str(refused.value)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        # GS1 defines trade measures with 0-5 decimals only (3100-3105); the old hand table took 3106-3109.
        (f"(01){GTIN}(21)A(3106)000123", "unknown AI (3106)"),
        (f"01{GTIN}3106000123{GS}21A", "unknown AI at position 16"),
        (f"(01){GTIN}(21)A(3170)000123", "unknown AI (3170)"),  # and no 317n at all
        (f"(01){GTIN}(21)A(30)1O", "takes digits only"),  # a count is N..8
        (f"(01){GTIN}(21)A(421)ABC12", "takes digits only in characters 1-3"),  # N3 (country) X..9
        (f"(01){GTIN}(21)A(7006)261300", "261300 is not a date YYMMDD"),  # first freeze date, N6,yymmdd
        (f"(01){GTIN}(21)A(7003)2612001200", "not a date"),  # yymmdd: no day 00, unlike yymmd0
        # An ITIP has no predefined length: a GS ends it, else it runs into the next AI.
        (f"]C101{GTIN}8006{GTIN}010221A", "AI (8006) takes 18 characters, got 21"),
    ],
)
def test_gs1s_dictionary_corrects_the_old_table(code, reason):
    with pytest.raises(BarcodeError) as refused:
        parse(code)
    assert reason in str(refused.value)


def test_what_gs1_defines_is_read():
    scan = parse(f"]C101{GTIN}3105000123" + f"8006{GTIN}0102{GS}70032612312359{GS}17261200" + "21A")
    assert scan.ais == {"3105": "000123", "8006": f"{GTIN}0102", "7003": "2612312359", "17": "261200"}


def test_a_row_takes_the_file_defaults_and_its_own_columns():
    defaults = Defaults(step="shipping", disposition="in_transit", location="9506000000022")
    row = read_row(2, {"barcode": f"(01){GTIN}(21)A"}, defaults, now=1_800_000_000)
    assert (row.step, row.disposition, row.location, row.event_time) == (
        BizStep.SHIPPING,
        Disposition.IN_TRANSIT,
        9506000000022,
        1_800_000_000,
    )
    own = read_row(
        3,
        {"code": f"(01){GTIN}(21)A", "step": "10", "disposition": "returned", "time": "2027-01-02T03:04:05Z"},
        defaults,
        now=0,
    )
    assert (own.step, own.disposition, own.event_time) == (BizStep.RECEIVING, Disposition.RETURNED, JAN_2)
    commissioning = read_row(
        4, {"barcode": f"(01){GTIN}(21)A"}, Defaults("commissioning", None, gs1.with_check_digit("950600000001")), 1
    )
    assert commissioning.commissioning and commissioning.disposition == Disposition.ACTIVE


@pytest.mark.parametrize(
    ("record", "defaults", "reason"),
    [
        ({}, Defaults("shipping", "in_transit", "9506000000022"), "no barcode"),
        ({"barcode": f"(01){GTIN}(21)A"}, Defaults(None, "in_transit", "9506000000022"), "no step"),
        ({"barcode": f"(01){GTIN}(21)A"}, Defaults("shipping", None, "9506000000022"), "no disposition"),
        ({"barcode": f"(01){GTIN}(21)A"}, Defaults("shipping", "in_transit", None), "no location"),
        ({"barcode": f"(01){GTIN}(21)A"}, Defaults("teleporting", "in_transit", "9506000000022"), "unknown step"),
        ({"barcode": f"(01){GTIN}(21)A"}, Defaults("shipping", "in_transit", "9506000000021"), "GLN"),
        ({"barcode": f"(01){GTIN}(21)A", "time": "yesterday"}, Defaults("shipping", "x", "9506000000022"), "unknown"),
        (
            {"barcode": f"(01){GTIN}(21)A", "time": "2027-01-02T03:04:05"},
            Defaults("shipping", "in_transit", "9506000000022"),
            "no time zone",
        ),
        ({"barcode": f"(01){GTIN}(21)A"}, Defaults("decommissioning", None, "9506000000022"), "DecommissionBatch"),
    ],
)
def test_a_row_without_what_it_needs_is_refused(record, defaults, reason):
    with pytest.raises(RowError) as refused:
        read_row(5, record, defaults, now=1)
    assert reason in str(refused.value)
