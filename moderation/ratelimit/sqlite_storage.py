"""Counters in a SQLite file: exact limits across every process on one machine, with
nothing to install.

The embedded default runs several server processes (one more than the cores); limits
counted in each process's memory would multiply. A small SQLite file beside the database holds the
counters instead: every check-and-count runs in one ``BEGIN IMMEDIATE`` transaction, so
processes racing on one limit are serialised by SQLite's write lock and never all pass.
It is a file of its own (not a table of the service's database) so counting a hit never
waits behind a comment being written, and it needs no migration.

Each thread has its own connection, opened on first use in the process that uses it (a
connection must not cross a ``fork``). Expired rows are deleted at most once a minute. A
transaction waits at most 5 s for the file's lock (each holds it for microseconds); past
that the gate counts in memory for a few seconds rather than hold the request.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from limits.storage import MovingWindowSupport, SlidingWindowCounterSupport, Storage
from limits.storage.base import TimestampedSlidingWindow

from moderation.config import create_private_file, use_wal
from moderation.ratelimit.admission import over_limit

#: The scheme :class:`SQLiteCounters` registers with ``limits``.
SQLITE_SCHEME = "moderation-sqlite://"

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_at REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entries (key TEXT NOT NULL, acquired_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS entries_by_key ON entries (key, acquired_at);
"""


class SQLiteCounters(
    Storage, MovingWindowSupport, SlidingWindowCounterSupport, TimestampedSlidingWindow
):
    """Fixed and sliding window counters and moving-window entries in a SQLite file."""

    STORAGE_SCHEME = ["moderation-sqlite"]
    SWEEP_SECONDS = 60.0
    #: Moving-window entries are kept this long at most (no window here is longer).
    LONGEST_WINDOW = 86400.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        path = (uri or "")[len(SQLITE_SCHEME) :]
        if not path.startswith("/"):
            raise ValueError(f"{uri!r}: the rate-limit file needs an absolute path")
        self.path = Path(path)
        self._local = threading.local()
        self._next_sweep = 0.0

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        """What ``limits`` may wrap as a storage error."""
        return sqlite3.Error

    # -- connections and transactions -------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection (a new one after a fork)."""
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None or self._local.pid != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            create_private_file(self.path)
            connection = sqlite3.connect(
                self.path, timeout=5, isolation_level=None, check_same_thread=False
            )
            use_wal(connection)
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.executescript(SCHEMA)
            self._local.connection, self._local.pid, self._local.depth = (
                connection,
                os.getpid(),
                0,
            )
        return connection

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction for everything inside (nested uses join the outer one):
        reads and writes in it are atomic against every other process."""
        connection = self._connection()
        if self._local.depth:
            self._local.depth += 1
            try:
                yield connection
            finally:
                self._local.depth -= 1
            return
        connection.execute("BEGIN IMMEDIATE")
        self._local.depth = 1
        try:
            yield connection
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        finally:
            self._local.depth = 0

    def _sweep(self, connection: sqlite3.Connection, now: float) -> None:
        """Delete expired rows, at most once a minute per process (inside a transaction)."""
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.SWEEP_SECONDS
        connection.execute("DELETE FROM counters WHERE expires_at <= ?", (now,))
        connection.execute(
            "DELETE FROM entries WHERE acquired_at <= ?", (now - self.LONGEST_WINDOW,)
        )

    # -- counters -----------------------------------------------------------------------------

    @staticmethod
    def _count(connection: sqlite3.Connection, key: str, now: float) -> int:
        """A counter's value at ``now`` (0 once expired)."""
        row = connection.execute(
            "SELECT count FROM counters WHERE key = ? AND expires_at > ?", (key, now)
        ).fetchone()
        return int(row[0]) if row else 0

    def _add(
        self, connection: sqlite3.Connection, key: str, expiry: float, amount: int, now: float
    ) -> int:
        """Add to a counter, starting it anew once expired (one atomic statement)."""
        self._sweep(connection, now)
        row = connection.execute(
            "INSERT INTO counters (key, count, expires_at) VALUES (:key, :amount, :expires) "
            "ON CONFLICT (key) DO UPDATE SET "
            "count = CASE WHEN expires_at <= :now THEN :amount ELSE count + :amount END, "
            "expires_at = CASE WHEN expires_at <= :now THEN :expires ELSE expires_at END "
            "RETURNING count",
            {"key": key, "amount": amount, "expires": now + expiry, "now": now},
        ).fetchone()
        return int(row[0])

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add ``amount`` to the counter; a new counter expires after ``expiry`` seconds."""
        with self.transaction() as connection:
            return self._add(connection, key, expiry, amount, time.time())

    def get(self, key: str) -> int:
        """The counter's value (0 once expired)."""
        return self._count(self._connection(), key, time.time())

    def get_expiry(self, key: str) -> float:
        """When the counter expires (now, if it has)."""
        now = time.time()
        row = (
            self._connection()
            .execute("SELECT expires_at FROM counters WHERE key = ?", (key,))
            .fetchone()
        )
        return float(row[0]) if row and row[0] > now else now

    def check(self) -> bool:
        """Whether the file can be read."""
        try:
            self._connection().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        """Forget every counter and entry; returns how many keys there were."""
        with self.transaction() as connection:
            counters = connection.execute("SELECT COUNT(*) FROM counters").fetchone()[0]
            entries = connection.execute("SELECT COUNT(DISTINCT key) FROM entries").fetchone()[0]
            connection.execute("DELETE FROM counters")
            connection.execute("DELETE FROM entries")
        return max(int(counters), int(entries))

    def clear(self, key: str) -> None:
        """Forget one key."""
        with self.transaction() as connection:
            connection.execute("DELETE FROM counters WHERE key = ?", (key,))
            connection.execute("DELETE FROM entries WHERE key = ?", (key,))

    # -- moving window (the exact flood interval) ----------------------------------------------

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """Take ``amount`` entries unless ``limit`` were taken within ``expiry`` seconds."""
        if amount > limit:
            return False
        now = time.time()
        with self.transaction() as connection:
            self._sweep(connection, now)
            connection.execute(
                "DELETE FROM entries WHERE key = ? AND acquired_at < ?", (key, now - expiry)
            )
            taken = connection.execute(
                "SELECT COUNT(*) FROM entries WHERE key = ?", (key,)
            ).fetchone()[0]
            if taken + amount > limit:
                return False
            connection.executemany(
                "INSERT INTO entries (key, acquired_at) VALUES (?, ?)", [(key, now)] * amount
            )
            return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """The oldest entry within the window and how many entries it holds."""
        now = time.time()
        oldest, number = (
            self._connection()
            .execute(
                "SELECT MIN(acquired_at), COUNT(*) FROM entries WHERE key = ? AND acquired_at >= ?",
                (key, now - expiry),
            )
            .fetchone()
        )
        return (float(oldest), int(number)) if number else (now, 0)

    # -- sliding window counters (the limits) --------------------------------------------------

    def _sliding_window(
        self, connection: sqlite3.Connection, key: str, expiry: int, now: float
    ) -> tuple[int, float, int, float]:
        """The two windows of ``key`` at ``now``, as ``get_sliding_window`` returns them."""
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        previous = self._count(connection, previous_key, now)
        previous_ttl = (1 - (((now - expiry) / expiry) % 1)) * expiry if previous else 0.0
        current_ttl = (1 - ((now / expiry) % 1)) * expiry + expiry
        return previous, previous_ttl, self._count(connection, current_key, now), current_ttl

    def acquire_sliding_window_entry(
        self, key: str, limit: int, expiry: int, amount: int = 1
    ) -> bool:
        """Count ``amount`` hits unless the weighted count of this and the previous window
        would pass ``limit`` (checked and counted in one transaction)."""
        if amount > limit:
            return False
        now = time.time()
        with self.transaction() as connection:
            previous, previous_ttl, current, _ = self._sliding_window(connection, key, expiry, now)
            if over_limit(previous, previous_ttl, current, expiry, amount, limit):
                return False
            current_key = self.sliding_window_keys(key, expiry, now)[1]
            self._add(connection, current_key, 2 * expiry, amount, now)
            return True

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        """(previous count, its time to live, current count, its time to live)."""
        return self._sliding_window(self._connection(), key, expiry, time.time())

    def clear_sliding_window(self, key: str, expiry: int) -> None:
        """Forget both windows of ``key``."""
        for window_key in self.sliding_window_keys(key, expiry, time.time()):
            self.clear(window_key)
