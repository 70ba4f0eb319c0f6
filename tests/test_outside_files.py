"""The guard against reading beside the repository (tests/outside_files.py) decides right and is live."""

from __future__ import annotations

import os
import sys

import pytest

from tests import outside_files

OUTSIDE_FILES = outside_files.ACTIVE
assert OUTSIDE_FILES is not None, "tests/conftest.py installs the guard"


@pytest.fixture
def layout(tmp_path):
    """parent/{repo, shared, home/.brownie} as a clone beside a team folder would see it."""
    parent = tmp_path / "parent"
    for folder in ("repo/tests", "shared/standards", "home/.brownie", "home/other"):
        (parent / folder).mkdir(parents=True)
    return parent


def test_sibling_folders_are_outside_the_repository_and_the_rest_is_not(layout):
    guard = outside_files.OutsideFiles(layout / "repo", allowed=[layout / "home" / ".brownie"])
    assert guard.outside(layout / "shared" / "standards" / "schema.json")
    assert guard.outside(str(layout / "repo" / ".." / "shared" / "x"))  # relative hops are resolved
    assert guard.outside(os.fsencode(layout / "home" / "other" / "cfg"))
    assert not guard.outside(layout / "repo" / "tests" / "conftest.py")
    assert not guard.outside(layout / "home" / ".brownie" / "network-config.yaml")
    assert not guard.outside(sys.executable) and not guard.outside("/etc/hosts") and not guard.outside(3)
    (layout / "made-during-the-session").mkdir()  # what the tests create beside it is theirs
    assert not guard.outside(layout / "made-during-the-session" / "db.sqlite3")


def test_a_temporary_parent_folder_does_not_allow_everything(layout, monkeypatch):
    """A clone in the temporary folder: its siblings there are still outside (the temporary folder's
    own allowance would cover the parent, so it does not apply)."""
    monkeypatch.setattr(outside_files.tempfile, "gettempdir", lambda: str(layout))
    guard = outside_files.OutsideFiles(layout / "repo")
    assert str(layout) not in guard.allowed
    assert guard.outside(layout / "shared" / "x")


def test_the_installed_hook_refuses_an_open_beside_the_repository_and_fails_the_session():
    """The live guard: an open of a path beside the repository raises and is recorded (here a name
    is made to count as present at the session's start; the record is taken back so this run passes)."""
    name = "returntrace-outside-files-probe"
    target = os.path.join(OUTSIDE_FILES.parent, name, "file.json")
    before = len(OUTSIDE_FILES.violations)
    OUTSIDE_FILES.present.add(name)
    try:
        with pytest.raises(PermissionError, match="beside the repository"):
            open(target)  # noqa: SIM115 - the open itself is what is refused
        assert OUTSIDE_FILES.violations[before:] == [target]
    finally:
        OUTSIDE_FILES.present.discard(name)
        del OUTSIDE_FILES.violations[before:]
    assert os.path.isdir(OUTSIDE_FILES.root) and not OUTSIDE_FILES.outside(
        os.path.join(OUTSIDE_FILES.root, "README.md")
    )
