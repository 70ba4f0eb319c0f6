"""The chain layer's cache policies, one per purpose:

    Permanent   facts the chain cannot change once they hold: a unit that exists or is closed, a
                registered product, a policy version, a contract's code, a token's metadata, a mined
                block's time. Read once, kept (bounded).
    Expiring    facts at the latest block that may change: roles, an open unit's record, the chain's
                time, an account without code. Kept `ttl` seconds.
    PerBlock    reads at a pinned block (BlockRef with number and hash): kept while used, the least
                recently used dropped past `size`. A block's state never changes, so no expiry.

Reads that decide a message's fate now (nonces, an order's state, the close guard, windows, a
high-value return's first inspecting house) are not cached at all. Each cache is safe to share between threads.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

MISSING = object()


class Permanent:
    def __init__(self, size: int = 100_000) -> None:
        self._items: dict[Hashable, Any] = {}
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: Hashable, read: Callable[[], Any], keep: Callable[[Any], bool] = lambda _: True) -> Any:
        """The value under `key`, read once; a value `keep` refuses (not true yet) is not kept."""
        value = self._items.get(key, MISSING)
        if value is MISSING:
            value = read()
            if keep(value):
                self.put(key, value)
        return value

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            if len(self._items) >= self._size:  # bounded: the oldest half goes
                for old in list(self._items)[: self._size // 2]:
                    del self._items[old]
            self._items[key] = value

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class Expiring:
    def __init__(self, ttl: float, size: int = 100_000) -> None:
        self.ttl = ttl
        self._items: dict[Hashable, tuple[float, Any]] = {}
        self._size = size
        self._lock = threading.Lock()

    def fresh(self, key: Hashable) -> Any:
        """The value under `key` if read within `ttl` seconds, else MISSING."""
        hit = self._items.get(key)
        return hit[1] if hit is not None and time.monotonic() - hit[0] < self.ttl else MISSING

    def get(self, key: Hashable, read: Callable[[], Any]) -> Any:
        value = self.fresh(key)
        if value is MISSING:
            value = read()
            self.put(key, value)
        return value

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            if len(self._items) >= self._size:  # bounded: the oldest reads go first
                for old in sorted(self._items, key=lambda k: self._items[k][0])[: self._size // 2]:
                    del self._items[old]
            self._items[key] = (time.monotonic(), value)

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class PerBlock:
    def __init__(self, size: int = 200_000) -> None:
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: Hashable, read: Callable[[], Any]) -> Any:
        """`key` must name the block (BlockRef) the value was read at."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = read()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value
