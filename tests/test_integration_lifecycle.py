"""An integration's life after creation: edited (URL, events, scopes, emails), disabled and
enabled, its secret rotated, deleted with its pending deliveries dropped, from the CLI and
from the dashboard, every change audited."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from tests.helpers import (
    Actions,
    Dashboard,
    Integrator,
    audit_rows,
    dashboard_for,
    deliver_all,
    seed_comments,
)
from tests.webhook_receiver import Receiver


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"WEBHOOK_ALLOW_PRIVATE_TARGETS": True, "LIMIT_SUBMIT_PER_SITE": "100000/hour"}


@pytest.fixture
def integrator(
    client: FlaskClient, actions: Actions, runner: FlaskCliRunner, receiver: Receiver
) -> Integrator:
    actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
    result = runner.invoke(
        args=["integrations", "create", "CMS", "--site", "blog", "--scope", "threads"]
    )
    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ", 1) for line in result.output.splitlines() if ": " in line)
    receiver.secret = lines["secret"]
    return Integrator(client, lines["id"], lines["secret"])


def pending_count(app: Flask) -> int:
    from sqlalchemy import func, select

    from moderation.extensions import db
    from moderation.models import DeliveryState, OutboxDelivery

    with app.app_context():
        return int(
            db.session.execute(
                select(func.count())
                .select_from(OutboxDelivery)
                .where(OutboxDelivery.state == DeliveryState.PENDING)
            ).scalar_one()
        )


def test_the_cli_updates_url_events_and_scopes(
    app: Flask, integrator: Integrator, runner: FlaskCliRunner, receiver: Receiver
) -> None:
    seed_comments(app, 1)
    assert receiver.accepted == []  # no events subscribed yet
    updated = runner.invoke(
        args=[
            "integrations",
            "update",
            integrator.public_id,
            "--url",
            receiver.url,
            "--events",
            "comment.created,comment.approved",
            "--scope",
            "threads",
            "--scope",
            "moderate",
        ]
    )
    assert updated.exit_code == 0, updated.output
    assert "events: comment.created,comment.approved" in updated.output
    assert "scopes: threads,moderate" in updated.output
    [comment_id] = seed_comments(app, 1, thread="post-2")
    moderated = integrator.send("comment.moderate", {"comment": comment_id, "action": "approve"})
    assert moderated.status_code == 200, moderated.get_data(as_text=True)
    deliver_all(app)
    assert [payload["type"] for payload in receiver.payloads()] == [
        "comment.created",
        "comment.approved",
    ]
    # what is not given stays; a bad value is refused and changes nothing
    refused = runner.invoke(args=["integrations", "update", integrator.public_id, "--events", "x"])
    assert refused.exit_code != 0 and "Unknown event x" in refused.output
    listed = runner.invoke(args=["integrations", "list"]).output
    assert "threads,moderate\tcomment.created,comment.approved" in listed
    [update] = [reason for action, reason in audit_rows(app) if action == "integration.update"]
    assert "events = comment.created, comment.approved" in update


def test_the_cli_deletes_and_says_how_many_deliveries_were_dropped(
    app: Flask, integrator: Integrator, runner: FlaskCliRunner, receiver: Receiver
) -> None:
    runner.invoke(
        args=[
            "integrations",
            "update",
            integrator.public_id,
            "--url",
            receiver.url,
            "--events",
            "comment.created",
        ]
    )
    assert runner.invoke(args=["integrations", "disable", integrator.public_id]).exit_code == 0
    seed_comments(app, 3)
    deliver_all(app, rounds=2)
    assert receiver.requests == 0  # a disabled integration's deliveries wait
    assert pending_count(app) == 3
    asked = runner.invoke(args=["integrations", "delete", integrator.public_id], input="n\n")
    assert asked.exit_code != 0 and pending_count(app) == 3
    deleted = runner.invoke(args=["integrations", "delete", integrator.public_id, "--yes"])
    assert deleted.exit_code == 0, deleted.output
    assert "3 pending deliveries were dropped" in deleted.output
    assert pending_count(app) == 0
    answer = integrator.send("thread.upsert", {"site": "blog", "thread": "t"})
    assert answer.status_code == 404
    assert integrator.public_id not in runner.invoke(args=["integrations", "list"]).output
    again = runner.invoke(args=["integrations", "delete", integrator.public_id, "--yes"])
    assert again.exit_code != 0 and "Unknown integration" in again.output
    [reason] = [reason for action, reason in audit_rows(app) if action == "integration.delete"]
    assert "3 pending deliveries dropped" in reason


@pytest.fixture
def admin(client: FlaskClient, actions: Actions) -> Dashboard:
    actions.create_moderator("alice", "admin")
    return dashboard_for(client, "alice")


def created_id(html: str) -> str:
    found = re.search(r"Secret of (int_[0-9a-f]+)", html)
    assert found, html
    return found.group(1)


def test_the_dashboard_form_uses_checkboxes_and_forgets_what_it_created(
    app: Flask, actions: Actions, admin: Dashboard
) -> None:
    actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
    page = admin.page("/dashboard/integrations")
    assert 'type="checkbox" value="comment.approved"' in page
    assert 'type="checkbox" value="moderate"' in page
    assert "<select multiple" not in page
    created = admin.post(
        "/dashboard/integrations",
        name="Chat bot",
        site="blog",
        target_url="",
        scopes=["threads", "read"],
    )
    assert created.status_code == 303, created.get_data(as_text=True)
    assert created.headers["Location"] == "/dashboard/integrations"
    html = admin.page("/dashboard/integrations")
    created_id(html)
    # the answer's form is blank: pressing Create again does not make a duplicate
    form = html[html.index("Add an integration") :]
    assert "Chat bot" not in form
    assert "checked" not in form


def test_the_dashboard_edits_disables_enables_rotates_and_deletes(
    app: Flask, actions: Actions, admin: Dashboard, receiver: Receiver
) -> None:
    actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
    assert (
        admin.post("/dashboard/integrations", name="CMS", site="blog", scopes=["threads"])
    ).status_code == 303
    html = admin.page("/dashboard/integrations")
    public_id = created_id(html)
    receiver.secret = re.search(r'<code class="secret">([^<]+)</code>', html).group(1)  # type: ignore[union-attr]
    edit = admin.page(f"/dashboard/integrations/{public_id}/edit")
    assert re.search(r'<input checked[^>]*value="threads"', edit)
    assert not re.search(r'<input checked[^>]*value="moderate"', edit)
    refused = admin.post(
        f"/dashboard/integrations/{public_id}/edit",
        target_url="",
        events=["comment.created"],
        scopes=["threads"],
    )
    assert refused.status_code == 400
    assert "Events need a webhook URL" in refused.get_data(as_text=True)
    saved = admin.post(
        f"/dashboard/integrations/{public_id}/edit",
        target_url=receiver.url,
        events=["comment.created"],
        scopes=["threads", "moderate"],
    )
    assert saved.status_code == 303, saved.get_data(as_text=True)
    listing = admin.page("/dashboard/integrations")
    assert f"{public_id} is updated." in listing
    assert "threads, moderate" in listing and receiver.url in listing

    assert admin.post(f"/dashboard/integrations/{public_id}/disable").status_code == 303
    seed_comments(app, 2)
    deliver_all(app, rounds=2)
    assert receiver.requests == 0
    assert admin.post(f"/dashboard/integrations/{public_id}/enable").status_code == 303
    assert admin.post(f"/dashboard/integrations/{public_id}/rotate").status_code == 303
    rotated = admin.page("/dashboard/integrations")
    new_secret = re.search(r'<code class="secret">([^<]+)</code>', rotated)
    assert new_secret and new_secret.group(1) != receiver.secret
    deliver_all(app)  # signed with both secrets: the receiver holding the old one verifies
    assert len(receiver.accepted) == 2 and receiver.refused_signatures == 0

    seed_comments(app, 1, thread="post-2")
    deleted = admin.post(f"/dashboard/integrations/{public_id}/delete")
    assert deleted.status_code == 303
    listing = admin.page("/dashboard/integrations")
    assert f"{public_id} is deleted; 1 pending delivery was dropped" in listing
    assert admin.client.get(f"/dashboard/integrations/{public_id}/edit").status_code == 404
    actions_seen = [action for action, _ in audit_rows(app)]
    for action in (
        "integration.create",
        "integration.update",
        "integration.disable",
        "integration.enable",
        "integration.rotate",
        "integration.delete",
    ):
        assert action in actions_seen


def test_moderators_cannot_edit_or_delete_integrations(
    app: Flask, client: FlaskClient, actions: Actions, integrator: Integrator
) -> None:
    actions.create_moderator("bob", "moderator")
    bob = dashboard_for(client, "bob")
    assert bob.client.get(f"/dashboard/integrations/{integrator.public_id}/edit").status_code == 403
    assert bob.post(f"/dashboard/integrations/{integrator.public_id}/delete").status_code == 403
    assert (
        bob.post(
            f"/dashboard/integrations/{integrator.public_id}/edit", target_url="", scopes=["submit"]
        ).status_code
        == 403
    )
    assert integrator.send("thread.upsert", {"site": "blog", "thread": "t"}).status_code == 201


def test_the_cli_clears_events_and_refuses_unknown_integrations(
    app: Flask, integrator: Integrator, runner: FlaskCliRunner, receiver: Receiver
) -> None:
    subscribed = runner.invoke(
        args=[
            "integrations",
            "update",
            integrator.public_id,
            "--url",
            receiver.url,
            "--events",
            "comment.created",
            "--allow-email",
        ]
    )
    assert "emails: shown" in subscribed.output
    cleared = runner.invoke(
        args=["integrations", "update", integrator.public_id, "--events", "", "--no-allow-email"]
    )
    assert cleared.exit_code == 0, cleared.output
    assert "events: -" in cleared.output and "emails: hidden" in cleared.output
    assert f"url: {receiver.url}" in cleared.output  # not given: kept
    seed_comments(app, 1)
    assert pending_count(app) == 0  # no longer subscribed
    for command in ("update", "delete"):
        unknown = runner.invoke(args=["integrations", command, "int_nope"])
        assert unknown.exit_code != 0 and "Unknown integration" in unknown.output
    unchanged = runner.invoke(args=["integrations", "update", integrator.public_id])
    assert unchanged.exit_code == 0
    assert [action for action, _ in audit_rows(app)].count("integration.update") == 2
