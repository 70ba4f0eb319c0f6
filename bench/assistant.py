"""The return assistant on its held-out texts (never used for training or for choosing thresholds).

    make bench-assistant      # or: python -m bench.assistant; writes docs/benchmarks/assistant.md

For every returntrace/assistant/data/heldout/<lang>.jsonl present: Assistant.assess on each text,
end to end (language detection, lexicon, model, handoff), compared with its label. Figures:
accuracy and macro-F1 per language and per reason (a text that gets no reason, its language unknown
or not learnt by the model, counts as wrong), the confusion matrix, safety_concern recall (model or
lexicon: urgent), the precision and coverage of the automatic answers (handoff False), language detection on the
held-out texts and on returntrace/assistant/data/unknown_language.jsonl, and latency p50/p95 of one assess call on one
core (pinned with sched_setaffinity, BLAS threads off), after a warm-up pass.

Environment: RT_BENCH_ASSISTANT_ROUNDS (3 timed passes over the texts), RT_BENCH_PAGE (1: write the page).
"""

from __future__ import annotations

import os

# One core: set before numpy loads, so that no BLAS thread pool starts.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

from returntrace.assistant import REASONS, UNKNOWN_LANGUAGE, Assessment, Assistant  # noqa: E402
from returntrace.assistant.dataset import DATA_DIR, Example, languages, read_jsonl  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "benchmarks" / "assistant.md"
ROUNDS = int(os.environ.get("RT_BENCH_ASSISTANT_ROUNDS", "3"))
NONE = "—"  # the predicted "reason" of a text that got none (unknown language)
TARGETS = {"macro_f1": 0.90, "safety_recall": 1.0, "automatic_precision": 0.95, "p95_ms": 20.0}


def f1_by_reason(pairs: list[tuple[str, str]]) -> dict[str, tuple[float, float, float, int]]:
    """(precision, recall, F1, support) per reason, over (true, predicted) pairs."""
    result = {}
    for reason in REASONS:
        tp = sum(1 for t, p in pairs if t == reason and p == reason)
        predicted = sum(1 for _, p in pairs if p == reason)
        support = sum(1 for t, _ in pairs if t == reason)
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        result[reason] = (precision, recall, f1, support)
    return result


def macro_f1(pairs: list[tuple[str, str]]) -> float:
    scores = [f1 for _, _, f1, support in f1_by_reason(pairs).values() if support]
    return statistics.fmean(scores) if scores else 0.0


def accuracy(pairs: list[tuple[str, str]]) -> float:
    return sum(1 for t, p in pairs if t == p) / len(pairs) if pairs else 0.0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _pin_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"core {core}"
    return "not pinned (no sched_setaffinity)"


def _commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
        dirty = subprocess.run(
            # The page itself is rewritten by every run: not a change to the code measured.
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", f":!{PAGE.relative_to(ROOT)}"],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        return head.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")
    except OSError:
        return "unknown"


def _machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    system = f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    return f"{os.cpu_count()} cores ({model}), {system}, load average {os.getloadavg()[0]:.1f}"


def _timed(assistant: Assistant, text: str) -> tuple[Assessment, float, float]:
    """The assessment, and the call's wall-clock and CPU milliseconds (this thread's CPU clock)."""
    wall, cpu = time.perf_counter(), time.thread_time()
    assessment = assistant.assess(text)
    return assessment, (time.perf_counter() - wall) * 1000, (time.thread_time() - cpu) * 1000


def run() -> dict:
    pinned = _pin_one_core()
    started = time.monotonic()
    assistant = Assistant.load()
    load_seconds = time.monotonic() - started
    heldout_dir = DATA_DIR / "heldout"
    codes = languages(heldout_dir)
    examples: list[Example] = [e for code in codes for e in read_jsonl(heldout_dir / f"{code}.jsonl")]
    unknown = [
        json.loads(line)
        for line in (DATA_DIR / "unknown_language.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]

    for example in examples:  # warm-up: caches, the detector's first calls
        assistant.assess(example.text)
    timings: list[float] = []
    cpu: list[float] = []
    results: list[Assessment] = []
    for round_ in range(ROUNDS):
        for example in examples:
            assessment, wall_ms, cpu_ms = _timed(assistant, example.text)
            timings.append(wall_ms)
            cpu.append(cpu_ms)
            if round_ == 0:
                results.append(assessment)
    longest = ("The stroller arrived with a bent wheel and the box was crushed. " * 40)[:2000]
    long_runs = [_timed(assistant, longest) for _ in range(20)]

    pairs = [(e.reason, r.reason or NONE) for e, r in zip(examples, results, strict=True)]
    by_language = {}
    for code in codes:
        mine = [(p, e, r) for p, e, r in zip(pairs, examples, results, strict=True) if e.language == code]
        lp = [p for p, _, _ in mine]
        automatic = [(p, r) for p, _, r in mine if not r.handoff]
        by_language[code] = {
            "texts": len(mine),
            "accuracy": accuracy(lp),
            "macro_f1": macro_f1(lp),
            "detected": sum(1 for _, e, r in mine if r.language == e.language) / len(mine),
            "automatic_precision": accuracy([p for p, _ in automatic]) if automatic else None,
            "automatic_coverage": len(automatic) / len(mine),
        }
    safety = [r for e, r in zip(examples, results, strict=True) if e.reason == "safety_concern"]
    automatic_pairs = [p for p, r in zip(pairs, results, strict=True) if not r.handoff]
    handoff_why: dict[str, int] = {}
    for r in results:
        for why in r.why:
            handoff_why[why] = handoff_why.get(why, 0) + 1
    unknown_results = [assistant.assess(u["text"]) for u in unknown]
    return {
        "pinned": pinned,
        "load_seconds": load_seconds,
        "languages": codes,
        "texts": len(examples),
        "accuracy": accuracy(pairs),
        "macro_f1": macro_f1(pairs),
        "by_language": by_language,
        "by_reason": f1_by_reason(pairs),
        "pairs": pairs,
        "safety_recall": sum(1 for r in safety if r.urgent and r.handoff) / len(safety) if safety else None,
        "safety_texts": len(safety),
        "automatic_precision": accuracy(automatic_pairs) if automatic_pairs else None,
        "automatic_coverage": len(automatic_pairs) / len(pairs) if pairs else 0.0,
        "automatic_texts": len(automatic_pairs),
        "handoff_why": handoff_why,
        "unknown_texts": len(unknown),
        "unknown_detected": sum(1 for r in unknown_results if r.language == UNKNOWN_LANGUAGE) / len(unknown),
        "unknown_handed_off": sum(1 for r in unknown_results if r.handoff) / len(unknown),
        "cpu_p50_ms": percentile(cpu, 50),
        "cpu_p95_ms": percentile(cpu, 95),
        "cpu_p99_ms": percentile(cpu, 99),
        "long_cpu_p95_ms": percentile([c for _, _, c in long_runs], 95),
        "p50_ms": percentile(timings, 50),
        "p95_ms": percentile(timings, 95),
        "p99_ms": percentile(timings, 99),
        "long_p95_ms": percentile([w for _, w, _ in long_runs], 95),
        "timed_calls": len(timings),
        "threshold": assistant.model.threshold,
        "safety_floor": assistant.model.safety_floor,
        "trained_on": assistant.model.training["languages"],
        "validation": assistant.model.training["validation"],
    }


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def _met(value: float | None, target: float, higher: bool = True) -> str:
    if value is None:
        return "not measured"
    return "met" if (value >= target if higher else value <= target) else "**not met**"


def report(figures: dict) -> str:
    lines = [
        "# Return assistant benchmark",
        "",
        "Written by `make bench-assistant` (`bench/assistant.py`, whose docstring describes the run) on the held-out",
        "texts (`returntrace/assistant/data/heldout/`), which are never used for training nor for choosing the handoff",
        "thresholds. Every figure is end to end, through `Assistant.assess`: a text that gets no reason (its language",
        "unknown or not learnt by the model) counts as wrong. How the model decides: [the assistant](../assistant.md).",
        "Latency is given twice: the wall-clock time of a call, which on this shared machine includes waiting for the",
        "core while other engineers' builds run (see the load average), and the CPU time the call itself used.",
        "",
        f"- machine: {_machine()}; {figures['pinned']}, BLAS threads off; commit {_commit()}; "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- model: trained on {', '.join(figures['trained_on'])}; held-out languages present: "
        f"{', '.join(figures['languages'])} ({figures['texts']} texts); confidence threshold "
        f"{figures['threshold']:.3f}, safety floor {figures['safety_floor']:.3f}",
        "- reproduce: `make bench-assistant` (`RT_BENCH_ASSISTANT_ROUNDS` timed passes, 3 by default)",
        "",
        "## Against the targets",
        "",
        "| figure | measured | target | |",
        "|:---|---:|---:|:---|",
        f"| macro-F1 (all languages) | {figures['macro_f1']:.3f} | ≥ 0.90 | {_met(figures['macro_f1'], 0.90)} |",
        f"| safety_concern recall (model or lexicon → urgent handoff) | {_pct(figures['safety_recall'])} of "
        f"{figures['safety_texts']} | 100 % | {_met(figures['safety_recall'], 1.0)} |",
        f"| precision of the automatic answers | {_pct(figures['automatic_precision'])} | ≥ 95 % |"
        f" {_met(figures['automatic_precision'], 0.95)} |",
        f"| coverage of the automatic answers | {_pct(figures['automatic_coverage'])} "
        f"({figures['automatic_texts']} of {figures['texts']}) | — | |",
        f"| latency p95, one assess call, one core: CPU time | {figures['cpu_p95_ms']:.2f} ms | < 20 ms |"
        f" {_met(figures['cpu_p95_ms'], 20.0, higher=False)} |",
        f"| latency p95, one assess call, one core: wall clock | {figures['p95_ms']:.2f} ms | < 20 ms |"
        f" {_met(figures['p95_ms'], 20.0, higher=False)} |",
        "",
        f"Accuracy {_pct(figures['accuracy'])}. Latency over {figures['timed_calls']} calls: p50 "
        f"{figures['cpu_p50_ms']:.2f} ms CPU, {figures['p50_ms']:.2f} ms wall; p99 {figures['cpu_p99_ms']:.2f} ms CPU, "
        f"{figures['p99_ms']:.2f} ms wall. A text of the maximum 2,000 characters: p95 "
        f"{figures['long_cpu_p95_ms']:.2f} ms CPU, {figures['long_p95_ms']:.2f} ms wall. Loading the model and the "
        f"language detector: {figures['load_seconds']:.1f} s, once per process.",
        "",
        "## Per language",
        "",
        "| language | texts | accuracy | macro-F1 | language detected | automatic precision | automatic coverage |",
        "|:---|---:|---:|---:|---:|---:|---:|",
    ]
    for code, row in figures["by_language"].items():
        lines.append(
            f"| {code} | {row['texts']} | {_pct(row['accuracy'])} | {row['macro_f1']:.3f} | {_pct(row['detected'])} |"
            f" {_pct(row['automatic_precision'])} | {_pct(row['automatic_coverage'])} |"
        )
    lines += [
        "",
        "Texts in other languages (`returntrace/assistant/data/unknown_language.jsonl`, "
        f"{figures['unknown_texts']} texts in Italian, "
        "Portuguese, Dutch, Russian, Japanese, Korean, Polish, Turkish, Swedish, Arabic, Vietnamese, Czech, Hungarian, "
        f"Greek): {_pct(figures['unknown_detected'])} detected as `unknown`, {_pct(figures['unknown_handed_off'])} "
        "handed to a person.",
        "",
        "## Per reason (all languages)",
        "",
        "| reason | precision | recall | F1 | texts |",
        "|:---|---:|---:|---:|---:|",
    ]
    for reason, (precision, recall, f1, support) in figures["by_reason"].items():
        lines.append(f"| {reason} | {precision:.3f} | {recall:.3f} | {f1:.3f} | {support} |")
    columns = [*REASONS, NONE]
    lines += [
        "",
        "## Confusion matrix",
        "",
        f"Rows: the label; columns: the assessed reason ({NONE}: none, its language unknown or not learnt).",
        "",
        "| label \\ assessed | " + " | ".join(c.replace("_", " ") for c in columns) + " |",
        "|:---|" + "---:|" * len(columns),
    ]
    for true in REASONS:
        counts = [sum(1 for t, p in figures["pairs"] if t == true and p == c) for c in columns]
        lines.append(f"| {true} | " + " | ".join(str(n) if n else "·" for n in counts) + " |")
    why = ", ".join(f"{k} {v}" for k, v in sorted(figures["handoff_why"].items())) or "none"
    validation = figures["validation"]
    lines += [
        "",
        "## Handoffs",
        "",
        f"Why the held-out texts went to a person (a text may have several): {why}.",
        "",
        f"On the training data's own validation folds ({validation['folds']} folds, {validation['examples']} texts),"
        f" where the thresholds were chosen: accuracy {_pct(validation['accuracy'])}, automatic precision "
        f"{_pct(validation['automatic_precision'])} at coverage {_pct(validation['automatic_coverage'])}, "
        f"safety recall {_pct(validation['safety_recall'])}.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    figures = run()
    page = report(figures)
    print(page)
    if os.environ.get("RT_BENCH_PAGE", "1") == "1":
        PAGE.write_text(page, encoding="utf-8")
        print(f"wrote {PAGE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
