"""Each rule's record: what it decided and how often people decided otherwise, for a set
of sites since a day. One implementation for the statistics page, the rules page and
``moderation rules record``.

Bounded whatever the number of comments: the decisions come from ``daily_outcomes`` (a row
per site, day, outcome and rule), the overrules from people's decisions in the audit log
(only the kinds that can overrule), joined to their comments for the rule.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, func, select

from moderation.domain.rule_record import PEOPLE, RuleRecord, records
from moderation.domain.status import CommentStatus
from moderation.extensions import db
from moderation.models import AuditEvent, Comment, DailyOutcome
from moderation.services.sites import site_info

#: The decisions that can go against a rule: publishing, or putting a published one aside.
OVERRULING_STATUSES = (
    CommentStatus.APPROVED.value,
    CommentStatus.SPAM.value,
    CommentStatus.REJECTED.value,
)


def rule_records(site_ids: frozenset[int] | None, since: date | None = None) -> list[RuleRecord]:
    """Every rule's record on the sites ``site_ids`` (``None``: every site) from the day
    ``since`` (UTC; ``None``: ever), most fired first."""
    outcomes = select(DailyOutcome.rule, DailyOutcome.outcome, func.sum(DailyOutcome.count))
    outcome_filters: list[ColumnElement[bool]] = []
    decision_filters: list[ColumnElement[bool]] = [
        AuditEvent.actor_type.in_(PEOPLE),
        AuditEvent.to_status.in_(OVERRULING_STATUSES),
        AuditEvent.from_status.is_not(None),
    ]
    if site_ids is not None:
        outcome_filters.append(DailyOutcome.site_id.in_(sorted(site_ids)))
        decision_filters.append(AuditEvent.site_id.in_(sorted(site_ids)))
    if since is not None:
        outcome_filters.append(DailyOutcome.day >= since)
        midnight = datetime(since.year, since.month, since.day, tzinfo=UTC)
        decision_filters.append(AuditEvent.created_at >= midnight)
    decisions = (
        select(Comment.held_by_rule, AuditEvent.from_status, AuditEvent.to_status, func.count())
        .select_from(AuditEvent)
        .join(Comment, Comment.id == AuditEvent.comment_id)
        .where(*decision_filters)
        .group_by(Comment.held_by_rule, AuditEvent.from_status, AuditEvent.to_status)
    )
    return records(
        (
            (rule, outcome, int(count))
            for rule, outcome, count in db.session.execute(
                outcomes.where(*outcome_filters).group_by(DailyOutcome.rule, DailyOutcome.outcome)
            ).all()
        ),
        (
            (rule or "", CommentStatus(before), CommentStatus(after), int(count))
            for rule, before, after, count in db.session.execute(decisions).all()
        ),
    )


def site_record(site_slug: str) -> list[RuleRecord]:
    """Each rule's record on the site, ever (an unknown site: as :func:`site_info`)."""
    return rule_records(frozenset({site_info(site_slug).id}))
