"""Which language a buyer wrote in, offline, with lingua (its models ship inside the wheel).

The detector is configured for our five languages plus a stated set of others that buyers write in
or that resemble ours (Dutch beside German, Portuguese and Catalan and Italian beside Spanish…).
A text whose most likely language is one of the others, or that none of our five wins clearly
enough, is "unknown": it goes to a person rather than to a model that never learnt its language.
"""

from __future__ import annotations

import re
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
# Mixed languages: a text is read in parts (sentences, and runs of Chinese characters apart from runs of
# Latin letters); a part of at least MIXED_MIN_WORDS words (Chinese: characters) whose most likely language
# is one of ours with at least MIXED_MIN_CONFIDENCE names that language. Two of ours named: mixed. Set on
# the shipped texts: not one of the 4,915 single-language texts is read as mixed.
MIXED_MIN_WORDS = 4
MIXED_MIN_CONFIDENCE = 0.4
MIXED_MAX_PARTS = 6  # the parts read (the longest): enough for two languages, a bound on the cost
_SENTENCES = re.compile(r"(?<=[.!?;。！？；])|\n+")
_SCRIPTS = re.compile(r"[\u3400-\u9fff](?:[\W\d_]*[\u3400-\u9fff])*|[^\u3400-\u9fff]+")  # Chinese runs, the rest
_HAN = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORD = re.compile(r"[^\W\d_\u3400-\u9fff]{2,}")


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


class MixedLanguages(ValueError):
    """The text is written in several of our languages: it is sent back to be written in one."""

    def __init__(self, languages: list[str]) -> None:
        super().__init__(f"the text is written in several languages ({', '.join(languages)}): write it in one")
        self.languages = languages


def _size(part: str) -> int:
    """A part's length in words: Latin-script words, or Chinese characters (which have no spaces)."""
    return max(len(_LATIN_WORD.findall(part)), len(_HAN.findall(part)))


def languages_in(text: str) -> list[str]:
    """Our languages that whole parts of `text` are written in (sorted): two or more is a mixed text, which
    neither the model nor a reader of one language reads right."""
    runs = (run for sentence in _SENTENCES.split(text) for run in _SCRIPTS.findall(sentence))
    parts = sorted((run for run in runs if _size(run) >= MIXED_MIN_WORDS), key=_size, reverse=True)
    found = set()
    for part in parts[:MIXED_MAX_PARTS]:
        values = detector().compute_language_confidence_values(part)
        if values and values[0].value >= MIXED_MIN_CONFIDENCE:
            code = values[0].language.iso_code_639_1.name.lower()
            if code in LANGUAGES:
                found.add(code)
    return sorted(found)
