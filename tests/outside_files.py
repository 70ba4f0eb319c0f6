"""A guard for the suite: nothing the tests or the code open may lie beside the repository.

A user's clone has nothing next to it, so a test that reads the team's folder beside the repository
(or any sibling folder) passes on our machines and fails at theirs. From the moment tests/conftest.py loads, an
audit hook (`sys.addaudithook`) watches every `open` of this Python process: a path under the repository's
parent folder but outside the repository fails that open, and the session fails at its end even if
the code swallowed the error. Whatever folder the repository lives in, these stay allowed: the
repository itself, `~/.brownie`, Python's own folders, pytest's temporary folders, system folders
and the temporary folder (unless that is the repository's parent), and anything created under the
parent after the session started (temporary files of the tests themselves).
"""

from __future__ import annotations

import getpass
import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SYSTEM = ("/usr", "/etc", "/lib", "/lib64", "/bin", "/sbin", "/proc", "/sys", "/dev", "/run", "/var", "/opt", "/nix")


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


class OutsideFiles:
    """Decides which opened paths lie beside the repository `root`, and records them."""

    def __init__(self, root: Path, allowed: Iterable[str | Path] = ()) -> None:
        self.root = os.path.abspath(root)
        self.parent = os.path.dirname(self.root)
        # What was beside the repository when the session started; later entries are the tests' own.
        self.present = set(os.listdir(self.parent))
        # An allowed folder that holds the parent would allow everything beside the repository.
        candidates = [
            os.path.abspath(a)
            for a in (*allowed, *SYSTEM, tempfile.gettempdir(), sys.prefix, sys.base_prefix, sys.exec_prefix)
        ]
        self.allowed = sorted({a for a in candidates if not _inside(self.parent, a)})
        self.violations: list[str] = []

    def outside(self, path: Any) -> bool:
        """Whether opening `path` reads beside the repository."""
        if isinstance(path, int):  # a file descriptor: already open
            return False
        try:
            text = os.fsdecode(path)
        except TypeError:
            return False
        full = os.path.abspath(text)
        if _inside(full, self.root) or any(_inside(full, a) for a in self.allowed):
            return False
        if not _inside(full, self.parent) or full == self.parent:
            return False
        first = os.path.relpath(full, self.parent).split(os.sep, 1)[0]
        return first in self.present

    def hook(self, event: str, args: tuple) -> None:
        if event == "open" and args and self.outside(args[0]):
            self.violations.append(os.path.abspath(os.fsdecode(args[0])))
            raise PermissionError(
                f"the test suite opened {args[0]!r}, beside the repository {self.root}: a user's clone has "
                "nothing there"
            )


ACTIVE: OutsideFiles | None = None  # the guard installed in this process


def install(root: Path, home: Path | None = None) -> OutsideFiles:
    """Installs the guard for this process once (an audit hook stays for the process's life)."""
    global ACTIVE
    if ACTIVE is not None:
        return ACTIVE
    home = home or Path.home()
    try:
        pytest_temp = [Path(tempfile.gettempdir()) / f"pytest-of-{getpass.getuser()}"]
    except (KeyError, OSError):  # no user name: pytest then uses another folder, which the other rules cover
        pytest_temp = []
    guard = OutsideFiles(root, allowed=[home / ".brownie", *pytest_temp])
    sys.addaudithook(guard.hook)
    ACTIVE = guard
    return guard


def fail_session(session: Any, guard: OutsideFiles) -> None:
    """At a pytest session's end: lists what was opened beside the repository and fails the session."""
    import pytest

    if guard.violations:
        listed = "\n  ".join(dict.fromkeys(guard.violations))
        session.config.get_terminal_writer().line(
            f"\nFiles beside the repository were opened (a clone has none):\n  {listed}", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
