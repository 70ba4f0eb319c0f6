"""A sampling profile of a running process (py-spy, from outside: nothing in the gateway changes),
summed up for the benchmark page.

py-spy samples the thread that holds the GIL (`--gil`) in the gateway and in its child processes
(the indexer's), so the samples are where their Python time goes; a process's count against the
rate and the wall time is how busy it kept its one core. Threads are named "<process>: <thread>".

    profiler = Profiler.attach(pid, Path("gateway.pyspy"))  # None if py-spy is not installed
    ...                                                       # the load
    profile = profiler.stop()                                 # a Profile of the raw stacks
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psutil

RATE = 50  # samples per second: cheap enough beside the load (the profiler's CPU time is reported)
PROJECT = ("api/", "returntrace/")  # frames of our own code, where a change can be made
_LINE = re.compile(r":\d+\)$")
_TID = re.compile(r" ?\(\d+\)|0x[0-9a-f]+")


def py_spy() -> str | None:
    """The py-spy binary of this environment (requirements.txt), else one on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


@dataclass
class Profile:
    """Raw py-spy stacks: {(thread name, frames root first): samples}."""

    stacks: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    rate: int = RATE

    @classmethod
    def read(cls, path: Path, seconds: float, rate: int = RATE) -> Profile:
        stacks: Counter = Counter()
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            frames = stack.split(";")
            process = "gateway"
            while frames and frames[0].startswith("process "):  # --subprocesses: "process 123:\"cmd\"", parent first
                process = "worker process" if "multiprocessing" in frames[0] else "gateway"
                frames = frames[1:]
            if not frames:
                continue
            thread = _TID.sub("", frames[0].removeprefix("thread ")).strip(" :") or "?"
            if "spawn_main" in thread:  # a spawned child's main thread carries its command line
                thread = "MainThread"
            stacks[(f"{process}: {thread}", tuple(_LINE.sub(")", f) for f in frames[1:]))] += int(count)
        return cls(stacks, seconds, rate)

    @property
    def samples(self) -> int:
        return sum(self.stacks.values())

    def busy(self) -> dict[str, float]:
        """Per process, the share of the wall time some thread held its GIL (1.0: a whole core)."""
        counts: Counter = Counter()
        for (thread, _), n in self.stacks.items():
            counts[thread.split(":")[0]] += n
        return {p: n / (self.rate * self.seconds) for p, n in counts.most_common()} if self.seconds else {}

    def by_thread(self) -> list[tuple[str, float]]:
        counts: Counter = Counter()
        for (thread, _), n in self.stacks.items():
            counts[thread] += n
        return [(t, n / self.samples) for t, n in counts.most_common()]

    def inclusive(self, project_only: bool = True, thread: str | None = None) -> list[tuple[str, float]]:
        """Functions by the share of samples with them on the stack (each counted once per stack)."""
        counts: Counter = Counter()
        for (t, frames), n in self.stacks.items():
            if thread is not None and t != thread:
                continue
            for f in set(frames):
                if not project_only or any(f"({p}" in f for p in PROJECT):
                    counts[f] += n
        return [(f, n / self.samples) for f, n in counts.most_common()]

    def own(self) -> list[tuple[str, float]]:
        """Functions by the share of samples in which they were running themselves (the leaf)."""
        counts: Counter = Counter()
        for (_, frames), n in self.stacks.items():
            counts[frames[-1] if frames else "?"] += n
        return [(f, n / self.samples) for f, n in counts.most_common()]


class Profiler:
    def __init__(self, proc: subprocess.Popen, out: Path) -> None:
        self.proc, self.out, self.started = proc, out, time.perf_counter()

    @classmethod
    def attach(cls, pid: int, out: Path, rate: int = RATE) -> Profiler | None:
        binary = py_spy()
        if binary is None:
            return None
        proc = subprocess.Popen(
            [
                binary,
                "record",
                "--pid",
                str(pid),
                "--subprocesses",
                "--threads",
                "--gil",
                "--nonblocking",
                "--rate",
                str(rate),
                "--format",
                "raw",
                "--output",
                str(out),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        time.sleep(0.5)  # attached before the load starts
        if proc.poll() is not None:
            print(f"py-spy could not attach: {proc.stderr.read().decode() if proc.stderr else ''}")
            return None
        return cls(proc, out)

    @property
    def process(self) -> psutil.Process:
        return psutil.Process(self.proc.pid)

    def stop(self) -> Profile:
        seconds = time.perf_counter() - self.started
        self.proc.send_signal(signal.SIGINT)  # py-spy writes its output on Ctrl-C
        self.proc.wait(60)
        return Profile.read(self.out, seconds)
