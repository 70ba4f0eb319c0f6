"""Token buckets per client, in memory: the gateway's rate limits (api/http/limits.py: the assistant's
RT_ASSESS_RATE/RT_ASSESS_BURST, sign-in nonces' RT_SIGNIN_RATE/RT_SIGNIN_BURST).

    buckets = TokenBuckets(rate=1.0, burst=10)
    wait = buckets.take("203.0.113.7")     # 0.0: allowed; else seconds until a token is back

A client starts with `burst` tokens; each request takes one; tokens come back at `rate` per second
up to `burst`. Per process (each gateway worker limits on its own), forgotten after a restart; the
table keeps at most `max_clients` entries: past it, the fullest tenth are dropped at once (a full
bucket is the same as no entry), so a flood of new clients sorts the table once per thousand, not
once each.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class TokenBuckets:
    def __init__(
        self, rate: float, burst: int, max_clients: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.burst, self.max_clients, self.clock = rate, burst, max_clients, clock
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, when counted)
        self._lock = threading.Lock()

    def _tokens(self, client: str, now: float) -> float:
        tokens, then = self._buckets.get(client, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - then) * self.rate)

    def take(self, client: str) -> float:
        """Takes a token of `client`'s: 0.0 if there was one, else the seconds until there is one."""
        with self._lock:
            now = self.clock()
            tokens = self._tokens(client, now)
            if tokens < 1.0:
                self._buckets[client] = (tokens, now)
                return (1.0 - tokens) / self.rate
            self._buckets[client] = (tokens - 1.0, now)
            if len(self._buckets) > self.max_clients:
                self._forget_fullest(now)
            return 0.0

    def _forget_fullest(self, now: float) -> None:
        by_fullness = sorted(self._buckets, key=lambda c: self._tokens(c, now), reverse=True)
        for client in by_fullness[: len(self._buckets) - self.max_clients * 9 // 10]:
            del self._buckets[client]


def retry_after(wait: float) -> str:
    """The Retry-After header's whole seconds (RFC 9110 10.2.3), at least 1."""
    return str(max(1, math.ceil(wait)))
