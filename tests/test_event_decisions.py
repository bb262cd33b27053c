"""Every outbound event says who decided the transition it reports, under which rule and why,
for each door a decision comes through (the widget, the site's rules, the dashboard, an
integration), and names the thread's title and address."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.doors import FormDoor
from tests.helpers import (
    Actions,
    Integrator,
    create_integration,
    dashboard_for,
    deliver_all,
    seed_comments,
)
from tests.webhook_receiver import Receiver

EVENTS = (
    "comment.created",
    "comment.approved",
    "comment.rejected",
    "comment.spam",
    "comment.deleted",
)


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"WEBHOOK_ALLOW_PRIVATE_TARGETS": True, "LIMIT_SUBMIT_PER_SITE": "100000/hour"}


def subscribe(
    app: Flask, client: FlaskClient, actions: Actions, receiver: Receiver, **site: Any
) -> Integrator:
    """Site ``blog`` with a thread that has a title and an address, and a subscriber."""
    actions.create_site("blog", ["https://blog.example"], flood_seconds=0, **site)
    public_id, receiver.secret = create_integration(
        app, url=receiver.url, events=EVENTS, name="Classifier"
    )
    integrator = Integrator(client, public_id, receiver.secret)
    answer = integrator.send(
        "thread.upsert",
        {
            "site": "blog",
            "thread": "post-1",
            "title": "Hello world",
            "url": "https://blog.example/hello",
        },
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return integrator


def events_received(app: Flask, receiver: Receiver) -> list[dict[str, Any]]:
    deliver_all(app)
    assert receiver.refused_signatures == 0
    return receiver.payloads()


def test_a_visitor_s_comment_is_created_by_the_visitor_under_the_hold_rule(
    app: Flask, client: FlaskClient, actions: Actions, receiver: Receiver
) -> None:
    subscribe(app, client, actions, receiver)
    assert FormDoor(app, client).post(author="Visiting Vera").accepted
    [created] = events_received(app, receiver)
    assert created["type"] == "comment.created"
    assert created["schema_version"] == 2
    data = created["data"]
    assert data["decision"] == {
        "actor": {"kind": "visitor", "name": "Visiting Vera"},
        "rule": "premoderation",
        "reason": data["reason"],
    }
    assert data["reason"]  # the hold keeps its own field
    assert (data["thread_title"], data["thread_url"]) == (
        "Hello world",
        "https://blog.example/hello",
    )


def test_a_comment_published_on_arrival_is_approved_by_the_rule(
    app: Flask, client: FlaskClient, actions: Actions, receiver: Receiver
) -> None:
    subscribe(app, client, actions, receiver, policy="open")
    assert FormDoor(app, client).post().accepted
    created, approved = events_received(app, receiver)
    assert created["data"]["decision"]["actor"]["kind"] == "visitor"
    assert approved["type"] == "comment.approved"
    assert approved["data"]["decision"]["actor"] == {"kind": "rule", "name": "open_policy"}
    assert approved["data"]["decision"]["rule"] == "open_policy"


def test_a_moderator_s_decision_in_the_dashboard_names_the_moderator_and_reason(
    app: Flask, client: FlaskClient, actions: Actions, receiver: Receiver
) -> None:
    subscribe(app, client, actions, receiver)
    [comment_id] = seed_comments(app, 1)
    actions.create_moderator("maria", "moderator")
    dashboard = dashboard_for(client, "maria")
    answer = dashboard.post(
        f"/dashboard/comments/{comment_id}/moderate", action="reject", reason="off topic"
    )
    assert answer.status_code in (200, 303), answer.get_data(as_text=True)
    created, rejected = events_received(app, receiver)
    assert rejected["type"] == "comment.rejected"
    assert rejected["data"]["decision"] == {
        "actor": {"kind": "moderator", "name": "maria"},
        "rule": None,
        "reason": "off topic",
    }
    # the original hold stays where it was
    assert rejected["data"]["held_by_rule"] == "premoderation"
    assert rejected["data"]["reason"] == created["data"]["reason"]


def test_an_integration_s_decision_names_the_integration_and_its_reason(
    app: Flask, client: FlaskClient, actions: Actions, receiver: Receiver
) -> None:
    integrator = subscribe(app, client, actions, receiver)
    [comment_id] = seed_comments(app, 1)
    answer = integrator.send(
        "comment.moderate",
        {"comment": comment_id, "action": "spam", "reason": "classifier score 0.97"},
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    _created, spam = events_received(app, receiver)
    assert spam["type"] == "comment.spam"
    assert spam["data"]["decision"] == {
        "actor": {"kind": "integration", "name": "Classifier", "id": integrator.public_id},
        "rule": None,
        "reason": "classifier score 0.97",
    }
    assert spam["data"]["reason"] != "classifier score 0.97"


def test_a_comment_an_integration_submits_is_created_by_the_integration(
    app: Flask, client: FlaskClient, actions: Actions, receiver: Receiver
) -> None:
    integrator = subscribe(app, client, actions, receiver)
    answer = integrator.send(
        "comment.submit",
        {
            "site": "blog",
            "thread": "post-1",
            "author": "App User",
            "email": "app@example.com",
            "comment": "From the app",
        },
    )
    assert answer.status_code == 202, answer.get_data(as_text=True)
    [created] = events_received(app, receiver)
    assert created["data"]["decision"]["actor"]["kind"] == "integration"
    assert created["data"]["decision"]["rule"] == "premoderation"
    assert "app@example.com" not in str(created)
