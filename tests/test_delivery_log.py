"""The delivery log shows what was sent and what the receiver answered, truncated, and never
an email the integration may not see."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import Actions, create_integration, dashboard_for, deliver_all, seed_comments
from tests.webhook_receiver import Receiver


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"WEBHOOK_ALLOW_PRIVATE_TARGETS": True}


def log_page(app: Flask, client: FlaskClient, actions: Actions, public_id: str) -> str:
    actions.create_moderator("alice", "admin")
    return dashboard_for(client, "alice").page(f"/dashboard/integrations/{public_id}")


def test_the_log_shows_payload_and_response_without_hidden_emails(
    app: Flask, client: FlaskClient, actions: Actions, receiver: Receiver
) -> None:
    actions.create_site("blog", ["https://blog.example"])
    public_id, receiver.secret = create_integration(
        app, url=receiver.url, events=("comment.created",)
    )
    receiver.answer_body = (
        b'{"stored": true, "echo": "commenter0@example.com", "note": "' + b"x" * 3000 + b'"}'
    )
    seed_comments(app, 1, email="commenter0@example.com", text="Payload text here")
    deliver_all(app)
    assert len(receiver.accepted) == 1
    page = log_page(app, client, actions, public_id)
    assert "Payload text here" in page  # the payload
    assert "&#34;stored&#34;: true" in page or "&quot;stored&quot;: true" in page  # the answer
    assert "commenter0@example.com" not in page
    assert "[email hidden]" in page
    assert "x" * 1001 not in page  # truncated


def test_an_integration_allowed_emails_sees_them_in_its_log(
    app: Flask, client: FlaskClient, actions: Actions, receiver: Receiver
) -> None:
    actions.create_site("blog", ["https://blog.example"])
    public_id, receiver.secret = create_integration(
        app, url=receiver.url, events=("comment.created",), allow_email=True
    )
    receiver.answer_body = b"ok for shared@example.com"
    seed_comments(app, 1, email="shared@example.com")
    deliver_all(app)
    page = log_page(app, client, actions, public_id)
    assert page.count("shared@example.com") == 2  # payload and answer
    # once emails are no longer allowed, the log stops showing them too
    from moderation.services import integrations
    from moderation.services.events import SYSTEM

    with app.app_context():
        integrations.update_integration(
            public_id, integrations.IntegrationChanges(allow_email=False), True, SYSTEM
        )
    again = client.get(f"/dashboard/integrations/{public_id}").get_data(as_text=True)
    assert "&#34;email&#34;: &#34;[email hidden]&#34;" in again or '"[email hidden]"' in again
    assert "shared@example.com" not in again
