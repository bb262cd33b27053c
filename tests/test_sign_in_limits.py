"""The sign-in failure limits: counted before the password is checked, atomically (no race
lets simultaneous guesses through), refunded on success; per address and per account."""

from __future__ import annotations

import http.cookiejar
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import PASSWORD, Actions
from tests.redis_dbs import LIMITS_DB, redis_url
from tests.servers import ServerProcess, fresh_server_env, service_app, start_server

SIGN_IN = "/dashboard/sign-in"
#: Sign-in failures are counted in the rate-limit storage, not the database: the
#: PostgreSQL pass leaves the module out.
pytestmark = pytest.mark.database_incidental


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"LIMIT_LOGIN_FAILURES": "5/hour", "LIMIT_LOGIN_FAILURES_PER_ACCOUNT": "8/hour"}


def sign_in_form(client: FlaskClient, address: str) -> dict[str, str]:
    html = client.get(SIGN_IN, environ_base={"REMOTE_ADDR": address}).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, html
    return {"csrf_token": match.group(1)}


def attempt(app: Flask, username: str, password: str, address: str = "198.51.100.1") -> int:
    client = app.test_client()
    data = {**sign_in_form(client, address), "username": username, "password": password}
    return client.post(SIGN_IN, data=data, environ_base={"REMOTE_ADDR": address}).status_code


def simultaneous_attempts(app: Flask, count: int, address: str) -> list[int]:
    """``count`` wrong passwords sent at the same instant, each from its own thread."""
    clients = [app.test_client() for _ in range(count)]
    forms = [sign_in_form(client, address) for client in clients]
    start = threading.Barrier(count)
    statuses: list[int] = []

    def guess(number: int) -> None:
        data = {**forms[number], "username": "alice", "password": f"guess number {number}"}
        start.wait()
        response = clients[number].post(SIGN_IN, data=data, environ_base={"REMOTE_ADDR": address})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=guess, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


def test_simultaneous_wrong_passwords_never_pass_the_limit(app: Flask, actions: Actions) -> None:
    actions.create_moderator("alice", "admin")
    statuses = Counter(simultaneous_attempts(app, 12, "198.51.100.1"))
    # 5 per address: at most five passwords were checked, the rest refused unchecked
    assert statuses == Counter({401: 5, 429: 7})


def test_a_correct_password_after_failures_within_the_limit_works_and_is_refunded(
    app: Flask, actions: Actions
) -> None:
    actions.create_moderator("alice", "admin")
    assert [attempt(app, "alice", f"guess {n}") for n in range(4)] == [401] * 4
    assert attempt(app, "alice", PASSWORD) == 303
    assert attempt(app, "alice", PASSWORD) == 303  # successes cost nothing
    assert attempt(app, "alice", "guess 5") == 401  # the fifth failure still has its place
    assert attempt(app, "alice", PASSWORD) == 429  # the limit is reached: nothing is checked


def test_one_address_alone_cannot_lock_an_account(app: Flask, actions: Actions) -> None:
    actions.create_moderator("alice", "admin")
    attacker = [attempt(app, "alice", f"guess {n}", "203.0.113.9") for n in range(8)]
    assert attacker == [401] * 5 + [429] * 3
    # the per-address limit stopped the attacker before the account's own (8)
    assert attempt(app, "alice", PASSWORD, "198.51.100.20") == 303


def test_guesses_from_many_addresses_stop_at_the_account_limit(
    app: Flask, actions: Actions
) -> None:
    actions.create_moderator("alice", "admin")
    actions.create_moderator("bob", "moderator")
    statuses = [attempt(app, "alice", f"guess {n}", f"203.0.113.{n}") for n in range(10)]
    assert statuses == [401] * 8 + [429] * 2
    # other accounts are not affected; unknown names are limited the same way
    assert attempt(app, "bob", PASSWORD, "203.0.113.50") == 303
    unknown = [attempt(app, "nobody", f"guess {n}", f"203.0.113.{n + 100}") for n in range(9)]
    assert unknown == [401] * 8 + [429]


@pytest.mark.parametrize(
    "storage", ["moderation-memory://", redis_url(LIMITS_DB), "moderation-sqlite://"]
)
def test_the_gate_takes_before_and_gives_back_on_every_storage(
    storage: str, tmp_path: Path
) -> None:
    from limits.storage import Storage, storage_from_string

    from moderation.ratelimit import RateGate

    if storage == "moderation-sqlite://":
        storage += str(tmp_path / "ratelimits.db")
    backend = storage_from_string(storage)
    assert isinstance(backend, Storage)
    gate = RateGate(backend, f"test-{uuid.uuid4().hex[:8]}")
    per_account = ("b", "5/hour", ("y",))
    checks = [per_account, ("a", "3/hour", ("x",))]
    for _ in range(3):
        breach, taken = gate.take(checks)
        assert breach is None and len(taken) == 2
    breach, taken = gate.take(checks)  # "b" is taken (4 of 5), then "a" refuses
    assert breach is not None and breach.scope == "a" and breach.retry_after >= 1
    assert taken == []  # and "b" was given back: 3 of 5
    gate.give_back(gate.take([per_account])[1])  # a success: 4 of 5, given back
    assert gate.take([per_account])[0] is None  # 4 of 5
    assert gate.take([per_account])[0] is None  # 5 of 5
    assert gate.take([per_account])[0] is not None


# --- two real server processes sharing Redis ----------------------------------------------


def http_sign_in_form(server: ServerProcess) -> tuple[urllib.request.OpenerDirector, str]:
    """A browser of its own (cookie jar) with the sign-in form loaded."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect()
    )
    with opener.open(f"{server.url}{SIGN_IN}", timeout=10) as response:
        html = response.read().decode()
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, html
    return opener, match.group(1)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def http_sign_in(
    server: ServerProcess, opener: urllib.request.OpenerDirector, token: str, password: str
) -> int:
    body = urllib.parse.urlencode(
        {"csrf_token": token, "username": "alice", "password": password}
    ).encode()
    try:
        with opener.open(f"{server.url}{SIGN_IN}", data=body, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


@pytest.mark.slow
def test_simultaneous_wrong_passwords_on_two_processes_sharing_redis(tmp_path: Path) -> None:
    env = fresh_server_env(
        tmp_path,
        RATELIMIT_STORAGE_URI=redis_url(LIMITS_DB),
        RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex[:8]}",
        LIMIT_LOGIN_FAILURES="5/hour",
        SESSION_COOKIE_SECURE="false",
    )
    servers = [start_server(tmp_path, env, ["--no-deliver"])]
    try:
        with service_app(env) as app:
            Actions(app).create_moderator("alice", "admin", PASSWORD)
        servers.append(start_server(tmp_path, env, ["--no-deliver"]))
        # 2 processes x 8 threads, every form loaded first, then all posted at once
        browsers = [(servers[n % 2], *http_sign_in_form(servers[n % 2])) for n in range(16)]
        start = threading.Barrier(len(browsers))
        statuses: list[int] = []

        def guess(number: int) -> None:
            server, opener, token = browsers[number]
            start.wait()
            statuses.append(http_sign_in(server, opener, token, f"guess number {number}"))

        threads = [threading.Thread(target=guess, args=(n,)) for n in range(len(browsers))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert Counter(statuses) == Counter({401: 5, 429: 11})
        # both processes refuse even the right password now: the count is shared
        for server in servers:
            opener, token = http_sign_in_form(server)
            assert http_sign_in(server, opener, token, PASSWORD) == 429
    finally:
        for server in servers:
            server.stop()
