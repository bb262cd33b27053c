"""Author edits: with ``sites update SLUG --edit-minutes N`` the author edits their comment
for N minutes with the signed edit key the widget keeps; the edit goes through the rules
again (on a premoderated site a published comment waits for a moderator again), readers
see "edited", moderators see the text before."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from moderation.domain.edits import status_after_edit
from moderation.domain.rules import Outcome
from moderation.domain.status import CommentStatus
from tests.doors import ORIGIN, FormDoor
from tests.helpers import (
    Actions,
    approve,
    create_integration,
    seed_comments,
    signed_in,
    stored_comments,
)

EDIT = "/w/blog/edit?thread=post-1"
DELETE = "/w/blog/delete?thread=post-1"


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {
        "LIMIT_SUBMIT_PER_ADDRESS": "1000/minute",
        "LIMIT_SUBMIT_PER_EMAIL": "1000/minute",
        "PUBLIC_READ_STALENESS": 0,
    }


def post_and_keep_key(app: Flask, client: FlaskClient, text: str) -> tuple[int, str]:
    """Post ``text`` through the form; the comment's id and the edit key the widget got."""
    answer = FormDoor(app, client).post(comment=text)
    assert answer.status == 303, answer.text[:500]
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    [comment] = [row for row in stored_comments(app) if row["text"] == text]
    return comment["id"], query.get("edit-key", [""])[0]


def save_edit(client: FlaskClient, comment_id: int, key: str, text: str) -> TestResponse:
    return client.post(
        EDIT,
        data={"comment": text, "comment_id": str(comment_id), "key": key},
        headers={"Origin": ORIGIN},
    )


def delete_own(
    client: FlaskClient, comment_id: int, key: str, confirm: str = "yes"
) -> TestResponse:
    return client.post(
        DELETE,
        data={"comment_id": str(comment_id), "key": key, "confirm": confirm},
        headers={"Origin": ORIGIN},
    )


def public_page(client: FlaskClient) -> str:
    return client.get("/w/blog?thread=post-1").get_data(as_text=True)


def test_new_sites_give_15_minutes_and_a_site_can_turn_edits_off(
    app: Flask, client: FlaskClient, actions: Actions
) -> None:
    assert actions.create_site("nosy", [ORIGIN]).edit_minutes == 15
    actions.create_site("blog", [ORIGIN], flood_seconds=0, edit_minutes=0)
    comment_id, key = post_and_keep_key(app, client, "No edits here.")
    assert key == ""
    assert "data-edit-url" not in public_page(client)
    with app.app_context():
        from moderation.widget.edit_keys import edit_key

        forged = edit_key(comment_id)
    answer = client.get(f"{EDIT}&comment={comment_id}&key={forged}")
    assert answer.status_code == 403
    assert "This comment can no longer be edited." in answer.get_data(as_text=True)


def test_an_edit_of_a_published_comment_waits_again_on_a_premoderated_site(
    app: Flask, client: FlaskClient, actions: Actions
) -> None:
    actions.create_site("blog", [ORIGIN], flood_seconds=0, edit_minutes=15)
    comment_id, key = post_and_keep_key(app, client, "The first words.")
    assert key
    approve(app, comment_id)
    # the page after posting offers the edit; the widget keeps the key
    offer = client.get(f"/w/blog?thread=post-1&edit-key={key}").get_data(as_text=True)
    assert "You can edit your comment until" in offer and f'data-edit-key="{key}"' in offer
    form = client.get(f"{EDIT}&comment={comment_id}&key={key}").get_data(as_text=True)
    assert "The first words." in form and 'id="editform"' in form

    answer = save_edit(client, comment_id, key, "Better words, second thoughts.")
    assert answer.status_code == 303
    location = answer.headers["Location"]
    assert "unapproved=" in location and "moderation-hash=" in location
    # out of public view until a moderator approves the new text
    assert "Better words" not in public_page(client)
    assert "The first words." not in public_page(client)
    author_view = client.get(location).get_data(as_text=True)
    assert "Better words, second thoughts." in author_view
    assert "Your comment is awaiting moderation." in author_view
    assert '<span class="comment-edited">edited</span>' in author_view
    [row] = stored_comments(app)
    assert row["status"] == "pending" and row["rule"] == "premoderation"

    dashboard = signed_in(app, actions)
    detail = dashboard.page(f"/dashboard/comments/{comment_id}")
    assert "Earlier versions" in detail and "The first words." in detail
    assert "by author (approved)" in detail
    assert "edited by the author" in dashboard.page("/dashboard/audit?action=author_edit")
    approve(app, comment_id)
    page = public_page(client)
    assert "Better words, second thoughts." in page and "comment-edited" in page


def test_on_an_open_site_an_edit_stays_published_unless_a_rule_stops_it(
    app: Flask, client: FlaskClient, actions: Actions
) -> None:
    actions.create_site(
        "blog", [ORIGIN], policy="open", flood_seconds=0, edit_minutes=15, blocked_words="casino"
    )
    comment_id, key = post_and_keep_key(app, client, "Published at once.")
    assert save_edit(client, comment_id, key, "Published, then edited.").status_code == 303
    assert "Published, then edited." in public_page(client)
    assert save_edit(client, comment_id, key, "Visit my casino now.").status_code == 303
    assert "casino" not in public_page(client)
    assert stored_comments(app)[0]["status"] == "spam"


def test_edits_end_with_the_window_and_need_the_comments_own_key(
    app: Flask, client: FlaskClient, actions: Actions
) -> None:
    actions.create_site("blog", [ORIGIN], policy="open", flood_seconds=0, edit_minutes=15)
    comment_id, key = post_and_keep_key(app, client, "Mine to edit.")
    other_id, _ = post_and_keep_key(app, client, "Somebody else's.")
    # another comment with this key, or an empty text: refused, nothing changes
    answer = save_edit(client, other_id, key, "Hijacked.")
    assert answer.status_code == 403
    answer = save_edit(client, comment_id, key, "   ")
    assert answer.status_code == 422 and "Please type your comment." in answer.get_data(
        as_text=True
    )
    # a comment written 20 minutes ago is past its 15 minutes
    [old] = seed_comments(app, 1, since=datetime.now(UTC) - timedelta(minutes=20))
    with app.app_context():
        from moderation.widget.edit_keys import edit_key

        old_key = edit_key(old)
    answer = save_edit(client, old, old_key, "Too late.")
    assert answer.status_code == 403
    texts = {row["text"] for row in stored_comments(app)}
    assert {"Mine to edit.", "Somebody else's."} <= texts and "Too late." not in texts
    assert not re.search("Hijacked", public_page(client))


def test_the_author_deletes_their_comment_within_the_window(
    app: Flask, client: FlaskClient, actions: Actions
) -> None:
    actions.create_site("blog", [ORIGIN], policy="open", flood_seconds=0, edit_minutes=15)
    create_integration(app, url="http://127.0.0.1:9/hook", events=("comment.deleted",))
    comment_id, key = post_and_keep_key(app, client, "Said too much.")
    kept_id, _ = post_and_keep_key(app, client, "This one stays.")
    counts = "/api/v1/sites/blog/counts?thread=post-1"
    assert client.get(counts, headers={"Origin": ORIGIN}).get_json()["counts"]["post-1"] == 2
    # the widget offers it where it offers the edit; the edit page asks to confirm
    offer = client.get(f"/w/blog?thread=post-1&edit-key={key}").get_data(as_text=True)
    assert 'class="comment-delete-link"' in offer and 'data-delete-label="Delete"' in offer
    form = client.get(f"{EDIT}&comment={comment_id}&key={key}").get_data(as_text=True)
    assert 'id="deleteform"' in form and 'name="confirm"' in form
    unconfirmed = delete_own(client, comment_id, key, confirm="")
    assert unconfirmed.status_code == 422 and "Tick the box" in unconfirmed.get_data(as_text=True)
    assert "Said too much." in public_page(client)

    answer = delete_own(client, comment_id, key)
    assert answer.status_code == 303
    assert "Said too much." not in public_page(client)
    assert "This one stays." in public_page(client)
    listed = client.get("/api/v1/sites/blog/comments?thread=post-1", headers={"Origin": ORIGIN})
    assert [row["id"] for row in listed.get_json()["comments"]] == [kept_id]
    assert client.get(counts, headers={"Origin": ORIGIN}).get_json()["counts"]["post-1"] == 1
    statuses = {row["id"]: row["status"] for row in stored_comments(app)}
    assert statuses == {comment_id: "deleted", kept_id: "approved"}
    # audited as the visitor's, announced as a moderator's delete would be
    from sqlalchemy import select

    from moderation.extensions import db
    from moderation.models import AuditEvent, OutboxDelivery

    with app.app_context():
        [audit] = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "delete")
        ).scalars()
        assert (audit.actor_type, audit.comment_id) == ("visitor", comment_id)
        [event] = db.session.execute(
            select(OutboxDelivery).where(OutboxDelivery.event_type == "comment.deleted")
        ).scalars()
        data = event.payload["data"]
        assert (data["id"], data["status"]) == (comment_id, "deleted")
        assert data["decision"]["actor"]["kind"] == "visitor"
    # once deleted, the key opens nothing
    assert delete_own(client, comment_id, key).status_code == 403


def test_deletes_end_with_the_window_and_need_the_comments_own_key(
    app: Flask, client: FlaskClient, actions: Actions
) -> None:
    actions.create_site("blog", [ORIGIN], policy="open", flood_seconds=0, edit_minutes=15)
    comment_id, key = post_and_keep_key(app, client, "Mine.")
    other_id, _ = post_and_keep_key(app, client, "Somebody else's, kept.")
    answer = delete_own(client, other_id, key)
    assert answer.status_code == 403
    assert "This comment can no longer be edited." in answer.get_data(as_text=True)
    assert delete_own(client, comment_id, "forged" + key).status_code == 403
    [old] = seed_comments(app, 1, since=datetime.now(UTC) - timedelta(minutes=20))
    with app.app_context():
        from moderation.widget.edit_keys import edit_key

        old_key = edit_key(old)
    assert delete_own(client, old, old_key).status_code == 403
    assert {row["status"] for row in stored_comments(app)} == {"approved"}


@pytest.mark.any_database
@pytest.mark.parametrize(
    ("before", "outcome", "after"),
    [
        (CommentStatus.APPROVED, Outcome.PUBLISH, CommentStatus.APPROVED),
        (CommentStatus.APPROVED, Outcome.HOLD, CommentStatus.PENDING),
        (CommentStatus.APPROVED, Outcome.SPAM, CommentStatus.SPAM),
        (CommentStatus.PENDING, Outcome.PUBLISH, CommentStatus.PENDING),  # never promoted
        (CommentStatus.PENDING, Outcome.SPAM, CommentStatus.SPAM),
        (CommentStatus.REJECTED, Outcome.PUBLISH, CommentStatus.REJECTED),
        (CommentStatus.SPAM, Outcome.PUBLISH, CommentStatus.SPAM),
    ],
)
def test_where_an_edited_comment_stands(
    before: CommentStatus, outcome: Outcome, after: CommentStatus
) -> None:
    assert status_after_edit(before, outcome) is after
