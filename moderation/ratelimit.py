"""Rate limits: Flask-Limiter for per-route limits, and a gate the submission pipeline
uses for its own limits (per address, per email, per site) and the flood interval.

Both share one storage: process memory for one process, Redis for several. When Redis
cannot be reached, limits keep working per process in memory (logged once as a warning)
and the primary storage is tried again every few seconds: the service keeps answering.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, request
from flask_limiter import Limiter
from limits import RateLimitItem, RateLimitItemPerSecond, parse_many
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import (
    MovingWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)

from moderation.domain.privacy import rate_limit_address
from moderation.redis_admission import RedisAdmission

log = logging.getLogger(__name__)


class QuietMemoryStorage(MemoryStorage):
    """limits' in-process storage, sweeping expired keys once a second.

    The stock storage starts a new 10 ms timer thread whenever the last one has finished,
    so under steady traffic it spawns a thread per hit and walks every key 100 times a
    second; with many client addresses that costs more than the requests themselves.
    Counters still expire exactly (they are checked on every read); the sweep only frees
    memory.
    """

    STORAGE_SCHEME = ["moderation-memory"]
    SWEEP_SECONDS = 1.0

    def _MemoryStorage__schedule_expiry(self) -> None:
        if not self.timer.is_alive():
            self.timer = threading.Timer(self.SWEEP_SECONDS, self._MemoryStorage__expire_events)  # type: ignore[attr-defined]
            self.timer.daemon = True
            self.timer.start()


def is_process_local(uri: str) -> bool:
    """Whether limits in this storage are counted by each process on its own."""
    return uri.startswith(("memory://", "moderation-memory://"))


def client_key() -> str:
    """The client a request is limited as: its address (IPv6 by /64)."""
    return rate_limit_address(request.remote_addr or "")


limiter = Limiter(key_func=client_key, key_prefix="moderation")


@limiter.request_filter
def reads_are_not_limited() -> bool:
    """Every route limit is on a write; reads skip Flask-Limiter's per-request work."""
    return request.method in ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class Breach:
    """A limit that was exceeded and how long until it lets the client through."""

    limit: str
    scope: str
    retry_after: int


@dataclass(frozen=True)
class Admission:
    """The limits' answer for one submission: a breach, a flood wait, or neither."""

    breach: Breach | None = None
    flood_wait: int | None = None


class RateGate:
    """Counts hits against limits in the shared storage, degrading to memory on failure."""

    RECHECK_SECONDS = 5.0

    def __init__(
        self, storage: Storage, prefix: str = "moderation", redis: RedisAdmission | None = None
    ) -> None:
        self._prefix = prefix
        self._primary = storage
        self._redis = redis
        self._fallback = QuietMemoryStorage()
        self._dead_until = 0.0
        self._lock = threading.Lock()

    def admit(
        self,
        checks: Sequence[tuple[str, str, tuple[str, ...]]],
        flood_keys: Sequence[tuple[str, ...]],
        flood_seconds: int,
    ) -> Admission:
        """Count a submission against ``checks`` and claim the flood interval of
        ``flood_keys``: in one round trip on Redis, through ``limits`` otherwise."""
        if self._redis is not None and not self.degraded:
            try:
                verdict = self._redis.admit(checks, flood_keys, flood_seconds)
            except Exception as error:  # Redis away: the memory fallback below
                self._storage_failed(error)
            else:
                if verdict.breached is not None:
                    scope, limit, retry_after = verdict.breached
                    return Admission(Breach(limit, scope, retry_after))
                return Admission(flood_wait=verdict.flood_wait)
        breach = self.hit(checks)
        if breach is not None:
            return Admission(breach)
        return Admission(flood_wait=self.claim_flood_interval(flood_keys, flood_seconds))

    def _storage_failed(self, error: Exception) -> None:
        with self._lock:
            if time.monotonic() >= self._dead_until:
                log.warning(
                    "rate-limit storage unreachable (%s); limiting in process memory for %.0f s",
                    error.__class__.__name__,
                    self.RECHECK_SECONDS,
                )
            self._dead_until = time.monotonic() + self.RECHECK_SECONDS

    def _strategies(self, storage: Storage) -> tuple[RateLimiter, RateLimiter]:
        return SlidingWindowCounterRateLimiter(storage), MovingWindowRateLimiter(storage)

    def _run(self, operation: Any) -> Any:
        """Run ``operation(sliding, moving)`` on the primary storage, else in memory."""
        if time.monotonic() >= self._dead_until:
            try:
                return operation(*self._strategies(self._primary))
            except Exception as error:
                self._storage_failed(error)
        return operation(*self._strategies(self._fallback))

    @property
    def degraded(self) -> bool:
        """Whether limits are currently counted in memory because the storage failed."""
        return time.monotonic() < self._dead_until

    def hit(self, checks: Sequence[tuple[str, str, tuple[str, ...]]]) -> Breach | None:
        """Count one hit for each ``(scope, limits, key parts)``; the first breach wins."""

        def operation(sliding: RateLimiter, _moving: RateLimiter) -> Breach | None:
            for scope, limit_text, key in checks:
                for item in _parse(limit_text):
                    if not sliding.hit(item, self._prefix, scope, *key):
                        return Breach(
                            str(item), scope, self._retry_after(sliding, item, scope, key)
                        )
            return None

        result: Breach | None = self._run(operation)
        return result

    def claim_flood_interval(self, keys: Sequence[tuple[str, ...]], seconds: int) -> int | None:
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

        result: int | None = self._run(operation)
        return result

    def _retry_after(
        self, strategy: RateLimiter, item: RateLimitItem, scope: str, key: tuple[str, ...]
    ) -> int:
        """Whole seconds until ``key`` may pass ``item`` again (at least 1)."""
        stats = strategy.get_window_stats(item, self._prefix, scope, *key)
        return max(1, math.ceil(stats.reset_time - time.time()))


def _parse(limit_text: str) -> list[RateLimitItem]:
    return list(parse_many(limit_text)) if limit_text.strip() else []


def private_key(value: str) -> str:
    """A keyed hash for values (emails) that must not appear in the rate-limit storage."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, value.lower().encode(), hashlib.sha256).hexdigest()[:32]


def route_limit_retry_after() -> int:
    """Seconds until the route limit that refused this request lets it through."""
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, math.ceil(current.reset_at - time.time()))


def gate() -> RateGate:
    """The current app's gate."""
    return current_app.extensions["rate_gate"]  # type: ignore[no-any-return]


def init_app(app: Flask) -> None:
    """Configure Flask-Limiter and the gate on one storage."""
    # X-RateLimit headers would be sent on every answer; Retry-After is set on refusals only
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "moderation")
    configured = app.config["RATELIMIT_STORAGE_URI"]
    uri = (
        "moderation-memory://" + configured[len("memory://") :]
        if configured.startswith("memory://")
        else configured
    )
    options: dict[str, Any] = dict(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {})
    if uri.startswith(("redis://", "rediss://", "redis+")):
        options.setdefault("socket_timeout", 0.5)
        options.setdefault("socket_connect_timeout", 0.5)
    app.config["RATELIMIT_STORAGE_OPTIONS"] = options
    # Flask-Limiter reads the storage from the config once, here: give it the quiet one
    app.config["RATELIMIT_STORAGE_URI"] = uri
    try:
        limiter.init_app(app)
    finally:
        app.config["RATELIMIT_STORAGE_URI"] = configured
    storage = storage_from_string(uri, **options)
    assert isinstance(storage, Storage), "asynchronous storages are not supported"
    prefix = f"{app.config['RATELIMIT_KEY_PREFIX']}:gate"
    redis = (
        RedisAdmission(uri, prefix, options) if uri.startswith(("redis://", "rediss://")) else None
    )
    app.extensions["rate_gate"] = RateGate(storage, prefix, redis)
