"""The in-process rate-limit storage: exact limits, without a thread per hit."""

from __future__ import annotations

import threading
import time

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter

from moderation.ratelimit import MemoryCounters, is_process_local

pytestmark = pytest.mark.any_database


def test_memory_uris_get_the_quiet_storage() -> None:
    assert isinstance(storage_from_string("moderation-memory://"), MemoryCounters)
    assert is_process_local("memory://")
    assert is_process_local("moderation-memory://")
    assert not is_process_local("redis://127.0.0.1:6379/0")


def test_limits_stay_exact() -> None:
    limiter = SlidingWindowCounterRateLimiter(MemoryCounters())
    item = parse("3/second")
    assert [limiter.hit(item, "client") for _ in range(4)] == [True, True, True, False]
    time.sleep(2.1)
    assert limiter.hit(item, "client")


def test_hits_spaced_in_time_do_not_start_a_thread_each() -> None:
    storage = MemoryCounters()
    limiter = SlidingWindowCounterRateLimiter(storage)
    item = parse("5/minute")
    started: list[threading.Thread] = []
    original = threading.Thread.start

    def counting_start(thread: threading.Thread) -> None:
        started.append(thread)
        original(thread)

    threading.Thread.start = counting_start  # type: ignore[method-assign]
    try:
        for number in range(40):
            limiter.hit(item, "client", str(number))
            time.sleep(0.015)  # longer than the stock storage's 10 ms sweep timer
    finally:
        threading.Thread.start = original  # type: ignore[method-assign]
    assert len(started) <= 2


def test_the_moving_window_is_exact() -> None:
    limiter = MovingWindowRateLimiter(MemoryCounters())
    item = parse("1/2second")
    assert [limiter.hit(item, "flood") for _ in range(2)] == [True, False]
    assert 0 < limiter.get_window_stats(item, "flood").reset_time - time.time() <= 2
    time.sleep(2.1)
    assert limiter.hit(item, "flood")
