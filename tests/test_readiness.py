"""``GET /readyz``: ready only when every part the process needs works, and a 503 that names
the part that does not (a stopped Redis, a database nobody listens on, a schema behind the
migrations, an outbox nobody sends)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from moderation import create_app
from moderation.extensions import db
from moderation.services.events import SYSTEM
from tests.databases import BASE_CONFIG
from tests.helpers import Actions, make_integration, seed_comments
from tests.redis_dbs import CHECKS_DB, SHARED_PORT, redis_url
from tests.servers import free_port
from tests.webhook_receiver import Receiver


def readiness_of(client: FlaskClient) -> tuple[int, dict[str, Any]]:
    response = client.get("/readyz")
    assert response.headers["Cache-Control"] == "no-store"
    return response.status_code, response.get_json()


def test_a_migrated_database_with_limits_in_memory_is_ready(client: FlaskClient) -> None:
    status, body = readiness_of(client)
    assert status == 200, body
    assert body["status"] == "ready"
    assert body["failing"] == []
    assert body["checks"]["database"]["state"] == "ok"
    assert body["checks"]["migrations"]["state"] == "ok"
    assert body["checks"]["outbox"]["state"] == "ok"
    assert body["checks"]["redis"]["state"] == "skipped"


@pytest.mark.parametrize(
    ("port", "expected"),
    [(SHARED_PORT, 200), (None, 503)],
    ids=["redis-up", "redis-stopped"],
)
def test_redis_is_checked_when_it_holds_the_limits(
    database_url: str, instance_path: Path, port: int | None, expected: int
) -> None:
    app = create_app(
        {
            **BASE_CONFIG,
            "DATABASE_URL": database_url,
            "RATELIMIT_STORAGE_URI": redis_url(CHECKS_DB, port or free_port()),
        }
    )
    status, body = readiness_of(app.test_client())
    assert status == expected, body
    if expected == 503:
        assert body["failing"] == ["redis"]
        assert body["checks"]["redis"]["detail"]
    else:
        assert body["checks"]["redis"]["state"] == "ok"
    with app.app_context():
        db.engine.dispose()


@pytest.mark.any_database
def test_a_database_nobody_listens_on_names_the_database(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing"
    app = create_app({**BASE_CONFIG, "DATABASE_URL": url}, instance_path=str(tmp_path))
    response = app.test_client().get("/readyz")
    body = response.get_json()
    assert response.status_code == 503, body
    assert response.headers["Retry-After"]
    assert body["failing"] == ["database", "migrations", "outbox"]
    assert "unreachable" in body["checks"]["database"]["detail"]
    assert body["checks"]["redis"]["state"] == "skipped"


def test_a_schema_behind_the_migrations_is_not_ready(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        head = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        db.session.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        db.session.commit()
    try:
        status, body = readiness_of(client)
    finally:
        with app.app_context():
            db.session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
            db.session.commit()
    assert status == 503, body
    assert body["failing"] == ["migrations"]
    assert "moderation db upgrade" in body["checks"]["migrations"]["detail"]


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    # any delivery that is due at all counts as waiting too long
    return {"READY_OUTBOX_STUCK_SECONDS": 0}


def test_an_outbox_nobody_sends_is_named_until_its_integration_is_disabled(
    app: Flask, client: FlaskClient, actions: Actions, receiver: Receiver
) -> None:
    from moderation.services.integrations import set_enabled

    actions.create_site()
    public_id, _ = make_integration(app, receiver=receiver)
    seed_comments(app, 1)  # comment.created waits in the outbox; no worker runs here

    status, body = readiness_of(client)
    assert status == 503, body
    assert body["failing"] == ["outbox"]
    assert "delivery worker" in body["checks"]["outbox"]["detail"]

    with app.app_context():
        set_enabled(public_id, False, SYSTEM)  # its deliveries wait on purpose now
    status, body = readiness_of(client)
    assert status == 200, body
