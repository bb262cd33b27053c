"""Retention: personal data kept no longer than needed (issue 18).

Two settings, both in days (0 keeps the data for ever):

* ``RETENTION_ADDRESS_DAYS`` (default 90): a comment's truncated IP address and user agent
  are cleared once it is this old. They serve spam and abuse work on recent comments.
* ``RETENTION_REJECTED_EMAIL_DAYS`` (default 30): the email of a rejected or spam comment
  is cleared once it has been in that state this long. Approved and pending comments keep
  theirs (trusted authors, replies by email and people's own requests need it).

Deleted comments are purged after ``PURGE_DELETED_AFTER_DAYS`` (``moderation comments
purge``). The delivery worker applies all of it every few minutes; ``moderation retention
run`` does it at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Update, or_, update

from moderation.clock import utcnow
from moderation.domain.status import CommentStatus
from moderation.extensions import db
from moderation.models import Comment
from moderation.services import events
from moderation.services.events import Actor


def _changed(statement: Update) -> int:
    """Run an UPDATE; the rows it changed."""
    result = cast(CursorResult[Any], db.session.execute(statement))
    return int(result.rowcount)


@dataclass(frozen=True)
class RetentionResult:
    """How many comments lost their address and user agent, and their email."""

    addresses: int
    emails: int


def apply_retention(
    address_days: float, rejected_email_days: float, actor: Actor, now: datetime | None = None
) -> RetentionResult:
    """Clear what is older than the retention periods (a period of 0 keeps everything)."""
    now = now or utcnow()
    addresses = emails = 0
    if address_days > 0:
        addresses = _changed(
            update(Comment)
            .where(
                Comment.created_at < now - timedelta(days=address_days),
                or_(Comment.ip_truncated != "", Comment.user_agent != ""),
            )
            .values(ip_truncated="", user_agent="")
        )
    if rejected_email_days > 0:
        emails = _changed(
            update(Comment)
            .where(
                Comment.status.in_((CommentStatus.REJECTED, CommentStatus.SPAM)),
                Comment.updated_at < now - timedelta(days=rejected_email_days),
                Comment.email != "",
            )
            .values(email="", email_flagged=False)
        )
    if addresses or emails:
        events.audit(
            actor,
            "retention",
            reason=(
                f"{addresses} comment(s) older than {address_days:g} day(s) lost their address "
                f"and user agent; {emails} rejected or spam comment(s) lost their email"
            ),
        )
    db.session.commit()
    return RetentionResult(addresses, emails)
