"""A benchmark's page under docs/benchmarks/: each line printed as it is measured and kept for the page."""

from __future__ import annotations

from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks"


class Page:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def out(self, line: str = "") -> None:
        print(line)
        self.lines.append(line)

    def grid(self, header: list[str], rows: list[list[str]]) -> None:
        """A Markdown table: the first column left-aligned, the others right-aligned."""
        self.out("| " + " | ".join(header) + " |")
        self.out("|" + "|".join([":---"] + ["---:"] * (len(header) - 1)) + "|")
        for row in rows:
            self.out("| " + " | ".join(row) + " |")

    def write(self, path: Path, head: list[str]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(head + self.lines) + "\n")
        print(f"\nwritten to {path.relative_to(DOCS.parent.parent)}")
