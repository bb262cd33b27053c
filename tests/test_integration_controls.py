"""Stopping an integration whose secret may be stolen (issue 12, suspected (b), confirmed):
disable and enable it, and rotate its secret so the old one stops at once, from the CLI
and from the dashboard; every change audited."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from tests.helpers import PASSWORD, Actions, Integrator, assert_problem, seed_comments
from tests.webhook_receiver import Receiver


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"WEBHOOK_ALLOW_PRIVATE_TARGETS": True, "LIMIT_SUBMIT_PER_SITE": "100000/hour"}


@pytest.fixture
def integrator(
    app: Flask, client: FlaskClient, actions: Actions, runner: FlaskCliRunner, receiver: Receiver
) -> Integrator:
    actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
    result = runner.invoke(
        args=[
            "integrations",
            "create",
            "CMS",
            "--site",
            "blog",
            "--events",
            "comment.created",
            "--url",
            receiver.url,
        ]
    )
    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ", 1) for line in result.output.splitlines() if ": " in line)
    receiver.secret = lines["secret"]
    return Integrator(client, lines["id"], lines["secret"])


def upsert(integrator: Integrator, secret: str | None = None) -> Any:
    return integrator.send("thread.upsert", {"site": "blog", "thread": "t"}, secret=secret)


def deliver(app: Flask) -> None:
    from moderation.services import webhooks

    with app.app_context():
        webhooks.deliver_due(webhooks.DeliverySettings(allow_private_targets=True))


def outbox(app: Flask) -> list[tuple[str, int]]:
    from moderation.extensions import db
    from moderation.models import OutboxDelivery

    with app.app_context():
        return [
            (row.state.value, row.attempts)
            for row in db.session.execute(select(OutboxDelivery).order_by(OutboxDelivery.id))
            .scalars()
            .all()
        ]


def audit_actions(app: Flask) -> list[str]:
    from moderation.extensions import db
    from moderation.models import AuditEvent

    with app.app_context():
        return [
            event.action
            for event in db.session.execute(
                select(AuditEvent)
                .where(AuditEvent.action.like("integration.%"))
                .order_by(AuditEvent.id)
            ).scalars()
        ]


def test_a_disabled_integration_is_refused_and_its_events_wait(
    app: Flask, integrator: Integrator, runner: FlaskCliRunner, receiver: Receiver
) -> None:
    disabled = runner.invoke(args=["integrations", "disable", integrator.public_id])
    assert disabled.exit_code == 0, disabled.output
    assert_problem(upsert(integrator), 403, "This integration is disabled")
    assert "disabled" in runner.invoke(args=["integrations", "list"]).output
    seed_comments(app, 2)  # events happen while it is disabled
    deliver(app)
    assert receiver.requests == 0
    assert outbox(app) == [("pending", 0), ("pending", 0)]  # waiting, not dropped or spent
    enabled = runner.invoke(args=["integrations", "enable", integrator.public_id])
    assert enabled.exit_code == 0, enabled.output
    assert upsert(integrator).status_code in (200, 201)
    deliver(app)
    assert len(receiver.accepted) == 2
    assert outbox(app) == [("delivered", 1), ("delivered", 1)]
    assert audit_actions(app) == [
        "integration.create",
        "integration.disable",
        "integration.enable",
    ]


def test_rotation_can_revoke_the_old_secret_at_once_from_the_cli(
    app: Flask, integrator: Integrator, runner: FlaskCliRunner
) -> None:
    stolen = integrator.secret
    rotated = runner.invoke(args=["integrations", "rotate", integrator.public_id, "--revoke-now"])
    assert rotated.exit_code == 0, rotated.output
    assert "no longer works" in rotated.output
    assert_problem(upsert(integrator, secret=stolen), 401, "No matching signature")
    fresh = rotated.output.split("secret: ", 1)[1].split()[0]
    assert upsert(integrator, secret=fresh).status_code in (200, 201)
    # --grace-hours 0 (which existed before) does the same
    again = runner.invoke(
        args=["integrations", "rotate", integrator.public_id, "--grace-hours", "0"]
    )
    assert again.exit_code == 0
    assert_problem(upsert(integrator, secret=fresh), 401, "No matching signature")
    assert audit_actions(app).count("integration.rotate") == 2


class Admin:
    """A signed-in admin's browser on the integrations page."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def token(self) -> str:
        html = self.client.get("/dashboard/integrations").get_data(as_text=True)
        found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
        assert found, html
        return found.group(1)

    def press(self, path: str, csrf: bool = True, **data: str) -> Any:
        if csrf:
            data["csrf_token"] = self.token()
        return self.client.post(path, data=data)


@pytest.fixture
def admin(client: FlaskClient, actions: Actions) -> Admin:
    actions.create_moderator("alice", "admin")
    page = client.get("/dashboard/sign-in").get_data(as_text=True)
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert found
    signed_in = client.post(
        "/dashboard/sign-in",
        data={"csrf_token": found.group(1), "username": "alice", "password": PASSWORD},
    )
    assert signed_in.status_code == 303
    return Admin(client)


def test_the_dashboard_disables_enables_and_revokes(
    app: Flask, integrator: Integrator, admin: Admin, receiver: Receiver
) -> None:
    base = f"/dashboard/integrations/{integrator.public_id}"
    page = admin.client.get("/dashboard/integrations").get_data(as_text=True)
    for button in ("Disable", "Rotate and revoke the old secret now"):
        assert f">{button}</button>" in page
    # no CSRF token: nothing changes
    assert admin.press(f"{base}/disable", csrf=False).status_code == 400
    assert admin.press(f"{base}/rotate", csrf=False, revoke="now").status_code == 400
    assert upsert(integrator).status_code in (200, 201)

    assert admin.press(f"{base}/disable").status_code == 303
    page = admin.client.get("/dashboard/integrations").get_data(as_text=True)
    assert "disabled (events wait)" in page and ">Enable</button>" in page
    assert_problem(upsert(integrator), 403, "disabled")
    seed_comments(app, 1)
    deliver(app)
    assert receiver.requests == 0
    assert admin.press(f"{base}/enable").status_code == 303
    deliver(app)
    assert len(receiver.accepted) == 1

    stolen = integrator.secret
    answer = admin.press(f"{base}/rotate", revoke="now")
    assert answer.status_code == 303
    page = admin.client.get(answer.headers["Location"]).get_data(as_text=True)
    fresh = re.search(r'<code class="secret">([^<]+)</code>', page)
    assert fresh
    assert_problem(upsert(integrator, secret=stolen), 401, "No matching signature")
    assert upsert(integrator, secret=fresh.group(1)).status_code in (200, 201)
    assert audit_actions(app) == [
        "integration.create",
        "integration.disable",
        "integration.enable",
        "integration.rotate",
    ]


def test_moderators_cannot_disable_integrations(
    app: Flask, integrator: Integrator, client: FlaskClient, actions: Actions
) -> None:
    actions.create_moderator("bob", "moderator")
    page = client.get("/dashboard/sign-in").get_data(as_text=True)
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert found
    client.post(
        "/dashboard/sign-in",
        data={"csrf_token": found.group(1), "username": "bob", "password": PASSWORD},
    )
    token = re.search(
        r'name="csrf-token" content="([^"]+)"', client.get("/dashboard/").get_data(as_text=True)
    )
    assert token
    refused = client.post(
        f"/dashboard/integrations/{integrator.public_id}/disable",
        data={"csrf_token": token.group(1)},
    )
    assert refused.status_code == 403
    assert upsert(integrator).status_code in (200, 201)
