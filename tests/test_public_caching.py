"""The public read caches cannot be churned by query-string variations.

Every distinct ``?origin=`` and every ``?cpage=``/``?page=`` up to a million used to make its
own cache entry (and a fresh render with its database reads), so anyone could push the
popular pages out of the render cache and make every read a miss; and the cache of thread
states was emptied whole when it reached 4,096 keys. Now origins that are not the site's
collapse to one entry, page numbers past the last page collapse to one, and the state cache
drops its least recently used entry instead of everything.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from moderation.cache import TimedCache
from moderation.extensions import db
from tests.helpers import Actions, approve_all, seed_comments

ORIGIN = "https://blog.example"
PAGE = "/w/blog?thread=post-1"
LISTING = "/api/v1/sites/blog/comments?thread=post-1"


@pytest.fixture
def site(app: Flask, actions: Actions) -> str:
    """Seven approved comments, five a page: two pages."""
    actions.create_site("blog", [ORIGIN], page_size=5)
    approve_all(app, seed_comments(app, 7))
    return "blog"


@pytest.fixture
def comment_reads(app: Flask) -> Iterator[list[str]]:
    """The statements that read comments, from now on (a cache miss renders from them)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM comments" in statement:
            seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_unknown_origins_and_pages_past_the_end_share_one_cached_render(
    client: FlaskClient, site: str, comment_reads: list[str]
) -> None:
    warm = [PAGE, f"{PAGE}&cpage=2", f"{PAGE}&origin={ORIGIN}", LISTING, f"{LISTING}&page=2"]
    for path in warm:
        assert client.get(path).status_code == 200
    comment_reads.clear()

    for number in range(20):
        page = client.get(f"{PAGE}&origin=https://churn{number}.example").get_data(as_text=True)
        assert f"churn{number}" not in page, "an origin that is not the site's is ignored"
        assert 'data-parent-origin=""' in page
    for number in range(3, 30):
        page = client.get(f"{PAGE}&cpage={number}").get_data(as_text=True)
        assert "Page 2 of 2" in page
        assert client.get(f"{LISTING}&page={number}").get_json()["page"] == 2
    assert client.get(f"{PAGE}&cpage=999999").status_code == 200
    assert comment_reads == [], "every variation was served from the cached renders"

    # the site's own origin still reaches the page (the widget reports its height to it)
    embedded = client.get(f"{PAGE}&origin={ORIGIN}").get_data(as_text=True)
    assert f'data-parent-origin="{ORIGIN}"' in embedded


def test_a_full_state_cache_evicts_one_entry_not_all() -> None:
    """Asked for 10,000 different keys, a cache of 100 keeps at most 100 entries and never
    forgets the key read in between (the thread a reader is on); it used to clear itself."""
    cache: TimedCache[str] = TimedCache(seconds=60, max_entries=100)
    loads: list[str] = []

    def load(key: str) -> str:
        loads.append(key)
        return key

    cache.get("popular", lambda: load("popular"))
    for number in range(10_000):
        cache.get(f"churn-{number}", lambda n=number: load(f"churn-{n}"))  # type: ignore[misc]
        if number % 50 == 0:
            assert cache.get("popular", lambda: load("popular")) == "popular"
    assert loads.count("popular") == 1
    assert len(cache) == 100


def test_repeated_public_reads_ask_the_database_nothing(
    app: Flask, client: FlaskClient, site: str
) -> None:
    """Within the staleness bound, the standalone widget page (which names its post), the
    JSON listing and the counts are answered from the process's caches: no statement at
    all, not even the post's title."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    app.config["PUBLIC_READ_STALENESS"] = 60.0
    from moderation import cache

    cache.init_app(app)  # the state cache takes the longer staleness
    reads = [PAGE, LISTING, "/api/v1/sites/blog/counts?thread=post-1&thread=post-2"]
    for path in reads:
        assert client.get(path).status_code == 200
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        for _ in range(3):
            for path in reads:
                assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert statements == []


@pytest.mark.any_database
def test_query_parameters_answer_missing_names_without_raising() -> None:
    from moderation.web.requests import Parameters

    params = Parameters([("page", "2"), ("thread", "a"), ("thread", "b")])
    assert params.get("thread") == "a"
    assert params.get("page", type=int) == 2
    assert params.get("theme") is None
    assert params.get("theme", "light") == "light"
    assert params.get("thread", type=int) is None
    assert params.getlist("thread") == ["a", "b"]
