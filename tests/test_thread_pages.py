"""A thread's pages read only the page's comments: top-level comments page by page, each
with every reply under it, in either order; a reply whose parent is no longer public is
shown at the top level, in its own place."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from moderation.clock import utcnow
from moderation.domain.status import ModerationAction
from moderation.services.decisions import moderate
from moderation.services.events import Actor
from tests.helpers import Actions, approve, seed_comments

LISTING = "/api/v1/sites/blog/comments?thread=post-1"


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    """One author posts the whole tree."""
    return {"LIMIT_SUBMIT_PER_ADDRESS": "100/minute", "LIMIT_SUBMIT_PER_EMAIL": "100/minute"}


@pytest.fixture
def tree(app: Flask, actions: Actions) -> dict[str, int]:
    """F1-F4, A, B, A1 (to A), C, A1a (to A1), E, E1 (to E), D, B1 (to B), a second apart,
    all approved; then E is rejected: E1 stands at the top level. Five top-level a page."""
    actions.create_site("blog", ["https://blog.example"], page_size=5, flood_seconds=0)
    start = utcnow() - timedelta(hours=1)
    plan = [
        *((f"F{number}", None) for number in range(1, 5)),
        ("A", None),
        ("B", None),
        ("A1", "A"),
        ("C", None),
        ("A1a", "A1"),
        ("E", None),
        ("E1", "E"),
        ("D", None),
        ("B1", "B"),
    ]
    ids: dict[str, int] = {}
    for number, (name, parent) in enumerate(plan):
        parent_id = ids[parent] if parent else None
        (ids[name],) = seed_comments(
            app, 1, since=start + timedelta(seconds=number), parent_id=parent_id, text=name
        )
        approve(app, ids[name])
    with app.app_context():
        moderate(ids["E"], ModerationAction.REJECT, Actor("moderator", "1", "tester"))
    return ids


def page(client: FlaskClient, number: int) -> list[tuple[int, int | None]]:
    body = client.get(f"{LISTING}&page={number}").get_json()
    assert body["count"] == 12 and body["pages"] == 2, body
    return [(comment["id"], comment["parent"]) for comment in body["comments"]]


def test_pages_hold_their_top_level_comments_with_every_reply(
    client: FlaskClient, tree: dict[str, int]
) -> None:
    a, b, a1 = tree["A"], tree["B"], tree["A1"]
    fillers = [(tree[f"F{number}"], None) for number in range(1, 5)]
    assert page(client, 1) == [*fillers, (a, None), (a1, a), (tree["A1a"], a1)]
    later = [(b, None), (tree["B1"], b), (tree["C"], None), (tree["E1"], None)]
    assert page(client, 2) == [*later, (tree["D"], None)]
    assert page(client, 9) == page(client, 2), "pages past the end show the last"


def test_newest_first_pages_the_top_level_from_the_end(
    app: Flask, client: FlaskClient, tree: dict[str, int]
) -> None:
    from moderation.services import sites

    with app.app_context():
        sites.update_site("blog", sites.SiteSettings(sort="newest"))
    a, b, a1 = tree["A"], tree["B"], tree["A1"]
    latest = [(tree["D"], None), (tree["E1"], None), (tree["C"], None), (b, None)]
    assert page(client, 1) == [*latest, (tree["B1"], b), (a, None), (a1, a), (tree["A1a"], a1)]
    assert page(client, 2) == [(tree[f"F{number}"], None) for number in range(4, 0, -1)]
