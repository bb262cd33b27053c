"""Where counters live: process memory for one process, a SQLite file for every process
on one machine (:mod:`.sqlite_storage`), Redis (or any storage ``limits`` knows) for several
machines.

``memory://`` is served by :class:`MemoryCounters`, a small counter store of our own:
``limits``' in-process storage starts a 10 ms timer thread whenever the last one has
finished, so under steady traffic it spawns a thread per hit and walks every key 100 times
a second. Here counters expire exactly (every read checks the time) and expired keys are
swept at most once a second, in the calling thread: no thread at all.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from limits.storage import (
    MovingWindowSupport,
    SlidingWindowCounterSupport,
    Storage,
)
from limits.storage.base import TimestampedSlidingWindow

from moderation.ratelimit.admission import over_limit
from moderation.ratelimit.sqlite_storage import SQLITE_SCHEME

#: The scheme :class:`MemoryCounters` registers with ``limits``.
MEMORY_SCHEME = "moderation-memory://"


def is_process_local(uri: str) -> bool:
    """Whether limits in this storage are counted by each process on its own."""
    return uri.startswith(("memory://", MEMORY_SCHEME))


def is_redis(uri: str) -> bool:
    """Whether the storage is a single Redis (the one-round-trip script applies)."""
    return uri.startswith(("redis://", "rediss://"))


def storage_settings(config: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The storage URI to open (``memory://`` and ``sqlite:///PATH`` become ours) and its options (short Redis
    timeouts: a limit check must never hold a request for long)."""
    configured = str(config["RATELIMIT_STORAGE_URI"])
    uri = configured
    if configured.startswith("memory://"):
        uri = MEMORY_SCHEME + configured[len("memory://") :]
    elif configured.startswith("sqlite:///"):
        uri = SQLITE_SCHEME + configured[len("sqlite:///") :]
    options: dict[str, Any] = dict(config.get("RATELIMIT_STORAGE_OPTIONS") or {})
    if uri.startswith(("redis://", "rediss://", "redis+")):
        options.setdefault("socket_timeout", 0.5)
        options.setdefault("socket_connect_timeout", 0.5)
    return uri, options


class MemoryCounters(
    Storage, MovingWindowSupport, SlidingWindowCounterSupport, TimestampedSlidingWindow
):
    """Fixed and sliding window counters and moving-window entries in process memory."""

    STORAGE_SCHEME = ["moderation-memory"]
    SWEEP_SECONDS = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._lock = threading.Lock()
        #: key -> (count, expires at)
        self._counters: dict[str, tuple[int, float]] = {}
        #: key -> moving-window entries, newest first: (acquired at, expires at)
        self._entries: dict[str, list[tuple[float, float]]] = {}
        self._next_sweep = 0.0

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        """What ``limits`` may wrap as a storage error (memory raises none of its own)."""
        return ValueError

    def _sweep(self, now: float) -> None:
        """Free expired keys, at most once a second (the lock is held)."""
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.SWEEP_SECONDS
        self._counters = {key: value for key, value in self._counters.items() if value[1] > now}
        for key in list(self._entries):
            live = [entry for entry in self._entries[key] if entry[1] > now]
            if live:
                self._entries[key] = live
            else:
                del self._entries[key]

    def _count(self, key: str, now: float) -> int:
        """A counter's value at ``now`` (the lock is held)."""
        count, expires_at = self._counters.get(key, (0, 0.0))
        return count if expires_at > now else 0

    def _add(self, key: str, expiry: float, amount: int, now: float) -> int:
        """Add to a counter, starting it anew once expired (the lock is held)."""
        self._sweep(now)
        count, expires_at = self._counters.get(key, (0, 0.0))
        if expires_at <= now:
            count, expires_at = 0, now + expiry
        self._counters[key] = (count + amount, expires_at)
        return count + amount

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add ``amount`` to the counter; a new counter expires after ``expiry`` seconds."""
        with self._lock:
            return self._add(key, expiry, amount, time.time())

    def get(self, key: str) -> int:
        """The counter's value (0 once expired)."""
        with self._lock:
            return self._count(key, time.time())

    def get_expiry(self, key: str) -> float:
        """When the counter expires (now, if it has)."""
        now = time.time()
        with self._lock:
            expires_at = self._counters.get(key, (0, now))[1]
        return expires_at if expires_at > now else now

    def check(self) -> bool:
        """Memory is always reachable."""
        return True

    def reset(self) -> int | None:
        """Forget every counter and entry; returns how many keys there were."""
        with self._lock:
            number = max(len(self._counters), len(self._entries))
            self._counters.clear()
            self._entries.clear()
        return number

    def clear(self, key: str) -> None:
        """Forget one key."""
        with self._lock:
            self._counters.pop(key, None)
            self._entries.pop(key, None)

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """Moving window: take ``amount`` entries unless ``limit`` were taken within
        ``expiry`` seconds."""
        if amount > limit:
            return False
        now = time.time()
        with self._lock:
            self._sweep(now)
            entries = self._entries.setdefault(key, [])
            if len(entries) > limit - amount and entries[limit - amount][0] >= now - expiry:
                return False
            entries[:0] = [(now, now + expiry)] * amount
            del entries[limit:]  # older entries are never looked at again
            return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """The oldest entry within the window and how many entries it holds."""
        now = time.time()
        with self._lock:
            inside = [entry for entry in self._entries.get(key, []) if entry[0] > now - expiry]
        return (inside[-1][0], len(inside)) if inside else (now, 0)

    def _sliding_window(self, key: str, expiry: int, now: float) -> tuple[int, float, int, float]:
        """The two windows of ``key`` at ``now``, as ``get_sliding_window`` returns them."""
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        previous = self._count(previous_key, now)
        previous_ttl = (1 - (((now - expiry) / expiry) % 1)) * expiry if previous else 0.0
        current_ttl = (1 - ((now / expiry) % 1)) * expiry + expiry
        return previous, previous_ttl, self._count(current_key, now), current_ttl

    def acquire_sliding_window_entry(
        self, key: str, limit: int, expiry: int, amount: int = 1
    ) -> bool:
        """Sliding window counter: count ``amount`` hits unless the weighted count of this
        and the previous window would pass ``limit`` (checked and counted atomically)."""
        if amount > limit:
            return False
        now = time.time()
        with self._lock:
            previous, previous_ttl, current, _ = self._sliding_window(key, expiry, now)
            if over_limit(previous, previous_ttl, current, expiry, amount, limit):
                return False
            self._add(self.sliding_window_keys(key, expiry, now)[1], 2 * expiry, amount, now)
            return True

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        """(previous count, its time to live, current count, its time to live)."""
        with self._lock:
            return self._sliding_window(key, expiry, time.time())

    def clear_sliding_window(self, key: str, expiry: int) -> None:
        """Forget both windows of ``key``."""
        for window_key in self.sliding_window_keys(key, expiry, time.time()):
            self.clear(window_key)
