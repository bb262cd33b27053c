"""The rows an accepted submission writes: its spent form token, the comment, its audit
event, the status counter (and the day's queue depth), the day's outcome count and the
classifier's assessment, in the caller's transaction.

On PostgreSQL they are one statement (data-modifying ``WITH`` clauses), so a post makes one
round trip for all of them instead of six; elsewhere (SQLite, in process: no round trips
to save) one statement each. Also the thread's own writes before them: its creation with
the first comment, and the page's title and address as the post names them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, bindparam, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.dml import Insert

from moderation.domain.errors import N_
from moderation.domain.status import CommentStatus
from moderation.extensions import db
from moderation.models import AuditEvent, Comment, CommentSpam, Thread, UsedFormToken
from moderation.models.base import Base
from moderation.services import events, statistics
from moderation.services.form_tokens import FormTokenRefused
from moderation.services.prepared import prepared
from moderation.services.threads import thread_state


@dataclass(frozen=True)
class SubmissionRows:
    """Everything an accepted submission writes (the audit event and the assessment without
    the comment's id: it is only known once the comment is in)."""

    comment: dict[str, Any]
    audit: dict[str, Any]
    #: the day's outcome count (:func:`statistics.outcome_values`)
    outcome: dict[str, Any]
    #: the spent form token, if the door had one
    spent_token: dict[str, Any] | None
    #: what the classifier said, if it was asked
    assessment: dict[str, Any] | None


def write_rows(rows: SubmissionRows) -> int:
    """Write ``rows``; return the comment's id. A form token spent already (two copies of a
    form sent at once) rolls back and refuses the submission."""
    connection = db.session.connection()
    try:
        if connection.dialect.name == "postgresql":
            return _in_one_statement(connection, rows)
        return _one_by_one(connection, rows)
    except IntegrityError as error:
        if rows.spent_token is None or UsedFormToken.__tablename__ not in str(error.orig):
            raise
        db.session.rollback()
        raise FormTokenRefused(
            N_("This form was already used to post a comment. Please post your comment again.")
        ) from None


def _one_by_one(connection: Connection, rows: SubmissionRows) -> int:
    """One statement per row (the counter and the queue depth as :func:`events.count_status`
    writes them)."""
    dialect = connection.dialect
    if rows.spent_token is not None:
        prepared(_SPEND, dialect, tuple(rows.spent_token)).execute(connection, rows.spent_token)
    comment = rows.comment
    inserted = prepared(_INSERT_COMMENT, dialect, tuple(comment)).execute(connection, comment)
    comment_id: int = inserted.scalar_one()
    audit = {"comment_id": comment_id, **rows.audit}
    prepared(_INSERT_AUDIT, dialect, tuple(audit)).execute(connection, audit)
    events.count_status(
        comment["site_id"], comment["status"], +1, comment["created_at"], connection
    )
    prepared(statistics.count_submission_statement(dialect.name), dialect).execute(
        connection, rows.outcome
    )
    if rows.assessment is not None:
        assessment = {"comment_id": comment_id, **rows.assessment}
        prepared(_INSERT_ASSESSMENT, dialect, tuple(assessment)).execute(connection, assessment)
    return comment_id


_SPEND = insert(UsedFormToken)
_INSERT_COMMENT = insert(Comment).returning(Comment.id)
_INSERT_AUDIT = insert(AuditEvent)
_INSERT_ASSESSMENT = insert(CommentSpam)


def _in_one_statement(connection: Connection, rows: SubmissionRows) -> int:
    """PostgreSQL: every row in one statement. Each concurrent post runs the same statement,
    so they take the shared rows' locks (the counter, the queue depth, the outcome count) in
    the same order; the counter's first, as :func:`events.count_status` does."""
    comment = rows.comment
    pending = comment["status"] is CommentStatus.PENDING
    statement = _one_statement(
        tuple(comment), rows.spent_token is not None, pending, rows.assessment is not None
    )
    params: dict[str, Any] = {
        **_prefixed("c_", comment),
        **_prefixed("a_", rows.audit),
        **rows.outcome,
        "b_site_id": comment["site_id"],
        "b_delta": 1,
    }
    if pending:
        params["b_day"] = comment["created_at"].date()
    else:
        params["b_status"] = comment["status"]
    if rows.spent_token is not None:
        params.update(_prefixed("t_", rows.spent_token))
    if rows.assessment is not None:
        params.update(_prefixed("s_", rows.assessment))
    return int(prepared(statement, connection.dialect).execute(connection, params).scalar_one())


def _prefixed(prefix: str, values: dict[str, Any]) -> dict[str, Any]:
    return {f"{prefix}{key}": value for key, value in values.items()}


def _bound(model: type[Base], prefix: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """A bound parameter ``prefix + key`` for each column ``key`` of ``model``, typed as
    the column (its values are converted as a plain insert would convert them)."""
    columns = model.__table__.c
    return {key: bindparam(f"{prefix}{key}", type_=columns[key].type) for key in keys}


_AUDIT_KEYS = (
    "created_at",
    "actor_type",
    "actor_id",
    "actor_name",
    "action",
    "site_id",
    "from_status",
    "to_status",
    "reason",
)
_ASSESSMENT_KEYS = ("score", "clues", "features", "feature_version", "label")


@cache
def _one_statement(
    comment_keys: tuple[str, ...], spend: bool, pending: bool, assessed: bool
) -> Any:
    """``WITH stored AS (INSERT INTO comments … RETURNING id), … SELECT id FROM stored``,
    built once per shape (a token or not, pending or not, assessed or not)."""
    stored = (
        insert(Comment)
        .values(_bound(Comment, "c_", comment_keys))
        .returning(Comment.id)
        .cte("stored")
    )
    comment_id = select(stored.c.id).scalar_subquery()
    ctes = [stored]
    if spend:
        ctes.append(
            insert(UsedFormToken)
            .values(_bound(UsedFormToken, "t_", ("nonce", "expires_at")))
            .cte("spent")
        )
    ctes.append(
        insert(AuditEvent)
        .values({**_bound(AuditEvent, "a_", _AUDIT_KEYS), "comment_id": comment_id})
        .cte("audited")
    )
    # the counter (and with it the queue depth) before the outcome count, as one by one
    counted = statistics.counted_pending_statement() if pending else events.count_status_statement()
    ctes.append(counted.cte("counted_status"))
    ctes.append(statistics.count_submission_statement("postgresql").cte("counted_outcome"))
    if assessed:
        ctes.append(
            insert(CommentSpam)
            .values({**_bound(CommentSpam, "s_", _ASSESSMENT_KEYS), "comment_id": comment_id})
            .cte("assessed")
        )
    return select(stored.c.id).add_cte(*ctes)


def follow_the_post(thread_id: int, title: str, url: str) -> None:
    """The post's title and address as its page names them now (callers pass an address
    only when it is on one of the site's origins)."""
    title, url = title[:300], url[:2000]
    db.session.execute(
        update(Thread)
        .where(Thread.id == thread_id, or_(Thread.title != title, Thread.url != url))
        .values(title=title, url=url)
    )


def create_thread(site_id: int, key: str, title: str, url: str, now: datetime) -> int:
    """Insert the thread unless a concurrent request just did; either way return it."""
    values = {
        "site_id": site_id,
        "key": key,
        "title": title[:300],
        "url": url[:2000],
        "is_open": True,
        "version": 0,
        "approved_count": 0,
        "created_at": now,
    }
    statement: Insert
    if db.session.get_bind().dialect.name == "postgresql":
        statement = postgresql.insert(Thread).values(values).on_conflict_do_nothing()
    else:
        statement = sqlite.insert(Thread).values(values).on_conflict_do_nothing()
    db.session.execute(statement)
    thread = thread_state(site_id, key)
    assert thread is not None
    return thread.id
