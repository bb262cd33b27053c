"""The test databases: SQLite files, or a PostgreSQL server when ``MODERATION_DATABASE_URL``
names one (a database per pytest-xdist worker), created, migrated and emptied for tests.

Test modules import from here (the fixtures in conftest.py build on it)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, create_engine, make_url, text

from moderation import create_app
from moderation.extensions import db

#: One round of PBKDF2: password checks in tests cost microseconds, not 0.14 s.
CHEAP_PASSWORD_HASH = "pbkdf2:sha256:1"


def worker_database_url(url: str) -> str:
    """Under pytest-xdist, each worker's own database on the same server (``<db>_gw0``,
    created on demand), so workers never empty each other's tables. The environment is
    pointed at it too: server processes and CLI runs started by a test inherit it."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker or not url or url.startswith("sqlite"):
        return url
    shared = make_url(url)
    name = f"{shared.database}_{worker}"
    admin = create_engine(shared, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            found = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if found is None:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    own = shared.set(database=name).render_as_string(hide_password=False)
    os.environ["MODERATION_DATABASE_URL"] = own
    return own


#: When set (as in CI's second run), every test runs on this PostgreSQL database (one per
#: xdist worker).
SERVER_DATABASE_URL = worker_database_url(os.environ.get("MODERATION_DATABASE_URL", ""))

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


_engines: dict[str, Engine] = {}


def server_engine(url: str) -> Engine:
    """One engine per server database for the whole run (a connection per test costs)."""
    if url not in _engines:
        _engines[url] = create_engine(url, pool_size=1)
    return _engines[url]


def empty_server_database(url: str, scratch: Path) -> None:
    """Make the server database migrated and empty, whatever the previous test left.

    Tests that run real servers reset the database themselves; one that stopped half way
    may leave it unmigrated or full. Emptying is DELETE, children first, and sequences
    restarted: on tables this small that is ~10x faster than TRUNCATE. Only the sequences
    the test drew from are restarted (``setval`` to their start, as ``ALTER SEQUENCE ...
    RESTART`` does; most tests use a few of the 18), in one statement, and the emptying
    commits without waiting for its WAL to reach the disk (nothing needs it to survive a
    crash): this halved the server's CPU per emptying and its wait (4.6 -> 2.3 ms, 35 ->
    15 ms, a test that used two sequences).
    """
    engine = server_engine(url)
    with engine.connect() as connection:
        migrated = connection.execute(text("SELECT to_regclass('public.alembic_version')")).scalar()
    if migrated is None:
        engine.dispose()
        reset_server_database(url)
        app = create_app({**BASE_CONFIG, "DATABASE_URL": url}, instance_path=str(scratch))
        migrate(app)
        with app.app_context():
            db.engine.dispose()
    with engine.begin() as connection:
        connection.exec_driver_sql(EMPTY_SERVER_DATABASE)


#: The statements that empty the server database (:func:`empty_server_database`).
EMPTY_SERVER_DATABASE = "; ".join(
    [
        "SET LOCAL synchronous_commit TO OFF",
        *(f'DELETE FROM "{table.name}"' for table in reversed(db.metadata.sorted_tables)),  # noqa: S608 - model names
        # pg_sequences shows no last_value for a sequence not drawn from since its start
        "SELECT setval((quote_ident(schemaname) || '.' || quote_ident(sequencename))::regclass,"
        " start_value, false) FROM pg_sequences"
        " WHERE schemaname = 'public' AND last_value IS NOT NULL",
    ]
)


def truncate_all(app: Flask) -> None:
    """Empty every table of the app's server database (tests that leave data behind)."""
    with app.app_context():
        names = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        db.session.commit()
        db.session.remove()


#: A role that may create databases, for tests that need a PostgreSQL database of their own.
POSTGRES_ADMIN_URL = os.environ.get(
    "MODERATION_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def scratch_postgres_url() -> Iterator[str]:
    """A PostgreSQL database of its own, dropped afterwards."""
    name = f"moderation_scratch_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # pragma: no cover - only when the server is missing
        admin.dispose()
        pytest.fail(f"PostgreSQL is required for this test and unreachable: {error}")
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
