"""The return assistant's interface (issue 11 §1): what the gateway codes to.

PLACEHOLDER — a keyword stand-in written by the wt-flow branch so that the gateway's endpoint can be
built and tested before the real package lands. wt-assist's package (the trained model, its data,
its language detector and safety lexicon) REPLACES THIS FILE at merge; nothing but the names below
(REASONS, LANGUAGES, MAX_TEXT_CHARS, Assessment, Assistant.load, Assistant.assess) may be relied on.
The gateway's tests inject their own double where they need a given reason, never this stand-in's
answers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

REASONS: tuple[str, ...] = (
    "defective",
    "damaged_in_transit",
    "wrong_item",
    "size_fit",
    "not_as_described",
    "changed_mind",
    "baby_rejected",
    "safety_concern",
    "late_delivery",
)
LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "zh")  # ISO 639-1; anything else detects as "unknown"
MAX_TEXT_CHARS = 2000
CONFIDENCE_THRESHOLD = 0.5  # the stand-in's: below it, a person answers


@dataclass(frozen=True)
class Assessment:
    language: str  # one of LANGUAGES or "unknown"
    reason: str | None  # one of REASONS; None when nothing could be said (empty/unknown language)
    confidence: float  # 0..1, the model's probability of `reason`
    handoff: bool  # True: a person must answer (never an automatic answer)
    why: tuple[str, ...]  # from: "safety_concern", "safety_lexicon", "low_confidence", "unknown_language"
    urgent: bool  # True for safety (model or lexicon)


# The stand-in's words (English only, plus a marker word per language for detection): placeholders.
_MARKERS = {
    "de": ("der", "die", "das", "und", "ist", "nicht", "passt"),
    "fr": ("le", "la", "les", "et", "est", "pas", "une"),
    "es": ("el", "los", "las", "y", "es", "no", "una", "que"),
    "en": ("the", "and", "is", "it", "not", "my", "a", "does", "too", "of"),
}
_KEYWORDS = {
    "safety_concern": ("rash", "allerg", "chok", "burn", "toxic", "recall", "injur", "vomit"),
    "wrong_item": ("wrong", "instead of", "ordered"),
    "damaged_in_transit": ("arrived broken", "crushed", "damaged", "shattered", "dented"),
    "defective": ("does not work", "doesn't work", "broke", "won't", "stopped working", "defect"),
    "not_as_described": ("not as described", "listing", "different colour", "different color"),
    "late_delivery": ("late", "too late", "after the"),
    "baby_rejected": ("refuses", "won't take", "rejects"),
    "size_fit": ("too small", "too big", "does not fit", "doesn't fit", "size"),
    "changed_mind": ("no longer need", "changed my mind", "gift", "cheaper", "by mistake"),
}


def _check(text: str) -> str:
    if not text.strip():
        raise ValueError("empty text")
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"text longer than {MAX_TEXT_CHARS} characters")
    if any(unicodedata.category(c) in ("Cc", "Cs") and c not in "\n\r\t" for c in text):
        raise ValueError("binary or control characters")
    return text


class Assistant:
    """PLACEHOLDER: keyword matching in English; replaced by wt-assist's model at merge."""

    @classmethod
    def load(cls, path: Path | None = None) -> Assistant:
        del path  # the stand-in has no model file
        return cls()

    def assess(self, text: str) -> Assessment:
        lowered = _check(text).lower()
        if any("\u4e00" <= c <= "\u9fff" for c in lowered):
            language = "zh"
        else:
            words = re.findall(r"[a-zà-ÿß]+", lowered)
            counts = {lang: sum(w in markers for w in words) for lang, markers in _MARKERS.items()}
            best = max(counts, key=lambda lang: counts[lang])
            language = best if counts[best] else "unknown"
        if language == "unknown":
            return Assessment(language, None, 0.0, True, ("unknown_language",), False)
        reason = next((r for r, keys in _KEYWORDS.items() if any(k in lowered for k in keys)), None)
        if reason is None:
            return Assessment(language, None, 0.0, True, ("low_confidence",), False)
        if reason == "safety_concern":
            return Assessment(language, reason, 0.6, True, ("safety_concern",), True)
        return Assessment(language, reason, 0.6, False, (), False)
