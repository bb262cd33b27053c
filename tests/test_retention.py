"""Retention (addresses, user agents and rejected emails cleared after N days) and
``moderation backup``, on the real database."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select, update

from moderation.clock import utcnow
from moderation.domain.status import ModerationAction
from moderation.extensions import db
from moderation.models import AuditEvent, Comment
from tests.conftest import uses_server_database
from tests.helpers import Actions, seed_comments, stored_comments


def age(app: Flask, comment_id: int, days: float) -> None:
    """Make a comment (and its last change) ``days`` old."""
    then = utcnow() - timedelta(days=days)
    with app.app_context():
        db.session.execute(
            update(Comment).where(Comment.id == comment_id).values(created_at=then, updated_at=then)
        )
        db.session.commit()


@pytest.fixture
def aged(app: Flask, actions: Actions) -> dict[str, int]:
    """Comments of various ages and statuses."""
    from moderation.services.decisions import moderate
    from moderation.services.events import Actor

    actions.create_site("blog", flood_seconds=0)
    old, recent, old_spam, recent_spam, old_pending = seed_comments(app, 5)
    with app.app_context():
        for comment_id in (old_spam, recent_spam):
            moderate(comment_id, ModerationAction.SPAM, Actor("moderator", "1", "tester"))
    for comment_id in (old, old_spam, old_pending):
        age(app, comment_id, 100)
    return {
        "old": old,
        "recent": recent,
        "old_spam": old_spam,
        "recent_spam": recent_spam,
        "old_pending": old_pending,
    }


def test_retention_clears_old_addresses_and_old_rejected_emails_only(
    app: Flask, runner: FlaskCliRunner, aged: dict[str, int]
) -> None:
    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert "3 comment(s) lost their IP address" in result.output
    assert "1 rejected or spam comment(s) lost their email" in result.output
    rows = {row["id"]: row for row in stored_comments(app)}
    assert rows[aged["old"]]["ip"] == "" and rows[aged["old"]]["email"]
    assert rows[aged["recent"]]["ip"]
    assert rows[aged["old_spam"]]["email"] == ""
    assert rows[aged["recent_spam"]]["email"]
    assert rows[aged["old_pending"]]["email"], "pending comments keep their email"
    again = runner.invoke(args=["retention", "run"])
    assert "0 comment(s) lost" in again.output
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.reason).where(AuditEvent.action == "retention"))


def test_retention_run_also_purges_comments_deleted_long_enough_ago(
    app: Flask, runner: FlaskCliRunner, aged: dict[str, int]
) -> None:
    """Deleted comments are purged after PURGE_DELETED_AFTER_DAYS (30) by the same command,
    as the delivery worker does: a comment deleted 31 days ago goes, one deleted today stays."""
    from moderation.services.decisions import moderate
    from moderation.services.events import Actor

    with app.app_context():
        for comment_id in (aged["old"], aged["recent"]):
            moderate(comment_id, ModerationAction.DELETE, Actor("moderator", "1", "tester"))
    age(app, aged["old"], 31)
    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert "1 deleted comment(s) purged" in result.output
    left = {row["id"] for row in stored_comments(app)}
    assert aged["old"] not in left and aged["recent"] in left
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.reason).where(AuditEvent.action == "purge"))


@pytest.mark.parametrize("config_overrides", [{"RETENTION_ADDRESS_DAYS": 0}])
def test_a_period_of_zero_keeps_the_data(
    app: Flask, runner: FlaskCliRunner, aged: dict[str, int], config_overrides: dict[str, Any]
) -> None:
    result = runner.invoke(args=["retention", "run"])
    assert "0 comment(s) lost their IP address" in result.output
    assert stored_comments(app)[0]["ip"]


@pytest.mark.slow
def test_the_delivery_worker_applies_retention_and_purges_deleted_comments(
    app: Flask, aged: dict[str, int], database_url: str, instance_path: Path, tmp_path: Path
) -> None:
    import os

    from moderation.services.decisions import moderate
    from moderation.services.events import Actor

    with app.app_context():
        moderate(aged["recent"], ModerationAction.DELETE, Actor("moderator", "1", "tester"))
    age(app, aged["recent"], 31)
    env = {
        **os.environ,
        "MODERATION_DATABASE_URL": database_url,
        "MODERATION_INSTANCE_PATH": str(instance_path),
        "MODERATION_SECRET_KEY": "test-secret-key-not-for-production",
    }
    with (tmp_path / "worker.log").open("ab") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "moderation", "webhooks", "deliver", "--interval", "0.1"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        # a bound, not a wait: the worker's first housekeeping runs as it starts (a second
        # on an idle machine; starting Python and the app on a busy one takes far longer)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            rows = {row["id"]: row for row in stored_comments(app)}
            if rows[aged["old"]]["ip"] == "" and aged["recent"] not in rows:
                break  # addresses cleared and the deleted comment purged
            time.sleep(0.2)
        else:
            raise AssertionError((tmp_path / "worker.log").read_text())
    finally:
        worker.terminate()
        worker.wait(timeout=10)


@pytest.mark.skipif(uses_server_database(), reason="the online backup is SQLite's")
@pytest.mark.parametrize(
    "config_overrides",
    [{"LIMIT_SUBMIT_PER_ADDRESS": "100000/minute", "LIMIT_SUBMIT_PER_EMAIL": "100000/minute"}],
)
def test_backup_copies_the_database_while_it_is_written(
    app: Flask,
    runner: FlaskCliRunner,
    actions: Actions,
    tmp_path: Path,
    config_overrides: dict[str, Any],
) -> None:
    actions.create_site("blog", flood_seconds=0)
    seed_comments(app, 20)
    stop = threading.Event()

    def keep_writing() -> None:
        number = 0
        while not stop.is_set():
            number += 1
            seed_comments(
                app, 1, text=f"written during the backup {number}", email=f"w{number}@example.com"
            )

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        result = runner.invoke(args=["backup", str(tmp_path / "copy.db")])
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    copy = sqlite3.connect(tmp_path / "copy.db")
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("SELECT count(*) FROM comments").fetchone()[0] >= 20
    finally:
        copy.close()
    assert (tmp_path / "copy.db").stat().st_mode & 0o077 == 0
    again = runner.invoke(args=["backup", str(tmp_path / "copy.db")])
    assert again.exit_code == 1 and "exists" in again.output


@pytest.mark.skipif(not uses_server_database(), reason="PostgreSQL only")
def test_backup_on_postgresql_says_to_use_pg_dump(runner: FlaskCliRunner, tmp_path: Path) -> None:
    result = runner.invoke(args=["backup", str(tmp_path / "copy.db")])
    assert result.exit_code == 1 and "pg_dump" in result.output
    assert not (tmp_path / "copy.db").exists()
