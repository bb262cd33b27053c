"""The order of comments: oldest first by default (as WordPress), newest first when the
site says so (``sites update SLUG --sort newest``); the reader switches with a ``?sort=``
link that works without JavaScript and follows them through the widget's links."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from tests.helpers import Actions, approve, approve_all, seed_comments

WIDGET = "/w/blog?thread=post-1"


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"PUBLIC_READ_STALENESS": 0}


@pytest.fixture
def thread(app: Flask, actions: Actions) -> list[int]:
    """Three top-level comments, a second apart, and a reply to the first (written last)."""
    actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
    ids = seed_comments(app, 3)
    approve_all(app, ids)
    later = datetime.now(UTC) - timedelta(minutes=30)
    [reply] = seed_comments(app, 1, since=later, text="A reply to the first.", parent_id=ids[0])
    approve(app, reply)
    return [*ids, reply]


def shown_order(client: FlaskClient, path: str = WIDGET) -> list[int]:
    page = client.get(path).get_data(as_text=True)
    return [int(found) for found in re.findall(r'<li id="comment-(\d+)"', page)]


def test_oldest_first_by_default_and_newest_first_when_the_site_says(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, thread: list[int]
) -> None:
    first, second, third, reply = thread
    # replies stay under the comment they answer, in the order written
    assert shown_order(client) == [first, reply, second, third]
    page = client.get(WIDGET).get_data(as_text=True)
    assert '<span class="order-current" aria-current="true">Oldest first</span>' in page
    assert re.search(r'<a href="[^"]*sort=newest[^"]*"[^>]*>Newest first</a>', page)

    result = runner.invoke(args=["sites", "update", "blog", "--sort", "newest"])
    assert result.exit_code == 0, result.output
    assert shown_order(client) == [third, second, first, reply]
    listing = client.get("/api/v1/sites/blog/comments?thread=post-1").get_json()
    assert [comment["id"] for comment in listing["comments"]] == [third, second, first, reply]


def test_the_readers_choice_overrides_the_site_and_follows_their_links(
    client: FlaskClient, thread: list[int]
) -> None:
    first, second, third, reply = thread
    assert shown_order(client, WIDGET + "&sort=newest") == [third, second, first, reply]
    page = client.get(WIDGET + "&sort=newest").get_data(as_text=True)
    # reply links and the form keep the reader's order
    reply_link = re.search(r'class="comment-reply-link" href="([^"]+)"', page)
    assert reply_link and "sort=newest" in reply_link.group(1)
    action = re.search(r'<form action="([^"]+)"', page)
    assert action and "sort=newest" in action.group(1)
    # anything else is the site's order, never an error
    assert shown_order(client, WIDGET + "&sort=sideways") == [first, reply, second, third]


def test_pages_of_newest_first_lead_to_older_comments(
    app: Flask, client: FlaskClient, actions: Actions
) -> None:
    actions.create_site("blog", ["https://blog.example"], page_size=5, sort="newest")
    ids = seed_comments(app, 6)
    approve_all(app, ids)
    assert shown_order(client) == ids[::-1][:5]
    page = client.get(WIDGET).get_data(as_text=True)
    older = re.search(r'<a class="next" href="([^"]+)">Older comments</a>', page)
    assert older, page
    assert shown_order(client, older.group(1).replace("&amp;", "&")) == [ids[0]]


def test_an_unknown_order_is_refused_by_the_command(
    runner: FlaskCliRunner, actions: Actions
) -> None:
    actions.create_site("blog", ["https://blog.example"])
    result = runner.invoke(args=["sites", "update", "blog", "--sort", "random"])
    assert result.exit_code != 0
    assert "'random' is not one of 'oldest', 'newest'" in result.output
