"""`returntrace audit`'s exit codes (moved from tests/api/test_auditor_cli.py and
tests/api/test_demo_export.py, which run it against a chain)."""

from __future__ import annotations

from returntrace import audit
from returntrace.cli.audit import main as audit_main


def test_help_documents_the_exit_codes(capsys):
    assert audit_main(["--help"]) == 0
    text = capsys.readouterr().out
    for line in (
        "0  all verified",
        "1  a unit's or parcel's chain does not match",
        "2  evidence files are missing",
        "3  the audit could not run",
    ):
        assert line in text


def test_exit_code_follows_the_report():
    clean = {
        "units": {"mismatched": 0},
        "parcels": {"mismatched": 0},
        "evidence": {"checked": True, "missing": 0, "corrupt": 0},
    }
    assert audit.exit_code(clean) == audit.EXIT_OK
    assert audit.exit_code({**clean, "parcels": {"mismatched": 1}}) == audit.EXIT_MISMATCH
    assert audit.exit_code({**clean, "evidence": {"checked": True, "missing": 2, "corrupt": 1}}) == audit.EXIT_MISMATCH
    assert (
        audit.exit_code({**clean, "evidence": {"checked": True, "missing": 2, "corrupt": 0}})
        == audit.EXIT_EVIDENCE_MISSING
    )
    assert audit.exit_code({**clean, "evidence": {"checked": False}}) == audit.EXIT_OK
