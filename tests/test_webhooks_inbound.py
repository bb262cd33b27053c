"""The inbound Standard Webhooks endpoint: signatures, idempotency, scopes, every event type."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from standardwebhooks import Webhook
from werkzeug.test import TestResponse

from tests.helpers import (
    Actions,
    Integrator,
    assert_problem,
    make_integration,
    seed_comments,
    stored_comments,
)


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"LIMIT_SUBMIT_PER_ADDRESS": "1000/minute", "LIMIT_SUBMIT_PER_EMAIL": "1000/minute"}


@pytest.fixture
def integrator(app: Flask, client: FlaskClient, actions: Actions) -> Integrator:
    actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
    return Integrator(client, *make_integration(app))


def test_submit_goes_through_the_pipeline(integrator: Integrator, app: Flask) -> None:
    response = integrator.submit()
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "pending"
    [stored] = stored_comments(app)
    assert (stored["id"], stored["source"], stored["ip"], stored["rule"]) == (
        body["id"],
        "webhook",
        "203.0.113.0/24",
        "premoderation",
    )


def test_replay_answers_exactly_as_the_first_time_and_changes_nothing(
    integrator: Integrator, app: Flask
) -> None:
    first = integrator.send(
        "comment.submit",
        {
            "site": "blog",
            "thread": "t",
            "author": "A",
            "email": "a@example.com",
            "comment": "Hello once",
        },
        webhook_id="msg_replay_1",
    )
    replay = integrator.send(
        "comment.submit",
        {
            "site": "blog",
            "thread": "t",
            "author": "A",
            "email": "a@example.com",
            "comment": "Hello once",
        },
        webhook_id="msg_replay_1",
    )
    assert (replay.status_code, replay.get_json()) == (first.status_code, first.get_json())
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert len(stored_comments(app)) == 1
    # the same id with another body is a conflict (issue 16), and changes nothing
    other = integrator.send(
        "comment.submit",
        {
            "site": "blog",
            "thread": "t",
            "author": "B",
            "email": "b@example.com",
            "comment": "Different",
        },
        webhook_id="msg_replay_1",
    )
    assert other.status_code == 409
    assert len(stored_comments(app)) == 1


def test_concurrent_replays_store_one_comment(integrator: Integrator, app: Flask) -> None:
    answers: list[tuple[int, Any]] = []

    def send() -> None:
        client = app.test_client()
        response = Integrator(client, integrator.public_id, integrator.secret).send(
            "comment.submit",
            {
                "site": "blog",
                "thread": "race",
                "author": "R",
                "email": "r@example.com",
                "comment": "Raced",
            },
            webhook_id="msg_race",
        )
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(stored_comments(app)) == 1
    assert {json.dumps(answer, sort_keys=True) for answer in answers} == {
        json.dumps(answers[0], sort_keys=True)
    }


def test_refusals_are_replayed_too(integrator: Integrator) -> None:
    first = integrator.send(
        "comment.submit",
        {"site": "blog", "thread": "t", "author": "", "email": "nope", "comment": "x"},
        webhook_id="msg_bad",
    )
    body = assert_problem(first, 422, "Some fields need your attention.")
    assert body["errors"] == {
        "author": "Please enter your name.",
        "email": "Please enter a valid email address.",
    }
    again = integrator.send(
        "comment.submit",
        {
            "site": "blog",
            "thread": "t",
            "author": "Fine",
            "email": "fine@example.com",
            "comment": "x",
        },
        webhook_id="msg_bad",
    )
    # a corrected body needs a new id: under the old one it is a conflict (issue 16)
    assert again.status_code == 409
    replay = integrator.send(
        "comment.submit",
        {"site": "blog", "thread": "t", "author": "", "email": "nope", "comment": "x"},
        webhook_id="msg_bad",
    )
    assert (replay.status_code, replay.get_json()) == (422, body)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"tamper": True}, "No matching signature"),
        ({"secret": "whsec_" + "QUJD" * 8}, "No matching signature"),
        ({"skew": timedelta(minutes=-6)}, "too old"),
        ({"skew": timedelta(minutes=6)}, "too new"),
        ({"headers": {"webhook-signature": "garbage"}}, "Malformed"),
        ({"headers": {"webhook-signature": "v1,!!!not-base64"}}, "Malformed"),
        ({"headers": {"webhook-signature": "v2,abc v9,def"}}, "No matching signature"),
        ({"headers": {"webhook-timestamp": "yesterday"}}, "Invalid Signature Headers"),
        ({"headers": {"webhook-timestamp": "nan"}}, "Invalid Signature Headers"),
        ({"headers": {"webhook-signature": ""}}, "Missing signature header"),
        ({"headers": {"webhook-id": ""}}, "Missing signature header"),
    ],
)
def test_bad_signatures_are_401_never_500(
    integrator: Integrator, app: Flask, change: dict[str, Any], fragment: str
) -> None:
    if "skew" in change:  # relative to the moment of sending, not of collection
        change = {"timestamp": datetime.now(UTC) + change["skew"]}
    response = integrator.send(
        "comment.submit",
        {
            "site": "blog",
            "thread": "t",
            "author": "A",
            "email": "a@example.com",
            "comment": "Hello",
        },
        **change,
    )
    assert_problem(response, 401, fragment)
    assert stored_comments(app) == []


def test_invalid_utf8_body_is_refused_cleanly(integrator: Integrator) -> None:
    response = integrator.client.post(
        f"/api/v1/hooks/{integrator.public_id}",
        data=b"\xff\xfe{",
        headers={
            "webhook-id": "msg_x",
            "webhook-timestamp": str(int(datetime.now(UTC).timestamp())),
            "webhook-signature": "v1,AAAA",
        },
    )
    assert_problem(response, 401, "")


def test_rotated_secret_keeps_the_old_one_for_the_grace_period(
    integrator: Integrator, app: Flask
) -> None:
    from moderation.services import integrations
    from moderation.services.events import SYSTEM

    old = integrator.secret
    with app.app_context():
        new = integrations.rotate_secret(integrator.public_id, timedelta(hours=1), SYSTEM)
    assert integrator.submit(comment="signed with the new secret").status_code == 202
    assert (
        integrator.send(
            "comment.submit",
            {
                "site": "blog",
                "thread": "t",
                "author": "O",
                "email": "o@example.com",
                "comment": "old secret",
            },
            secret=old,
        ).status_code
        == 202
    )
    with app.app_context():
        integrations.rotate_secret(
            integrator.public_id,
            timedelta(hours=1),
            SYSTEM,
            now=datetime.now(UTC) - timedelta(hours=2),
        )
    # the secret before this rotation (``new``) had its grace period end an hour ago
    assert_problem(
        integrator.send(
            "comment.submit",
            {
                "site": "blog",
                "thread": "t",
                "author": "N",
                "email": "n@example.com",
                "comment": "expired",
            },
            secret=new,
        ),
        401,
        "No matching signature",
    )


def test_unknown_integration_is_404(client: FlaskClient, actions: Actions) -> None:
    actions.create_site("blog", ["https://blog.example"])
    response = Integrator(client, "int_unknown", "whsec_" + "QUJD" * 8).submit()
    assert_problem(response, 404, "Unknown integration")


def test_wrong_scope_and_other_sites_are_403(
    app: Flask, client: FlaskClient, actions: Actions
) -> None:
    actions.create_site("blog", ["https://blog.example"])
    actions.create_site("news", ["https://news.example"])
    moderator_only = Integrator(client, *make_integration(app, scopes=("moderate",)))
    assert_problem(moderator_only.submit(), 403, "lacks the 'submit' scope")
    submitter = Integrator(client, *make_integration(app, scopes=("submit",)))
    assert_problem(submitter.submit(site="news"), 403, "acts on site 'blog' only")
    assert_problem(submitter.submit(site="nowhere"), 403, "acts on site 'blog' only")
    assert_problem(
        submitter.send("thread.upsert", {"site": "blog", "thread": "t"}), 403, "'threads' scope"
    )
    assert stored_comments(app) == []


def test_moderate_uses_the_status_machine_and_names_the_integration(
    integrator: Integrator, app: Flask, actions: Actions
) -> None:
    [comment_id] = seed_comments(app, 1)
    response = integrator.send(
        "comment.moderate",
        {"comment": comment_id, "action": "approve", "reason": "classifier: ham"},
    )
    assert response.status_code == 200
    assert response.get_json() == {"id": comment_id, "from": "pending", "status": "approved"}
    from sqlalchemy import select

    from moderation.extensions import db
    from moderation.models import AuditEvent

    with app.app_context():
        event = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "approve")
        ).scalar_one()
        assert (event.actor_type, event.actor_id, event.actor_name, event.reason) == (
            "integration",
            integrator.public_id,
            "CMS",
            "classifier: ham",
        )
    integrator.send("comment.moderate", {"comment": comment_id, "action": "delete"})
    assert_problem(
        integrator.send("comment.moderate", {"comment": comment_id, "action": "approve"}),
        409,
        "This comment is deleted",
    )
    assert_problem(
        integrator.send("comment.moderate", {"comment": 99999, "action": "approve"}),
        404,
        "does not exist",
    )
    body = assert_problem(
        integrator.send("comment.moderate", {"comment": "7", "action": "bless"}), 422, ""
    )
    assert set(body["errors"]) == {"comment"}
    body = assert_problem(
        integrator.send("comment.moderate", {"comment": 7, "action": "bless"}), 422, ""
    )
    assert set(body["errors"]) == {"action"}


def test_comments_of_other_sites_are_invisible(
    app: Flask, client: FlaskClient, actions: Actions
) -> None:
    actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
    actions.create_site("news", ["https://news.example"], flood_seconds=0)
    [foreign] = seed_comments(app, 1, site="news")
    integrator = Integrator(client, *make_integration(app))
    assert_problem(
        integrator.send("comment.moderate", {"comment": foreign, "action": "approve"}),
        404,
        "does not exist",
    )


def test_thread_upsert_creates_updates_and_closes(integrator: Integrator, app: Flask) -> None:
    created = integrator.send(
        "thread.upsert",
        {"site": "blog", "thread": "post-9", "title": "Post 9", "url": "https://blog.example/9"},
    )
    assert (created.status_code, created.get_json()) == (
        201,
        {"thread": "post-9", "open": True, "created": True},
    )
    closed = integrator.send("thread.upsert", {"site": "blog", "thread": "post-9", "open": False})
    assert (closed.status_code, closed.get_json()["created"]) == (200, False)
    page = integrator.client.get("/w/blog?thread=post-9").get_data(as_text=True)
    assert "Comments are closed." in page
    assert 'id="commentform"' not in page
    # a cached page without a form is served whole, with no reader's token spliced in
    assert page.rstrip().endswith("</html>")
    assert_problem(integrator.submit(thread="post-9"), 400, "Comments are closed on this page.")
    listing = integrator.client.get("/api/v1/sites/blog/comments?thread=post-9").get_json()
    assert listing["open"] is False
    assert_problem(
        integrator.send("thread.upsert", {"site": "blog", "thread": "post-9", "open": "no"}),
        422,
        "",
    )


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b"not json", 400, "not valid JSON"),
        (b"[]", 400, "must be a JSON object"),
        (b'{"type": "comment.explode", "data": {}}', 400, "Unknown event type"),
        (b'{"type": "comment.submit", "data": [1]}', 400, "needs a 'data' object"),
        (b'{"type": "comment.submit"}', 400, "needs a 'data' object"),
    ],
)
def test_malformed_events(integrator: Integrator, body: bytes, status: int, fragment: str) -> None:
    response = integrator.send("", {}, body=body)
    assert response.status_code == status
    assert fragment in response.get_json()["detail"]


def test_oversized_body_is_413(integrator: Integrator) -> None:
    response = integrator.submit(comment="x" * 1_100_000)
    assert_problem(response, 413, "")


def test_submit_limits_apply_to_the_webhook_too(integrator: Integrator, app: Flask) -> None:
    app.config["LIMIT_SUBMIT_PER_ADDRESS"] = "2/minute"
    assert integrator.submit(comment="one").status_code == 202
    assert integrator.submit(comment="two").status_code == 202
    refused = integrator.submit(comment="three")
    assert_problem(refused, 429, "Please try again in")
    assert int(refused.headers["Retry-After"]) >= 1
    # a 429 is not a final answer: the same webhook-id may be retried later
    from moderation.services import hooks

    with app.app_context():
        assert hooks.FINAL_STATUSES.isdisjoint({429})


def test_webhook_endpoint_is_limited_per_integration(integrator: Integrator, app: Flask) -> None:
    app.config["LIMIT_WEBHOOK_PER_INTEGRATION"] = "3/minute"
    statuses = [
        integrator.send("thread.upsert", {"site": "blog", "thread": f"t{n}"}).status_code
        for n in range(4)
    ]
    assert statuses == [201, 201, 201, 429]


def test_unsigned_requests_cannot_lock_an_integration_out(
    integrator: Integrator, app: Flask
) -> None:
    """Issue 12, item 2: anyone who knows the id sent 5 unsigned POSTs and the integrator's
    next, correctly signed request got 429. Only verified requests count against it."""
    app.config["LIMIT_WEBHOOK_PER_INTEGRATION"] = "5/minute"
    attacker = integrator.client.application.test_client()
    for _ in range(5):
        forged = attacker.post(
            f"/api/v1/hooks/{integrator.public_id}",
            data=b'{"type": "thread.upsert", "data": {}}',
            content_type="application/json",
            headers={"webhook-id": "msg_x", "webhook-timestamp": "1", "webhook-signature": "v1,x"},
            environ_base={"REMOTE_ADDR": "198.51.100.66"},
        )
        assert forged.status_code == 401
    signed = integrator.send("thread.upsert", {"site": "blog", "thread": "t1"})
    assert signed.status_code == 201, signed.get_data(as_text=True)


def test_failed_signatures_are_limited_per_address_on_their_own(
    integrator: Integrator, app: Flask
) -> None:
    """Requests that do not verify (bad signature, unknown integration) count against the
    sender's address (``LIMIT_WEBHOOK_FAILURES_PER_ADDRESS``); past it they get 429. A
    correctly signed request is never refused for someone else's failures, even from the
    same address (a shared NAT must not lock the integrator out)."""
    app.config["LIMIT_WEBHOOK_FAILURES_PER_ADDRESS"] = "3/minute"
    app.config["LIMIT_WEBHOOK_PER_INTEGRATION"] = "100/minute"
    client = integrator.client.application.test_client()

    def forged(address: str, integration: str | None = None) -> TestResponse:
        return client.post(
            f"/api/v1/hooks/{integration or integrator.public_id}",
            data=b"{}",
            content_type="application/json",
            headers={"webhook-id": "msg_x", "webhook-timestamp": "1", "webhook-signature": "v1,x"},
            environ_base={"REMOTE_ADDR": address},
        )

    statuses = [forged("198.51.100.66").status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    refused = forged("198.51.100.66")
    assert_problem(refused, 429, "Too many requests that do not verify")
    assert int(refused.headers["Retry-After"]) >= 1
    assert forged("198.51.100.66", "int_unknown").status_code == 429  # unknown ids count too
    assert forged("198.51.100.67").status_code == 401  # another address has its own count
    # the integrator, behind the same address as the attacker, is still served
    signed = integrator.client.post(
        f"/api/v1/hooks/{integrator.public_id}",
        data=json.dumps({"type": "thread.upsert", "data": {"site": "blog", "thread": "n"}}),
        content_type="application/json",
        headers=signed_headers(
            integrator.secret,
            json.dumps({"type": "thread.upsert", "data": {"site": "blog", "thread": "n"}}),
        ),
        environ_base={"REMOTE_ADDR": "198.51.100.66"},
    )
    assert signed.status_code == 201, signed.get_data(as_text=True)


def signed_headers(secret: str, body: str) -> dict[str, str]:
    """Standard Webhooks headers for ``body``, signed now."""
    message_id = f"msg_{uuid.uuid4().hex}"
    moment = datetime.now(UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, moment, body),
    }


def test_an_integration_cannot_spend_a_visitors_allowance(
    integrator: Integrator, app: Flask, actions: Actions
) -> None:
    """Issue 12, suspected (a), confirmed: an integration could pass any ``client_ip`` (and
    email) and spend that visitor's per-address and per-email allowance on every site.
    Addresses and emails an integration supplies are now counted in the integration's own
    namespace: it can exhaust only what it spends itself."""
    from tests.doors import JsonDoor

    app.config["LIMIT_SUBMIT_PER_ADDRESS"] = "2/minute"
    app.config["LIMIT_SUBMIT_PER_EMAIL"] = "2/minute"
    actions.create_site("news", ["https://blog.example"], flood_seconds=0)
    victim = {"address": "198.51.100.23", "email": "victim@example.com"}
    for number in range(2):
        spent = integrator.submit(
            client_ip=victim["address"], email=victim["email"], comment=f"spend {number}"
        )
        assert spent.status_code == 202
    # the integration's own limit still holds for what it sends
    assert_problem(
        integrator.submit(client_ip=victim["address"], comment="third"), 429, "Please try again"
    )
    for site in ("news", "blog"):
        door = JsonDoor(app, integrator.client.application.test_client(), site=site)
        answer = door.post(address=victim["address"], email=victim["email"], comment=f"on {site}")
        assert answer.accepted, (site, answer.status, answer.text)
