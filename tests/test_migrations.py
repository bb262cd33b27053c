"""Migrations build the whole schema from empty, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from moderation import create_app
from moderation.extensions import db
from moderation.models.search import include_name
from tests.databases import BASE_CONFIG, migrate, scratch_postgres_url

#: Each test migrates a database of its own (a SQLite file, a scratch PostgreSQL database)
#: whichever database the run uses: the PostgreSQL pass would run the same tests again.
pytestmark = pytest.mark.any_database

EXPECTED_TABLES = {
    "sites",
    "threads",
    "comments",
    "moderators",
    "audit_events",
    "integrations",
    "webhook_receipts",
    "outbox",
    "delivery_attempts",
    "used_form_tokens",
    "alembic_version",
    "status_counts",
    "moderator_sites",
    "spam_counts",
    "comment_spam",
    "block_entries",
    "dashboard_sessions",
}
# notifications (issue 15)
EXPECTED_TABLES |= {
    "moderator_site_notify",
    "email_links",
    "notify_addresses",
    "thread_subscriptions",
    "chat_hooks",
}
# the public data-rights page's emailed links (issue 18)
EXPECTED_TABLES |= {"person_links"}
# imported comments removed for good, left out when an import runs again (issue 18)
EXPECTED_TABLES |= {"removed_imports"}
# author edits: the text before each edit (issue 14)
EXPECTED_TABLES |= {"comment_revisions"}


# statistics counted per day (issue 17)
EXPECTED_TABLES |= {"daily_outcomes"}
# the queue's depth at the end of each day (issue 17)
EXPECTED_TABLES |= {"daily_queue_depth"}


@pytest.fixture
def scratch_postgres() -> Iterator[str]:
    """A PostgreSQL database of the test's own."""
    with scratch_postgres_url() as url:
        yield url


def assert_schema_matches_models(url: str, instance: Path) -> None:
    app = create_app({**BASE_CONFIG, "DATABASE_URL": url}, instance_path=str(instance))
    migrate(app)
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        assert {name for name in tables if include_name(name, "table", {})} == EXPECTED_TABLES
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": include_name}
            )
            assert compare_metadata(context, db.metadata) == []
            indexes = {index["name"] for index in inspect(connection).get_indexes("comments")}
        assert {"ix_comments_thread_status_created", "ix_comments_site_status_created"} <= indexes
        db.engine.dispose()


def test_migrations_from_empty_on_sqlite(tmp_path: Path) -> None:
    assert_schema_matches_models(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path)


def test_migrations_from_empty_on_postgresql(scratch_postgres: str, tmp_path: Path) -> None:
    assert_schema_matches_models(scratch_postgres, tmp_path)


def test_db_upgrade_command_is_idempotent(tmp_path: Path) -> None:
    app = create_app(
        {**BASE_CONFIG, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"},
        instance_path=str(tmp_path),
    )
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
    with app.app_context():
        assert "comments" in inspect(db.engine).get_table_names()
        db.engine.dispose()
