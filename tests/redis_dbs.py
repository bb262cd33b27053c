"""The databases of the machine's Redis (127.0.0.1:6379, started by scripts/services.sh) that
the tests use, named once.

Tests keep their keys under a prefix of their own (``test-`` and a random part), so tests
sharing a database never read each other's keys, and no test empties a database. The
benchmarks do empty theirs (``BENCH_REDIS_DB``: 5, and another for a second run beside the
first, 6 in bench/README.md): a test takes one of the databases below, not a new number.
"""

from __future__ import annotations

#: The port of the machine's shared Redis.
SHARED_PORT = 6379


def redis_url(database: int, port: int = SHARED_PORT) -> str:
    """The URL of ``database`` on the Redis listening at 127.0.0.1:``port``."""
    return f"redis://127.0.0.1:{port}/{database}"


#: The default database: limits of apps, servers and gates that keep them in Redis.
LIMITS_DB = 0
#: Redis seen from the outside: the readiness check, ``moderation doctor``, the
#: observability suite's server.
CHECKS_DB = 8
#: The rate gate's windows turning over (tests/test_limit_windows.py).
WINDOWS_DB = 9
