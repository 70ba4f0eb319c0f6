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


_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class _Phrase:
    """A Latin-script term as its words and the exact text between them (a prefix term's last word
    may be followed by more word characters)."""

    term: str  # the folded term, as reported
    words: tuple[str, ...]
    gaps: tuple[str, ...]  # len(words) - 1 separators, matched exactly
    prefix: bool

    @classmethod
    def of(cls, body: str, prefix: bool) -> _Phrase:
        spans = [m.span() for m in _WORD.finditer(body)]
        words = tuple(body[a:b] for a, b in spans)
        gaps = tuple(body[spans[k][1] : spans[k + 1][0]] for k in range(len(spans) - 1))
        return cls(body, words, gaps, prefix)

    def match(self, text: str, tokens: list[tuple[int, int]], i: int) -> str | None:
        """The matched text when this phrase starts at word `i` of `text`, else None."""
        n = len(self.words)
        if i + n > len(tokens):
            return None
        for k, word in enumerate(self.words):
            a, b = tokens[i + k]
            last = k == n - 1
            token = text[a:b]
            if not (token.startswith(word) if last and self.prefix else token == word):
                return None
            if not last and text[b : tokens[i + k + 1][0]] != self.gaps[k]:
                return None
        return text[tokens[i][0] : tokens[i + n - 1][1]]


def read_terms(path: Path) -> list[str]:
    """The terms of one lexicon file, comments and blank lines left out."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


@dataclass(frozen=True)
class Lexicon:
    """Latin-script terms are looked up word by word (a dict from first word, or first-word prefix, to
    the phrases starting with it), CJK terms by one pattern: a 2,000-character text costs a few
    dictionary lookups per word, not one regular-expression alternative per term per character."""

    terms: tuple[str, ...]
    by_word: dict[str, tuple[_Phrase, ...]]  # exact first word -> phrases, longest first
    by_prefix: dict[str, tuple[_Phrase, ...]]  # a one-word prefix term's prefix -> its phrase
    prefix_lengths: tuple[int, ...]
    cjk: re.Pattern[str] | None

    @classmethod
    def load(cls, folder: Path = SAFETY_DIR) -> Lexicon:
        terms = tuple(term for path in sorted(folder.glob("*.txt")) for term in read_terms(path))
        by_word: dict[str, list[_Phrase]] = {}
        by_prefix: dict[str, list[_Phrase]] = {}
        cjk: set[str] = set()
        for term in terms:
            body = fold(term.rstrip("*"))
            if _has_cjk(body):
                cjk.add(body)
                continue
            phrase = _Phrase.of(body, term.endswith("*"))
            if phrase.prefix and len(phrase.words) == 1:
                by_prefix.setdefault(phrase.words[0], []).append(phrase)
            else:
                by_word.setdefault(phrase.words[0], []).append(phrase)

        def longest_first(phrases: list[_Phrase]) -> tuple[_Phrase, ...]:
            return tuple(sorted(set(phrases), key=lambda p: (-len(p.term), p.term)))

        return cls(
            terms,
            {w: longest_first(ps) for w, ps in by_word.items()},
            {w: longest_first(ps) for w, ps in by_prefix.items()},
            tuple(sorted({len(w) for w in by_prefix}, reverse=True)),
            re.compile("|".join(re.escape(t) for t in sorted(cjk, key=lambda t: (-len(t), t)))) if cjk else None,
        )

    def hit(self, text: str) -> str | None:
        """The first term found in `text` (folded), or None: the leftmost, and the longest there."""
        folded = fold(text)
        cjk = self.cjk.search(folded) if self.cjk is not None else None
        tokens = [m.span() for m in _WORD.finditer(folded)]
        for i, (start, end) in enumerate(tokens):
            if cjk is not None and cjk.start() < start:
                return cjk.group(0)
            token = folded[start:end]
            candidates = self.by_word.get(token, ())
            candidates += tuple(p for n in self.prefix_lengths for p in self.by_prefix.get(token[:n], ()))
            found = [m for m in (p.match(folded, tokens, i) for p in candidates) if m is not None]
            if found:
                return max(found, key=len)
        return cjk.group(0) if cjk is not None else None
