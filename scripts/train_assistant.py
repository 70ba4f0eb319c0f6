"""Train the return assistant's reason model (returntrace/assistant/training.py says how).

    make train-assistant                                        # the shipped data -> the shipped model
    make check-assistant                                        # retrain, compare with the shipped file
    python -m scripts.train_assistant --data DIR --out FILE     # a merchant's own labelled tickets

DIR holds train/<lang>.jsonl (one {"text": ..., "reason": ...} per line, the nine reason codes);
any held-out files beside it are not read. The safety lexicon is the shipped one unless --safety
names another folder of <lang>.txt files. The same data always gives the same file.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import sys
import time
from pathlib import Path

from returntrace.assistant.dataset import DATA_DIR
from returntrace.assistant.model import MODEL_PATH
from returntrace.assistant.safety import SAFETY_DIR, Lexicon
from returntrace.assistant.training import train


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="folder holding train/<lang>.jsonl")
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="model file to write (.json.gz)")
    parser.add_argument("--safety", type=Path, default=SAFETY_DIR, help="folder of safety lexicon <lang>.txt files")
    parser.add_argument("--check", action="store_true", help="write nothing; fail if --out differs from a retrain")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        model = train(args.data / "train", Lexicon.load(args.safety))
    except ValueError as error:
        print(f"train_assistant: {error}", file=sys.stderr)
        return 2
    if args.check:
        same = args.out.exists() and gzip.decompress(args.out.read_bytes()) == model.dumps()
        print(
            f"{args.out}: {'reproduced byte for byte' if same else 'DIFFERS from a retrain: run make train-assistant'}"
        )
        return 0 if same else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    validation = model.training["validation"]
    print(
        f"languages: {', '.join(model.training['languages'])}; {validation['examples']} examples; "
        f"vocabulary {len(model.vocabulary)}"
    )
    print(
        f"validation ({validation['folds']} folds): accuracy {validation['accuracy']}, automatic precision "
        f"{validation['automatic_precision']} at coverage {validation['automatic_coverage']}, "
        f"safety recall {validation['safety_recall']}"
    )
    print(f"threshold {model.threshold:.4f}, safety floor {model.safety_floor:.4f}")
    print(
        f"wrote {args.out} (sha256 of the JSON {hashlib.sha256(model.dumps()).hexdigest()[:16]}) "
        f"in {time.monotonic() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
