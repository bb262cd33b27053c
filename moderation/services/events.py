"""Audit events and outbound webhook events, written in the caller's transaction."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from moderation.clock import utcnow
from moderation.domain.status import CommentStatus
from moderation.extensions import db
from moderation.models import (
    AuditEvent,
    Comment,
    DeliveryState,
    Integration,
    OutboxDelivery,
    StatusCount,
    Thread,
)
from moderation.services import statistics
from moderation.services.prepared import prepared
from moderation.services.threads import forget_public_state

#: Outbound event per status a comment enters.
STATUS_EVENTS = {
    CommentStatus.APPROVED: "comment.approved",
    CommentStatus.REJECTED: "comment.rejected",
    CommentStatus.SPAM: "comment.spam",
    CommentStatus.DELETED: "comment.deleted",
}
#: ``person.erased``: a person's data was erased (a keyed hash, never the address).
EVENT_TYPES = ("comment.created", *STATUS_EVENTS.values(), "person.erased")


@dataclass(frozen=True)
class Actor:
    """Who acts: a moderator, an integration, a visitor or a rule of the system."""

    kind: str
    id: str = ""
    name: str = ""


VISITOR = Actor("visitor")
SYSTEM = Actor("system")

#: The version of outbound event payloads: 2 added ``decision``, ``thread_title`` and
#: ``thread_url`` to ``data`` (every field of version 1 is kept).
EVENT_SCHEMA_VERSION = 2


@dataclass(frozen=True)
class EventDecision:
    """Who made the transition an event reports, under which rule and why."""

    actor: Actor
    rule: str = ""
    reason: str = ""

    def as_data(self, comment: Comment) -> dict[str, Any]:
        """The event's ``decision`` object: the actor's kind and name (a visitor is named as
        they signed the comment, an integration also by its id), the rule and the reason."""
        actor: dict[str, Any] = {
            "kind": self.actor.kind,
            "name": (comment.author if self.actor.kind == "visitor" else self.actor.name) or None,
        }
        if self.actor.kind == "integration":
            actor["id"] = self.actor.id
        return {"actor": actor, "rule": self.rule or None, "reason": self.reason or None}


def decided_by_rule(rule: str, reason: str) -> EventDecision:
    """A transition the site's rules made on their own (a comment published on arrival)."""
    return EventDecision(Actor("rule", rule, rule), rule, reason)


def audit(
    actor: Actor,
    action: str,
    comment_id: int | None = None,
    site_id: int | None = None,
    from_status: str = "",
    to_status: str = "",
    reason: str = "",
) -> None:
    """Write one audit event (who, what, from, to, why) in the caller's transaction."""
    db.session.connection().execute(
        _INSERT_AUDIT,
        {
            "comment_id": comment_id,
            **audit_values(actor, action, site_id, from_status, to_status, reason),
        },
    )


def audit_values(
    actor: Actor,
    action: str,
    site_id: int | None = None,
    from_status: str = "",
    to_status: str = "",
    reason: str = "",
) -> dict[str, Any]:
    """An audit event's row, but for its comment's id."""
    return {
        "created_at": utcnow(),
        "actor_type": actor.kind,
        "actor_id": actor.id,
        "actor_name": actor.name[:200],
        "action": action,
        "site_id": site_id,
        "from_status": from_status,
        "to_status": to_status,
        "reason": reason[:1000],
    }


_INSERT_AUDIT = insert(AuditEvent)
_INSERT_OUTBOX = insert(OutboxDelivery)


def comment_payload(
    comment: Comment, site_slug: str, thread_key: str, include_email: bool
) -> dict[str, Any]:
    """The ``data`` of a comment event: public fields, plus the email if allowed."""
    data: dict[str, Any] = {
        "id": comment.id,
        "site": site_slug,
        "thread": thread_key,
        "parent": comment.parent_id,
        "author": comment.author,
        "url": comment.url or None,
        "text": comment.text,
        "html": comment.html,
        "status": comment.status.value,
        "created_at": comment.created_at.isoformat().replace("+00:00", "Z"),
        "held_by_rule": comment.held_by_rule or None,
        "reason": comment.held_reason or None,
    }
    if include_email:
        data["email"] = comment.email
    return data


_SUBSCRIBERS = select(Integration.id, Integration.events, Integration.allow_email).where(
    Integration.site_id == bindparam("site_id"),
    Integration.is_active.is_(True),
    Integration.target_url != "",
)


_THREAD_PAGE = select(Thread.title, Thread.url).where(Thread.id == bindparam("thread_id"))


def emit(
    event_types: str | tuple[str, ...],
    comment: Comment,
    site_slug: str,
    thread_key: str,
    decision: EventDecision | None = None,
) -> int:
    """Queue the events for every integration of the comment's site that wants them;
    ``decision`` says who made the transition (``None``: not known, sent as nulls)."""
    wanted = (event_types,) if isinstance(event_types, str) else event_types
    connection = db.session.connection()
    subscribers = [
        subscriber
        for subscriber in connection.execute(_SUBSCRIBERS, {"site_id": comment.site_id}).all()
        if any(event_type in subscriber.events for event_type in wanted)
    ]
    if not subscribers:
        return 0
    page = connection.execute(_THREAD_PAGE, {"thread_id": comment.thread_id}).first()
    extra = {
        "decision": (decision or EventDecision(Actor("unknown"))).as_data(comment),
        "thread_title": (page.title if page is not None else "") or None,
        "thread_url": (page.url if page is not None else "") or None,
    }
    now = utcnow()
    rows = [
        _outbox_row(
            event_type,
            subscriber.id,
            {**comment_payload(comment, site_slug, thread_key, subscriber.allow_email), **extra},
            now,
        )
        for event_type in wanted
        for subscriber in subscribers
        if event_type in subscriber.events
    ]
    if rows:
        connection.execute(_INSERT_OUTBOX, rows)
    return len(rows)


def emit_event(event_type: str, site_id: int, data: dict[str, Any]) -> int:
    """Queue an event that is not about one comment (``person.erased``) for every
    integration of the site that wants it."""
    connection = db.session.connection()
    subscribers = connection.execute(_SUBSCRIBERS, {"site_id": site_id}).all()
    now = utcnow()
    rows = [
        _outbox_row(event_type, subscriber.id, data, now)
        for subscriber in subscribers
        if event_type in subscriber.events
    ]
    if rows:
        connection.execute(_INSERT_OUTBOX, rows)
    return len(rows)


def _outbox_row(
    event_type: str, integration_id: int, data: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """One delivery waiting in the outbox."""
    return {
        "message_id": f"msg_{secrets.token_hex(12)}",
        "integration_id": integration_id,
        "event_type": event_type,
        "payload": {
            "type": event_type,
            "timestamp": now.isoformat().replace("+00:00", "Z"),
            "schema_version": EVENT_SCHEMA_VERSION,
            "data": data,
        },
        "state": DeliveryState.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": "",
        "created_at": now,
    }


def count_status(
    site_id: int,
    status: CommentStatus,
    delta: int,
    moment: datetime | None = None,
    connection: Connection | None = None,
) -> None:
    """Keep the per-site status counters right (an atomic increment in the database), and
    the queue's depth on the day of ``moment`` (default: now) with the pending one; on the
    session's ``connection``, when the caller has it at hand."""
    connection = connection or db.session.connection()
    if status == CommentStatus.PENDING and delta:
        day = (moment or utcnow()).date()
        if connection.dialect.name == "postgresql":
            connection.execute(
                statistics.counted_pending_statement(),
                {"b_site_id": site_id, "b_delta": delta, "b_day": day},
            )
            return
        prepared(_COUNT_STATUS, connection.dialect).execute(
            connection, {"b_site_id": site_id, "b_status": status, "b_delta": delta}
        )
        statistics.record_queue_depth(site_id, day, connection)
        return
    prepared(_COUNT_STATUS, connection.dialect).execute(
        connection, {"b_site_id": site_id, "b_status": status, "b_delta": delta}
    )


def count_status_statement() -> Any:
    """The counter's change for any status (``b_site_id``, ``b_status``, ``b_delta``)."""
    return _COUNT_STATUS


def touch_thread(thread_id: int, approved_delta: int = 0) -> None:
    """Invalidate the thread's cached public view and keep its approved count right."""
    forget_public_state()
    db.session.connection().execute(
        _TOUCH_THREAD, {"b_thread_id": thread_id, "b_delta": approved_delta}
    )


_COUNT_STATUS = (
    update(StatusCount)
    .where(
        StatusCount.site_id == bindparam("b_site_id"), StatusCount.status == bindparam("b_status")
    )
    .values(count=StatusCount.count + bindparam("b_delta"))
)
_TOUCH_THREAD = (
    update(Thread)
    .where(Thread.id == bindparam("b_thread_id"))
    .values(version=Thread.version + 1, approved_count=Thread.approved_count + bindparam("b_delta"))
)
