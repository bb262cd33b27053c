"""Atom feeds of published comments, per site and per thread: newest first, no email,
valid Atom as a real feed reader parses it (feedparser), linked from the widget."""

from __future__ import annotations

import re
from typing import Any

import feedparser
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import Actions, approve, seed_comments

THREAD_FEED = "/feeds/blog.atom?thread=post-1"


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"PUBLIC_URL": "https://comments.example"}


@pytest.fixture
def comments(app: Flask, actions: Actions) -> dict[str, int]:
    """On post-1: two published (the second answers the first) and one held; on post-2:
    one published, the newest of all."""
    actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
    first, held = seed_comments(app, 2)
    approve(app, first)
    (reply,) = seed_comments(
        app,
        1,
        text="A <b>reply</b> &amp; more",
        author="Ben",
        email="ben@example.com",
        url="https://ben.example",
        parent_id=first,
    )
    approve(app, reply)
    (other,) = seed_comments(
        app, 1, thread="post-2", text="On the other post", author="Cy", email="cy@example.com"
    )
    approve(app, other)
    return {"first": first, "held": held, "reply": reply, "other": other}


def parsed(client: FlaskClient, path: str) -> Any:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/atom+xml"
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "atom10"
    return feed


def test_a_thread_feed_is_valid_atom_newest_first_with_published_comments_only(
    client: FlaskClient, comments: dict[str, int]
) -> None:
    feed = parsed(client, THREAD_FEED)
    base = "https://comments.example/w/blog?thread=post-1#comment-"
    assert [entry.id for entry in feed.entries] == [
        f"{base}{comments['reply']}",
        f"{base}{comments['first']}",
    ]
    assert feed.feed.title == "Comments on post-1"
    assert feed.feed.links[0].href == "https://comments.example/feeds/blog.atom?thread=post-1"
    reply = feed.entries[0]
    assert reply.author == "Ben" and reply.author_detail.href == "https://ben.example"
    assert reply.title == "Ben on post-1"
    assert reply.content[0].value == "<p>A <b>reply</b> &amp; more</p>"
    assert reply["thr_in-reply-to"]["ref"] == f"{base}{comments['first']}"
    assert reply.published_parsed <= feed.feed.updated_parsed


def test_the_site_feed_holds_every_thread_newest_first(
    client: FlaskClient, comments: dict[str, int]
) -> None:
    feed = parsed(client, "/feeds/blog.atom")
    assert feed.feed.title == "Comments on Blog"
    assert [entry.title for entry in feed.entries] == [
        "Cy on post-2",
        "Ben on post-1",
        "Author 0 on post-1",
    ]
    times = [entry.published_parsed for entry in feed.entries]
    assert times == sorted(times, reverse=True)


def test_feeds_never_carry_an_email_or_a_held_comment(
    client: FlaskClient, comments: dict[str, int]
) -> None:
    for path in ("/feeds/blog.atom", THREAD_FEED, "/feeds/blog.atom?thread=post-2"):
        body = client.get(path).get_data(as_text=True)
        assert "@example.com" not in body
        assert "Seeded comment 1" not in body  # the held one


def test_feeds_are_cached_and_revalidated(
    app: Flask, client: FlaskClient, comments: dict[str, int]
) -> None:
    response = client.get(THREAD_FEED)
    assert response.headers["Cache-Control"] == "public, max-age=10"
    etag = response.headers["ETag"]
    assert client.get(THREAD_FEED, headers={"If-None-Match": etag}).status_code == 304
    approve(app, comments["held"])
    again = client.get(THREAD_FEED, headers={"If-None-Match": etag})
    assert again.status_code == 200
    assert "Seeded comment 1" in again.get_data(as_text=True)


def test_an_empty_feed_is_still_valid_atom(client: FlaskClient, actions: Actions) -> None:
    actions.create_site("blog", ["https://blog.example"])
    feed = parsed(client, "/feeds/blog.atom?thread=nothing-yet")
    assert feed.entries == []


@pytest.mark.parametrize(
    ("path", "status"),
    [("/feeds/nope.atom", 404), ("/feeds/blog.atom?thread=", 400), ("/feeds/blog.rss", 404)],
)
def test_bad_feed_requests_get_a_clear_answer(
    client: FlaskClient, actions: Actions, path: str, status: int
) -> None:
    actions.create_site("blog", ["https://blog.example"])
    assert client.get(path).status_code == status


def test_the_widget_and_the_fragment_link_their_feeds(
    client: FlaskClient, comments: dict[str, int]
) -> None:
    widget = client.get("/w/blog?thread=post-1").get_data(as_text=True)
    links = re.findall(
        r'<link rel="alternate" type="application/atom\+xml" title="([^"]+)" href="([^"]+)">',
        widget,
    )
    assert links == [
        ("Comments feed", "/feeds/blog.atom?thread=post-1"),
        ("Comments on Blog", "/feeds/blog.atom"),
    ]
    assert re.search(
        r'<a href="/feeds/blog.atom\?thread=post-1" type="application/atom\+xml" rel="alternate" target="_blank">Comments feed</a>',
        widget,
    )
    fragment = client.get("/w/blog/fragment?thread=post-1").get_data(as_text=True)
    assert (
        'href="https://comments.example/feeds/blog.atom?thread=post-1" type="application/atom+xml" rel="alternate">Comments feed</a>'
        in fragment
    )


def test_a_feed_speaks_the_readers_language(client: FlaskClient, comments: dict[str, int]) -> None:
    feed = parsed(client, "/feeds/blog.atom?lang=id")
    assert feed.feed.title == "Komentar di Blog"
    assert feed.feed.language == "id"
    assert feed.entries[0].title == "Cy di post-2"
