"""The return assistant: a buyer's text in, a reason and whether a person must answer out.

Precedence of the handoff reasons (docs/assistant.md): safety first (the model's or the
lexicon's, urgent), then an unknown language, then low confidence. safety_concern is never
answered automatically.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from returntrace.assistant.codes import SAFETY, Assessment
from returntrace.assistant.language import MixedLanguages, detect, detector, languages_in
from returntrace.assistant.model import MODEL_PATH, ReasonModel
from returntrace.assistant.safety import Lexicon
from returntrace.assistant.text import validate


@dataclass(frozen=True)
class Assistant:
    model: ReasonModel
    lexicon: Lexicon

    @classmethod
    def load(cls, path: Path | None = None) -> Assistant:
        """The model at `path` (the shipped data/model.json.gz by default) and the shipped safety lexicon.
        The language detector is built here too (~7 s of CPU, once per process), not on a first request;
        the shipped model is read once per process too (half a second): every gateway a process opens
        shares it, as it shares the detector (an Assistant never changes)."""
        detector()
        if path is None:
            return _shipped()
        return cls(ReasonModel.load(path), Lexicon.load())

    def assess(self, text: str) -> Assessment:
        """The assessment of `text`; ValueError when it is empty, longer than MAX_TEXT_CHARS or binary, and
        MixedLanguages when whole parts of it are in different languages of ours — unless it names a safety
        term: a child's health always reaches a person, in whatever words."""
        validate(text)
        lexicon_hit = self.lexicon.hit(text) is not None
        if not lexicon_hit:
            mixed = languages_in(text)
            if len(mixed) > 1:
                raise MixedLanguages(mixed)
        language = detect(text)
        if language not in self.model.languages:
            # Another language, or one of ours that this model was not trained on (a merchant's model
            # may cover fewer): nothing can be said, a person answers.
            why: tuple[str, ...] = ("safety_lexicon", "unknown_language") if lexicon_hit else ("unknown_language",)
            return Assessment(language, None, 0.0, True, why, lexicon_hit)
        probabilities = self.model.probabilities(text)
        best = int(probabilities.argmax())
        reason, confidence = self.model.reasons[best], float(probabilities[best])
        model_safety = reason == SAFETY or bool(
            probabilities[self.model.reasons.index(SAFETY)] >= self.model.safety_floor
        )
        reasons = (
            ("safety_concern", model_safety),
            ("safety_lexicon", lexicon_hit),
            ("low_confidence", confidence < self.model.threshold),
        )
        why = tuple(code for code, applies in reasons if applies)  # in HANDOFF_WHY's order
        return Assessment(language, reason, confidence, bool(why), why, model_safety or lexicon_hit)


@cache
def _shipped() -> Assistant:
    return Assistant(ReasonModel.load(MODEL_PATH), Lexicon.load())
