"""Limits across real server processes: sharing the embedded default's SQLite file, sharing
real Redis, and when Redis goes away."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from moderation import create_app
from moderation.extensions import db
from tests.helpers import Actions
from tests.private_services import (
    PrivateRedis,
    private_redis,
)
from tests.servers import (
    ServerProcess,
    fresh_server_env,
    http_json,
    service_app,
    start_server,
)

ORIGIN = "https://blog.example"
#: Limits and flood intervals live in the rate-limit storage (the counters' SQLite file, Redis,
#: process memory), never in the database: the PostgreSQL pass leaves the module out.
pytestmark = [pytest.mark.slow, pytest.mark.database_incidental]


def form_token(server: ServerProcess, site: str = "blog") -> str:
    """A fresh single-use form token for thread ``t``."""
    status, _, token = http_json(
        "GET", f"{server.url}/api/v1/sites/{site}/form-token?thread=t", headers={"Origin": ORIGIN}
    )
    assert status == 200, token
    return str(token["form_token"])  # type: ignore[index]


def post_comment(
    server: ServerProcess,
    number: int,
    address: str = "203.0.113.50",
    token: str | None = None,
    email: str | None = None,
    site: str = "blog",
) -> tuple[int, dict[str, str]]:
    """A JSON submission from ``address`` (through the trusted proxy header)."""
    headers = {"Origin": ORIGIN, "X-Forwarded-For": address}
    body = {
        "comment": f"Comment number {number}",
        "author": "Load Tester",
        "email": email or f"tester{number}@example.com",
        "form_token": token or form_token(server, site),
    }
    status, response_headers, answer = http_json(
        "POST", f"{server.url}/api/v1/sites/{site}/comments?thread=t", body, headers, timeout=60
    )
    assert status < 500, answer
    return status, response_headers


def limited_env(tmp_path: Path, template: str, storage: str) -> dict[str, str]:
    return fresh_server_env(
        tmp_path,
        template,
        RATELIMIT_STORAGE_URI=storage,
        RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex[:8]}",
        # per hour: a sliding window that turns over during the test lets one more through
        LIMIT_SUBMIT_PER_ADDRESS="4/hour",
        FORM_TOKEN_MIN_AGE="0",
        SPAM_MIN_FILL_SECONDS="0",
        TRUSTED_PROXIES="1",
    )


def start_pair(tmp_path: Path, env: dict[str, str]) -> list[ServerProcess]:
    """Two servers on one instance (no delivery workers: there is nothing to deliver)."""
    first = start_server(tmp_path, env, ["--no-deliver"])
    try:
        with service_app(env) as app:
            Actions(app).create_site("blog", [ORIGIN], flood_seconds=0)
        return [first, start_server(tmp_path, env, ["--no-deliver"])]
    except BaseException:
        first.stop()
        raise


def race(
    servers: list[ServerProcess], attempts: int, post: Callable[[ServerProcess, int], int]
) -> Counter[int]:
    """``attempts`` posts at once, spread over ``servers``; the statuses they got."""
    start = threading.Barrier(attempts)
    statuses: list[int] = []

    def attempt(number: int) -> None:
        server = servers[number % len(servers)]
        start.wait(timeout=60)
        statuses.append(post(server, number))

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return Counter(statuses)


def test_processes_on_the_embedded_default_count_limits_and_floods_together(
    tmp_path: Path, migrated_database: str
) -> None:
    """No Redis: one ``serve`` with two processes and another ``serve`` on the same
    instance (three processes) share the counters' SQLite file, so simultaneous posts from
    one address pass its limit exactly 5 times, and one email's posts from many addresses
    pass its flood interval exactly once."""
    env = fresh_server_env(
        tmp_path,
        migrated_database,
        LIMIT_SUBMIT_PER_ADDRESS="5/minute",
        LIMIT_SUBMIT_PER_EMAIL="100/hour",
        FORM_TOKEN_MIN_AGE="0",
        SPAM_MIN_FILL_SECONDS="0",
        TRUSTED_PROXIES="1",
    )
    servers = [start_server(tmp_path, env, ["--workers", "2", "--no-deliver"])]
    try:
        # the sites through the services, in this process (a CLI run costs seconds)
        app = create_app(instance_path=str(tmp_path / "instance"))
        Actions(app).create_site("blog", [ORIGIN], flood_seconds=0)
        Actions(app).create_site("calm", [ORIGIN], flood_seconds=600)
        with app.app_context():
            db.engine.dispose()
        servers.append(start_server(tmp_path, env, ["--workers", "1", "--no-deliver"]))
        assert "(2 process(es)" in servers[0].output()
        tokens = [form_token(servers[n % 2]) for n in range(16)]
        same_address = race(
            servers, 16, lambda server, n: post_comment(server, n, token=tokens[n])[0]
        )
        assert same_address == Counter({202: 5, 429: 11})

        tokens = [form_token(servers[n % 2], "calm") for n in range(12)]
        same_email = race(
            servers,
            12,
            lambda server, n: post_comment(
                server, 100 + n, f"198.51.100.{n}", tokens[n], "flooder@example.com", "calm"
            )[0],
        )
        assert same_email == Counter({202: 1, 429: 11})
        assert (tmp_path / "instance" / "ratelimits.db").is_file()
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A Redis server of the test's own, so it can be stopped mid-run."""
    with private_redis(tmp_path) as server:
        yield server


def test_limits_hold_across_two_processes_on_redis_and_per_process_when_it_stops(
    tmp_path: Path, redis_server: PrivateRedis, migrated_database: str
) -> None:
    """One pair of servers for both halves (each start costs seconds of CPU)."""
    servers = start_pair(tmp_path, limited_env(tmp_path, migrated_database, redis_server.url))
    try:
        statuses = [post_comment(servers[number % 2], number)[0] for number in range(6)]
        # 4 an hour for one address, counted together by both processes
        assert statuses == [202, 202, 202, 202, 429, 429]
        # another address is not affected, on either process
        assert post_comment(servers[0], 10, address="203.0.113.51")[0] == 202
        assert post_comment(servers[1], 11, address="203.0.113.51")[0] == 202

        redis_server.stop()
        statuses = []
        for number in range(20, 30):
            server = servers[number % 2]
            statuses.append(post_comment(server, number, address=f"203.0.113.{number}")[0])
            status, _, health = http_json("GET", f"{server.url}/healthz")
            assert status == 200, health
        # every answer is a real answer: accepted, never a 5xx
        assert statuses == [202] * 10
        # limits still apply per process while Redis is away
        burst = [post_comment(servers[0], 100 + n, address="198.51.100.99")[0] for n in range(6)]
        assert burst[:4] == [202] * 4
        assert burst[4:] == [429, 429]
        assert "rate-limit storage unreachable" in servers[0].output()
    finally:
        for server in servers:
            server.stop()
