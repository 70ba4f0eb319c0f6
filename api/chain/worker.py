"""A background worker of the gateway (the relayer, the indexer): a daemon thread that runs
rounds until stopped, and waits with back-off while the chain node does not answer."""

from __future__ import annotations

import logging
import threading

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

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)

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
