"""What a new moderator hit, over HTTP: mistakes in words beside their field, one Restore,
sentences with plurals, confirmations, an In-reply-to excerpt without tags, the audit
log's action select, display names on replies and changing one's own password."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from tests.helpers import PASSWORD, Actions, approve, seed_comments, sign_in, stored_comments


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"LIMIT_SUBMIT_PER_SITE": "100000/hour", "LIMIT_SUBMIT_PER_ADDRESS": "100000/hour"}


@pytest.fixture
def admin(client: FlaskClient, actions: Actions) -> str:
    actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
    actions.create_moderator("alice", "admin")
    return sign_in(client, "alice")


def field_error(html: str, field_id: str) -> str:
    """The error shown beside the field ``field_id`` (its aria-describedby target)."""
    match = re.search(rf'<span class="field-error" id="{field_id}-error"[^>]*>([^<]*)<', html)
    assert match, html
    return match.group(1)


def test_site_mistakes_are_beside_their_fields_in_words(client: FlaskClient, admin: str) -> None:
    response = client.post(
        "/dashboard/sites",
        data={
            "csrf_token": admin,
            "slug": "Bad Slug",
            "name": "",
            "origins": "ftp://x",
            "policy": "premoderate",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Invalid site slug" in field_error(html, "slug")
    assert field_error(html, "name") == "Give the site a name."
    assert "origin" in field_error(html, "origins").lower()
    assert "This field is required" not in html and ".." not in html


def test_edit_and_reply_mistakes_stay_on_the_comment_page(
    client: FlaskClient, app: Flask, admin: str
) -> None:
    [comment_id] = seed_comments(app, 1, site="blog")
    for path, field in (("edit", "edit"), ("reply", "reply")):
        response = client.post(
            f"/dashboard/comments/{comment_id}/{path}", data={"csrf_token": admin, "text": "  "}
        )
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert f"<h1>Comment {comment_id}</h1>" in html  # the same page, not "Nothing changed"
        assert field_error(html, field).endswith(".")
        assert "Nothing changed" not in html and ".." not in field_error(html, field)
    assert stored_comments(app)[0]["status"] == "pending"


def test_rejected_and_spam_offer_one_restore(client: FlaskClient, app: Flask, admin: str) -> None:
    ids = seed_comments(app, 2, site="blog")
    for comment_id, action in zip(ids, ("reject", "spam"), strict=True):
        client.post(
            f"/dashboard/comments/{comment_id}/moderate",
            data={"csrf_token": admin, "action": action},
        )
        html = client.get(f"/dashboard/comments/{comment_id}").get_data(as_text=True)
        buttons = re.findall(r'class="action action-(\w+)">', html)
        assert buttons == ["restore", "delete"], buttons


def test_decisions_read_as_sentences(client: FlaskClient, app: Flask, admin: str) -> None:
    ids = seed_comments(app, 3, site="blog")
    client.post(
        f"/dashboard/comments/{ids[0]}/moderate", data={"csrf_token": admin, "action": "spam"}
    )
    assert f"Comment {ids[0]} marked as spam." in client.get("/dashboard/").get_data(as_text=True)
    client.post(
        "/dashboard/comments/bulk",
        data={"csrf_token": admin, "action": "reject", "ids": [str(ids[1])]},
    )
    assert "1 comment rejected." in client.get("/dashboard/").get_data(as_text=True)
    answer = client.post(
        "/dashboard/comments/bulk",
        data={"csrf_token": admin, "action": "approve", "ids": [str(i) for i in ids]},
        headers={"Accept": "application/json"},
    ).get_json()
    assert answer["message"] == "3 comments approved."


def test_everything_matching_asks_first_with_the_number(
    client: FlaskClient, app: Flask, admin: str
) -> None:
    seed_comments(app, 3, site="blog")
    asked = client.post(
        "/dashboard/comments/bulk?status=pending",
        data={"csrf_token": admin, "action": "delete", "all_matching": "y", "next": "/dashboard/"},
    )
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200
    assert "Delete 3 comments?" in html
    assert 'name="confirmed" value="yes"' in html
    assert {row["status"] for row in stored_comments(app)} == {"pending"}


def test_in_reply_to_excerpt_has_no_raw_tags(client: FlaskClient, app: Flask, admin: str) -> None:
    [parent] = seed_comments(app, 1, site="blog", text="I <b>really</b> liked it &amp; more")
    approve(app, parent)
    with app.app_context():
        from moderation.domain.comments import CommentDraft
        from moderation.services.submissions import SubmissionContext, submit_comment

        submit_comment(
            CommentDraft(text="A reply", author="Ben", email="ben@example.com", parent_id=parent),
            SubmissionContext(
                site_slug="blog", thread_key="post-1", client_ip="10.9.9.9", source="test"
            ),
        )
    html = client.get("/dashboard/").get_data(as_text=True)
    excerpt = re.search(r'<blockquote class="in-reply-to">(.*?)</blockquote>', html, re.S)
    assert excerpt, html
    assert "I really liked it &amp; more" in excerpt.group(1)
    assert "&lt;b&gt;" not in excerpt.group(1)


def test_audit_action_filter_is_a_select(client: FlaskClient, app: Flask, admin: str) -> None:
    [comment_id] = seed_comments(app, 1, site="blog")
    client.post(
        f"/dashboard/comments/{comment_id}/moderate",
        data={"csrf_token": admin, "action": "approve"},
    )
    html = client.get("/dashboard/audit?action=approve").get_data(as_text=True)
    assert re.search(r'<select name="action">', html)
    assert '<option value="approve" selected>approved</option>' in html
    assert f'href="/dashboard/comments/{comment_id}"' in html


def test_replies_carry_the_display_name(
    client: FlaskClient, app: Flask, admin: str, runner: FlaskCliRunner
) -> None:
    [comment_id] = seed_comments(app, 1, site="blog")
    saved = client.post("/dashboard/me/name", data={"csrf_token": admin, "display_name": "Alice"})
    assert saved.status_code == 303
    client.post(
        f"/dashboard/comments/{comment_id}/reply", data={"csrf_token": admin, "text": "Thanks!"}
    )
    assert stored_comments(app)[-1]["author"] == "Alice"
    result = runner.invoke(
        args=["moderators", "update", "alice", "--display-name", "The Blog Team"]
    )
    assert result.exit_code == 0, result.output
    client.post(
        f"/dashboard/comments/{comment_id}/reply", data={"csrf_token": admin, "text": "Again!"}
    )
    assert stored_comments(app)[-1]["author"] == "The Blog Team"


def test_moderators_change_their_own_password(
    client: FlaskClient, app: Flask, actions: Actions
) -> None:
    actions.create_moderator("bob")
    token = sign_in(client, "bob")
    other = app.test_client()
    sign_in(other, "bob")
    wrong = client.post(
        "/dashboard/me/password",
        data={
            "csrf_token": token,
            "current": "nope",
            "new": "a new passphrase 1",
            "repeat": "a new passphrase 1",
        },
    )
    assert wrong.status_code == 400
    assert (
        field_error(wrong.get_data(as_text=True), "current") == "That is not your current password."
    )
    differ = client.post(
        "/dashboard/me/password",
        data={"csrf_token": token, "current": PASSWORD, "new": "a new passphrase 1", "repeat": "x"},
    )
    assert "differ" in field_error(differ.get_data(as_text=True), "repeat")
    changed = client.post(
        "/dashboard/me/password",
        data={
            "csrf_token": token,
            "current": PASSWORD,
            "new": "a new passphrase 1",
            "repeat": "a new passphrase 1",
        },
    )
    assert changed.status_code == 303
    assert client.get("/dashboard/").status_code == 200  # this browser stays signed in
    assert other.get("/dashboard/").status_code == 302  # the other session has ended
    sign_in(app.test_client(), "bob", "a new passphrase 1")


def test_a_decision_can_be_undone_for_a_few_seconds(
    client: FlaskClient, app: Flask, admin: str, actions: Actions
) -> None:
    from datetime import timedelta

    from moderation.clock import utcnow
    from moderation.domain.errors import Conflict
    from moderation.models import OutboxDelivery
    from moderation.services import integrations
    from moderation.services.decisions import undo_decision
    from moderation.services.events import SYSTEM, Actor

    with app.app_context():
        integrations.create_integration(
            "listener",
            "blog",
            integrations.IntegrationSettings(
                events=("comment.approved",), target_url="http://127.0.0.1:9/in"
            ),
            True,
            SYSTEM,
        )
    ids = seed_comments(app, 2, site="blog")
    client.post(
        f"/dashboard/comments/{ids[0]}/moderate",
        data={"csrf_token": admin, "action": "approve", "next": "/dashboard/"},
    )
    queue = client.get("/dashboard/").get_data(as_text=True)
    assert f'action="/dashboard/comments/{ids[0]}/undo"' in queue  # the Undo beside the news
    undone = client.post(
        f"/dashboard/comments/{ids[0]}/undo", data={"csrf_token": admin, "next": "/dashboard/"}
    )
    assert undone.status_code == 303
    assert stored_comments(app)[0]["status"] == "pending"
    page = client.get("/dashboard/").get_data(as_text=True)
    assert f"Undone: comment {ids[0]} is pending again." in page
    assert re.search(r'data-status="pending">2<', page)
    with app.app_context():
        from moderation.extensions import db

        # the approval had not gone out yet: it is withdrawn, nothing else is sent
        assert db.session.query(OutboxDelivery).count() == 0
    audit_log = client.get(f"/dashboard/audit?comment={ids[0]}").get_data(as_text=True)
    assert "undid approve" in audit_log
    # once only; and only one's own decision, and only in time
    again = client.post(
        f"/dashboard/comments/{ids[0]}/undo",
        data={"csrf_token": admin},
        headers={"Accept": "application/json"},
    )
    assert again.status_code == 409
    answer = client.post(
        f"/dashboard/comments/{ids[1]}/moderate",
        data={"csrf_token": admin, "action": "reject"},
        headers={"Accept": "application/json"},
    ).get_json()
    assert answer["undo_url"] == f"/dashboard/comments/{ids[1]}/undo"
    with app.app_context():
        for actor, now in (
            (Actor("moderator", "99", "someone else"), None),
            (Actor("moderator", "1", "alice"), utcnow() + timedelta(seconds=11)),
        ):
            with pytest.raises(Conflict):
                undo_decision(ids[1], actor, now=now)
    assert stored_comments(app)[1]["status"] == "rejected"
