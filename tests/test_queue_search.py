"""The queue's search and filters: the same results on SQLite and PostgreSQL (each run is
compared with one reference written in Python), found through each database's own index,
and kept in step with edits and purges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from moderation.domain.status import CommentStatus, ModerationAction
from moderation.extensions import db
from moderation.services import queue
from moderation.services.decisions import edit_text, moderate, purge_deleted
from moderation.services.events import SYSTEM
from tests.helpers import Actions, seed_comments, stored_comments

#: (text, author, email, url): mixed case, accents, quotes, LIKE wildcards.
COMMENTS = [
    (
        "Great article about Python packaging",
        "Ann Example",
        "ann@example.com",
        "https://ann.example.org/blog",
    ),
    ("I disagree: PYTHON is slow", "Bob Müller", "bob@mail.example", ""),
    ("Ünïcode café crème, naïve", "Chloé", "chloe@café.example", "http://www.cafe.example"),
    ("100% agree, 50_50 odds", "Dan", "dan@example.com", "https://dan.example:8080/x"),
    ('He said "hello" and left', "Eve O'Neil", "eve@evil.example", "https://evil.example"),
    ("short", "Xi", "xi@example.net", ""),
]

SEARCHES = [
    "python",
    "PYTHON",
    "pyth",
    "example.com",
    "ann@",
    "müller",
    "MÜLLER",
    "café",
    "crème",
    "100%",
    "50_50",
    "%",
    "_",
    '"hello"',
    "o'neil",
    "xi",
    "x",
    "nothing matches this",
    "art",
    "Great article about Python packaging",
]


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"LIMIT_SUBMIT_PER_SITE": "100000/hour", "LIMIT_SUBMIT_PER_ADDRESS": "100000/hour"}


@pytest.fixture
def seeded(app: Flask, actions: Actions) -> list[int]:
    actions.create_site("blog", flood_seconds=0)
    ids = []
    for number, (body, author, email, url) in enumerate(COMMENTS):
        ids += seed_comments(
            app, 1, site="blog", thread=f"t{number}", text=body, author=author, email=email, url=url
        )
    return ids


def found(app: Flask, **criteria: Any) -> set[int]:
    with app.app_context():
        criteria.setdefault("status", None)
        page = queue.queue_page(queue.QueueFilter(**criteria), size=100)
        return {comment.id for comment in page.comments}


def reference(app: Flask, term: str) -> set[int]:
    """What a search must find: the term anywhere in text, author or email, in any case."""
    wanted = term.casefold()
    return {
        row["id"]
        for row in stored_comments(app)
        if any(wanted in row[field].casefold() for field in ("text", "author", "email"))
    }


@pytest.mark.parametrize("term", SEARCHES)
def test_search_finds_what_the_reference_finds(app: Flask, seeded: list[int], term: str) -> None:
    assert found(app, search=term) == reference(app, term)


def test_searches_are_not_all_empty(app: Flask, seeded: list[int]) -> None:
    # the comparison above means something: most searches find something, one finds all
    assert sum(1 for term in SEARCHES if reference(app, term)) >= 15
    assert found(app, search="e") == set(seeded)


def test_search_follows_edits_and_purges(app: Flask, seeded: list[int]) -> None:
    with app.app_context():
        edit_text(seeded[0], "Rewritten about Rust instead", SYSTEM)
    assert found(app, search="packaging") == set()
    assert found(app, search="rust instead") == {seeded[0]}
    with app.app_context():
        moderate(seeded[0], ModerationAction.DELETE, SYSTEM)
        purge_deleted(timedelta(0), SYSTEM, now=datetime.now(UTC) + timedelta(seconds=5))
    assert found(app, search="rust instead") == set()


def test_search_uses_the_databases_index(app: Flask, seeded: list[int]) -> None:
    with app.app_context():
        statement = queue._filtered(queue.QueueFilter(status=None, search="python"))
        compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
        if db.engine.dialect.name == "sqlite":
            plan = db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
            assert any("VIRTUAL TABLE INDEX" in str(row) for row in plan), plan
        else:
            db.session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = db.session.execute(text(f"EXPLAIN {compiled}")).all()
            assert any("ix_comments_trgm_text" in str(row) for row in plan), plan
        db.session.rollback()


def test_website_filter_uses_its_index(app: Flask, seeded: list[int]) -> None:
    with app.app_context():
        statement = queue._filtered(queue.QueueFilter(status=None, website="example.org"))
        compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
        explain = "EXPLAIN QUERY PLAN"
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("SET LOCAL enable_seqscan = off"))
            explain = "EXPLAIN"
        plan = db.session.execute(text(f"{explain} {compiled}"))
        assert any("ix_comments_website_key" in str(row) for row in plan.all())
        db.session.rollback()


@pytest.mark.any_database
@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("https://www.Example.com:8080/x?y#z", "com.example.www."),
        ("example.com", "com.example."),
        ("", ""),
        ("https://", ""),
        ("http://bad host", "bad host."),
    ],
)
def test_website_keys_reverse_the_host(address: str, key: str) -> None:
    from moderation.domain.websites import website_key, website_range

    assert website_key(address) == key
    if key:
        low, high = website_range(address) or ("", "")
        assert low <= website_key(f"shop.{host_part(address)}") < high
        assert not low <= website_key(f"bad{host_part(address)}") < high


def host_part(address: str) -> str:
    from moderation.domain.websites import host_of

    return host_of(address)


def test_filters_by_email_website_ip_rule_and_dates(app: Flask, seeded: list[int]) -> None:
    assert found(app, email="ANN@example.com") == {seeded[0]}
    assert found(app, email="ann@") == set()  # exact, not a substring
    assert found(app, website="example.org") == {seeded[0]}  # subdomains belong to it
    assert found(app, website="ann.example.org") == {seeded[0]}
    assert found(app, website="cafe.example") == {seeded[2]}  # www. too
    assert found(app, website="dan.example") == {seeded[3]}  # with a port
    assert found(app, website="evil.example") == {seeded[4]}
    assert found(app, website="vil.example") == set()  # a whole label, not a suffix
    # seed_comments uses 10.0.N.1 for the Nth comment of a call: each call starts at 0
    assert found(app, ip="10.0.0.77") == set(seeded)
    assert found(app, ip="10.0.0.0/24") == set(seeded)
    assert found(app, ip="10.9.9.9") == set()
    assert found(app, ip="not an address") == set()
    assert found(app, rule="premoderation") == set(seeded)
    assert found(app, rule="too_many_links") == set()
    with app.app_context():
        moderate(seeded[1], ModerationAction.APPROVE, SYSTEM)
    now = datetime.now(UTC)
    assert found(app, since=now - timedelta(days=1), until=now + timedelta(days=1)) == set(seeded)
    assert found(app, since=now + timedelta(days=1)) == set()
    assert found(app, until=now - timedelta(days=1)) == set()
    combined = found(app, search="python", email="bob@mail.example", rule="premoderation")
    assert combined == {seeded[1]}
    assert found(app, search="python", status=CommentStatus.APPROVED) == {seeded[1]}


def test_the_dashboard_keeps_filters_in_the_url(
    app: Flask, client: Any, actions: Actions, seeded: list[int]
) -> None:
    from tests.helpers import sign_in

    actions.create_moderator("alice", "admin")
    sign_in(client, "alice")
    url = "/dashboard/?status=all&q=python&email=bob%40mail.example&from=2000-01-01&to=2999-12-31"
    html = client.get(url).get_data(as_text=True)
    assert f'id="entry-{seeded[1]}"' in html and f'id="entry-{seeded[0]}"' not in html
    assert "Link to this filter" in html
    assert 'name="from" value="2000-01-01"' in html
    assert 'name="email" value="bob@mail.example"' in html


def every_page(app: Flask, queue_filter: queue.QueueFilter, size: int = 3) -> list[list[int]]:
    """The ids of every page of a filter, following the cursors."""
    pages: list[list[int]] = []
    with app.app_context():
        cursor = None
        while True:
            page = queue.queue_page(queue_filter, cursor, size=size)
            pages.append([comment.id for comment in page.comments])
            if page.next_cursor is None:
                return pages
            cursor = page.next_cursor


def test_newest_first_searches_page_the_same_from_the_newest_comments(
    app: Flask, actions: Actions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite looks for a search's page among the newest comments first (windows of 1,000
    and 40,000 by default; 2 and 5 here): the pages are those of the one query over every
    match, even when ids do not follow time (an imported old comment, a late id)."""
    actions.create_site("blog", flood_seconds=0)
    texts = ["python tips", "rust notes", "more python", "python again", "go", "python!"] * 3
    ids = [
        seed_comments(app, 1, thread=f"t{n % 4}", text=f"{body} {n}", email=f"p{n}@example.org")[0]
        for n, body in enumerate(texts)
    ]
    with app.app_context():  # the newest ids came first: one is the oldest, one a day old
        moved = text("UPDATE comments SET created_at = :moment WHERE id = :id")
        db.session.execute(moved, {"moment": datetime.now(UTC) - timedelta(days=9), "id": ids[-1]})
        db.session.execute(moved, {"moment": datetime.now(UTC) - timedelta(days=1), "id": ids[-3]})
        moderate(ids[2], ModerationAction.APPROVE, SYSTEM)
        db.session.commit()
    filters = [
        queue.QueueFilter(status=None, search="python"),
        queue.QueueFilter(search="python"),
        queue.QueueFilter(status=None, search="python again"),
        queue.QueueFilter(status=None, search="nothing like it"),
        queue.QueueFilter(status=CommentStatus.APPROVED, search="python"),
    ]
    monkeypatch.setattr(queue, "WINDOWS", ())  # the one query over every match
    expected = [every_page(app, one) for one in filters]
    monkeypatch.setattr(queue, "WINDOWS", (2, 5))
    assert [every_page(app, one) for one in filters] == expected
    assert sum(len(page) for page in expected[0]) == 12 and len(expected[0]) == 4
    with app.app_context():
        if db.engine.dialect.name == "sqlite":  # a window answered the first page
            assert queue._recent_matches_first(filters[0], None, 1) is not None
