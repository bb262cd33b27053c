#!/usr/bin/env python3
"""CPU per request and database statements per request, measured inside one process
through the WSGI app: numbers that survive a loaded machine (wall-clock req/s on a
2-core machine shared with other work do not).

    python bench/inprocess.py [--backend sqlite|pg|both] [--reps 5] [--requests 200] [--json]
                              [--only WORKLOAD ...]

For each workload it sends N requests, ``--reps`` times (posts through
``app.test_client()``, reads straight to the WSGI app, as a server hands them over), and
reports the median CPU time of this process per request (``time.process_time``) with the
min-max of the reps, the SQL statements per request (SQLAlchemy's
``before_cursor_execute``, BEGIN/COMMIT where psycopg sends them) and, on PostgreSQL, the
CPU of the database's server process for the app's connection (``/proc``). Workloads:

- ``post``: a JSON submission with every check on (form token, rules, limits per address,
  email and site, flood interval), each from its own address and email, as bench/run.py's;
- ``count5`` / ``count100``: counts of 5 and of 100 threads (cached, as a reader repeats
  them; ``-render`` with the caches emptied before each request: the database query);
- ``first-page-200`` / ``first-page-10000``: the JSON first page (50 top-level comments)
  of a 200- and a 10,000-comment thread of the same shape, cached, and ``-render`` with
  the render caches emptied before each request; ``widget-...`` the same for the page.

Ratios (10,000 / 200, 100 / 5) are of the medians of the same run. PostgreSQL and Redis:
``BENCH_PG_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/moderation_inprocess``,
recreated) and ``BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/${BENCH_REDIS_DB:-5}``,
emptied). ``BENCH_SQLITE_LIMITS`` names the rate-limit storage on SQLite (default
``memory://``, as bench/ours.sh runs one process; ``sqlite://`` is the embedded default's
file shared by processes).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url, text
from sqlalchemy.engine import create_engine
from werkzeug.test import EnvironBuilder

SECRET = "benchmark-secret-key-not-for-production"
ORIGIN = "http://127.0.0.1:8084"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/moderation_inprocess"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def fresh_postgres(url: str) -> None:
    """Drop and create the benchmark's own database."""
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = make_url(url).database
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def make_app(backend: str, folder: Path) -> Any:
    """The app on a fresh, migrated database, configured as bench/ours.sh configures it."""
    from flask_migrate import upgrade

    from moderation import create_app
    from moderation.extensions import MIGRATIONS_DIRECTORY

    if backend == "pg":
        url = os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL)
        fresh_postgres(url)
        limits = os.environ.get(
            "BENCH_REDIS_URL", f"redis://127.0.0.1:6379/{os.environ.get('BENCH_REDIS_DB', '5')}"
        )
        import redis

        redis.Redis.from_url(limits).flushdb()
    else:
        url = f"sqlite:///{folder / 'inprocess.db'}"
        # memory:// as bench/ours.sh runs one process; sqlite:// is the embedded default's
        # file shared by processes
        limits = os.environ.get("BENCH_SQLITE_LIMITS", "memory://")
    os.environ["MODERATION_INSTANCE_PATH"] = str(folder)
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET,
            "RATELIMIT_STORAGE_URI": limits,
            "TRUSTED_PROXIES": 1,
            "LOG_LEVEL": "WARNING",
        }
    )
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIRECTORY))
    return app


def seed(app: Any) -> None:
    """The benchmark site (every check on, its site limit above the load) and the growth
    workloads' data, as bench/seed_ours.py loads them for bench/run.py."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import seed_ours

    with app.app_context():
        seed_ours.ensure_site()
        seed_ours.load_growth()


def post_fields(number: int, issued: datetime) -> tuple[dict[str, str], dict[str, str]]:
    """The fields and headers of post ``number``: each from its own address and email, with a
    form token issued at ``issued``, as bench/run.py's posts."""
    from moderation.services import form_tokens

    body = {
        "comment": f"Benchmark comment {number}: Lorem ipsum dolor sit amet, "
        "*consectetur* adipiscing elit, sed do **eiusmod** tempor incididunt ut "
        "labore et dolore magna aliqua. Ut enim ad minim veniam, quis `nostrud()`.",
        "author": "Bench User",
        "email": f"bench{number}@bench.example.com",
        "form_token": form_tokens.issue(SECRET, "bench", "/bench/fresh", issued),
    }
    address = f"10.{(number >> 16) & 255}.{(number >> 8) & 255}.{number & 255}"
    return body, {"Origin": ORIGIN, "X-Forwarded-For": address}


class Counter:
    """SQL statements (and BEGIN/COMMIT as psycopg sends them) on the app's engine."""

    def __init__(self, app: Any) -> None:
        from moderation.extensions import db

        with app.app_context():
            self._listen(db.engine)

    @classmethod
    def of_engine(cls, engine: Any) -> Counter:
        """A counter of another app's engine (the floor's)."""
        counter = cls.__new__(cls)
        counter._listen(engine)
        return counter

    def _listen(self, engine: Any) -> None:
        self.engine = engine
        self.count = 0
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)

    def _statement(self, connection: Any, *_args: Any) -> None:
        driver = connection.connection.driver_connection
        if hasattr(driver, "pgconn") and not driver.autocommit and _idle(driver):
            self.count += 1  # psycopg sends BEGIN first
        self.count += 1

    def _commit(self, connection: Any) -> None:
        driver = connection.connection.driver_connection
        if not hasattr(driver, "pgconn") or not _idle(driver):
            self.count += 1


def _idle(driver: Any) -> bool:
    from psycopg.pq import TransactionStatus

    return bool(driver.info.transaction_status == TransactionStatus.IDLE)


def backend_cpu(app: Any) -> Callable[[], float]:
    """CPU seconds of the PostgreSQL server processes serving the app (0 elsewhere)."""
    from moderation.extensions import db

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return lambda: 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    pids: set[int] = set()

    def remember(dbapi_connection: Any, *_args: Any) -> None:
        pids.add(int(dbapi_connection.info.backend_pid))

    with app.app_context():
        event.listen(db.engine.pool, "checkout", remember)

    def total() -> float:
        seconds = 0.0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                seconds += (int(fields[11]) + int(fields[12])) / ticks
            except OSError:
                pass
        return seconds

    return total


def measure(
    name: str,
    request: Callable[[int], None],
    reps: int,
    requests: int,
    counter: Counter,
    server_cpu: Callable[[], float],
    before_each: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Median CPU ms per request (and min-max over ``reps``), statements per request."""
    request(-1)  # warm: compiled statements, caches
    per_rep, server_per_rep, statements = [], [], []
    number = 0
    for _ in range(reps):
        counter.count = 0
        server0, cpu = server_cpu(), 0.0
        for _ in range(requests):
            if before_each is not None:
                before_each()
            started = time.process_time()
            request(number)
            cpu += time.process_time() - started
            number += 1
        per_rep.append(1000 * cpu / requests)
        server_per_rep.append(1000 * (server_cpu() - server0) / requests)
        statements.append(counter.count / requests)
    result = {
        "workload": name,
        "cpu_ms": statistics.median(per_rep),
        "cpu_ms_min": min(per_rep),
        "cpu_ms_max": max(per_rep),
        "db_server_cpu_ms": statistics.median(server_per_rep),
        "statements": statistics.median(statements),
    }
    log(
        f"{name}: {result['cpu_ms']:.3f} ms CPU/request ({result['cpu_ms_min']:.3f}-"
        f"{result['cpu_ms_max']:.3f}), db server {result['db_server_cpu_ms']:.3f} ms, "
        f"{result['statements']:.2f} statements"
    )
    return result


def run_backend(
    backend: str, reps: int, requests: int, only: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """Every workload on one backend (or those named in ``only``)."""
    from moderation.cache import init_app as init_caches

    with tempfile.TemporaryDirectory(prefix="inprocess-") as folder:
        folder_path = Path(folder)
        folder_path.chmod(0o700)
        app = make_app(backend, folder_path)
        seed(app)
        client = app.test_client()
        counter = Counter(app)
        server_cpu = backend_cpu(app)
        issued = datetime.now(UTC) - timedelta(seconds=10)
        posts = "/api/v1/sites/bench/comments?thread=%2Fbench%2Ffresh"

        def post(number: int) -> None:
            body, headers = post_fields(number + 2, issued)  # the warm-up's -1 too
            response = client.post(posts, json=body, headers=headers)
            assert response.status_code == 202, response.get_data(as_text=True)

        def get(path: str) -> Callable[[int], None]:
            # Reads go to the WSGI app as a server hands them over (an environ built once,
            # the body read to its end), not through the test client: for a cached read
            # the client's own work (Werkzeug working out each request's full URL for its
            # cookie jar and its response, unquoting the whole query) was most of the
            # CPU measured, 0.26 of 0.34 ms for the counts of 100 threads.
            environ = EnvironBuilder(path=path).get_environ()

            def read(_number: int) -> None:
                statuses: list[str] = []
                body = app(
                    dict(environ), lambda status, _headers, _info=None: statuses.append(status)
                )
                try:
                    for _chunk in body:
                        pass
                finally:
                    getattr(body, "close", lambda: None)()
                assert statuses[0].startswith("200"), (path, statuses)

            return read

        def forget() -> None:
            init_caches(app)  # empty: the next read renders from the database

        def counts_path(n: int) -> str:
            keys = "&".join(f"thread=%2Fbench%2Fcount-{k}" for k in range(n))
            return f"/api/v1/sites/bench/counts?labels=1&{keys}"

        first_page = "/api/v1/sites/growth/comments?thread=%2Fgrowth%2Fthread-"
        widget = "/w/growth?thread=%2Fgrowth%2Fthread-"
        plan: list[tuple[str, Callable[[int], None], Callable[[], None] | None]] = [
            ("post", post, None),
            ("count5", get(counts_path(5)), None),
            ("count100", get(counts_path(100)), None),
            ("count5-render", get(counts_path(5)), forget),
            ("count100-render", get(counts_path(100)), forget),
            ("first-page-200", get(first_page + "200"), None),
            ("first-page-10000", get(first_page + "10000"), None),
            ("first-page-200-render", get(first_page + "200"), forget),
            ("first-page-10000-render", get(first_page + "10000"), forget),
            ("widget-200", get(widget + "200"), None),
            ("widget-10000", get(widget + "10000"), None),
            ("widget-200-render", get(widget + "200"), forget),
            ("widget-10000-render", get(widget + "10000"), forget),
        ]
        results = []
        for name, request, before in plan:
            if only and name not in only:
                continue
            scale = 1 if name == "post" or name.endswith("render") else 4
            row = measure(name, request, reps, requests * scale, counter, server_cpu, before)
            results.append({"backend": backend, **row})
        with app.app_context():
            from moderation.extensions import db

            db.engine.dispose()
        return results


RATIOS = [
    # (label, numerator, denominator, goal: the ratio must be at most this)
    ("first page 10,000 / 200 (cached)", "first-page-10000", "first-page-200", 1.2),
    ("first page 10,000 / 200 (render)", "first-page-10000-render", "first-page-200-render", 1.2),
    ("widget page 10,000 / 200 (cached)", "widget-10000", "widget-200", 1.2),
    ("widget page 10,000 / 200 (render)", "widget-10000-render", "widget-200-render", 1.2),
    ("counts 100 / 5 (cached)", "count100", "count5", 2.0),
    ("counts 100 / 5 (query)", "count100-render", "count5-render", 2.0),
]


def report(results: list[dict[str, Any]]) -> tuple[str, list[tuple[str, bool]]]:
    """The table and the growth goals (CPU per request, medians of the same run)."""
    lines = [
        "| backend | workload | CPU ms/request median | min-max | DB server CPU ms/request | statements/request |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in results:
        lines.append(
            f"| {row['backend']} | {row['workload']} | {row['cpu_ms']:.3f} | "
            f"{row['cpu_ms_min']:.3f}-{row['cpu_ms_max']:.3f} | {row['db_server_cpu_ms']:.3f} | "
            f"{row['statements']:.2f} |"
        )
    verdicts = []
    lines += ["", "| backend | ratio (CPU per request) | value | goal |", "|---|---|---:|---|"]
    for backend in dict.fromkeys(row["backend"] for row in results):
        found = {row["workload"]: row for row in results if row["backend"] == backend}
        for label, top, bottom, goal in RATIOS:
            if top in found and bottom in found:
                value = (found[top]["cpu_ms"] + found[top]["db_server_cpu_ms"]) / (
                    found[bottom]["cpu_ms"] + found[bottom]["db_server_cpu_ms"]
                )
                met = value <= goal
                verdicts.append((f"{backend} {label}: {value:.2f} (≤ {goal:g})", met))
                lines.append(
                    f"| {backend} | {label} | {value:.2f} | ≤ {goal:g} {'met' if met else 'NOT met'} |"
                )
    return "\n".join(lines), verdicts


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "pg", "both"], default="both")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument(
        "--only", action="append", default=[], metavar="WORKLOAD", help="e.g. --only post"
    )
    args = parser.parse_args()
    backends = ["sqlite", "pg"] if args.backend == "both" else [args.backend]
    results = []
    for backend in backends:
        results += run_backend(backend, args.reps, args.requests, frozenset(args.only))
    table, verdicts = report(results)
    print(table)
    print()
    for name, met in verdicts:
        print(f"- {'met' if met else 'NOT met'}: {name}")
    if args.json:
        Path(args.json).write_text(json.dumps({"results": results, "verdicts": verdicts}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
