"""The reason model's features, shared by training and inference so that both read a text alike.

Character n-grams of 1 to 5 over the normalised text (spelling mistakes and compound words share
most of their n-grams; for Chinese, which has no spaces, characters and their pairs are the words),
plus word unigrams and bigrams for Latin-script text. Counts are damped (1 + log n) and the vector
is scaled to unit length, so that a long text does not outweigh a short one.
"""

from __future__ import annotations

import math
import re

from returntrace.assistant.text import normalise

CHAR_NGRAMS = (1, 2, 3, 4, 5)
_WORDS = re.compile(r"[^\W\d_]+", re.UNICODE)


def counts(text: str) -> dict[str, int]:
    """Every feature of `text` with how often it occurs (keys prefixed c: character, w: word)."""
    normal = normalise(text)
    found: dict[str, int] = {}
    padded = f" {normal} "
    for n in CHAR_NGRAMS:
        for start in range(len(padded) - n + 1):
            gram = padded[start : start + n]
            if gram.strip():
                key = "c:" + gram
                found[key] = found.get(key, 0) + 1
    words = _WORDS.findall(normal)
    for index, word in enumerate(words):
        key = "w:" + word
        found[key] = found.get(key, 0) + 1
        if index + 1 < len(words):
            pair = f"w:{word} {words[index + 1]}"
            found[pair] = found.get(pair, 0) + 1
    return found


def weighted(found: dict[str, int], vocabulary: dict[str, int]) -> tuple[list[int], list[float]]:
    """The features of `found` that the vocabulary knows, as (column indices, unit-length weights)."""
    columns: list[int] = []
    values: list[float] = []
    for key, count in found.items():
        column = vocabulary.get(key)
        if column is not None:
            columns.append(column)
            values.append(1.0 + math.log(count))
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return columns, [v / norm for v in values]
