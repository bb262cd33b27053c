"""The newest published comments of a site or of one thread, for Atom feeds: public fields
only (an explicit list: never an email), newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from moderation.domain.status import CommentStatus
from moderation.extensions import db
from moderation.models import Comment, Thread
from moderation.services.sites import SiteInfo

#: Entries per feed: readers poll for what is new, archives live on the pages.
FEED_SIZE = 50


@dataclass(frozen=True)
class FeedEntry:
    """One published comment as a feed shows it, with the thread it belongs to."""

    id: int
    parent_id: int | None
    author: str
    url: str
    html: str
    created_at: datetime
    updated_at: datetime
    thread_key: str
    thread_title: str
    thread_url: str


def latest_comments(
    site: SiteInfo, thread_key: str | None = None, limit: int = FEED_SIZE
) -> list[FeedEntry]:
    """The newest published comments of ``site`` (of one thread when ``thread_key`` is
    given), newest first."""
    query = (
        select(
            Comment.id,
            Comment.parent_id,
            Comment.author,
            Comment.url,
            Comment.html,
            Comment.created_at,
            Comment.updated_at,
            Thread.key,
            Thread.title,
            Thread.url.label("thread_url"),
        )
        .join(Thread, Thread.id == Comment.thread_id)
        .where(Comment.site_id == site.id, Comment.status == CommentStatus.APPROVED)
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(limit)
    )
    if thread_key is not None:
        query = query.where(Thread.site_id == site.id, Thread.key == thread_key)
    return [
        FeedEntry(
            id=row.id,
            parent_id=row.parent_id,
            author=row.author,
            url=row.url,
            html=row.html,
            created_at=row.created_at,
            updated_at=max(row.updated_at, row.created_at),
            thread_key=row.key,
            thread_title=row.title,
            thread_url=row.thread_url,
        )
        for row in db.session.execute(query)
    ]
