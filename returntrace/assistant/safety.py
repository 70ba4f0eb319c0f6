"""The safety lexicon: terms that send a text to a person, urgently, whatever the model says.

data/safety/<lang>.txt holds one lowercase term or phrase per line (`#` starts a comment). Every
lexicon applies to every text, whatever language was detected, so that a misdetected or mixed
text is still caught; a term must therefore not be an ordinary word in another language.
Matching is on the folded text (case-folded, accents removed): a Latin-script term matches whole
words (a trailing `*` makes it a prefix: `allerg*` matches allergy and allergic); a term with
CJK characters matches anywhere, since Chinese has no spaces.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from returntrace.assistant.text import fold

SAFETY_DIR = Path(__file__).parent / "data" / "safety"


def _has_cjk(term: str) -> bool:
    return any(unicodedata.name(c, "").startswith(("CJK", "HIRAGANA", "KATAKANA")) for c in term)


def _pattern(term: str) -> str:
    prefix = term.endswith("*")
    body = fold(term.rstrip("*"))
    if _has_cjk(body):
        return re.escape(body)
    return r"(?<!\w)" + re.escape(body) + (r"\w*" if prefix else r"(?!\w)")


def read_terms(path: Path) -> list[str]:
    """The terms of one lexicon file, comments and blank lines left out."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


@dataclass(frozen=True)
class Lexicon:
    terms: tuple[str, ...]
    pattern: re.Pattern[str]

    @classmethod
    def load(cls, folder: Path = SAFETY_DIR) -> Lexicon:
        terms = tuple(term for path in sorted(folder.glob("*.txt")) for term in read_terms(path))
        # Longest first, so that the reported hit is the most specific term.
        alternatives = sorted({_pattern(t) for t in terms}, key=lambda p: (-len(p), p))
        return cls(terms, re.compile("|".join(alternatives) if alternatives else r"(?!)"))

    def hit(self, text: str) -> str | None:
        """The first term found in `text` (folded), or None."""
        found = self.pattern.search(fold(text))
        return found.group(0) if found else None
