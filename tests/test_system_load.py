"""Load: 32 concurrent clients, each with its own address (X-Forwarded-For through one
trusted proxy), against (a) two server processes on PostgreSQL and Redis and (b) the
embedded default, SQLite with one threaded process. Afterwards the database is held against
every answer: each acknowledged comment stored exactly once, nothing stored that was not
sent, every answer describing its own request's comment, no 5xx, no "database is locked".

Longer and bigger: the ``soak`` variants, ``scripts/soak.sh`` (SOAK_SECONDS, SOAK_CLIENTS).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.databases import scratch_postgres_url
from tests.redis_dbs import LIMITS_DB, redis_url
from tests.system_harness import (
    ONCE_PER_CI,
    SCALES,
    Attempt,
    LoadRun,
    Scale,
    ServerSet,
    client_network,
    server_env,
)
from tests.system_ledger import (
    assert_clean,
    log_findings,
    report,
    sqlite_url,
    verify,
)

#: Nothing stops them here: the machine's PostgreSQL (a database of the test's own) and
#: Redis (the keys under a prefix of the run's own, see server_env) do what a private
#: cluster did, without its initdb and start (a second and a half of CPU).
SHARED_REDIS = redis_url(LIMITS_DB)


@pytest.fixture
def postgres_database() -> Iterator[str]:
    with scratch_postgres_url() as url:
        yield url


@pytest.mark.slow
@ONCE_PER_CI
@pytest.mark.parametrize("scale", SCALES)
def test_load_two_processes_on_postgresql_and_redis(
    tmp_path: Path,
    request: pytest.FixtureRequest,
    postgres_database: str,
    scale: Scale,
) -> None:
    database_url = postgres_database
    env = server_env(tmp_path / "instance", database_url, SHARED_REDIS)
    with ServerSet(tmp_path, env, ["--workers", "1", "--threads", "8", "--no-deliver"]) as servers:
        servers.start(2)
        run = LoadRun(servers.urls, scale.clients, scale.load_seconds).run()
        counts = verify(run, database_url)
        logs = servers.logs()
        per_server = [sum(a.ok for a in run.posts() if a.server == n) for n in range(2)]
        report(
            request.config,
            f"load PostgreSQL+Redis, 2 processes, {scale.clients} clients, {scale.load_seconds:g}s",
            counts,
            acked_per_server=per_server,
            per_second=round(counts.acked / scale.load_seconds, 1),
            **log_findings(logs),
        )
        assert_clean(counts, logs)
        assert min(per_server) > 0


@pytest.mark.slow
@ONCE_PER_CI
@pytest.mark.parametrize("scale", SCALES)
def test_load_embedded_sqlite_one_threaded_process(
    tmp_path: Path, request: pytest.FixtureRequest, scale: Scale
) -> None:
    instance = tmp_path / "instance"
    # "" is the embedded default: SQLite in the instance folder, limits in memory
    env = server_env(instance, "", "memory://")
    with ServerSet(tmp_path, env, ["--workers", "1", "--threads", "16", "--no-deliver"]) as servers:
        servers.start(1)
        run = LoadRun(servers.urls, scale.clients, scale.load_seconds).run()
        counts = verify(run, sqlite_url(instance))
        logs = servers.logs()
        report(
            request.config,
            f"load SQLite, 1 process x 16 threads, {scale.clients} clients, {scale.load_seconds:g}s",
            counts,
            per_second=round(counts.acked / scale.load_seconds, 1),
            **log_findings(logs),
        )
        assert_clean(counts, logs)
        assert log_findings(logs)["log_locked"] == 0, logs[-5000:]


def test_the_ledger_catches_what_it_counts(tmp_path: Path) -> None:
    """The checks themselves: each kind of defect, planted, is counted as that defect."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    engine = create_engine(url)
    run = LoadRun(["http://127.0.0.1:9"], clients=1, seconds=1)

    def post(number: int, status: int | None, row_id: int | None = None, body: str = "") -> str:
        marker = f"mk-{run.run_id}-c0-n{number}"
        answer = None
        if status is not None and status < 300:
            html = f"<p>Load comment {marker}</p>"
            answer = {"id": row_id, "author": f"Client 0 #{number}", "html": html}
            answer["status"] = "pending"
        run.attempts.append(
            Attempt(
                0,
                number,
                0,
                "post",
                0.0,
                0.1,
                status,
                body=body,
                marker=marker,
                author=f"Client 0 #{number}",
                email=f"c0n{number}@example.com",
                network=client_network(0),
                answer=answer,
            )
        )
        return marker

    rows = []

    def row(row_id: int, number: int, marker: str, author: str | None = None) -> None:
        rows.append(
            {
                "id": row_id,
                "author": author or f"Client 0 #{number}",
                "email": f"c0n{number}@example.com",
                "text": f"Load comment {marker}",
                "html": "",
                "ip_truncated": client_network(0),
            }
        )

    row(1, 1, post(1, 202, 1))  # fine
    post(2, 202, 2)  # lost: acknowledged, never stored
    third = post(3, 202, 3)
    row(3, 3, third)
    row(4, 3, third)  # duplicated
    row(5, 99, f"mk-{run.run_id}-c0-n99")  # phantom: never sent
    post(6, 202, 1)  # misattributed: its answer describes comment 1
    row(6, 6, f"mk-{run.run_id}-c0-n6")
    post(7, 503, body='{"detail": "(sqlite3.OperationalError) database is locked"}')
    post(8, 500, body='Traceback (most recent call last):\n  File "/x.py"')
    row(9, 9, post(9, 409))  # refused, yet stored
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE comments (id INTEGER PRIMARY KEY, author TEXT, email TEXT,"
                " text TEXT, html TEXT, ip_truncated TEXT)"
            )
        )
        connection.execute(
            text("INSERT INTO comments VALUES (:id, :author, :email, :text, :html, :ip_truncated)"),
            rows,
        )
    engine.dispose()
    counts = verify(run, url)
    assert (counts.sent, counts.acked, counts.stored) == (7, 4, 6)
    assert (counts.lost, counts.duplicated, counts.phantom, counts.misattributed) == (1, 1, 1, 1)
    assert (counts.http_5xx, counts.http_503, counts.http_500) == (2, 1, 1)
    assert (counts.locked, counts.tracebacks, counts.refused, counts.stored_refused) == (1, 1, 1, 1)
