"""A background worker of the gateway (the relayer, the indexer): a daemon thread that runs
rounds until stopped, and waits with back-off while the chain node does not answer; or the same
rounds in a child process of its own, watched by that thread (start_in_process).

A worker in a thread shares the gateway's GIL: the indexer's long stretches of decoding and hashing
(a third of the gateway's Python time under load) made every request and relayer thread wait for
the GIL after each of its many short waits for the node or the disk. In a process of its own it
runs on the other core and the request path does not wait for it.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection

from requests.exceptions import RequestException
from web3.exceptions import TimeExhausted, Web3RPCError

from returntrace import logs

# The node is down or refused a call: nothing is lost, the round is tried again later.
TRANSIENT = (RequestException, ConnectionError, TimeoutError, TimeExhausted, OSError, Web3RPCError, logs.RpcError)
MAX_BACKOFF = 5.0


class Worker:
    name = "worker"

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._log = logging.getLogger(f"returntrace.{self.name}")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def start_in_process(self, spawn: Callable[[], Worker]) -> None:
        """Runs the rounds in a child process instead: `spawn` (picklable: a module-level function or
        a partial of one) builds the child's own worker there. This worker's thread watches it,
        mirrors its last_error, restarts it with back-off if it dies, and stops it on stop()."""
        self._thread = threading.Thread(target=self._supervise, args=(spawn,), name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)

    def _supervise(self, spawn: Callable[[], Worker], join_timeout: float = 10.0) -> None:
        context = multiprocessing.get_context("spawn")  # no fork of a process with threads and open databases
        backoff = self.interval
        while not self._stop.is_set():
            stop_child = context.Event()
            errors, child_errors = context.Pipe(duplex=False)
            child = context.Process(
                target=_child_main, args=(spawn, stop_child, child_errors), name=f"returntrace-{self.name}", daemon=True
            )
            child.start()
            child_errors.close()
            while child.is_alive() and not self._stop.is_set():
                try:
                    if errors.poll(0.2):
                        self.last_error = errors.recv()
                except (EOFError, OSError):
                    child.join(1.0)
                    break
            if self._stop.is_set():
                stop_child.set()
                child.join(join_timeout)
                if child.is_alive():
                    child.terminate()
                    child.join()
                return
            child.join()
            self.last_error = f"the {self.name} process exited with code {child.exitcode}"
            self._log.warning("%s; starting it again", self.last_error)
            self._stop.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)

    def _round(self) -> bool:
        """One round of work; True if there may be more to do at once."""
        raise NotImplementedError

    def _reset(self) -> None:
        """Forgets what a failed round may have left inconsistent in memory."""

    def _run(self) -> None:
        backoff = self.interval
        while not self._stop.is_set():
            try:
                busy = self._round()
                self.last_error = None
                backoff = self.interval
                if not busy:
                    self._stop.wait(self.interval)
            except TRANSIENT as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                self._log.warning("%s waiting for the chain: %s", self.name, self.last_error)
                self._reset()
                self._stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
            except Exception as exc:  # a bug must not stop the worker for good
                self.last_error = f"{type(exc).__name__}: {exc}"
                self._log.exception("%s round failed", self.name)
                self._reset()
                self._stop.wait(1.0)


def _child_main(spawn: Callable[[], Worker], stop: multiprocessing.synchronize.Event, errors: Connection) -> None:
    """A worker's child process: its rounds until the parent says stop or is gone; its last_error
    sent up whenever it changes."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    worker = spawn()
    parent = multiprocessing.parent_process()

    def watch() -> None:
        sent = None
        while not worker._stop.is_set():
            if stop.wait(0.2) or (parent is not None and not parent.is_alive()):
                worker._stop.set()  # asked to stop, or the gateway died: never index for nobody
                return
            if worker.last_error != sent:
                sent = worker.last_error
                try:
                    errors.send(sent)
                except OSError:
                    worker._stop.set()
                    return

    threading.Thread(target=watch, name=f"{worker.name}-watch", daemon=True).start()
    worker._run()
