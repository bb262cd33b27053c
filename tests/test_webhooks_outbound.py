"""Outbound webhooks: signed events from the outbox, retries, dead letters, redelivery,
and workers that share the outbox without losing or doubling a delivery."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from tests.helpers import Actions, approve, deliver_all, make_integration, seed_comments
from tests.webhook_receiver import Receiver


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"WEBHOOK_ALLOW_PRIVATE_TARGETS": True, "LIMIT_SUBMIT_PER_SITE": "100000/hour"}


def connect(app: Flask, receiver: Receiver, actions: Actions, allow_email: bool = False) -> str:
    """A site and an integration subscribed to every event, sending to the receiver."""
    actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
    public_id, _ = make_integration(app, "Receiver", receiver, allow_email=allow_email)
    return public_id


def outbox_states(app: Flask) -> list[str]:
    from moderation.extensions import db
    from moderation.models import OutboxDelivery

    with app.app_context():
        return [
            row.state.value
            for row in db.session.execute(
                select(OutboxDelivery).order_by(OutboxDelivery.id)
            ).scalars()
        ]


def test_events_are_signed_and_carry_no_email(
    app: Flask, actions: Actions, receiver: Receiver
) -> None:
    connect(app, receiver, actions)
    [comment_id] = seed_comments(app, 1, email="secret.person@example.com")
    approve(app, comment_id)
    deliver_all(app)
    payloads = receiver.payloads()
    assert [payload["type"] for payload in payloads] == ["comment.created", "comment.approved"]
    assert receiver.refused_signatures == 0
    assert payloads[1]["data"]["id"] == comment_id
    assert payloads[1]["data"]["status"] == "approved"
    assert all("secret.person" not in message["raw"] for message in receiver.accepted)
    assert "email" not in payloads[0]["data"]
    assert outbox_states(app) == ["delivered", "delivered"]


def test_emails_only_for_integrations_allowed_them(
    app: Flask, actions: Actions, receiver: Receiver
) -> None:
    connect(app, receiver, actions, allow_email=True)
    seed_comments(app, 1, email="shared@example.com")
    deliver_all(app)
    assert receiver.payloads()[0]["data"]["email"] == "shared@example.com"


def test_every_transition_has_its_event(app: Flask, actions: Actions, receiver: Receiver) -> None:
    from moderation.domain.status import ModerationAction
    from moderation.services.decisions import moderate
    from moderation.services.events import Actor

    connect(app, receiver, actions)
    [comment_id] = seed_comments(app, 1)
    with app.app_context():
        for action in ("reject", "restore", "spam", "delete"):
            moderate(comment_id, ModerationAction(action), Actor("moderator", "1", "t"))
    deliver_all(app)
    assert [payload["type"] for payload in receiver.payloads()] == [
        "comment.created",
        "comment.rejected",
        "comment.approved",
        "comment.spam",
        "comment.deleted",
    ]


def test_a_receiver_that_fails_then_recovers_gets_each_event_once(
    app: Flask, actions: Actions, receiver: Receiver
) -> None:
    connect(app, receiver, actions)
    receiver.fail_first = 7
    seed_comments(app, 5)
    deliver_all(app, rounds=200)
    assert receiver.failures_sent == 7
    accepted = receiver.accepted_ids()
    assert len(accepted) == 5
    assert set(accepted.values()) == {1}
    assert outbox_states(app) == ["delivered"] * 5


def test_attempts_are_recorded_and_end_in_the_dead_state(
    app: Flask, actions: Actions, receiver: Receiver, runner: FlaskCliRunner
) -> None:
    from moderation.extensions import db
    from moderation.models import DeliveryAttempt, OutboxDelivery

    connect(app, receiver, actions)
    receiver.fail_first = 1000
    seed_comments(app, 1)
    deliver_all(app, rounds=100, max_attempts=3)
    assert outbox_states(app) == ["dead"]
    with app.app_context():
        delivery = db.session.execute(select(OutboxDelivery)).scalar_one()
        attempts = db.session.execute(select(DeliveryAttempt)).scalars().all()
        assert [attempt.status_code for attempt in attempts] == [503, 503, 503]
        assert delivery.last_error == "HTTP 503"
        delivery_id = delivery.id
    # fixed receiver, redelivered by hand
    receiver.fail_first = 0
    result = runner.invoke(args=["webhooks", "redeliver", str(delivery_id)])
    assert result.exit_code == 0, result.output
    assert "queued again" in result.output
    deliver_all(app)
    assert outbox_states(app) == ["delivered"]
    assert len(receiver.accepted) == 1


def test_backoff_grows_with_jitter() -> None:
    from moderation.services.webhooks import DeliverySettings, backoff_seconds

    settings = DeliverySettings(backoff_base=30, backoff_cap=3600)
    assert backoff_seconds(1, settings, rng=lambda: 1.0) == 30
    assert backoff_seconds(1, settings, rng=lambda: 0.0) == 15
    assert backoff_seconds(4, settings, rng=lambda: 1.0) == 240
    assert backoff_seconds(20, settings, rng=lambda: 1.0) == 3600


def test_private_targets_are_refused_unless_allowed(
    app: Flask, actions: Actions, runner: FlaskCliRunner
) -> None:
    actions.create_site("blog", ["https://blog.example"])
    app.config["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = False
    for url in (
        "http://127.0.0.1:9/hook",
        "http://10.1.2.3/hook",
        "http://[::1]/hook",
        "http://localhost/x",
        "http://169.254.169.254/latest",
    ):
        result = runner.invoke(
            args=[
                "integrations",
                "create",
                "X",
                "--site",
                "blog",
                "--events",
                "comment.created",
                "--url",
                url,
            ]
        )
        assert result.exit_code == 1, url
        assert "private or loopback" in result.output
    result = runner.invoke(
        args=["integrations", "create", "X", "--site", "blog", "--url", "ftp://example.com/"]
    )
    assert "must be an http:// or https:// address" in result.output


def test_delivery_to_a_private_target_is_refused_at_send_time(
    app: Flask, actions: Actions, receiver: Receiver
) -> None:
    connect(app, receiver, actions)
    seed_comments(app, 1)
    deliver_all(app, rounds=10, allow_private_targets=False, max_attempts=2)
    assert receiver.requests == 0
    assert outbox_states(app) == ["dead"]


def test_integration_commands(runner: FlaskCliRunner, actions: Actions, app: Flask) -> None:
    actions.create_site("blog", ["https://blog.example"])
    created = runner.invoke(
        args=[
            "integrations",
            "create",
            "CMS",
            "--site",
            "blog",
            "--events",
            "comment.created,comment.approved",
            "--url",
            "http://127.0.0.1:9/hook",
            "--scope",
            "submit",
        ]
    )
    assert created.exit_code == 0, created.output
    lines = dict(line.split(": ", 1) for line in created.output.splitlines() if ": " in line)
    assert lines["id"].startswith("int_")
    assert lines["secret"].startswith("whsec_")
    listing = runner.invoke(args=["integrations", "list"])
    assert lines["id"] in listing.output
    assert lines["secret"] not in listing.output
    rotated = runner.invoke(args=["integrations", "rotate", lines["id"], "--grace-hours", "2"])
    assert rotated.exit_code == 0
    assert "stays valid for 2 hour(s)" in rotated.output
    for args, message in [
        (["integrations", "create", "CMS", "--site", "nope"], "Unknown site 'nope'"),
        (
            [
                "integrations",
                "create",
                "CMS",
                "--site",
                "blog",
                "--events",
                "comment.exploded",
                "--url",
                "http://127.0.0.1/",
            ],
            "Unknown event",
        ),
        (
            ["integrations", "create", "CMS", "--site", "blog", "--events", "comment.created"],
            "need a webhook URL",
        ),
        (["integrations", "rotate", "int_nope"], "Unknown integration"),
        (["webhooks", "redeliver", "12345"], "does not exist"),
    ]:
        result = runner.invoke(args=args)
        assert result.exit_code == 1, args
        assert message in result.output
        assert "Traceback" not in result.output
    once = runner.invoke(args=["webhooks", "deliver", "--once"])
    assert once.exit_code == 0
    assert "attempt(s) made" in once.output


# -- several workers, real processes ---------------------------------------------------------


def worker_env(database_url: str, instance: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "MODERATION_DATABASE_URL": database_url,
        "MODERATION_INSTANCE_PATH": str(instance),
        "MODERATION_SECRET_KEY": "test-secret-key-not-for-production",
        "MODERATION_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
        "MODERATION_WEBHOOK_BACKOFF_BASE": "0.05",
        **extra,
    }


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "moderation", "webhooks", "deliver", "--interval", "0.05"],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    finally:
        handle.close()


def wait_for(condition: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


@pytest.mark.slow
def test_a_worker_killed_mid_send_loses_nothing(
    app: Flask,
    actions: Actions,
    receiver: Receiver,
    database_url: str,
    instance_path: Path,
    tmp_path: Path,
) -> None:
    connect(app, receiver, actions)
    receiver.delay = 1.0
    seed_comments(app, 3)
    env = worker_env(database_url, instance_path, MODERATION_WEBHOOK_LEASE_SECONDS="2")
    first = start_worker(env, tmp_path / "worker1.log")
    try:
        wait_for(lambda: receiver.requests >= 1)  # a send is in flight
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=5)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    receiver.delay = 0.0
    second = start_worker(env, tmp_path / "worker2.log")
    try:
        wait_for(lambda: outbox_states(app) == ["delivered"] * 3, timeout=30)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=10)
    accepted = receiver.accepted_ids()
    assert (
        len(accepted) == 3
    )  # nothing lost (the interrupted one may arrive twice, same webhook-id)


@pytest.mark.slow
# its PostgreSQL database is its own whichever database the run uses: the PostgreSQL pass
# would run the same test again
@pytest.mark.any_database
def test_two_workers_on_postgresql_never_send_one_delivery_twice_at_once(
    receiver: Receiver, tmp_path: Path
) -> None:
    from tests.databases import scratch_postgres_url

    with scratch_postgres_url() as url:
        from moderation import create_app
        from tests.databases import BASE_CONFIG, migrate

        app = create_app(
            {
                **BASE_CONFIG,
                "DATABASE_URL": url,
                "LIMIT_SUBMIT_PER_SITE": "100000/hour",
                "WEBHOOK_ALLOW_PRIVATE_TARGETS": True,
            },
            instance_path=str(tmp_path),
        )
        migrate(app)
        connect(app, receiver, Actions(app))
        receiver.delay = 0.05
        seed_comments(app, 40)
        env = worker_env(url, tmp_path)
        workers = [start_worker(env, tmp_path / f"w{n}.log") for n in range(2)]
        try:
            wait_for(lambda: outbox_states(app).count("delivered") == 40, timeout=60)
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            for worker in workers:
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:  # a loaded machine: never leak it to later tests
                    worker.kill()
                    worker.wait()
                    raise
            from moderation.extensions import db

            with app.app_context():
                db.engine.dispose()
        assert receiver.max_concurrent_same_id == 1
        assert set(receiver.accepted_ids().values()) == {1}
        assert len(receiver.accepted_ids()) == 40
        logs = "".join((tmp_path / f"w{n}.log").read_text() for n in range(2))
        assert "Traceback" not in logs
