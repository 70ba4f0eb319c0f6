"""The pages' fast-fail guard on the node: a node that failed to answer is not asked again for
`retry_after` seconds, so a page under load with the node down answers at once (not verified, chain
unreachable) instead of waiting one timeout per read. Any failure to read is ChainUnavailable."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


class ChainUnavailable(Exception):
    """The node did not answer a read (or failed within the guard's window)."""


class NodeGuard:
    def __init__(self, retry_after: float = 2.0) -> None:
        self.retry_after = retry_after
        self._down: tuple[float, str] | None = None

    def guarded(self, read: Callable[[], Any]) -> Any:
        """`read()` unless the node failed within `retry_after` seconds; a failure marks it down."""
        down = self._down
        if down and time.monotonic() < down[0]:
            raise ChainUnavailable(down[1])
        try:
            value = read()
        except ChainUnavailable:
            raise
        except Exception as exc:  # any failure to read is "unreachable" for the page, never a 500
            reason = f"{type(exc).__name__}: {exc}"
            self._down = (time.monotonic() + self.retry_after, reason)
            raise ChainUnavailable(reason) from exc
        self._down = None
        return value
