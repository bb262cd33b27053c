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

from moderation.domain.status import ModerationAction
from moderation.services.decisions import moderate
from moderation.services.events import Actor
from tests.helpers import Actions, aged_token, approve, comment_fields, stored_comments

ORIGIN = "https://blog.example"
AVATAR = re.compile(r'<img class="avatar" src="/avatar/([0-9a-f]{32})\.svg"')


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    """Room for many posts from one test client; the limits have their own tests."""
    return {
        "LIMIT_SUBMIT_PER_ADDRESS": "1000/minute",
        "LIMIT_SUBMIT_PER_EMAIL": "1000/minute",
        # every read sees the database as it is: nothing passes for a moment-old state
        "PUBLIC_READ_STALENESS": 0,
    }


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


def decide(app: Flask, comment_id: int, action: str) -> None:
    """A moderator's decision, through the service layer."""
    with app.app_context():
        moderate(comment_id, ModerationAction(action), Actor("moderator", "1", "tester"))


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


# ------------------------------------------------------------------- held comments, ETags

FORM_TOKEN = re.compile(r'(name="form_token" value=")[^"]*(")')


def public_answers(client: FlaskClient, thread: str, site: str = "blog") -> dict[str, object]:
    """Everything the public surfaces answer about ``thread``: the JSON listing (status,
    ETag, caching, body, and a revalidation), the widget page (its form token blanked: it
    is fresh for every reader) and the counts."""
    listing = client.get(f"/api/v1/sites/{site}/comments?thread={thread}")
    page = client.get(f"/w/{site}?thread={thread}")
    counts = client.get(f"/api/v1/sites/{site}/counts?thread={thread}")
    return {
        "listing": (
            listing.status_code,
            listing.headers.get("ETag"),
            listing.headers.get("Cache-Control"),
            listing.get_data(as_text=True),
        ),
        "page": (
            page.status_code,
            sorted(
                (name, value)
                for name, value in page.headers.items()
                if name not in ("Content-Length", "X-Request-ID")  # the id is per request
            ),
            FORM_TOKEN.sub(r"\1\2", page.get_data(as_text=True)),
        ),
        "counts": (counts.status_code, counts.get_data(as_text=True)),
    }


def test_a_thread_whose_comments_are_all_held_answers_as_one_that_does_not_exist(
    client: FlaskClient, app: Flask, actions: Actions, sites: list[str]
) -> None:
    """A pending first comment used to create the thread and put its global id into the
    ETag (``W/"1-50-5-0-0-1"`` became ``W/"1-50-5-1-0-1"``). Now every public answer about
    the thread -- the JSON listing and its ETag, the widget page and its headers, the
    counts -- stays byte for byte what it was, whatever is held there: pending, spam,
    rejected or deleted comments, and activity on other sites."""
    before = public_answers(client, "post-1")
    etag = before["listing"][1]  # type: ignore[index]
    never = public_answers(client, "never-commented")

    post(client, app, "blog", "post-1", comment="Pending, for a moderator")
    post(client, app, "blog", "post-1", comment="Spam", contact_phone="555")
    for status, comment in (("reject", "Rejected"), ("delete", "Deleted")):
        post(client, app, "blog", "post-1", comment=comment)
        decide(app, stored_comments(app)[-1]["id"], status)
    published(client, app, "news", "post-1", comment="On another site")
    assert {row["status"] for row in stored_comments(app)} == {
        "pending",
        "spam",
        "rejected",
        "deleted",
        "approved",
    }

    assert public_answers(client, "post-1") == before
    revalidated = client.get(
        "/api/v1/sites/blog/comments?thread=post-1", headers={"If-None-Match": str(etag)}
    )
    assert revalidated.status_code == 304
    # and exactly as a thread nobody ever wrote on, but for its name
    renamed = {
        name: repr(answer).replace("never-commented", "post-1") for name, answer in never.items()
    }
    assert renamed == {name: repr(answer) for name, answer in before.items()}


def test_etags_carry_no_ids_and_move_only_with_public_changes(
    client: FlaskClient, app: Flask, sites: list[str]
) -> None:
    """Ids are global: an ETag that carried them told one site about the activity of every
    other. Two threads with the same public state have the same opaque ETag, however many
    threads other sites created in between; publishing a comment changes it."""
    for number in range(3):
        post(client, app, "blog", f"held-{number}", comment="Held elsewhere")
    published(client, app, "news", "first", comment="One")
    for number in range(3):
        post(client, app, "blog", f"held-more-{number}", comment="Held elsewhere")
    published(client, app, "news", "second", comment="One")

    def etag(thread: str) -> str:
        return str(client.get(f"/api/v1/sites/news/comments?thread={thread}").headers["ETag"])

    assert etag("first") == etag("second")
    assert re.fullmatch(r'W/"[0-9a-f]{32}"', etag("first"))
    untouched = etag("first")
    published(client, app, "news", "first", comment="Two")
    assert etag("first") != untouched


# ------------------------------------------------------------------------------ previews

PREVIEW_BLOCK = re.compile(r'<ol class="comment-list comment-preview-list">.*?</ol>', re.S)


def preview_of(page: str, comment_id: int, text: str) -> str:
    """The preview block of ``page``, with what differs between two comments made alike."""
    [block] = PREVIEW_BLOCK.findall(page)
    block = block.replace(f'id="comment-{comment_id}"', "ID").replace(text, "TEXT")
    block = block.replace(f'href="#comment-{comment_id}"', "HREF")
    block = re.sub(r'data-preview-key="[^"]*"', "KEY", block)
    return re.sub(r"<time [^>]*>[^<]*</time>", "<time>", block)


def test_preview_links_follow_what_the_author_may_know(
    client: FlaskClient, app: Flask, sites: list[str]
) -> None:
    """What an author's preview link shows after a decision, and why:

    * pending, spam (by a rule, silently, or by a moderator) and rejected: "awaiting
      moderation", exactly alike. The author was told their comment awaits moderation; a
      preview that changed with the decision would tell a spammer that a rule or a moderator
      caught them, and which one (so spam is answered as pending everywhere);
    * approved: no preview, the comment is in the list, where every reader sees it;
    * deleted: no preview, the page answers exactly as a forged or expired link does. Deleting
      is how moderators make a comment's text go (someone else's personal data, say): a
      bearer link, perhaps shared, must stop showing it. The link's holder learns that one
      bit; a moderator who wants to tell nothing rejects instead.
    """
    links: dict[str, tuple[int, str, str]] = {}
    for case in ("pending", "rule spam", "spam", "reject", "approve", "delete"):
        text = f"My words, then {case}"
        fields = {"contact_phone": "555-0100"} if case == "rule spam" else {}
        answer = post(client, app, "blog", "post-1", comment=text, **fields)
        assert answer.status_code == 303
        comment_id = stored_comments(app)[-1]["id"]
        if case not in ("pending", "rule spam"):
            decide(app, comment_id, case)
        links[case] = (comment_id, text, answer.headers["Location"])
    assert [row["status"] for row in stored_comments(app)] == [
        "pending",
        "spam",
        "spam",
        "rejected",
        "approved",
        "deleted",
    ]

    pages = {case: client.get(link) for case, (_, _, link) in links.items()}
    shown = {}
    for case in ("pending", "rule spam", "spam", "reject"):
        comment_id, text, _ = links[case]
        page = pages[case].get_data(as_text=True)
        assert "Your comment is awaiting moderation." in page, case
        assert text in page, case
        assert pages[case].headers["Cache-Control"] == "no-store", case
        shown[case] = preview_of(page, comment_id, text)
    assert len(set(shown.values())) == 1, shown

    approved_page = pages["approve"].get_data(as_text=True)
    assert "awaiting moderation" not in approved_page
    assert approved_page.count(links["approve"][1]) == 1  # in the list, once

    _, deleted_text, deleted_link = links["delete"]
    forged = client.get(re.sub(r"moderation-hash=[^#&]+", "moderation-hash=forged", deleted_link))
    deleted = pages["delete"]
    assert deleted_text not in deleted.get_data(as_text=True)
    assert (deleted.status_code, deleted.headers["Cache-Control"]) == (
        forged.status_code,
        forged.headers["Cache-Control"],
    )
    assert FORM_TOKEN.sub("", deleted.get_data(as_text=True)) == FORM_TOKEN.sub(
        "", forged.get_data(as_text=True)
    )
