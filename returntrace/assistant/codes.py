"""The assistant's shared contract: the reason codes, the languages, the text limit and the answer.

Every part of issue 11 codes to these names (the gateway's endpoint, the options, the cases); they
change only together with docs/assistant.md.
"""

from __future__ import annotations

from dataclasses import dataclass

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
UNKNOWN_LANGUAGE = "unknown"
MAX_TEXT_CHARS = 2000

SAFETY = "safety_concern"
# Why a person must answer, in the order an Assessment lists them (the gateway adds its own after these).
HANDOFF_WHY: tuple[str, ...] = ("safety_concern", "safety_lexicon", "low_confidence", "unknown_language")


@dataclass(frozen=True)
class Assessment:
    language: str  # one of LANGUAGES or "unknown"
    reason: str | None  # one of REASONS; None when nothing could be said (a language the model has not learnt)
    confidence: float  # 0..1, the model's probability of `reason`
    handoff: bool  # True: a person must answer (never an automatic answer)
    why: tuple[str, ...]  # handoff reasons, from HANDOFF_WHY
    urgent: bool  # True for safety (model or lexicon)
