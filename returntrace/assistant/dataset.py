"""The labelled texts: data/train/<lang>.jsonl and data/heldout/<lang>.jsonl, one
{"text": ..., "reason": ...} per line. Whichever languages have files are used; none is required."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from returntrace.assistant.codes import REASONS

DATA_DIR = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Example:
    text: str
    reason: str
    language: str  # from the file's name


def read_jsonl(path: Path) -> list[Example]:
    """The examples of one file; ValueError naming the line for a malformed one."""
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            text, reason = record["text"], record["reason"]
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{path}:{number}: not a {{text, reason}} object ({error})") from None
        if reason not in REASONS or not isinstance(text, str) or not text.strip():
            raise ValueError(f"{path}:{number}: unknown reason {reason!r} or empty text")
        examples.append(Example(text, reason, path.stem))
    return examples


def languages(folder: Path) -> list[str]:
    """The languages that have a file in `folder` (train/ or heldout/), sorted."""
    return sorted(path.stem for path in folder.glob("*.jsonl"))


def read_split(folder: Path) -> list[Example]:
    """Every example of every language file in `folder`, in language order then file order."""
    return [example for code in languages(folder) for example in read_jsonl(folder / f"{code}.jsonl")]
