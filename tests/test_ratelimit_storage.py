"""The rate-limit storages of our own: in process memory (exact limits, without a thread per
hit) and in a SQLite file (exact across every process that opens it)."""

from __future__ import annotations

import sqlite3
import stat
import threading
import time
from pathlib import Path

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter

from moderation.config import use_wal
from moderation.ratelimit import (
    Admission,
    MemoryCounters,
    RateGate,
    SQLiteCounters,
    is_process_local,
    storage_settings,
)

pytestmark = pytest.mark.any_database


class Clock:
    """``time.time()`` for the storages and the limits library, stopped and moved on at will:
    a window passes in no time instead of being waited for, and none turns over by itself in
    the middle of a test on a slow machine."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = time.time()
        monkeypatch.setattr(time, "time", lambda: self.now)

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def test_memory_uris_get_the_quiet_storage() -> None:
    assert isinstance(storage_from_string("moderation-memory://"), MemoryCounters)
    assert is_process_local("memory://")
    assert is_process_local("moderation-memory://")
    assert not is_process_local("redis://127.0.0.1:6379/0")


def test_limits_stay_exact(clock: Clock) -> None:
    limiter = SlidingWindowCounterRateLimiter(MemoryCounters())
    item = parse("3/second")
    assert [limiter.hit(item, "client") for _ in range(4)] == [True, True, True, False]
    clock.sleep(2.1)
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


def test_the_moving_window_is_exact(clock: Clock) -> None:
    limiter = MovingWindowRateLimiter(MemoryCounters())
    item = parse("1/2second")
    assert [limiter.hit(item, "flood") for _ in range(2)] == [True, False]
    assert 0 < limiter.get_window_stats(item, "flood").reset_time - time.time() <= 2
    clock.sleep(2.1)
    assert limiter.hit(item, "flood")


# --- the SQLite file: every process on one machine counts together -------------------------


@pytest.fixture
def counters_file(tmp_path: Path) -> str:
    """The URI of a fresh counters file."""
    return f"moderation-sqlite://{tmp_path / 'ratelimits.db'}"


def test_sqlite_uris_get_the_shared_file(counters_file: str, tmp_path: Path) -> None:
    storage = storage_from_string(counters_file)
    assert isinstance(storage, SQLiteCounters)
    assert storage.check()
    assert not is_process_local("sqlite:///" + str(tmp_path / "ratelimits.db"))
    # the file holds raw client addresses in its keys: the service user's alone
    assert stat.S_IMODE((tmp_path / "ratelimits.db").stat().st_mode) == 0o600
    assert storage_settings({"RATELIMIT_STORAGE_URI": "sqlite:////srv/limits.db"})[0] == (
        "moderation-sqlite:///srv/limits.db"
    )


def test_sqlite_limits_are_exact_and_shared_by_every_storage_on_the_file(
    counters_file: str, clock: Clock
) -> None:
    """Two storages on one file stand for two processes: they count together."""
    first, second = (SlidingWindowCounterRateLimiter(SQLiteCounters(counters_file)) for _ in "ab")
    item = parse("3/second")
    hits = [limiter.hit(item, "client") for limiter in (first, second, first, second)]
    assert hits == [True, True, True, False]
    assert first.get_window_stats(item, "client").remaining == 0
    assert second.hit(item, "another client")
    clock.sleep(2.1)
    assert first.hit(item, "client")


def test_sqlite_moving_window_and_counters_are_exact(counters_file: str) -> None:
    storage = SQLiteCounters(counters_file)
    limiter = MovingWindowRateLimiter(storage)
    item = parse("1/2second")
    assert [limiter.hit(item, "flood") for _ in range(2)] == [True, False]
    assert 0 < limiter.get_window_stats(item, "flood").reset_time - time.time() <= 2
    limiter.clear(item, "flood")
    assert limiter.hit(item, "flood")
    assert [storage.incr("plain", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.get("plain") == 3
    assert time.time() < storage.get_expiry("plain") <= time.time() + 60
    assert storage.reset() == 1
    assert storage.get("plain") == 0


def test_sqlite_counts_hold_when_threads_race(counters_file: str) -> None:
    """Many threads, each with its own storage (as processes would be), one limit: exactly
    the limit passes."""
    item = parse("25/minute")
    passed: list[bool] = []
    start = threading.Barrier(8)

    def hammer() -> None:
        limiter = SlidingWindowCounterRateLimiter(SQLiteCounters(counters_file))
        start.wait()
        for _ in range(10):
            passed.append(limiter.hit(item, "shared"))

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert passed.count(True) == 25
    assert len(passed) == 80


def test_connections_opened_together_all_reach_wal(tmp_path: Path) -> None:
    """Switching a new file to WAL fails at once (no busy wait) while another connection
    opens or switches it: the server's processes, or threads with a connection each, would
    fail at random on their first request (it did, 2-7 % of rounds of eight). Eight
    connections open each of 60 new files together: none fails, every one reads WAL (a
    smoke test of the real race; the tests below hold the retry itself)."""
    failures: list[str] = []
    modes: list[str] = []
    for round_number in range(60):
        path = tmp_path / f"{round_number}.db"
        path.touch()
        start = threading.Barrier(8)

        def open_together(path: Path = path, start: threading.Barrier = start) -> None:
            connection = sqlite3.connect(path, timeout=5, isolation_level=None)
            try:
                start.wait()
                use_wal(connection)
                modes.append(connection.execute("PRAGMA journal_mode").fetchone()[0])
            except sqlite3.Error as error:
                failures.append(repr(error))
            finally:
                connection.close()

        threads = [threading.Thread(target=open_together) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert failures == []
    assert modes == ["wal"] * 60 * 8


class _Refusing:
    """A sqlite3 connection whose first ``refusals`` switches to WAL fail with ``error``."""

    def __init__(self, refusals: int, error: sqlite3.OperationalError) -> None:
        self.refusals, self.error, self.switches = refusals, error, 0

    def cursor(self) -> _Refusing:
        return self

    def execute(self, statement: str) -> None:
        if statement == "PRAGMA journal_mode=WAL":
            self.switches += 1
            if self.switches <= self.refusals:
                raise self.error

    def fetchone(self) -> tuple[str]:
        return ("delete",)

    def close(self) -> None:
        pass


def _sqlite_error(code: int) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError("database is locked" if code else "disk I/O error")
    error.sqlite_errorcode = code  # type: ignore[attr-defined]
    return error


def test_a_busy_switch_to_wal_is_tried_again_and_other_errors_are_not() -> None:
    """Busy (and its extended codes): tried again until it passes, or until the patience
    runs out; any other error, or one the driver raised itself (no code): at once."""
    busy = _Refusing(3, _sqlite_error(sqlite3.SQLITE_BUSY))
    use_wal(busy)  # type: ignore[arg-type]
    assert busy.switches == 4
    recovering = _Refusing(1, _sqlite_error(sqlite3.SQLITE_BUSY | (1 << 8)))
    use_wal(recovering)  # type: ignore[arg-type]
    assert recovering.switches == 2
    for error in (_sqlite_error(sqlite3.SQLITE_IOERR), sqlite3.OperationalError("no code")):
        failing = _Refusing(1, error)
        with pytest.raises(sqlite3.OperationalError):
            use_wal(failing)  # type: ignore[arg-type]
        assert failing.switches == 1
    stuck = _Refusing(10**9, _sqlite_error(sqlite3.SQLITE_BUSY))
    started = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        use_wal(stuck, patience=0.1)  # type: ignore[arg-type]
    assert 0.1 <= time.monotonic() - started < 5
    assert stuck.switches > 1


def test_the_gate_admits_in_one_transaction_on_sqlite(counters_file: str) -> None:
    """A submission's limits and flood interval on the SQLite file: the same answers as in
    memory, a breach names its limit and a flood refusal says how long to wait."""
    gate = RateGate(SQLiteCounters(counters_file), "test")
    checks = [("address", "2/minute", ("203.0.113.5",)), ("site", "100/hour", ("blog",))]
    assert gate.admit(checks, [("203.0.113.5",)], 0) == Admission()
    assert gate.admit(checks, [("203.0.113.5",)], 30).flood_wait is None
    refused = gate.admit(checks, [("203.0.113.5",)], 30)
    assert refused.breach is not None and refused.breach.scope == "address"
    flooded = gate.admit([("site", "100/hour", ("blog",))], [("203.0.113.5",)], 30)
    assert flooded.breach is None and flooded.flood_wait is not None
    assert 1 <= flooded.flood_wait <= 30
    assert not gate.degraded
