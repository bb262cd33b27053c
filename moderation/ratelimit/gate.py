"""The gate the submission pipeline asks: its own limits (per address, per email, per
site) and the flood interval, in one call.

On Redis all of them are checked in one round trip (:mod:`.redis_script`); in a SQLite
file through ``limits``' strategies inside one write transaction; on any other storage
through ``limits``' strategies. When the storage cannot be reached, limits keep
working per process in memory (logged as a warning) and the storage is tried again every
few seconds: the service keeps answering.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from flask import Flask, current_app
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import Storage, storage_from_string
from limits.strategies import (
    MovingWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)

from moderation.metrics import count_rate_limit_refusal, count_storage_error
from moderation.ratelimit.admission import Admission, Breach, Check, Key, parse_limits
from moderation.ratelimit.redis_script import RedisAdmission
from moderation.ratelimit.sqlite_storage import SQLiteCounters
from moderation.ratelimit.storage import MemoryCounters, is_redis, storage_settings

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Limits counted by :meth:`RateGate.take`: (scope, limit, key parts).
Taken = list[tuple[str, RateLimitItem, Key]]

#: Where the app keeps its gate (read through :func:`gate`).
EXTENSION_KEY = "moderation.rate_gate"


class RateGate:
    """Counts hits against limits in the shared storage, degrading to memory on failure."""

    RECHECK_SECONDS = 5.0

    def __init__(
        self, storage: Storage, prefix: str = "moderation", redis: RedisAdmission | None = None
    ) -> None:
        self._prefix = prefix
        self._primary = storage
        self._redis = redis
        self._fallback = MemoryCounters()
        self._dead_until = 0.0
        self._lock = threading.Lock()

    def admit(
        self, checks: Sequence[Check], flood_keys: Sequence[Key], flood_seconds: int
    ) -> Admission:
        """Count a submission against ``checks`` and claim the flood interval of
        ``flood_keys``: in one round trip on Redis, through ``limits`` otherwise."""
        if self._redis is not None and not self.degraded:
            try:
                admission = self._redis.admit(checks, flood_keys, flood_seconds)
            except Exception as error:  # Redis away: the memory fallback below
                self._storage_failed(error)
            else:
                if admission.breach is not None:
                    count_rate_limit_refusal(admission.breach.scope)
                return admission
        if isinstance(self._primary, SQLiteCounters) and not self.degraded:
            try:
                with self._primary.transaction():
                    return self._admit_by_strategies(checks, flood_keys, flood_seconds)
            except sqlite3.Error as error:  # the file is locked or gone: memory below
                self._storage_failed(error)
        return self._admit_by_strategies(checks, flood_keys, flood_seconds)

    def _admit_by_strategies(
        self, checks: Sequence[Check], flood_keys: Sequence[Key], flood_seconds: int
    ) -> Admission:
        """:meth:`admit` through ``limits``' strategies, one call per limit."""
        breach = self.hit(checks)
        if breach is not None:
            return Admission(breach)
        return Admission(flood_wait=self.claim_flood_interval(flood_keys, flood_seconds))

    def _storage_failed(self, error: Exception) -> None:
        """Count in memory for a few seconds; warn once per outage, not once per request."""
        count_storage_error(
            "redis" if self._redis is not None else "rate-limit-storage", error.__class__.__name__
        )
        with self._lock:
            if time.monotonic() >= self._dead_until:
                log.warning(
                    "rate-limit storage unreachable (%s); limiting in process memory for %.0f s",
                    error.__class__.__name__,
                    self.RECHECK_SECONDS,
                )
            self._dead_until = time.monotonic() + self.RECHECK_SECONDS

    def _run(self, operation: Callable[[RateLimiter, RateLimiter], T]) -> T:
        """Run ``operation(sliding, moving)`` on the primary storage, else in memory."""
        if not self.degraded:
            try:
                return operation(*_strategies(self._primary))
            except Exception as error:
                self._storage_failed(error)
        return operation(*_strategies(self._fallback))

    def storage_reachable(self) -> bool:
        """Whether the configured storage answers now (a ping on Redis)."""
        try:
            return bool(self._primary.check())
        except Exception:
            return False

    @property
    def degraded(self) -> bool:
        """Whether limits are currently counted in memory because the storage failed."""
        return time.monotonic() < self._dead_until

    def hit(self, checks: Sequence[Check]) -> Breach | None:
        """Count one hit for each ``(scope, limits, key parts)``; the first breach wins."""

        def operation(sliding: RateLimiter, _moving: RateLimiter) -> Breach | None:
            for scope, limit_text, key in checks:
                for item in parse_limits(limit_text):
                    if not sliding.hit(item, self._prefix, scope, *key):
                        return Breach(
                            str(item), scope, self._retry_after(sliding, item, scope, key)
                        )
            return None

        return _counted(self._run(operation))

    def take(self, checks: Sequence[Check]) -> tuple[Breach | None, Taken]:
        """Count one attempt against every limit of ``checks`` *before* the work it guards:
        each counter is checked and counted in one atomic step (a Lua script in Redis, a
        lock in memory), so concurrent attempts can never all pass. All limits are taken or
        none (the first breach; what was taken before it is given back). Returns the breach
        and what was taken, for :meth:`give_back`."""
        taken: Taken = []

        def operation(sliding: RateLimiter, _moving: RateLimiter) -> Breach | None:
            taken.clear()
            for scope, limit_text, key in checks:
                for item in parse_limits(limit_text):
                    if not sliding.hit(item, self._prefix, scope, *key):
                        retry_after = self._retry_after(sliding, item, scope, key)
                        _refund(sliding, self._prefix, taken)
                        taken.clear()
                        return Breach(str(item), scope, retry_after)
                    taken.append((scope, item, key))
            return None

        return _counted(self._run(operation)), taken

    def give_back(self, taken: Taken) -> None:
        """Refund an attempt counted by :meth:`take` (it turned out not to count: the
        password was right)."""

        def operation(sliding: RateLimiter, _moving: RateLimiter) -> None:
            _refund(sliding, self._prefix, taken)

        self._run(operation)

    def claim_flood_interval(self, keys: Sequence[Key], seconds: int) -> int | None:
        """Start the flood interval for each of ``keys``; if one of them is still inside its
        interval, the seconds left (the post is refused). One round trip per key."""
        if seconds <= 0:
            return None
        item = RateLimitItemPerSecond(1, seconds)

        def operation(_sliding: RateLimiter, moving: RateLimiter) -> int | None:
            waits = [
                self._retry_after(moving, item, "flood", key)
                for key in keys
                if not moving.hit(item, self._prefix, "flood", *key)
            ]
            return max(waits) if waits else None

        return self._run(operation)

    def forget(
        self, checks: Sequence[Check], flood_keys: Sequence[Key], flood_seconds: int
    ) -> None:
        """Drop the counters of ``checks`` and the flood intervals of ``flood_keys`` (what a
        person's erasure reaches of their traces), wherever they may be counted."""
        if self._redis is not None:
            try:
                self._redis.forget(checks, flood_keys)
            except Exception as error:
                self._storage_failed(error)
        flood = RateLimitItemPerSecond(1, max(1, flood_seconds))
        for storage in (self._primary, self._fallback):
            sliding, moving = _strategies(storage)
            try:
                for scope, limit_text, key in checks:
                    for item in parse_limits(limit_text):
                        sliding.clear(item, self._prefix, scope, *key)
                for key in flood_keys:
                    moving.clear(flood, self._prefix, "flood", *key)
            except Exception as error:
                self._storage_failed(error)

    def _retry_after(self, strategy: RateLimiter, item: RateLimitItem, scope: str, key: Key) -> int:
        """Whole seconds until ``key`` may pass ``item`` again (at least 1)."""
        stats = strategy.get_window_stats(item, self._prefix, scope, *key)
        return max(1, math.ceil(stats.reset_time - time.time()))


def _counted(breach: Breach | None) -> Breach | None:
    """``breach``, counted in the metrics when there is one."""
    if breach is not None:
        count_rate_limit_refusal(breach.scope)
    return breach


def _refund(sliding: RateLimiter, prefix: str, taken: Taken) -> None:
    """Take one count off each limit of ``taken`` (a negative hit: atomic too)."""
    for scope, item, key in taken:
        sliding.hit(item, prefix, scope, *key, cost=-1)


def _strategies(storage: Storage) -> tuple[RateLimiter, RateLimiter]:
    """Sliding-window counters for the limits, a moving window for the exact flood interval."""
    return SlidingWindowCounterRateLimiter(storage), MovingWindowRateLimiter(storage)


def gate() -> RateGate:
    """The current app's gate."""
    found = current_app.extensions[EXTENSION_KEY]
    assert isinstance(found, RateGate)
    return found


def init_app(app: Flask) -> None:
    """Open the configured storage and give the app its gate."""
    uri, options = storage_settings(app.config)
    storage = storage_from_string(uri, **options)
    assert isinstance(storage, Storage), "asynchronous storages are not supported"
    prefix = f"{app.config.get('RATELIMIT_KEY_PREFIX', 'moderation')}:gate"
    redis = RedisAdmission(uri, prefix, options) if is_redis(uri) else None
    app.extensions[EXTENSION_KEY] = RateGate(storage, prefix, redis)
