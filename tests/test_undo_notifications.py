"""Undoing a decision in the dashboard takes back what it would have sent: the commenter's
"approved" email (held in the outbox for the undo window) and the outbound events, against
a real SMTP server and a real webhook receiver; what had already gone out is named."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from tests.doors import FormDoor
from tests.helpers import Actions, Dashboard, make_integration, signed_in
from tests.mail_servers import TEST_PUBLIC_URL, SmtpSink, deliver, mail_config
from tests.webhook_receiver import Receiver

ANN = "ann@example.com"


@pytest.fixture
def config_overrides(smtp: SmtpSink) -> dict[str, Any]:
    return mail_config(smtp, WEBHOOK_ALLOW_PRIVATE_TARGETS=True)


@pytest.fixture
def moderator(app: Flask, actions: Actions, receiver: Receiver) -> Dashboard:
    actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
    make_integration(app, "listener", receiver)
    return signed_in(app, actions, "alice")


def confirmed_comment(app: Flask, client: FlaskClient, smtp: SmtpSink) -> int:
    """Ann's held comment; she asked for notifications and confirmed her address."""
    answer = FormDoor(app, client).post(thread="post-1", notify="y")
    assert answer.status == 303, answer.text
    comment_id = int(re.search(r"comment-(\d+)", answer.headers["Location"]).group(1))  # type: ignore[union-attr]
    deliver(app)
    (confirmation,) = smtp.to(ANN)
    confirm = next(link for link in confirmation.links() if "/notify/confirm/" in link)
    assert client.post(confirm.removeprefix(TEST_PUBLIC_URL)).status_code == 200
    return comment_id


def time_passes(app: Flask) -> None:
    """Everything waiting in the outbox becomes due (the undo window is over)."""
    from moderation.clock import utcnow
    from moderation.extensions import db
    from moderation.models import OutboxDelivery

    with app.app_context():
        past = utcnow() - timedelta(seconds=1)
        db.session.execute(update(OutboxDelivery).values(next_attempt_at=past))
        db.session.commit()


@pytest.mark.parametrize("action", ["approve", "reject", "spam"])
def test_undo_withdraws_the_email_and_events_the_decision_queued(
    app: Flask,
    client: FlaskClient,
    smtp: SmtpSink,
    receiver: Receiver,
    moderator: Dashboard,
    action: str,
) -> None:
    comment_id = confirmed_comment(app, client, smtp)
    deliver(app)
    before = len(receiver.payloads())
    mails_before = len(smtp.messages)
    assert moderator.moderate(comment_id, action, next="/dashboard/").status_code == 303
    undone = moderator.client.post(
        f"/dashboard/comments/{comment_id}/undo",
        data={"csrf_token": moderator.token},
        headers={"Accept": "application/json"},
    )
    assert undone.status_code == 200, undone.get_data(as_text=True)
    assert undone.get_json()["status"] == "pending"
    assert undone.get_json()["not_withdrawn"] == []
    time_passes(app)
    deliver(app)
    assert len(smtp.messages) == mails_before  # no "your comment was approved"
    assert len(receiver.payloads()) == before  # no comment.approved / rejected / spam
    log = moderator.page(f"/dashboard/audit?comment={comment_id}")
    assert f"undid {action}" in log


def test_the_approval_email_waits_out_the_undo_window_then_goes(
    app: Flask, client: FlaskClient, smtp: SmtpSink, moderator: Dashboard
) -> None:
    comment_id = confirmed_comment(app, client, smtp)
    assert moderator.moderate(comment_id, "approve").status_code == 303
    deliver(app)
    assert not any("approved" in m.message["Subject"] for m in smtp.to(ANN))
    time_passes(app)
    deliver(app)
    assert "approved" in smtp.to(ANN)[-1].message["Subject"]


def test_undo_names_what_had_already_gone_out(
    app: Flask, client: FlaskClient, smtp: SmtpSink, receiver: Receiver, moderator: Dashboard
) -> None:
    comment_id = confirmed_comment(app, client, smtp)
    assert moderator.moderate(comment_id, "approve").status_code == 303
    time_passes(app)  # say the moderator was slow, or someone redelivered by hand
    deliver(app)
    assert "approved" in smtp.to(ANN)[-1].message["Subject"]
    undone = moderator.post(f"/dashboard/comments/{comment_id}/undo", next="/dashboard/")
    assert undone.status_code == 303
    page = moderator.page("/dashboard/")
    assert f"Undone: comment {comment_id} is pending again." in page
    assert "Already gone out, not withdrawn:" in page
    assert f"the email to {ANN} (sent)" in page
    assert "the comment.approved event to listener (sent)" in page
