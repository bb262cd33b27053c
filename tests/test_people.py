"""People's data rights: ``moderation people export|erase EMAIL`` and the dashboard's
equivalents, on the real database."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from moderation.extensions import db
from moderation.models import AuditEvent, Comment, OutboxDelivery, StatusCount, Thread
from tests.helpers import PASSWORD, Actions, approve, seed_comments, stored_comments


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"LIMIT_SUBMIT_PER_EMAIL": "2/hour"}


@pytest.fixture
def people(app: Flask, actions: Actions) -> dict[str, list[int]]:
    """Ann wrote three comments on two sites (one approved, with a reply by Bob)."""
    from moderation.services.events import SYSTEM
    from moderation.services.integrations import IntegrationSettings, create_integration

    actions.create_site("blog", flood_seconds=0)
    actions.create_site("news", flood_seconds=0)
    with app.app_context():
        create_integration(
            "crm",
            "blog",
            IntegrationSettings(
                events=("person.erased", "comment.created"), target_url="http://127.0.0.1:9/in"
            ),
            True,
            SYSTEM,
        )
    ann = [
        seed_comments(app, 1, email="Ann@Example.com", text="Ann on the blog")[0],
        seed_comments(app, 1, site="news", email="ann@example.com", text="Ann on the news")[0],
    ]
    approve(app, ann[0])
    bob = seed_comments(app, 1, email="bob@example.com", text="Bob answers", author="Bob")
    with app.app_context():
        db.session.get_one(Comment, bob[0]).parent_id = ann[0]
        db.session.commit()
    return {"ann": ann, "bob": bob}


def outbox(app: Flask, event_type: str) -> list[dict[str, Any]]:
    with app.app_context():
        return [
            row.payload
            for row in db.session.execute(
                select(OutboxDelivery).where(OutboxDelivery.event_type == event_type)
            ).scalars()
        ]


def test_export_gives_every_comment_of_the_address_on_every_site(
    runner: FlaskCliRunner, people: dict[str, list[int]]
) -> None:
    result = runner.invoke(args=["people", "export", "ANN@example.com"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert sorted(c["id"] for c in data["comments"]) == sorted(people["ann"])
    assert {c["site"] for c in data["comments"]} == {"blog", "news"}
    assert all(c["ip_address"] for c in data["comments"])
    nobody = json.loads(runner.invoke(args=["people", "export", "nobody@example.com"]).stdout)
    assert nobody["comments"] == []


def test_anonymising_keeps_the_words_and_removes_the_person(
    app: Flask, runner: FlaskCliRunner, people: dict[str, list[int]]
) -> None:
    result = runner.invoke(args=["people", "erase", "ann@example.com", "--yes"])
    assert result.exit_code == 0, result.output
    assert "2 comment(s) anonymised (blog, news)" in result.output
    rows = {row["id"]: row for row in stored_comments(app)}
    for comment_id in people["ann"]:
        row = rows[comment_id]
        assert (row["author"], row["email"], row["url"], row["ip"]) == ("Anonymous", "", "", "")
        assert row["text"].startswith("Ann on the")
    assert rows[people["bob"][0]]["email"] == "bob@example.com"
    assert "ann@example.com" not in result.output.lower()
    with app.app_context():
        audit = db.session.execute(
            select(AuditEvent.reason, AuditEvent.action).where(AuditEvent.action == "person.erased")
        ).all()
    assert len(audit) == 2
    assert all("ann" not in reason.lower() and "@" not in reason for reason, _ in audit)
    # the integration of the blog hears of it, with a keyed hash and never the address
    (event,) = outbox(app, "person.erased")
    assert event["data"]["site"] == "blog" and event["data"]["comments"] == [people["ann"][0]]
    assert re.fullmatch(r"[0-9a-f]{64}", event["data"]["subject"])
    assert "ann" not in json.dumps(event).lower()


def test_deleting_removes_the_comments_and_keeps_counts_and_replies_right(
    app: Flask, runner: FlaskCliRunner, people: dict[str, list[int]]
) -> None:
    result = runner.invoke(args=["people", "erase", "ann@example.com", "--mode", "delete", "--yes"])
    assert result.exit_code == 0, result.output
    rows = {row["id"]: row for row in stored_comments(app)}
    assert not set(people["ann"]) & set(rows)
    assert rows[people["bob"][0]]["parent_id"] is None  # the reply stays, at the top
    with app.app_context():
        counted = sum(db.session.execute(select(StatusCount.count)).scalars())
        approved = sum(db.session.execute(select(Thread.approved_count)).scalars())
    assert counted == len(rows) == 1
    assert approved == 0


def test_erasure_forgets_the_rate_limit_traces_of_the_address(
    app: Flask, runner: FlaskCliRunner, people: dict[str, list[int]]
) -> None:
    from moderation.domain.comments import CommentDraft
    from moderation.services.refusals import RateLimited
    from moderation.services.submissions import SubmissionContext, submit_comment

    def post() -> None:
        with app.app_context():
            submit_comment(
                CommentDraft(text="Again", author="Ann", email="ann@example.com"),
                SubmissionContext(site_slug="news", thread_key="t", client_ip="10.9.9.9"),
            )

    with pytest.raises(RateLimited):  # two an hour, and she has posted twice
        post()
    runner.invoke(args=["people", "erase", "ann@example.com", "--yes"])
    post()


def test_erasing_asks_for_confirmation_and_refuses_an_unknown_mode(
    runner: FlaskCliRunner, people: dict[str, list[int]]
) -> None:
    declined = runner.invoke(args=["people", "erase", "ann@example.com"], input="n\n")
    assert declined.exit_code == 1 and "Aborted" in declined.output
    assert runner.invoke(args=["people", "erase", "x@example.com", "--mode", "burn"]).exit_code == 2


def _sign_in(client: FlaskClient, username: str) -> str:
    def token(path: str) -> str:
        html = client.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
            r'name="csrf-token" content="([^"]+)"', html
        )
        assert match
        return match.group(1)

    response = client.post(
        "/dashboard/sign-in",
        data={
            "csrf_token": token("/dashboard/sign-in"),
            "username": username,
            "password": PASSWORD,
        },
    )
    assert response.status_code == 303
    return token("/dashboard/")


def test_admins_export_and_erase_a_person_from_the_dashboard(
    app: Flask, client: FlaskClient, actions: Actions, people: dict[str, list[int]]
) -> None:
    actions.create_moderator("root", role="admin")
    token = _sign_in(client, "root")
    assert "<h2>A person's data</h2>" in client.get("/dashboard/data").get_data(as_text=True)
    download = client.post(
        "/dashboard/data/people/export", data={"csrf_token": token, "email": "ann@example.com"}
    )
    assert download.status_code == 200
    assert sorted(c["id"] for c in download.get_json()["comments"]) == sorted(people["ann"])
    unconfirmed = client.post(
        "/dashboard/data/people/erase",
        data={"csrf_token": token, "email": "ann@example.com", "mode": "delete"},
    )
    assert unconfirmed.status_code == 400 and "tick the confirmation" in unconfirmed.get_data(
        as_text=True
    )
    assert len(stored_comments(app)) == 3
    erased = client.post(
        "/dashboard/data/people/erase",
        data={
            "csrf_token": token,
            "email": "ann@example.com",
            "mode": "delete",
            "confirm_erase": "y",
        },
    )
    assert erased.status_code == 303
    assert len(stored_comments(app)) == 1
    forged = client.post(
        "/dashboard/data/people/erase",
        data={"email": "bob@example.com", "mode": "delete", "confirm_erase": "y"},
    )
    assert forged.status_code == 400 and len(stored_comments(app)) == 1


def test_moderators_cannot_reach_people_s_data(
    client: FlaskClient, actions: Actions, people: dict[str, list[int]]
) -> None:
    actions.create_moderator("mod")
    token = _sign_in(client, "mod")
    assert client.get("/dashboard/data").status_code == 403
    response = client.post(
        "/dashboard/data/people/export", data={"csrf_token": token, "email": "ann@example.com"}
    )
    assert response.status_code == 403
