"""The fast tier: tests of pure code (returntrace/, the gateway's pure parts, the test builder's
message shapes, the escrow model against the compiled contracts in build/) that need no chain, no
gateway process and no brownie plugin.

    make test-fast                      # or: .venv/bin/python -m pytest tests/unit

Alone, this folder is pytest's root (tests/unit/pytest.ini); inside `make test` the chain tests'
conftest applies above it, and `isolate` below keeps these tests off the chain there too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import outside_files

# Nothing beside the repository may be read here either (installed once per process).
OUTSIDE_FILES = outside_files.install(Path(__file__).resolve().parents[2])


def pytest_sessionfinish(session, exitstatus):
    if session.config.rootpath == Path(__file__).parent:  # alone: tests/conftest.py is not there to report
        outside_files.fail_session(session, OUTSIDE_FILES)


@pytest.fixture(autouse=True)
def isolate():
    """No chain snapshot per test (tests/conftest.py's `isolate` takes one): nothing here touches a chain."""
