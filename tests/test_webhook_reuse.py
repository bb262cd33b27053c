"""A ``webhook-id`` names one message: replaying it with the same body gets the first answer
back, reusing it with another body is refused with 409 and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import Actions, Integrator, create_integration, stored_comments


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"LIMIT_SUBMIT_PER_ADDRESS": "1000/minute", "LIMIT_SUBMIT_PER_EMAIL": "1000/minute"}


@pytest.fixture
def integrator(app: Flask, client: FlaskClient, actions: Actions) -> Integrator:
    actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
    return Integrator(client, *create_integration(app))


def submission(text: str) -> dict[str, Any]:
    return {
        "site": "blog",
        "thread": "t",
        "author": "App",
        "email": "app@example.com",
        "comment": text,
    }


def test_a_reused_webhook_id_with_another_body_is_a_conflict(
    integrator: Integrator, app: Flask
) -> None:
    first = integrator.send("comment.submit", submission("First words"), webhook_id="msg_1")
    assert first.status_code == 202
    other = integrator.send("comment.submit", submission("Other words"), webhook_id="msg_1")
    assert other.status_code == 409
    assert other.mimetype == "application/problem+json"
    assert "already used with another body" in other.get_json()["detail"]
    assert "Idempotent-Replayed" not in other.headers
    assert [comment["text"] for comment in stored_comments(app)] == ["First words"]
    # the same body is still a replay, answered as the first time
    replay = integrator.send("comment.submit", submission("First words"), webhook_id="msg_1")
    assert (replay.status_code, replay.get_json()) == (202, first.get_json())
    assert replay.headers["Idempotent-Replayed"] == "true"


def test_a_refused_message_s_id_reused_with_another_body_is_a_conflict_too(
    integrator: Integrator, app: Flask
) -> None:
    refused = integrator.send("comment.moderate", {"comment": 999, "action": "approve"}, "msg_2")
    assert refused.status_code == 404
    other = integrator.send("thread.upsert", {"site": "blog", "thread": "t"}, webhook_id="msg_2")
    assert other.status_code == 409
    again = integrator.send("comment.moderate", {"comment": 999, "action": "approve"}, "msg_2")
    assert again.status_code == 404 and again.headers["Idempotent-Replayed"] == "true"
