"""The parts of the docs that code writes or checks: example blocks and tables.

An example block is a fenced block between two markers, written by a test from a real run
(tests/api/test_integrator_docs.py) and checked by the same test against the gateway:

    <!-- example: delivery-scan -->
    ```json
    {...}
    ```
    <!-- /example -->

The prose around the markers is written by hand; only what is between them is generated.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"

_EXAMPLE = re.compile(
    r"<!-- example: (?P<name>[a-z0-9-]+) -->\n"
    r"```(?P<lang>[a-z]+)\n(?P<body>.*?)\n?```\n"
    r"<!-- /example -->",
    re.S,
)


def examples(path: Path) -> dict[str, Any]:
    """{name: content} of every example block in `path`: JSON blocks parsed, others as text."""
    found: dict[str, Any] = {}
    for m in _EXAMPLE.finditer(path.read_text(encoding="utf-8")):
        name, lang, body = m["name"], m["lang"], m["body"]
        if name in found:
            raise ValueError(f"{path.name}: example {name!r} appears twice")
        found[name] = json.loads(body) if lang == "json" else body
    return found


def _render(content: Any) -> tuple[str, str]:
    if isinstance(content, str):
        return "sh", content
    return "json", json.dumps(content, indent=2, ensure_ascii=False)


def write_examples(path: Path, produced: dict[str, Any]) -> None:
    """Replaces the content of each example block with `produced[name]` (a string is written as
    shell text, anything else as JSON). Every block must be produced and every product must have a
    block: a stale or misspelt marker fails rather than staying behind."""
    text = path.read_text(encoding="utf-8")
    present = {m["name"] for m in _EXAMPLE.finditer(text)}
    if present != set(produced):
        raise ValueError(f"{path.name}: blocks {sorted(present)} but produced {sorted(produced)}")

    def block(m: re.Match[str]) -> str:
        lang, body = _render(produced[m["name"]])
        return f"<!-- example: {m['name']} -->\n```{lang}\n{body}\n```\n<!-- /example -->"

    path.write_text(_EXAMPLE.sub(block, text), encoding="utf-8")


def table_rows(path: Path, heading: str) -> list[list[str]]:
    """The cells of the first Markdown table under `heading` (a line starting with #), header and
    separator rows left out."""
    lines = path.read_text(encoding="utf-8").splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("#") and line.lstrip("#").strip() == heading)
    except StopIteration:
        raise ValueError(f"{path.name}: no heading {heading!r}") from None
    rows: list[list[str]] = []
    for line in lines[start + 1 :]:
        if line.startswith("#"):
            break
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif rows:
            break
    return rows[2:]


def key_paths(value: Any, prefix: str = "") -> set[str]:
    """Every key path of a JSON value (`a.b`, list items as `a[]`): its shape, not its values."""
    paths: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            paths |= {path} | key_paths(item, path)
    elif isinstance(value, list):
        for item in value:
            paths |= key_paths(item, f"{prefix}[]")
    return paths
