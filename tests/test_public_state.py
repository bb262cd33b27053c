"""What the public surfaces may tell about comments nobody has published: nothing.

The author's preview, avatars, ETags, the widget page, the JSON listing and the counts answer
from public state only, so they confirm no guessed email, reveal no held comment and follow a
moderator's decision only as far as a reader may know it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.helpers import Actions, aged_token, approve, comment_fields, stored_comments

ORIGIN = "https://blog.example"
AVATAR = re.compile(r'<img class="avatar" src="/avatar/([0-9a-f]{32})\.svg"')


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    """Room for many posts from one test client; the limits have their own tests."""
    return {"LIMIT_SUBMIT_PER_ADDRESS": "1000/minute", "LIMIT_SUBMIT_PER_EMAIL": "1000/minute"}


@pytest.fixture
def sites(actions: Actions) -> list[str]:
    actions.create_site("blog", [ORIGIN], flood_seconds=0)
    actions.create_site("news", [ORIGIN], flood_seconds=0)
    return ["blog", "news"]


def post(
    client: FlaskClient, app: Flask, site: str = "blog", thread: str = "post-1", **fields: str
) -> TestResponse:
    """The widget's form post, as a browser on the site's page sends it."""
    data = {**comment_fields(**fields), "form_token": aged_token(app, site, thread)}
    return client.post(f"/w/{site}?thread={thread}", data=data, headers={"Origin": ORIGIN})


def published(client: FlaskClient, app: Flask, site: str, thread: str, **fields: str) -> int:
    """Post and approve a comment; its id."""
    assert post(client, app, site, thread, **fields).status_code == 303
    comment_id = stored_comments(app)[-1]["id"]
    approve(app, comment_id)
    return int(comment_id)


def avatars(html: str) -> list[str]:
    return AVATAR.findall(html)


# ------------------------------------------------------------------------------- avatars


def test_the_preview_avatar_confirms_no_guessed_email(
    client: FlaskClient, app: Flask, sites: list[str]
) -> None:
    """Someone who wants to know whether bob@ commented here submits a comment as bob@ and
    compares the avatar of their preview with the avatars on the page. The preview shows a
    blank placeholder instead, the same for every address.

    Why not the avatar the comment will have once published? On a site it must equal the
    avatar of bob@'s published comments there (that is what an avatar is for), so showing it
    before a moderator publishes the comment answers the guess with one submission and no
    one's consent. Once published, the match is public and was a moderator's choice.

    And avatars are scoped per site: bob@'s comments on two sites have different avatars, so
    no page tells that the person who wrote on one also wrote on the other."""
    published(client, app, "blog", "post-1", email="bob@example.com", comment="Hi")
    published(client, app, "news", "post-1", email="bob@example.com", comment="Hi")
    [blog_avatar] = avatars(client.get("/w/blog?thread=post-1").get_data(as_text=True))
    [news_avatar] = avatars(client.get("/w/news?thread=post-1").get_data(as_text=True))
    assert blog_avatar != news_avatar, "the same person has one avatar per site"
    listed = client.get("/api/v1/sites/blog/comments?thread=post-1").get_json()
    assert [c["avatar"] for c in listed["comments"]] == [blog_avatar]

    previews = {}
    for guess in ("bob@example.com", "nobody-ever@example.com"):
        answer = post(client, app, "blog", "post-2", email=guess, comment=f"Am I {guess}?")
        assert answer.status_code == 303
        page = client.get(answer.headers["Location"]).get_data(as_text=True)
        assert "Your comment is awaiting moderation." in page
        [previews[guess]] = avatars(page)
    assert previews["bob@example.com"] not in (blog_avatar, news_avatar)
    assert previews["bob@example.com"] == previews["nobody-ever@example.com"]
