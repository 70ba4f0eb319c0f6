"""Which language a buyer wrote in, offline, with lingua (its models ship inside the wheel).

The detector is configured for our five languages plus a stated set of others that buyers write in
or that resemble ours (Dutch beside German, Portuguese and Catalan and Italian beside Spanish…).
A text whose most likely language is one of the others, or that none of our five wins clearly
enough, is "unknown": it goes to a person rather than to a model that never learnt its language.
"""

from __future__ import annotations

from functools import cache

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from returntrace.assistant.codes import LANGUAGES, UNKNOWN_LANGUAGE

# Languages the detector knows but the assistant does not answer in (ISO 639-1).
OTHER_LANGUAGES: tuple[str, ...] = (
    "it", "pt", "nl", "ca", "ro", "pl", "cs", "sk", "hu", "sv", "da", "nb", "fi",
    "ru", "uk", "el", "tr", "ar", "he", "hi", "ja", "ko", "vi", "id", "ms", "tl",
)  # fmt: skip
# Our best language must beat the best other language by this factor, or the text is "unknown".
MARGIN = 1.1


def _language(code: str) -> Language:
    return Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))


@cache
def detector() -> LanguageDetector:
    """One detector per process, every language model loaded when it is built (seconds of CPU, once)."""
    languages = (_language(c) for c in LANGUAGES + OTHER_LANGUAGES)
    return LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models().build()


def detect(text: str) -> str:
    """One of LANGUAGES, or "unknown" (another language, too close to call, or no letters at all)."""
    ours = 0.0
    others = 0.0
    best = UNKNOWN_LANGUAGE
    for value in detector().compute_language_confidence_values(text):
        code = value.language.iso_code_639_1.name.lower()
        if code in LANGUAGES:
            if value.value > ours:
                ours, best = value.value, code
        else:
            others = max(others, value.value)
    if ours <= 0.0 or ours < MARGIN * others:
        return UNKNOWN_LANGUAGE
    return best
