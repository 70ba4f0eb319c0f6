"""GS1's Barcode Syntax Dictionary as vendored (standards/gs1/README.md) and read (returntrace/gs1_syntax.py)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from returntrace import barcode
from returntrace.gs1_syntax import DICTIONARY_FILE, DictionaryError, dictionary, parse, parse_line

ROOT = Path(__file__).resolve().parents[2]
STANDARDS_README = ROOT / "standards" / "gs1" / "README.md"
# A row of the README's table: | `file` or [`file`](path) | what | source | `sha256` |
ROW = re.compile(r"^\| (?:\[`[^`]+`\]\(([^)]+)\)|`([^`]+)`) \|.*\| `([0-9a-f]{64})` \|$", re.MULTILINE)


def documented_files() -> list[tuple[Path, str]]:
    """Each file standards/gs1/README.md lists (relative to the README) with the sha256 it documents."""
    rows = ROW.findall(STANDARDS_README.read_text(encoding="utf-8"))
    return [((STANDARDS_README.parent / (link or name)).resolve(), digest) for link, name, digest in rows]


def test_every_gs1_file_is_the_one_documented():
    files = documented_files()
    assert DICTIONARY_FILE in [path for path, _ in files]
    for path, digest in files:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, path


def test_the_docs_name_the_vendored_release():
    release = dictionary().release
    assert release == "2026-01-27"
    assert f"release {release}" in STANDARDS_README.read_text(encoding="utf-8")
    assert f"release {release}" in (barcode.__doc__ or "")


def test_ranges_expand_to_each_ai_and_no_further():
    ais = dictionary().ais
    assert [ai for ai in ais if ai.startswith("310")] == ["3100", "3101", "3102", "3103", "3104", "3105"]
    assert [ai for ai in ais if len(ai) == 2 and ai.startswith("9")] == [f"9{i}" for i in range(10)]
    assert (ais["90"].max_length, ais["91"].max_length, ais["99"].max_length) == (30, 90, 90)


def test_an_entry_gives_its_components_linters_and_flags():
    itip = dictionary().ais["8006"]
    assert not itip.predefined and itip.fixed_length == 18
    assert [(c.charset, c.max_length, c.linters) for c in itip.components] == [
        ("N", 14, ("csum", "gcppos2")),
        ("N", 4, ("pieceoftotal",)),
    ]
    sscc = dictionary().ais["00"]
    assert sscc.predefined and sscc.fixed_length == 18 and sscc.title == "SSCC"
    lot = dictionary().ais["10"]
    assert (lot.components[0].charset, lot.min_length, lot.max_length, lot.fixed_length) == ("X", 1, 20, None)
    grai = dictionary().ais["8003"]  # N1,zero N13,csum,gcppos1 [X..16]
    assert (grai.min_length, grai.max_length, grai.components[2].optional) == (14, 30, True)


def test_the_dictionary_is_read_once():
    assert dictionary() is dictionary()


@pytest.mark.parametrize(
    "line",
    [
        "",
        "01",  # no specification
        "01  *?  dlpkey",  # flags, no specification
        "3105-3100  *  N6",  # a range backwards
        "01  *  [N14",  # a bracket not closed
        "10  *  X..20",  # a predefined length that varies
        "AB  ?  X..20",
    ],
)
def test_a_line_off_the_format_is_refused(line):
    with pytest.raises(DictionaryError):
        parse_line(line)


def test_an_ai_defined_twice_is_refused():
    with pytest.raises(DictionaryError, match="defined twice"):
        parse("# Release: x\n10  ?  X..20\n10  ?  X..20\n")


def test_a_selection_names_only_ais_gs1_defines():
    assert sorted(dictionary().select(("41n",))) == [f"41{i}" for i in range(8)]
    with pytest.raises(DictionaryError, match="3106"):
        dictionary().select(("3106",))


def test_optional_components_may_be_left_out_only_whole():
    harvest = dictionary().ais["7007"]  # N6,yymmdd [N6],yymmdd
    assert [part for _, _, part in barcode._components(harvest, "261231")] == ["261231"]
    assert [part for _, _, part in barcode._components(harvest, "261201261231")] == ["261201", "261231"]
    with pytest.raises(barcode.BarcodeError, match=r"takes N6,yymmdd \[N6\],yymmdd"):
        barcode._components(harvest, "261201261")
