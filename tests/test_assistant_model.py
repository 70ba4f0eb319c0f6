"""The shipped reason model (returntrace/assistant/data/model.json.gz) is reproduced byte for byte by
retraining on the committed data (also `make check-assistant`). Minutes, not seconds, so it runs in
the full suite; the fast tier trains a small model twice (tests/unit/test_assistant.py)."""

from __future__ import annotations

import gzip

from returntrace.assistant.dataset import DATA_DIR
from returntrace.assistant.model import MODEL_PATH
from returntrace.assistant.safety import Lexicon
from returntrace.assistant.training import train


def test_retraining_reproduces_the_shipped_model():
    retrained = train(DATA_DIR / "train", Lexicon.load()).dumps()
    assert retrained == gzip.decompress(MODEL_PATH.read_bytes()), "run make train-assistant and commit the model"
