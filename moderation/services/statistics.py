"""What the statistics page shows: submissions per day by outcome, how long decisions take,
how old the queue is, and which rules fire (and how often moderators decided otherwise).

Every read is bounded whatever the number of comments: daily counts come from
``daily_outcomes`` (kept by each submission), the queue from the counters and the
(site, status, time) index, the queue's depth from ``daily_queue_depth``, decisions from
the audit log of the chosen days only, the rules from :mod:`moderation.services.rule_record`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Connection, Date, and_, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute

from moderation.domain.charts import percentile
from moderation.domain.rule_record import PEOPLE, RuleRecord
from moderation.domain.rules import Outcome
from moderation.domain.status import CommentStatus
from moderation.extensions import db
from moderation.models import AuditEvent, Comment, DailyOutcome, DailyQueueDepth, StatusCount
from moderation.services.prepared import prepared
from moderation.services.queue import status_counts
from moderation.services.rule_record import rule_records

#: Outcomes in the order charts stack them, with the words the page uses.
OUTCOME_NAMES = {
    Outcome.PUBLISH.value: "published",
    Outcome.HOLD.value: "held",
    Outcome.SPAM.value: "spam",
    Outcome.REFUSE.value: "refused",
}
#: At most this many rules are shown.
MAX_RULES = 10
#: At most this many decisions are read for the median (the most recent ones).
MAX_DECISIONS = 20_000
#: The queue's age groups: (words, youngest age in the group).
AGE_GROUPS = (
    ("under an hour", timedelta(0)),
    ("1 to 24 hours", timedelta(hours=1)),
    ("1 to 7 days", timedelta(days=1)),
    ("over a week", timedelta(days=7)),
)


def _upsert(dialect: str, model: type[DailyOutcome] | type[DailyQueueDepth]) -> Any:
    """``INSERT ... ON CONFLICT`` for ``dialect``."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


@cache
def count_submission_statement(dialect: str) -> Any:
    """The daily outcome upsert, built once per dialect (a submission runs it every time:
    building it anew cost more than running it)."""
    table = DailyOutcome.__table__.c
    return (
        _upsert(dialect, DailyOutcome)
        .values(
            site_id=bindparam("o_site_id"),
            day=bindparam("o_day", type_=Date),
            outcome=bindparam("o_outcome"),
            rule=bindparam("o_rule"),
            count=1,
        )
        .on_conflict_do_update(
            index_elements=[table.site_id, table.day, table.outcome, table.rule],
            set_={"count": table.count + 1},
        )
    )


def count_submission(site_id: int, outcome: Outcome, rule: str, moment: datetime) -> None:
    """Count one submission on its day (UTC), in the caller's transaction."""
    connection = db.session.connection()
    connection.execute(
        count_submission_statement(connection.dialect.name),
        outcome_values(site_id, outcome, rule, moment),
    )


def outcome_values(site_id: int, outcome: Outcome, rule: str, moment: datetime) -> dict[str, Any]:
    """The parameters of :func:`count_submission`'s statement (named apart from every
    column: the statement is also part of a larger one, :mod:`.submission_writes`)."""
    return {
        "o_site_id": site_id,
        "o_day": moment.date(),
        "o_outcome": outcome.value,
        "o_rule": rule,
    }


@cache
def _queue_depth_statement(dialect: str) -> Any:
    """The end-of-day queue depth upsert from the site's pending counter, built once per
    dialect."""
    table = DailyQueueDepth.__table__.c
    insert = _upsert(dialect, DailyQueueDepth)
    return insert.from_select(
        ["site_id", "day", "pending"],
        select(StatusCount.site_id, bindparam("day", type_=Date), StatusCount.count).where(
            StatusCount.site_id == bindparam("site_id"),
            StatusCount.status == CommentStatus.PENDING,
        ),
    ).on_conflict_do_update(
        index_elements=[table.site_id, table.day], set_={"pending": insert.excluded.pending}
    )


def record_queue_depth(site_id: int, day: date, connection: Connection | None = None) -> None:
    """Keep the site's pending count (its counter, already changed) as the queue's depth at
    the end of ``day``: the day's last change wins. In the caller's transaction (on its
    ``connection``, when the caller has it at hand)."""
    connection = connection or db.session.connection()
    prepared(_queue_depth_statement(connection.dialect.name), connection.dialect).execute(
        connection, {"site_id": site_id, "day": day}
    )


@cache
def counted_pending_statement() -> Any:
    """PostgreSQL: the pending counter's change and the day's queue depth in one statement
    (the counter's row lock is taken first, as when they are two)."""
    table = DailyQueueDepth.__table__.c
    counted = (
        update(StatusCount)
        .where(
            StatusCount.site_id == bindparam("b_site_id"),
            StatusCount.status == CommentStatus.PENDING,
        )
        .values(count=StatusCount.count + bindparam("b_delta"))
        .returning(StatusCount.site_id, StatusCount.count)
        .cte("counted")
    )
    insert = postgresql.insert(DailyQueueDepth)
    return insert.from_select(
        ["site_id", "day", "pending"],
        select(counted.c.site_id, bindparam("b_day", type_=Date), counted.c.count),
    ).on_conflict_do_update(
        index_elements=[table.site_id, table.day], set_={"pending": insert.excluded.pending}
    )


@dataclass(frozen=True)
class QueueAge:
    """The pending comments now: how many, the oldest one's age, and how many per age."""

    pending: int
    oldest: timedelta | None
    groups: list[tuple[str, int]]


@dataclass(frozen=True)
class Statistics:
    """Everything the page shows for a set of sites and a period of days."""

    days: list[date]
    per_day: list[dict[str, int]]
    totals: dict[str, int]
    decisions: int
    median_decision: timedelta | None
    p90_decision: timedelta | None
    queue: QueueAge
    #: Pending comments at the end of each day of ``days`` (today: now).
    depth: list[int]
    #: The rules that held, marked spam or refused the most, with how often people
    #: decided otherwise.
    rules: list[RuleRecord]


def _sites(
    column: InstrumentedAttribute[int] | InstrumentedAttribute[int | None],
    site_ids: frozenset[int] | None,
) -> list[ColumnElement[bool]]:
    """The condition that keeps ``site_ids`` only (none: every site)."""
    return [] if site_ids is None else [column.in_(sorted(site_ids))]


def statistics(site_ids: frozenset[int] | None, days: int, now: datetime) -> Statistics:
    """The statistics of the sites ``site_ids`` (``None``: every site) over the last
    ``days`` days, today included."""
    first = now.date() - timedelta(days=days - 1)
    per_day = _daily(site_ids, first)
    calendar = [first + timedelta(days=offset) for offset in range(days)]
    rows = [per_day.get(day, {}) for day in calendar]
    totals = {name: sum(row.get(name, 0) for row in rows) for name in OUTCOME_NAMES}
    durations = _decision_seconds(site_ids, _midnight(first))
    median, p90 = percentile(durations, 0.5), percentile(durations, 0.9)
    return Statistics(
        days=calendar,
        per_day=rows,
        totals=totals,
        decisions=len(durations),
        median_decision=timedelta(seconds=median) if median is not None else None,
        p90_decision=timedelta(seconds=p90) if p90 is not None else None,
        queue=_queue_age(site_ids, now),
        depth=queue_depth(site_ids, calendar),
        rules=[record for record in rule_records(site_ids, first) if record.stopped][:MAX_RULES],
    )


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _daily(site_ids: frozenset[int] | None, first: date) -> dict[date, dict[str, int]]:
    """Counts per day and outcome since ``first``."""
    query = (
        select(DailyOutcome.day, DailyOutcome.outcome, func.sum(DailyOutcome.count))
        .where(DailyOutcome.day >= first, *_sites(DailyOutcome.site_id, site_ids))
        .group_by(DailyOutcome.day, DailyOutcome.outcome)
    )
    per_day: dict[date, dict[str, int]] = {}
    for day, outcome, count in db.session.execute(query).all():
        per_day.setdefault(day, {})[outcome] = int(count)
    return per_day


def queue_depth(site_ids: frozenset[int] | None, calendar: list[date]) -> list[int]:
    """Pending comments at the end of each day of ``calendar`` (consecutive days), summed
    over the sites: each site's rows in the period, and its last row before for the days
    until its first change (a site without rows had nothing waiting)."""
    first = calendar[0]
    scope = _sites(DailyQueueDepth.site_id, site_ids)
    latest_before = (
        select(DailyQueueDepth.site_id, func.max(DailyQueueDepth.day).label("day"))
        .where(DailyQueueDepth.day < first, *scope)
        .group_by(DailyQueueDepth.site_id)
        .subquery()
    )
    carried = select(DailyQueueDepth.site_id, DailyQueueDepth.pending).join(
        latest_before,
        and_(
            DailyQueueDepth.site_id == latest_before.c.site_id,
            DailyQueueDepth.day == latest_before.c.day,
        ),
    )
    level: dict[int, int] = {
        site_id: int(pending) for site_id, pending in db.session.execute(carried).all()
    }
    changes: dict[date, dict[int, int]] = {}
    rows = select(DailyQueueDepth.site_id, DailyQueueDepth.day, DailyQueueDepth.pending).where(
        DailyQueueDepth.day >= first, *scope
    )
    for site_id, day, pending in db.session.execute(rows).all():
        changes.setdefault(day, {})[site_id] = int(pending)
    depth = []
    for day in calendar:
        level.update(changes.get(day, {}))
        depth.append(sum(level.values()))
    return depth


def _decision_seconds(site_ids: frozenset[int] | None, since: datetime) -> list[float]:
    """Seconds from submission to the first person's decision on pending comments decided
    since ``since`` (the most recent :data:`MAX_DECISIONS`)."""
    query = (
        select(AuditEvent.created_at, Comment.created_at)
        .join(Comment, Comment.id == AuditEvent.comment_id)
        .where(
            AuditEvent.created_at >= since,
            AuditEvent.from_status == CommentStatus.PENDING.value,
            AuditEvent.to_status != CommentStatus.PENDING.value,
            AuditEvent.actor_type.in_(PEOPLE),
            *_sites(AuditEvent.site_id, site_ids),
        )
        .order_by(AuditEvent.created_at.desc())
        .limit(MAX_DECISIONS)
    )
    return [
        max((decided - submitted).total_seconds(), 0.0)
        for decided, submitted in db.session.execute(query).all()
    ]


def _queue_age(site_ids: frozenset[int] | None, now: datetime) -> QueueAge:
    """Pending comments now, grouped by age (counts of index ranges, no scan of others)."""
    pending = status_counts(site_ids=site_ids)[CommentStatus.PENDING]
    waiting = [Comment.status == CommentStatus.PENDING, *_sites(Comment.site_id, site_ids)]
    oldest_at = db.session.execute(select(func.min(Comment.created_at)).where(*waiting)).scalar()
    groups: list[tuple[str, int]] = []
    younger = 0
    for words, age in reversed(AGE_GROUPS):  # oldest group first: counts of "older than"
        older = db.session.execute(
            select(func.count()).where(*waiting, Comment.created_at <= now - age)
        ).scalar_one()
        groups.append((words, int(older) - younger))
        younger = int(older)
    return QueueAge(pending, now - oldest_at if oldest_at else None, list(reversed(groups)))
