"""The read API for integrators: a site's comments by status, page by page (keyset: a page
never repeats or skips a comment however many arrive meanwhile), one comment, one thread.

What a read returns is what an event of the same integration would carry: the fields of
:func:`moderation.services.events.comment_payload`, the email only for integrations
allowed to see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from moderation.clock import utcnow
from moderation.domain.closing import ThreadClosing, thread_closing
from moderation.domain.errors import N_, InvalidInput, NotFound
from moderation.domain.numbers import MAX_ID
from moderation.domain.status import CommentStatus
from moderation.extensions import db, get_by_id
from moderation.models import Comment, Integration, Thread
from moderation.services.events import comment_payload

MAX_PAGE = 100
DEFAULT_PAGE = 50
MAX_KEY = 255


@dataclass(frozen=True)
class CommentQuery:
    """Which comments a listing returns, and from where it continues."""

    status: CommentStatus | None = None
    thread_key: str | None = None
    since: datetime | None = None
    after_id: int = 0
    limit: int = DEFAULT_PAGE


@dataclass(frozen=True)
class CommentPage:
    """One page of comments and the cursor of the next (``None``: this was the last)."""

    comments: list[dict[str, Any]]
    next_cursor: str | None


def parse_query(args: dict[str, str]) -> CommentQuery:
    """The listing's query parameters, or :class:`InvalidInput` saying which one is wrong."""
    status = None
    if args.get("status"):
        try:
            status = CommentStatus(args["status"])
        except ValueError:
            raise InvalidInput(
                N_("Unknown status %(status)r: use one of %(known)s."),
                status=args["status"][:40],
                known=", ".join(member.value for member in CommentStatus),
            ) from None
    since = None
    if args.get("since"):
        try:
            since = datetime.fromisoformat(args["since"].replace("Z", "+00:00"))
            since = since.replace(tzinfo=UTC) if since.tzinfo is None else since.astimezone(UTC)
        except (ValueError, OverflowError):
            raise InvalidInput(
                N_("'since' must be an ISO 8601 time, like 2026-11-29T06:00:00Z.")
            ) from None
    cursor = args.get("cursor", "")
    if cursor and not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 18):
        raise InvalidInput(N_("'cursor' must be the next_cursor of a previous page."))
    limit_text = args.get("limit", "")
    if limit_text and not (limit_text.isascii() and limit_text.isdigit()):
        raise InvalidInput(N_("'limit' must be a number from 1 to %(max)d."), max=MAX_PAGE)
    limit = int(limit_text) if limit_text else DEFAULT_PAGE
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(N_("'limit' must be a number from 1 to %(max)d."), max=MAX_PAGE)
    thread_key = args.get("thread") or None
    if thread_key is not None and (len(thread_key) > MAX_KEY or "\x00" in thread_key):
        raise InvalidInput(
            N_("'thread' must be a thread key of 1 to %(max)d characters."), max=MAX_KEY
        )
    return CommentQuery(
        status=status,
        thread_key=thread_key,
        since=since,
        after_id=min(int(cursor), MAX_ID) if cursor else 0,
        limit=limit,
    )


def _payload(integration: Integration, comment: Comment) -> dict[str, Any]:
    data = comment_payload(
        comment, integration.site.slug, comment.thread.key, integration.allow_email
    )
    data["updated_at"] = comment.updated_at.isoformat().replace("+00:00", "Z")
    return data


def list_comments(integration: Integration, query: CommentQuery) -> CommentPage:
    """The integration's site's comments matching ``query``, oldest first, one page."""
    statement = (
        select(Comment)
        .where(Comment.site_id == integration.site_id, Comment.id > query.after_id)
        .order_by(Comment.id)
        .limit(query.limit + 1)
        .options(joinedload(Comment.thread))
    )
    if query.status is not None:
        statement = statement.where(Comment.status == query.status)
    if query.since is not None:
        statement = statement.where(Comment.updated_at >= query.since)
    if query.thread_key is not None:
        statement = statement.join(Thread, Thread.id == Comment.thread_id).where(
            Thread.key == query.thread_key
        )
    found = list(db.session.execute(statement).scalars())
    page = found[: query.limit]
    more = len(found) > query.limit
    return CommentPage(
        [_payload(integration, comment) for comment in page],
        str(page[-1].id) if more and page else None,
    )


def get_comment(integration: Integration, comment_id: int) -> dict[str, Any]:
    """One comment of the integration's site, or :class:`NotFound` (also for another site's)."""
    comment = get_by_id(Comment, comment_id)
    if comment is None or comment.site_id != integration.site_id:
        raise NotFound(N_("Comment %(id)s does not exist."), id=comment_id)
    return _payload(integration, comment)


def get_thread(integration: Integration, key: str) -> dict[str, Any]:
    """A thread of the integration's site: title, address, open, and comments per status."""
    thread = db.session.execute(
        select(Thread).where(Thread.site_id == integration.site_id, Thread.key == key)
    ).scalar_one_or_none()
    if thread is None:
        raise NotFound(N_("Thread %(key)r does not exist."), key=key[:255])
    counts = {member.value: 0 for member in CommentStatus}
    for status, count in db.session.execute(
        select(Comment.status, func.count())
        .where(Comment.thread_id == thread.id)
        .group_by(Comment.status)
    ):
        counts[status.value] = count
    return {
        "site": integration.site.slug,
        "key": thread.key,
        "title": thread.title or None,
        "url": thread.url or None,
        # open at this moment: closed by a moderator, an integration, or by age
        "open": thread_closing(
            thread.is_open,
            thread.keep_open,
            thread.created_at,
            integration.site.close_after_days,
            utcnow(),
        )
        is ThreadClosing.OPEN,
        "created_at": thread.created_at.isoformat().replace("+00:00", "Z"),
        "counts": counts,
    }
