"""Closing comments: a moderator closes a thread in the dashboard (an integration with
``thread.upsert``), or the site closes its threads N days after they began; the widget then
says "Comments are closed." instead of the form, every door refuses with a readable 4xx,
and the dashboard reopens it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from moderation.domain.closing import ThreadClosing, thread_closing
from tests.doors import EVERY_DOOR
from tests.helpers import Actions, Dashboard, approve, seed_comments, signed_in, stored_comments

WIDGET = "/w/blog?thread=post-1"
CLOSED = "Comments are closed."


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {
        "LIMIT_SUBMIT_PER_ADDRESS": "1000/minute",
        "LIMIT_SUBMIT_PER_EMAIL": "1000/minute",
        # the public reads may serve what they read a moment ago: not in these tests
        "PUBLIC_READ_STALENESS": 0,
    }


@pytest.fixture
def site(actions: Actions) -> str:
    actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
    return "blog"


def thread_id(app: Flask, key: str = "post-1") -> int:
    from sqlalchemy import select

    from moderation.extensions import db
    from moderation.models import Thread

    with app.app_context():
        return int(db.session.execute(select(Thread.id).where(Thread.key == key)).scalar_one())


def widget_says_closed(client: FlaskClient, path: str = WIDGET) -> bool:
    """The widget page shows the closed notice and no form (or the form and no notice)."""
    page = client.get(path).get_data(as_text=True)
    closed = CLOSED in page
    assert closed != ('id="commentform"' in page), page
    assert not (closed and "comment-reply-link" in page), page
    return closed


def test_a_moderator_closes_and_reopens_a_thread(
    app: Flask, client: FlaskClient, actions: Actions, site: str
) -> None:
    [first] = seed_comments(app, 1)
    approve(app, first)
    dashboard = signed_in(app, actions, "closer", "moderator")
    queue = "/dashboard/?site=blog&thread=post-1&status=all"
    assert "Close comments" in dashboard.page(queue)
    assert not widget_says_closed(client)

    answer = dashboard.post(f"/dashboard/threads/{thread_id(app)}/close", next=queue)
    assert answer.status_code == 303 and answer.headers["Location"] == queue
    page = dashboard.page(queue)
    assert "Comments on “post-1” are closed." in page and "Reopen comments" in page
    assert widget_says_closed(client)
    assert client.get("/api/v1/sites/blog/comments?thread=post-1").get_json()["open"] is False
    # every door refuses, saying why; nothing is stored
    for door in EVERY_DOOR:
        answer = door(app, client).post(comment=f"Too late, by {door.name}.")
        assert answer.status == 400, (door.name, answer.text[:500])
        if door.name == "form":
            assert CLOSED in answer.text and 'id="commentform"' not in answer.text
        else:
            assert "Comments are closed on this page." in answer.text
    assert len(stored_comments(app)) == 1
    assert "Comments are closed" not in client.get("/w/blog?thread=another").get_data(as_text=True)

    # the comment's page shows the same, and reopens it
    detail = f"/dashboard/comments/{first}"
    assert "Closed</strong> by a moderator" in dashboard.page(detail)
    answer = dashboard.post(f"/dashboard/threads/{thread_id(app)}/reopen", next=detail)
    assert answer.headers["Location"] == detail
    assert not widget_says_closed(client)
    audit = dashboard.page("/dashboard/audit?action=thread.close")
    assert "closer" in audit and "post-1" in audit


def test_a_moderator_of_another_site_cannot_close_the_thread(
    app: Flask, client: FlaskClient, actions: Actions, site: str
) -> None:
    actions.create_site("shop", ["https://shop.example"])
    seed_comments(app, 1)
    actions.create_moderator("shopkeeper", sites=["shop"])
    other = Dashboard(app.test_client())
    other.sign_in("shopkeeper")
    answer = other.post(f"/dashboard/threads/{thread_id(app)}/close")
    assert answer.status_code == 404
    assert not widget_says_closed(client)


def test_threads_close_by_age_after_the_sites_setting_until_reopened(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, actions: Actions, site: str
) -> None:
    now = datetime.now(UTC)
    [old] = seed_comments(app, 1, since=now - timedelta(days=40))
    approve(app, old)
    seed_comments(app, 1, thread="recent", since=now - timedelta(days=2))
    assert not widget_says_closed(client)

    result = runner.invoke(args=["sites", "update", "blog", "--close-after-days", "30"])
    assert result.exit_code == 0, result.output
    assert widget_says_closed(client)
    assert not widget_says_closed(client, "/w/blog?thread=recent")
    assert not widget_says_closed(client, "/w/blog?thread=never-commented")
    listing = client.get("/api/v1/sites/blog/comments?thread=post-1")
    assert listing.get_json()["open"] is False
    for door in EVERY_DOOR:
        answer = door(app, client).post(comment=f"Old thread, by {door.name}.")
        assert answer.status == 400 and "Comments are closed" in answer.text

    dashboard = signed_in(app, actions)
    detail = f"/dashboard/comments/{old}"
    assert "Closed</strong> automatically 30 days after the thread began" in dashboard.page(detail)
    dashboard.post(f"/dashboard/threads/{thread_id(app)}/reopen", next=detail)
    assert not widget_says_closed(client)
    page = dashboard.page(detail)
    assert "reopened by a moderator, the site's 30-day closing does not apply" in page
    # the reopened thread's ETag changed with it
    assert client.get("/api/v1/sites/blog/comments?thread=post-1").get_json()["open"] is True

    # closing by age off again: nothing closes by age
    runner.invoke(args=["sites", "update", "blog", "--close-after-days", "0"])
    recent_detail = dashboard.page("/dashboard/?site=blog&thread=recent&status=all")
    assert "<strong>Open</strong>." in recent_detail


@pytest.mark.parametrize("days", ["-1", "3651", "soon"])
def test_close_after_days_out_of_range_is_refused_clearly(
    runner: FlaskCliRunner, site: str, days: str
) -> None:
    result = runner.invoke(args=["sites", "update", "blog", "--close-after-days", days])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert "close_after_days must be between 0 (never) and 3650" in result.output or (
        "is not a valid integer" in result.output
    )


@pytest.mark.any_database
@pytest.mark.parametrize(
    ("is_open", "keep_open", "age_days", "close_after", "expected"),
    [
        (True, False, 40, 0, ThreadClosing.OPEN),  # closing by age is off
        (True, False, 29, 30, ThreadClosing.OPEN),
        (True, False, 30, 30, ThreadClosing.CLOSED_BY_AGE),  # on the day it closes
        (True, True, 400, 30, ThreadClosing.OPEN),  # a moderator reopened it
        (False, False, 1, 30, ThreadClosing.CLOSED),  # a moderator closed it
        (False, True, 1, 0, ThreadClosing.CLOSED),
    ],
)
def test_thread_closing_rule(
    is_open: bool, keep_open: bool, age_days: int, close_after: int, expected: ThreadClosing
) -> None:
    now = datetime(2026, 11, 29, 12, tzinfo=UTC)
    began = now - timedelta(days=age_days)
    assert thread_closing(is_open, keep_open, began, close_after, now) is expected
