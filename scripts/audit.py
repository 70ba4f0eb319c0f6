"""Deprecated: `python -m scripts.audit ARGS` is `returntrace audit ARGS` (returntrace/cli/audit.py,
docs/auditors.md), kept for one release so that existing audit jobs keep running; it goes in the next.
"""

from __future__ import annotations

import sys

from returntrace.cli.audit import main

if __name__ == "__main__":
    print("python -m scripts.audit is deprecated: use `returntrace audit` (same arguments)", file=sys.stderr)
    sys.exit(main(sys.argv[1:]))
