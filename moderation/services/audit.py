"""Reading the audit log: who did what, filterable by actor, comment and action.
(Events are written by :func:`moderation.services.events.audit`.)"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

from moderation.extensions import db
from moderation.models import AuditEvent


@dataclass(frozen=True)
class AuditFilter:
    """Filters of the audit log page."""

    actor: str = ""
    comment_id: int | None = None
    action: str = ""
    #: Only events of these sites (``None``: every event, administrative ones included).
    site_ids: frozenset[int] | None = None


def audit_page(
    audit_filter: AuditFilter, before_id: int | None = None, size: int = 50
) -> tuple[list[AuditEvent], int | None]:
    """Audit events, newest first, keyset-paginated on id."""
    query = select(AuditEvent)
    if audit_filter.site_ids is not None:
        query = query.where(AuditEvent.site_id.in_(sorted(audit_filter.site_ids)))
    if audit_filter.actor:
        query = query.where(
            or_(
                AuditEvent.actor_name == audit_filter.actor,
                AuditEvent.actor_id == audit_filter.actor,
            )
        )
    if audit_filter.comment_id is not None:
        query = query.where(AuditEvent.comment_id == audit_filter.comment_id)
    if audit_filter.action:
        query = query.where(AuditEvent.action == audit_filter.action)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    rows = list(db.session.execute(query.order_by(AuditEvent.id.desc()).limit(size + 1)).scalars())
    more = len(rows) > size
    rows = rows[:size]
    return rows, (rows[-1].id if more and rows else None)
