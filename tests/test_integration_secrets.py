"""Integration secrets at rest (issue 12, item 6 in part): a copy of the database alone
does not give an integration's secret away; the secrets still sign and verify; a changed
SECRET_KEY is a clear error; the migration seals secrets that were stored in clear."""

from __future__ import annotations

import base64
import json
import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import create_engine, text
from standardwebhooks import Webhook

from moderation import create_app
from moderation.extensions import db
from tests.databases import BASE_CONFIG, uses_server_database
from tests.helpers import Actions, seed_comments
from tests.webhook_receiver import Receiver


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"WEBHOOK_ALLOW_PRIVATE_TARGETS": True, "LIMIT_SUBMIT_PER_SITE": "100000/hour"}


def created(runner: FlaskCliRunner, *extra: str) -> dict[str, str]:
    result = runner.invoke(args=["integrations", "create", "CMS", "--site", "blog", *extra])
    assert result.exit_code == 0, result.output
    return dict(line.split(": ", 1) for line in result.output.splitlines() if ": " in line)


def database_dump(app: Flask) -> str:
    """Everything in the integrations table, as someone with a copy of the database sees it."""
    with app.app_context():
        rows = db.session.execute(text("SELECT * FROM integrations")).mappings().all()
        return json.dumps([{key: str(value) for key, value in row.items()} for row in rows])


def forms_of(secret: str) -> list[str]:
    """The secret as printed, and its key in the encodings a thief would try."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    return [
        secret,
        secret.removeprefix("whsec_"),
        key.hex(),
        base64.urlsafe_b64encode(key).decode().rstrip("="),
    ]


def signed_post(app: Flask, public_id: str, secret: str) -> int:
    body = json.dumps({"type": "thread.upsert", "data": {"site": "blog", "thread": "t"}})
    message_id = f"msg_{uuid.uuid4().hex}"
    moment = datetime.now(UTC)
    response = app.test_client().post(
        f"/api/v1/hooks/{public_id}",
        data=body,
        content_type="application/json",
        headers={
            "webhook-id": message_id,
            "webhook-timestamp": str(int(moment.timestamp())),
            "webhook-signature": Webhook(secret).sign(message_id, moment, body),
        },
    )
    return response.status_code


def test_a_copy_of_the_database_does_not_give_the_secrets_away(
    app: Flask, actions: Actions, runner: FlaskCliRunner
) -> None:
    actions.create_site("blog", ["https://blog.example"])
    first = created(runner)
    rotated = runner.invoke(args=["integrations", "rotate", first["id"], "--grace-hours", "2"])
    assert rotated.exit_code == 0, rotated.output
    second = rotated.output.split("secret: ", 1)[1].split()[0]
    dump = database_dump(app)
    for secret in (first["secret"], second):  # the previous one (in its grace period) too
        for form in forms_of(secret):
            assert form not in dump
    # both still verify what the integrator signs
    assert signed_post(app, first["id"], first["secret"]) in (200, 201)
    assert signed_post(app, first["id"], second) in (200, 201)


def test_outbound_events_are_still_signed_with_the_secret(
    app: Flask, actions: Actions, runner: FlaskCliRunner
) -> None:
    from moderation.services import webhooks

    receiver = Receiver(secret="").start()
    try:
        actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
        receiver.secret = created(runner, "--events", "comment.created", "--url", receiver.url)[
            "secret"
        ]
        seed_comments(app, 1)
        with app.app_context():
            webhooks.deliver_due(webhooks.DeliverySettings(allow_private_targets=True))
    finally:
        receiver.stop()
    assert receiver.refused_signatures == 0
    assert len(receiver.accepted) == 1


def test_a_changed_secret_key_is_a_clear_error(
    app: Flask,
    actions: Actions,
    runner: FlaskCliRunner,
    database_url: str,
    instance_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from moderation.services import webhooks

    actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
    first = created(runner, "--events", "comment.created", "--url", "http://127.0.0.1:9/h")
    seed_comments(app, 1)
    other = create_app(
        {
            **BASE_CONFIG,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "another-key",
            "WEBHOOK_ALLOW_PRIVATE_TARGETS": True,
        }
    )
    try:
        with caplog.at_level(logging.ERROR, logger="moderation"):
            answer = other.test_client().post(
                f"/api/v1/hooks/{first['id']}",
                data=b"{}",
                content_type="application/json",
                headers={"webhook-id": "m", "webhook-timestamp": "1", "webhook-signature": "v1,x"},
            )
            assert answer.status_code == 503
            assert answer.mimetype == "application/problem+json"
            assert "cannot read its secret" in answer.get_json()["detail"]
            with other.app_context():
                webhooks.deliver_due(webhooks.DeliverySettings(allow_private_targets=True))
                [attempt] = db.session.execute(
                    text("SELECT error FROM delivery_attempts")
                ).scalars()
                assert attempt == "refused: secret unreadable (SECRET_KEY changed?)"
        logged = caplog.text
        assert "cannot be decrypted with this SECRET_KEY" in logged
        assert f"moderation integrations rotate {first['id']} --revoke-now" in logged
        # the way out: a new secret, under the new key
        rotated = other.test_cli_runner().invoke(
            args=["integrations", "rotate", first["id"], "--revoke-now"]
        )
        assert rotated.exit_code == 0, rotated.output
        fresh = rotated.output.split("secret: ", 1)[1].split()[0]
        assert signed_post(other, first["id"], fresh) in (200, 201)
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


# -- the migration ------------------------------------------------------------------------


def migrated_to(app: Flask, revision: str) -> None:
    from flask_migrate import downgrade, upgrade

    from moderation.extensions import MIGRATIONS_DIRECTORY

    with app.app_context():
        if revision == "down":
            downgrade(directory=str(MIGRATIONS_DIRECTORY), revision="0001")
        else:
            upgrade(directory=str(MIGRATIONS_DIRECTORY), revision=revision)


def scratch_url(tmp_path: Path) -> Any:
    """A database of the test's own at revision 0 (SQLite, or a scratch PostgreSQL)."""
    if uses_server_database():
        from tests.databases import scratch_postgres_url

        return scratch_postgres_url()
    from contextlib import nullcontext

    return nullcontext(f"sqlite:///{tmp_path / 'old.db'}")


def test_the_migration_seals_secrets_stored_in_clear(tmp_path: Path) -> None:
    """A database written by the previous version keeps working: its clear secrets are
    sealed by ``moderation db upgrade`` and still verify; downgrading opens them again."""
    old_secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    previous = "whsec_" + base64.b64encode(b"p" * 32).decode()
    with scratch_url(tmp_path) as url:
        app = create_app({**BASE_CONFIG, "DATABASE_URL": url}, instance_path=str(tmp_path))
        try:
            migrated_to(app, "0001")
            engine = create_engine(url)
            with engine.begin() as connection:
                connection.execute(
                    text(
                        "INSERT INTO sites (slug, name, origins, policy, max_links, flood_seconds,"
                        " max_depth, page_size, moderation_words, blocked_words, created_at)"
                        " VALUES ('blog', 'Blog', '[]', 'premoderate', 2, 0, 5, 50, '', '',"
                        " '2026-01-01 00:00:00')"
                    )
                )
                connection.execute(
                    text(
                        "INSERT INTO integrations (public_id, name, site_id, secret,"
                        " previous_secret, previous_secret_expires_at, scopes, events,"
                        " target_url, allow_email, is_active, created_at)"
                        " VALUES ('int_old', 'Old', 1, :secret, :previous,"
                        " '2999-01-01 00:00:00', '[\"threads\"]', '[]', '', false, true,"
                        " '2026-01-01 00:00:00')"
                    ),
                    {"secret": old_secret, "previous": previous},
                )
            migrated_to(app, "head")
            with engine.connect() as connection:
                stored = connection.execute(
                    text("SELECT secret, previous_secret FROM integrations")
                ).one()
            assert stored.secret.startswith("v1:") and stored.previous_secret.startswith("v1:")
            dump = f"{stored.secret} {stored.previous_secret}"
            for form in forms_of(old_secret) + forms_of(previous):
                assert form not in dump
            assert signed_post(app, "int_old", old_secret) in (200, 201)
            assert signed_post(app, "int_old", previous) in (200, 201)
            migrated_to(app, "down")
            with engine.connect() as connection:
                opened = connection.execute(
                    text("SELECT secret, previous_secret FROM integrations")
                ).one()
            assert (opened.secret, opened.previous_secret) == (old_secret, previous)
            engine.dispose()
        finally:
            with app.app_context():
                db.engine.dispose()
