"""What a buyer's text must be before anything reads it, and the one normal form every reader uses."""

from __future__ import annotations

import re
import unicodedata

from returntrace.assistant.codes import MAX_TEXT_CHARS

_ALLOWED_CONTROLS = frozenset("\t\n\r")
_SPACES = re.compile(r"\s+")


def validate(text: object) -> str:
    """The text itself, or ValueError saying why it cannot be assessed (empty, too long, binary)."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, not {type(text).__name__}")
    if not text.strip():
        raise ValueError("text is empty: write what is wrong with the item")
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"text is {len(text)} characters long; the limit is {MAX_TEXT_CHARS}")
    for position, char in enumerate(text):
        category = unicodedata.category(char)
        if (category == "Cc" and char not in _ALLOWED_CONTROLS) or category == "Cs" or char == "\ufffd":
            # Control characters, lone surrogates and U+FFFD are what binary data looks like once decoded.
            raise ValueError(f"text holds a control or non-text character (U+{ord(char):04X} at {position})")
    return text


def normalise(text: str) -> str:
    """NFKC (full-width forms, ligatures), case-folded, whitespace collapsed: what the model reads."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def fold(text: str) -> str:
    """`normalise` with accents removed (é → e, ü → u): what the safety lexicon matches, so that a
    missing accent never hides a term. CJK characters have no combining marks and pass unchanged."""
    decomposed = unicodedata.normalize("NFD", normalise(text))
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))
