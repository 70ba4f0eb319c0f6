"""Training the reason model from labelled texts: deterministic, so the same data gives the same file.

1. Vocabulary: every feature (features.py) found in at least MIN_DF training texts, sorted.
2. Validation: the training texts are cut into FOLDS folds by a hash of their normalised text (not
   by their order, so adding texts moves no other text); each fold is predicted by a model trained
   on the others. From these out-of-fold predictions come the handoff thresholds: the safety floor
   (the lowest P(safety_concern) among safety texts that the lexicon does not catch) and the
   confidence threshold (the lowest at which the automatic answers reach TARGET_PRECISION).
   The held-out files are never read here.
3. The model: multinomial logistic regression with an L2 penalty, fitted on all the training texts by
   L-BFGS for at most ITERATIONS steps, in float64 with sums in a fixed order (numpy's bincount).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from returntrace.assistant import features
from returntrace.assistant.codes import REASONS, SAFETY
from returntrace.assistant.dataset import Example, languages, read_split
from returntrace.assistant.model import ReasonModel
from returntrace.assistant.safety import Lexicon
from returntrace.assistant.text import normalise

MIN_DF = 2
FOLDS = 5
L2 = 1e-4
ITERATIONS = 300
TARGET_PRECISION = 0.97  # on the validation folds; the contract's bar is 0.95 on texts never seen
SAFETY_FLOOR_RANGE = (0.05, 0.5)


@dataclass(frozen=True)
class Matrix:
    """A sparse (texts × vocabulary) matrix as coordinate lists sorted by row, with what its two products
    need precomputed. Sums run in a fixed order (numpy's reduceat, never BLAS, whose threads may
    add in another order and whose thread start-up dominates on a busy machine)."""

    rows: np.ndarray
    columns: np.ndarray
    values: np.ndarray
    shape: tuple[int, int]

    @cached_property
    def _by_row(self) -> tuple[np.ndarray, np.ndarray]:
        return _segments(self.rows)

    @cached_property
    def _by_column(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        order = np.argsort(self.columns, kind="stable")
        return (self.rows[order], self.values[order][:, None], *_segments(self.columns[order]))

    def times(self, weights: np.ndarray) -> np.ndarray:
        """self @ weights, (texts × reasons)."""
        out = np.zeros((self.shape[0], weights.shape[1]))
        if len(self.rows):
            starts, ids = self._by_row
            out[ids] = np.add.reduceat(weights[self.columns] * self.values[:, None], starts, axis=0)
        return out

    def transposed_times(self, error: np.ndarray) -> np.ndarray:
        """self.T @ error, (vocabulary × reasons)."""
        out = np.zeros((self.shape[1], error.shape[1]))
        if len(self.rows):
            rows, values, starts, ids = self._by_column
            out[ids] = np.add.reduceat(error[rows] * values, starts, axis=0)
        return out


def _segments(sorted_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each run of equal ids starts in `sorted_ids`, and the runs' ids."""
    starts = np.flatnonzero(np.concatenate(([True], sorted_ids[1:] != sorted_ids[:-1])))
    return starts, sorted_ids[starts]


def fold_of(text: str) -> int:
    return int.from_bytes(hashlib.sha256(normalise(text).encode()).digest()[:4], "big") % FOLDS


def build_vocabulary(texts: Sequence[str]) -> dict[str, int]:
    frequency: dict[str, int] = {}
    for text in texts:
        for key in features.counts(text):
            frequency[key] = frequency.get(key, 0) + 1
    return {key: index for index, key in enumerate(sorted(k for k, n in frequency.items() if n >= MIN_DF))}


def matrix(texts: Sequence[str], vocabulary: dict[str, int]) -> Matrix:
    rows: list[int] = []
    columns: list[int] = []
    values: list[float] = []
    for row, text in enumerate(texts):
        cols, vals = features.weighted(features.counts(text), vocabulary)
        order = sorted(range(len(cols)), key=cols.__getitem__)  # a fixed order of summation
        rows.extend([row] * len(cols))
        columns.extend(cols[i] for i in order)
        values.extend(vals[i] for i in order)
    return Matrix(
        np.array(rows, dtype=np.int64),
        np.array(columns, dtype=np.int64),
        np.array(values, dtype=np.float64),
        (len(texts), len(vocabulary)),
    )


def _scores(x: Matrix, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    return x.times(weights) + bias


def _softmax(scores: np.ndarray) -> np.ndarray:
    exp = np.exp(scores - scores.max(axis=1, keepdims=True))
    return np.asarray(exp / exp.sum(axis=1, keepdims=True))


def _objective(x: Matrix, labels: np.ndarray, classes: int) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """Mean cross-entropy + L2/2 ‖W‖² and its gradient, over the flat parameters (W, then bias)."""
    n, width = x.shape
    onehot = np.zeros((n, classes))
    onehot[np.arange(n), labels] = 1.0

    def value_and_gradient(theta: np.ndarray) -> tuple[float, np.ndarray]:
        weights = theta[: width * classes].reshape(width, classes)
        bias = theta[width * classes :]
        probabilities = _softmax(_scores(x, weights, bias))
        loss = -float(np.sum(np.log(probabilities[np.arange(n), labels] + 1e-300))) / n
        loss += 0.5 * L2 * float(np.sum(weights * weights))
        error = (probabilities - onehot) / n
        grad_w = x.transposed_times(error) + L2 * weights
        return loss, np.concatenate([grad_w.ravel(), error.sum(axis=0)])

    return value_and_gradient


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sum(a * b))  # not a @ b: BLAS (see Matrix)


def lbfgs(fun: Callable[[np.ndarray], tuple[float, np.ndarray]], theta: np.ndarray, iterations: int) -> np.ndarray:
    """Limited-memory BFGS (10 pairs) with a backtracking Armijo line search."""
    memory: list[tuple[np.ndarray, np.ndarray, float]] = []
    value, gradient = fun(theta)
    for _ in range(iterations):
        if float(np.max(np.abs(gradient))) < 1e-7:
            break
        direction = -gradient.copy()
        alphas = []
        for s, y, rho in reversed(memory):
            alpha = rho * _dot(s, direction)
            alphas.append(alpha)
            direction -= alpha * y
        if memory:
            s, y, _ = memory[-1]
            direction *= _dot(s, y) / _dot(y, y)
        for (s, y, rho), alpha in zip(memory, reversed(alphas), strict=True):
            beta = rho * _dot(y, direction)
            direction += (alpha - beta) * s
        slope = _dot(gradient, direction)
        if slope >= 0:  # not a descent direction: restart from the gradient
            memory.clear()
            direction, slope = -gradient, -_dot(gradient, gradient)
        step = 1.0 if memory else 1.0 / max(1.0, _dot(gradient, gradient) ** 0.5)
        while True:
            candidate = theta + step * direction
            new_value, new_gradient = fun(candidate)
            if new_value <= value + 1e-4 * step * slope or step < 1e-12:
                break
            step *= 0.5
        s, y = candidate - theta, new_gradient - gradient
        if _dot(s, y) > 1e-12:
            memory.append((s, y, 1.0 / _dot(s, y)))
            memory = memory[-10:]
        theta, value, gradient = candidate, new_value, new_gradient
    return theta


def fit(texts: Sequence[str], labels: np.ndarray, vocabulary: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """The weights (vocabulary × reasons) and biases fitted on `texts`."""
    x = matrix(texts, vocabulary)
    classes = len(REASONS)
    theta = lbfgs(_objective(x, labels, classes), np.zeros(len(vocabulary) * classes + classes), ITERATIONS)
    return theta[: len(vocabulary) * classes].reshape(len(vocabulary), classes), theta[len(vocabulary) * classes :]


def out_of_fold(examples: Sequence[Example]) -> np.ndarray:
    """P(reason) of every example from a model trained on the other folds (its own vocabulary too)."""
    folds = np.array([fold_of(e.text) for e in examples])
    labels = np.array([REASONS.index(e.reason) for e in examples])
    result = np.zeros((len(examples), len(REASONS)))
    for fold in range(FOLDS):
        train = [i for i in range(len(examples)) if folds[i] != fold]
        held = [i for i in range(len(examples)) if folds[i] == fold]
        if not held:
            continue
        texts = [examples[i].text for i in train]
        vocabulary = build_vocabulary(texts)
        weights, bias = fit(texts, labels[train], vocabulary)
        result[held] = _softmax(_scores(matrix([examples[i].text for i in held], vocabulary), weights, bias))
    return result


def choose_thresholds(
    examples: Sequence[Example], probabilities: np.ndarray, lexicon: Lexicon
) -> tuple[float, float, dict[str, Any]]:
    """(confidence threshold, safety floor, what they give on the validation folds)."""
    safety = REASONS.index(SAFETY)
    labels = np.array([REASONS.index(e.reason) for e in examples])
    lexicon_hit = np.array([lexicon.hit(e.text) is not None for e in examples])
    missed_by_lexicon = (labels == safety) & ~lexicon_hit
    low, high = SAFETY_FLOOR_RANGE
    lowest = float(probabilities[missed_by_lexicon, safety].min()) if missed_by_lexicon.any() else high
    floor = min(high, max(low, lowest))

    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    to_person = (predicted == safety) | (probabilities[:, safety] >= floor) | lexicon_hit
    candidates = np.flatnonzero(~to_person)
    order = candidates[np.argsort(-confidence[candidates], kind="stable")]
    correct = np.cumsum(predicted[order] == labels[order])
    precise = np.flatnonzero(correct / np.arange(1, len(order) + 1) >= TARGET_PRECISION)
    threshold = float(confidence[order[precise[-1]]]) if len(precise) else 1.0
    automatic = ~to_person & (confidence >= threshold)
    safety_caught = to_person[labels == safety]
    report = {
        "examples": len(examples),
        "folds": FOLDS,
        "accuracy": round(float(np.mean(predicted == labels)), 4),
        "automatic_precision": round(float(np.mean(predicted[automatic] == labels[automatic])), 4)
        if automatic.any()
        else None,
        "automatic_coverage": round(float(np.mean(automatic)), 4),
        "safety_recall": round(float(np.mean(safety_caught)), 4) if len(safety_caught) else None,
    }
    return threshold, floor, report


def file_digests(folder: Path) -> dict[str, str]:
    return {code: hashlib.sha256((folder / f"{code}.jsonl").read_bytes()).hexdigest() for code in languages(folder)}


def train(train_dir: Path, lexicon: Lexicon) -> ReasonModel:
    """The model trained on every train/<lang>.jsonl in `train_dir`, with its validated thresholds."""
    examples = read_split(train_dir)
    if not examples:
        raise ValueError(f"{train_dir}: no training examples (expected <lang>.jsonl files)")
    found = {e.reason for e in examples}
    missing = [reason for reason in REASONS if reason not in found]
    if missing:
        raise ValueError(f"{train_dir}: no examples of {', '.join(missing)}")
    threshold, floor, validation = choose_thresholds(examples, out_of_fold(examples), lexicon)
    texts = [e.text for e in examples]
    vocabulary = build_vocabulary(texts)
    weights, bias = fit(texts, np.array([REASONS.index(e.reason) for e in examples]), vocabulary)
    training = {
        "data": file_digests(train_dir),
        "languages": languages(train_dir),
        "min_df": MIN_DF,
        "l2": L2,
        "iterations": ITERATIONS,
        "target_precision": TARGET_PRECISION,
        "validation": validation,
    }
    return ReasonModel(REASONS, vocabulary, weights, bias, threshold, floor, training)
