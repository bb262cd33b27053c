"""Prepared statements (:mod:`moderation.services.prepared`) write what the same Core
statement writes, convert every value through its column's type, go through the
connection's events and error wrapping, and refuse what they cannot send as it is."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import bindparam, event, insert, select, update
from sqlalchemy.exc import IntegrityError

from moderation.domain.status import CommentStatus
from moderation.extensions import db
from moderation.models import (
    AuditEvent,
    Comment,
    CommentSpam,
    Site,
    StatusCount,
    Thread,
    UsedFormToken,
)
from moderation.services.prepared import prepare, prepared
from tests.helpers import Actions, aged_token, comment_fields

ORIGIN = "https://blog.example"
MOMENT = datetime(2026, 11, 29, 21, 5, 7, 123456, tzinfo=UTC)


def audit_row(reason: str) -> dict[str, Any]:
    return {
        "created_at": MOMENT,
        "actor_type": "visitor",
        "actor_id": "",
        "actor_name": "",
        "action": "submitted",
        "site_id": None,
        "comment_id": None,
        "from_status": "",
        "to_status": CommentStatus.PENDING.value,
        "reason": reason,
    }


def test_a_prepared_insert_stores_what_the_core_insert_stores(app: Flask) -> None:
    """Times (an aware UTC datetime stored naive), JSON and floats come back the same."""
    with app.app_context():
        connection = db.session.connection()
        statement = insert(AuditEvent)
        core, fast = audit_row("core"), audit_row("prepared")
        connection.execute(statement, core)
        prepared(statement, connection.dialect, tuple(fast)).execute(connection, fast)
        rows = {
            row.reason: row
            for row in db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()
        }
        assert rows["prepared"].created_at == rows["core"].created_at == MOMENT
        for column in ("actor_type", "action", "to_status", "from_status", "site_id"):
            assert getattr(rows["prepared"], column) == getattr(rows["core"], column)
        db.session.rollback()


def test_a_prepared_statement_converts_enums(app: Flask, actions: Actions) -> None:
    actions.create_site("blog", [ORIGIN])
    with app.app_context():
        site_id = db.session.execute(select(Site.id).where(Site.slug == "blog")).scalar_one()
        connection = db.session.connection()
        counter = (
            update(StatusCount)
            .where(
                StatusCount.site_id == bindparam("b_site_id"),
                StatusCount.status == bindparam("b_status"),
            )
            .values(count=StatusCount.count + bindparam("b_delta"))
        )
        changed = prepared(counter, connection.dialect).execute(
            connection, {"b_site_id": site_id, "b_status": CommentStatus.SPAM, "b_delta": 3}
        )
        assert changed.rowcount == 1
        spam = db.session.execute(
            select(StatusCount.count).where(
                StatusCount.site_id == site_id, StatusCount.status == CommentStatus.SPAM
            )
        ).scalar_one()
        assert spam == 3
        db.session.rollback()


def test_a_prepared_statement_runs_through_the_connections_events_and_errors(
    app: Flask,
) -> None:
    """What listens to statements sees it; a constraint it breaks is SQLAlchemy's error."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    with app.app_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            connection = db.session.connection()
            spend = prepared(insert(UsedFormToken), connection.dialect, ("nonce", "expires_at"))
            token = {"nonce": "prepared-nonce", "expires_at": MOMENT}
            spend.execute(connection, token)
            with pytest.raises(IntegrityError):
                spend.execute(connection, token)
        finally:
            event.remove(engine, "before_cursor_execute", record)
            db.session.rollback()
    assert sum("INSERT INTO used_form_tokens" in statement for statement in seen) == 2


def test_statements_a_prepared_text_cannot_carry_are_refused(app: Flask) -> None:
    """A column default filled in Python, or a list whose length shapes the text."""
    with app.app_context():
        dialect = db.session.connection().dialect
        with pytest.raises(ValueError, match="column defaults"):
            prepare(insert(Site), dialect, ("slug", "name"))
        with pytest.raises(ValueError, match="cannot change"):
            prepare(select(Site.id).where(Site.slug.in_(["a", "b"])), dialect)
        db.session.rollback()


def test_a_submission_written_by_prepared_statements_reads_back_typed(
    app: Flask, client: FlaskClient, actions: Actions
) -> None:
    """The hot path's rows: the comment's status and times, the assessment's JSON."""
    actions.create_site("blog", [ORIGIN])
    response = client.post(
        "/api/v1/sites/blog/comments?thread=prepared",
        json={**comment_fields(), "form_token": aged_token(app, "blog", "prepared")},
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    comment_id = response.get_json()["id"]
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        assessment = db.session.get(CommentSpam, comment_id)
        audit = db.session.execute(
            select(AuditEvent).where(AuditEvent.comment_id == comment_id)
        ).scalar_one()
        assert comment is not None and assessment is not None
        assert comment.status is CommentStatus.PENDING
        assert comment.created_at.tzinfo is UTC
        assert comment.created_at == comment.updated_at
        assert audit.created_at.tzinfo is UTC and audit.to_status == "pending"
        assert comment.email_flagged is False
        assert isinstance(assessment.clues, list)
        assert assessment.features.split("\n") == sorted(assessment.features.split("\n"))


def test_a_prepared_select_reads_rows_as_the_core_select_does(
    app: Flask, client: FlaskClient, actions: Actions
) -> None:
    """Times come back aware, flags as booleans, by column name."""
    from moderation.services.threads import THREAD_STATE_COLUMNS

    actions.create_site("blog", [ORIGIN])
    response = client.post(
        "/api/v1/sites/blog/comments?thread=selected",
        json={**comment_fields(), "form_token": aged_token(app, "blog", "selected")},
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    with app.app_context():
        connection = db.session.connection()
        statement = select(*THREAD_STATE_COLUMNS).where(Thread.key == bindparam("key"))
        core = connection.execute(statement, {"key": "selected"}).one()
        fast = prepared(statement, connection.dialect).first(connection, {"key": "selected"})
        assert prepared(statement, connection.dialect).first(connection, {"key": "none"}) is None
        for name in ("id", "version", "is_open", "approved_count", "created_at", "keep_open"):
            assert getattr(fast, name) == getattr(core, name)
            assert type(getattr(fast, name)) is type(getattr(core, name))
        assert fast.is_open is True
        assert fast.created_at.tzinfo is UTC
        db.session.rollback()
