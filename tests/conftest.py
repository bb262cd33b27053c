"""Fixtures: a real database per test (SQLite files, or PostgreSQL when
``MODERATION_DATABASE_URL`` names one), the app, its test client and CLI runner."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text

from moderation import create_app
from moderation.extensions import db
from tests.helpers import Actions

#: One round of PBKDF2: password checks in tests cost microseconds, not 0.14 s.
CHEAP_PASSWORD_HASH = "pbkdf2:sha256:1"

#: When set (as in CI's second run), every test runs on this PostgreSQL database.
SERVER_DATABASE_URL = os.environ.get("MODERATION_DATABASE_URL", "")

BASE_CONFIG: dict[str, Any] = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-not-for-production",
    "SESSION_COOKIE_SECURE": False,
    "RATELIMIT_STORAGE_URI": "memory://",
    # scrypt costs 0.14 s a hash; test_config proves the default is still scrypt
    "PASSWORD_HASH_METHOD": CHEAP_PASSWORD_HASH,
}


def uses_server_database() -> bool:
    """Whether this run uses a database server instead of SQLite files."""
    return bool(SERVER_DATABASE_URL) and not SERVER_DATABASE_URL.startswith("sqlite")


def reset_server_database(url: str) -> None:
    """Empty the server database completely, schema included."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def migrate(app: Flask) -> None:
    """Apply every migration, as ``moderation db upgrade`` does."""
    from flask_migrate import upgrade

    from moderation.extensions import MIGRATIONS_DIRECTORY

    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIRECTORY))


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database: a template SQLite file, or the migrated server database."""
    if uses_server_database():
        reset_server_database(SERVER_DATABASE_URL)
        url = SERVER_DATABASE_URL
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("template") / "template.db")
    instance = tmp_path_factory.mktemp("template-instance")
    app = create_app({**BASE_CONFIG, "DATABASE_URL": url}, instance_path=str(instance))
    migrate(app)
    with app.app_context():
        db.engine.dispose()
    return url


def empty_server_database(url: str, scratch: Path) -> None:
    """Make the server database migrated and empty, whatever the previous test left.

    Tests that run real servers reset the database themselves; one that stopped half way
    may leave it unmigrated or full.
    """
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            migrated = connection.execute(
                text("SELECT to_regclass('public.alembic_version')")
            ).scalar()
        if migrated is None:
            reset_server_database(url)
            app = create_app({**BASE_CONFIG, "DATABASE_URL": url}, instance_path=str(scratch))
            migrate(app)
            with app.app_context():
                db.engine.dispose()
        names = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


def truncate_all(app: Flask) -> None:
    """Empty every table of the app's server database (tests that leave data behind)."""
    with app.app_context():
        names = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        db.session.commit()
        db.session.remove()


@pytest.fixture
def database_url(migrated_database: str, tmp_path: Path) -> str:
    """A fresh, migrated, empty database for one test."""
    if uses_server_database():
        empty_server_database(migrated_database, tmp_path)
        return migrated_database
    path = tmp_path / "moderation.db"
    shutil.copyfile(migrated_database.removeprefix("sqlite:///"), path)
    path.chmod(0o600)  # as the service creates its database
    return f"sqlite:///{path}"


@pytest.fixture
def instance_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An instance folder of the test's own."""
    folder = tmp_path / "instance"
    folder.mkdir(mode=0o700)  # as the service creates it
    monkeypatch.setenv("MODERATION_INSTANCE_PATH", str(folder))
    return folder


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    """Extra settings a test module can override."""
    return {}


@pytest.fixture
def app(
    database_url: str, instance_path: Path, config_overrides: dict[str, Any]
) -> Iterator[Flask]:
    """The application on the test's own database."""
    application = create_app({**BASE_CONFIG, "DATABASE_URL": database_url, **config_overrides})
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """An HTTP client for the app."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """A Click runner for the app's commands."""
    return app.test_cli_runner()


@pytest.fixture
def actions(app: Flask) -> Actions:
    """Shortcuts through the service layer to set up a scenario."""
    return Actions(app)
