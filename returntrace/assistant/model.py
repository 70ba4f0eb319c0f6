"""The trained reason model: a multinomial logistic regression over features.py's n-grams.

The file is gzip'd JSON (never a pickle): the sorted vocabulary, the weights (one row of
len(reasons) per vocabulary entry, rounded so that the file is byte-stable), the biases, the
handoff thresholds chosen on the training data's validation folds, and how it was trained.
Inference is a sparse dot product in numpy: a few hundred rows summed, then a softmax.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from returntrace.assistant import features

FORMAT = "returntrace-assistant-reasons/1"
MODEL_PATH = Path(__file__).parent / "data" / "model.json.gz"
DECIMALS = 6  # weights are rounded to this many decimals: stable bytes, no loss of accuracy


def _rounded(values: np.ndarray) -> list[float]:
    return [round(float(v), DECIMALS) + 0.0 for v in values]  # + 0.0: no "-0.0"


@dataclass(frozen=True)
class ReasonModel:
    reasons: tuple[str, ...]
    vocabulary: dict[str, int]
    weights: np.ndarray  # (len(vocabulary), len(reasons))
    bias: np.ndarray  # (len(reasons),)
    threshold: float  # below this probability, a person answers ("low_confidence")
    safety_floor: float  # P(safety_concern) at or above this goes to a person, urgent
    training: dict[str, Any]

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages the model was trained on (its training files' names)."""
        return tuple(self.training.get("languages", ()))

    def probabilities(self, text: str) -> np.ndarray:
        """P(reason | text) for each of self.reasons."""
        columns, values = features.weighted(features.counts(text), self.vocabulary)
        # A sum rather than BLAS's matrix product: no thread start-up, the same order every time.
        scores = self.bias + (self.weights[columns] * np.asarray(values)[:, None]).sum(axis=0)
        scores = scores - scores.max()
        exp = np.exp(scores)
        return np.asarray(exp / exp.sum())

    def dumps(self) -> bytes:
        """The file's uncompressed bytes: a sorted header, then one line per vocabulary entry (in the
        vocabulary's sorted order) with its weights, numbers rounded to DECIMALS."""
        head = {
            "format": FORMAT,
            "reasons": list(self.reasons),
            "features": {"char_ngrams": list(features.CHAR_NGRAMS), "word_ngrams": [1, 2]},
            "threshold": round(self.threshold, DECIMALS),
            "safety_floor": round(self.safety_floor, DECIMALS),
            "training": self.training,
            "bias": _rounded(self.bias),
        }
        keys = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        rows = ",\n".join(
            json.dumps([key, _rounded(self.weights[self.vocabulary[key]])], ensure_ascii=False) for key in keys
        )
        return (json.dumps(head, ensure_ascii=False, sort_keys=True)[:-1] + ', "rows": [\n' + rows + "\n]}\n").encode()

    def save(self, path: Path) -> None:
        # mtime=0 and no file name in the header: the same model gives the same bytes.
        with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out:
            out.write(self.dumps())

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> ReasonModel:
        with gzip.open(path, "rb") as stream:
            document = json.loads(stream.read())
        if document.get("format") != FORMAT:
            raise ValueError(f"{path}: not a reason model of format {FORMAT}")
        rows = document["rows"]
        reasons = tuple(document["reasons"])
        weights = np.array([row for _, row in rows], dtype=np.float64).reshape(len(rows), len(reasons))
        return cls(
            reasons=reasons,
            vocabulary={key: index for index, (key, _) in enumerate(rows)},
            weights=weights,
            bias=np.array(document["bias"], dtype=np.float64),
            threshold=float(document["threshold"]),
            safety_floor=float(document["safety_floor"]),
            training=document["training"],
        )
