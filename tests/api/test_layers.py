"""The gateway's rooms import only downwards (docs/contributors.md, Gateway layout).

    api.main  ->  api.http  ->  api.services  ->  api.settings  ->  api.write | api.read
              ->  api.chain | api.store  ->  api.errors  ->  returntrace

The rule lives in one place, pyproject.toml's [tool.importlinter] contracts (run by `make lint`);
this test runs the same contracts, so `make test` alone also refuses an upward or sideways import
(including one inside a function) and a module of api/ outside every room. No chain is needed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_imports_go_down_only():
    run = subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, "import-linter contracts broken:\n" + run.stdout[-4000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout and "2 kept" in run.stdout, run.stdout[-2000:]
