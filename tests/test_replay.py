"""A repeated public read is answered before Flask, with the bytes the app would answer.

Each read is asked of two apps on the same database: one that answers every request
itself (``REPLAY_PUBLIC_READS`` off) and one that answers a repeated request from the
answer its app gave the first time. Status, every header and the body must be the same,
but for what is each request's own: the request id and, on the widget page, the reader's
form token (and so the page's length). The replayed request is counted and logged as the
app counts and logs it, and never reaches the app's hooks.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from moderation import create_app
from moderation.cache import init_app as init_caches
from moderation.extensions import db
from moderation.services import form_tokens
from moderation.web.replay import ReplayReads
from tests.databases import BASE_CONFIG
from tests.helpers import (
    Actions,
    approve,
    approve_all,
    metric_samples,
    metric_value,
    seed_comments,
)

ORIGIN = "https://blog.example"
TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
METRICS_TOKEN = "scrape-token-for-tests"
FRAGMENT = "/api/v1/sites/blog"
THREADS = "thread=post-1&thread=post-2&thread=nothing-yet"

#: (method, path, headers): every kind of public read, and its conditional and
#: language variants
READS: list[tuple[str, str, dict[str, str]]] = [
    ("GET", f"{FRAGMENT}/comments?thread=post-1", {}),
    ("GET", f"{FRAGMENT}/comments?thread=post-1&page=2", {}),
    ("GET", f"{FRAGMENT}/comments?thread=nothing-yet", {}),
    ("GET", f"{FRAGMENT}/comments?thread=post-1", {"Origin": ORIGIN}),
    ("GET", f"{FRAGMENT}/comments?thread=post-1", {"Origin": "https://elsewhere.example"}),
    ("HEAD", f"{FRAGMENT}/comments?thread=post-1", {}),
    ("GET", f"{FRAGMENT}/counts?{THREADS}", {}),
    ("GET", f"{FRAGMENT}/counts?{THREADS}&labels=1", {"Accept-Language": "de"}),
    ("GET", f"{FRAGMENT}/counts?{THREADS}&labels=1", {"Accept-Language": "fr, en;q=0.5"}),
    ("HEAD", f"{FRAGMENT}/counts?{THREADS}", {}),
    ("GET", "/w/blog?thread=post-1", {}),
    ("GET", "/w/blog?thread=post-1&cpage=2", {}),
    ("GET", f"/w/blog?thread=post-1&origin={ORIGIN}", {}),
    ("GET", "/w/blog?thread=post-1&lang=de", {}),
    ("GET", "/w/blog?thread=post-1", {"Accept-Language": "fr"}),
    ("GET", "/w/blog?thread=nothing-yet&title=Hello&url=https://blog.example/hello", {}),
    ("HEAD", "/w/blog?thread=post-1", {}),
    ("GET", "/w/blog?thread=post-1", {"X-Request-ID": "proxy-given-id-0123456789"}),
    ("GET", "/w/blog?thread=post-1", {"X-Forwarded-Proto": "https", "Host": "c.example"}),
]


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    # values stay current for the whole test (a slow machine must not time a read out)
    return {
        "METRICS_TOKEN": METRICS_TOKEN,
        "LOG_LEVEL": "INFO",
        "PUBLIC_READ_STALENESS": 3600,
        "SITE_SETTINGS_STALENESS": 3600,
    }


@pytest.fixture
def site(app: Flask, actions: Actions) -> str:
    """Seven approved comments, five a page, on post-1; one on post-2."""
    actions.create_site("blog", [ORIGIN], page_size=5, flood_seconds=0)
    approve_all(app, seed_comments(app, 7) + seed_comments(app, 1, thread="post-2"))
    return "blog"


@pytest.fixture
def unreplayed(app: Flask) -> Iterator[Flask]:
    """An app on the same database and secret that answers every request itself."""
    plain = create_app(
        {
            **BASE_CONFIG,
            "DATABASE_URL": app.config["DATABASE_URL"],
            "SECRET_KEY": app.config["SECRET_KEY"],
            "REPLAY_PUBLIC_READS": False,
        }
    )
    yield plain
    with plain.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app_calls(app: Flask) -> list[str]:
    """The requests that reached the app's hooks (registered before its first request)."""
    calls: list[str] = []

    def note() -> None:
        if request.path != "/metrics":
            calls.append(request.full_path)

    # first, before any hook that may answer early
    app.before_request_funcs.setdefault(None, []).insert(0, note)
    return calls


def ask(client: FlaskClient, method: str, path: str, headers: dict[str, str]) -> TestResponse:
    return client.open(path, method=method, headers=headers)


def comparable(
    response: TestResponse, page: bool = False
) -> tuple[str, list[tuple[str, str]], bytes]:
    """The answer without what is each request's own (its id, its form token and so the
    ``page``'s length)."""
    body = response.get_data().replace(response.headers["X-Request-ID"].encode(), b"<id>")
    headers = [
        (name, "<id>" if name == "X-Request-ID" else value)
        for name, value in response.headers.items()
    ]
    if page or b'name="form_token"' in body:
        body = TOKEN.sub('name="form_token" value="<token>"', body.decode()).encode()
        headers = [(n, "<length>" if n == "Content-Length" else v) for n, v in headers]
    return response.status, headers, body


@pytest.mark.parametrize(("method", "path", "headers"), READS)
def test_a_replayed_read_is_the_answer_the_app_gives(
    app: Flask,
    unreplayed: Flask,
    site: str,
    app_calls: list[str],
    method: str,
    path: str,
    headers: dict[str, str],
) -> None:
    client, plain = app.test_client(), unreplayed.test_client()
    first = ask(client, method, path, headers)
    assert first.status_code == 200
    ask(client, method, path, headers)  # the first may render; the second is kept
    reached = len(app_calls)
    replayed = ask(client, method, path, headers)
    assert len(app_calls) == reached, "answered without the app"
    answered = ask(plain, method, path, headers)
    page = path.startswith("/w/")
    assert comparable(replayed, page) == comparable(answered, page)
    # what is each request's own is still its own
    offered = headers.get("X-Request-ID")
    assert replayed.headers["X-Request-ID"] == (offered or replayed.headers["X-Request-ID"])
    if offered is None:
        assert replayed.headers["X-Request-ID"] != first.headers["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", replayed.headers["X-Request-ID"])
    if method == "GET":
        assert int(replayed.headers["Content-Length"]) == len(replayed.get_data())
    else:
        assert replayed.get_data() == b""
        whole = ask(plain, "GET", path, headers).get_data()
        # the page's length moves with the token's by a character or two
        assert abs(int(replayed.headers["Content-Length"]) - len(whole)) <= (4 if page else 0)


def test_the_replayed_page_carries_a_fresh_token_that_posts(
    app: Flask, site: str, app_calls: list[str]
) -> None:
    client = app.test_client()
    pages = [client.get("/w/blog?thread=post-1").get_data(as_text=True) for _ in range(4)]
    assert len(app_calls) == 2
    tokens = [TOKEN.search(page).group(1) for page in pages]  # type: ignore[union-attr]
    assert len(set(tokens)) == 4, "every reader gets a token of their own"
    from moderation.clock import utcnow

    # a token keeps its time to the millisecond, rounded: checked in the same millisecond
    # it can be a microsecond "younger" than zero; a reader posts seconds later
    later = utcnow() + timedelta(seconds=1)
    for token in tokens:
        checked = form_tokens.check(
            app.config["SECRET_KEY"], token, "blog", "post-1", later, 0, 3600
        )
        assert checked.nonce


def test_conditional_reads_are_replayed_as_304(
    app: Flask, unreplayed: Flask, site: str, app_calls: list[str]
) -> None:
    client = app.test_client()
    path = f"{FRAGMENT}/comments?thread=post-1"
    etag = client.get(path).headers["ETag"]
    conditional = {"If-None-Match": etag}
    for _ in range(2):
        ask(client, "GET", path, conditional)
    reached = len(app_calls)
    replayed = ask(client, "GET", path, conditional)
    assert len(app_calls) == reached
    assert replayed.status_code == 304 and replayed.get_data() == b""
    assert comparable(replayed) == comparable(
        ask(unreplayed.test_client(), "GET", path, conditional)
    )


@pytest.mark.parametrize(
    "path",
    [
        "/w/nowhere?thread=post-1",
        "/w/blog",
        f"{FRAGMENT}/comments",
        "/api/v1/sites/nowhere/comments?thread=post-1",
        f"{FRAGMENT}/counts",
        f"{FRAGMENT}/counts?thread=a%00b",
        f"{FRAGMENT}/form-token?thread=post-1",
        "/healthz",
    ],
)
def test_refusals_and_other_reads_always_reach_the_app(
    app: Flask, unreplayed: Flask, site: str, app_calls: list[str], path: str
) -> None:
    client = app.test_client()
    answers = [client.get(path) for _ in range(3)]
    assert len(app_calls) == 3
    plain = unreplayed.test_client().get(path)
    assert comparable(answers[-1])[0] == comparable(plain)[0]
    if b'"form_token"' not in plain.get_data():
        assert comparable(answers[-1]) == comparable(plain)


def test_a_change_in_this_process_is_read_at_once(
    app: Flask, site: str, app_calls: list[str]
) -> None:
    client = app.test_client()
    path = f"{FRAGMENT}/counts?thread=post-2"
    listing = f"{FRAGMENT}/comments?thread=post-2"
    for _ in range(3):
        assert client.get(path).get_json()["counts"] == {"post-2": 1}
        assert client.get(listing).get_json()["count"] == 1
    reached = len(app_calls)
    (held,) = seed_comments(app, 1, thread="post-2", text="A second opinion.")
    approve(app, held)
    assert client.get(path).get_json()["counts"] == {"post-2": 2}
    assert client.get(listing).get_json()["count"] == 2
    assert len(app_calls) == reached + 2


def test_caches_made_anew_keep_no_replayed_answer(
    app: Flask, site: str, app_calls: list[str]
) -> None:
    """Emptying the caches by making them anew (as bench/inprocess.py does to measure a
    render) empties what is replayed too: the new caches never repeat a generation."""
    client = app.test_client()
    path = f"{FRAGMENT}/counts?thread=post-2"
    for _ in range(3):
        client.get(path)
    reached = len(app_calls)
    init_caches(app)
    client.get(path)
    client.get(path)
    assert len(app_calls) == reached + 1


def test_readers_behind_a_proxy_share_the_replayed_answer(
    app: Flask, site: str, app_calls: list[str]
) -> None:
    """Behind nginx every reader's request carries its own X-Forwarded-For: no read
    depends on the address, so readers at different addresses get the kept answer."""
    client = app.test_client()
    path = f"{FRAGMENT}/comments?thread=post-2"
    for _ in range(3):  # the first read renders, the next is kept
        first = client.get(path, headers={"X-Forwarded-For": "203.0.113.7"})
    reached = len(app_calls)
    for last in range(8, 12):
        again = client.get(path, headers={"X-Forwarded-For": f"203.0.113.{last}"})
        assert again.get_data() == first.get_data()
    assert len(app_calls) == reached


def test_a_cookie_the_page_reads_makes_it_another_request(
    app: Flask, unreplayed: Flask, site: str, app_calls: list[str]
) -> None:
    client = app.test_client()
    for _ in range(3):
        client.get("/w/blog?thread=post-1")
    reached = len(app_calls)
    client.set_cookie("moderation_author_blog", "anything", domain="localhost")
    with_cookie = client.get("/w/blog?thread=post-1")
    assert len(app_calls) == reached + 1, "not the answer to the request without the cookie"
    plain = unreplayed.test_client()
    plain.set_cookie("moderation_author_blog", "anything", domain="localhost")
    assert comparable(with_cookie) == comparable(plain.get("/w/blog?thread=post-1"))


def test_without_staleness_every_read_reaches_the_app(
    app: Flask, site: str, app_calls: list[str]
) -> None:
    fresh = create_app(
        {
            **BASE_CONFIG,
            "DATABASE_URL": app.config["DATABASE_URL"],
            "SECRET_KEY": app.config["SECRET_KEY"],
            "PUBLIC_READ_STALENESS": 0,
        }
    )
    calls: list[int] = []
    fresh.before_request(lambda: calls.append(1))
    client = fresh.test_client()
    for _ in range(4):
        assert client.get(f"{FRAGMENT}/counts?thread=post-1").status_code == 200
        assert client.get("/w/blog?thread=post-1").status_code == 200
    assert len(calls) == 8
    with fresh.app_context():
        db.engine.dispose()


def test_replayed_reads_are_counted_and_logged_as_the_app_does(
    app: Flask, site: str, app_calls: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    client = app.test_client()

    def scrape() -> dict[Any, float]:
        answer = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        return metric_samples(answer.get_data(as_text=True))

    paths = ["/w/blog?thread=post-1", f"{FRAGMENT}/comments?thread=post-1"]
    for path in paths:
        client.get(path)
        client.get(path)
    before = scrape()
    reached = len(app_calls)
    caplog.set_level(logging.INFO, logger="moderation.requests")
    caplog.clear()
    answers = [client.get(path) for path in paths for _ in range(3)]
    assert len(app_calls) == reached, "all six replayed"
    after = scrape()

    def moved(name: str, **labels: str) -> float:
        return metric_value(after, name, **labels) - metric_value(before, name, **labels)

    for route in ("/w/<site_slug>", "/api/v1/sites/<site_slug>/comments"):
        assert moved("moderation_http_requests_total", route=route, method="GET", status="200") == 3
        assert (
            moved("moderation_http_request_duration_seconds_count", route=route, method="GET") == 3
        )
    assert moved("moderation_render_cache_lookups_total", result="hit") == 6
    lines = [r for r in caplog.records if r.getMessage() == "request"]
    fields = [r.moderation_fields for r in lines]  # type: ignore[attr-defined]
    fields = [f for f in fields if f["route"] != "/metrics"]
    assert [f["route"] for f in fields] == ["/w/<site_slug>"] * 3 + [
        "/api/v1/sites/<site_slug>/comments"
    ] * 3
    for answer, field in zip(answers, fields, strict=True):
        assert field["request_id"] == answer.headers["X-Request-ID"]
        assert field["method"] == "GET" and field["status"] == 200
        assert field["bytes"] == len(answer.get_data())
        assert isinstance(field["duration_ms"], float)
        assert set(field) == {
            "request_id",
            "pid",
            "method",
            "route",
            "status",
            "duration_ms",
            "bytes",
        }


def test_kept_answers_stay_within_the_render_cache_budget_whatever_the_headers(
    database_url: str, instance_path: Any, actions: Actions, site: str
) -> None:
    budget = 20_000
    small = create_app({**BASE_CONFIG, "DATABASE_URL": database_url, "RENDER_CACHE_BYTES": budget})
    middleware: Any = small.wsgi_app
    while not isinstance(middleware, ReplayReads):
        middleware = middleware.app
    client = small.test_client()
    for number in range(60):  # each a request of its own: a header of 1,000 characters
        headers = {"X-Padding": f"{number:04d}" + "x" * 996}
        for _ in range(2):
            assert (
                client.get(f"{FRAGMENT}/counts?thread=post-1", headers=headers).status_code == 200
            )
    # the bodies alone are 60 x 114 bytes: the keys' headers count too, up to the budget
    assert 10_000 < middleware.answers.held <= budget
    with small.app_context():
        db.engine.dispose()
