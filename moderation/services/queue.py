"""The moderation queue: filters, counts and keyset pagination that stays fast at any size."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    false,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.orm import joinedload, selectinload

from moderation.domain.errors import N_, InvalidInput
from moderation.domain.numbers import parse_id
from moderation.domain.privacy import truncate_ip
from moderation.domain.status import CommentStatus
from moderation.domain.websites import website_range
from moderation.extensions import db
from moderation.models import Comment, StatusCount, Thread
from moderation.models.search import MIN_INDEXED_TERM

PAGE_SIZE = 25
MAX_SEARCH = 200


@dataclass(frozen=True)
class QueueFilter:
    """What the moderator is looking at. ``status=None`` means every status."""

    site_id: int | None = None
    thread_key: str = ""
    status: CommentStatus | None = CommentStatus.PENDING
    search: str = ""
    newest_first: bool = True
    #: The sites the moderator may see (``None``: every site); nothing outside them matches.
    site_ids: frozenset[int] | None = None
    #: Exact (normalised) email of the author.
    email: str = ""
    #: The host of the author's website (``example.com`` also finds ``www.example.com``).
    website: str = ""
    #: The stored, truncated network of the author's address (a full address is truncated).
    ip: str = ""
    #: The rule that held or refused it (``links``, ``words``...).
    rule: str = ""
    #: Created on or after / before (UTC).
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the sort key of its last entry."""

    created_at: datetime
    id: int

    def encode(self) -> str:
        """An opaque token for the ``after`` query parameter."""
        raw = json.dumps([self.created_at.isoformat(), self.id]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor | None:
        """Read a token back; a malformed one means the first page."""
        if not token or len(token) > 200:
            return None
        try:
            created, comment_id = json.loads(
                base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            )
            moment = datetime.fromisoformat(created)
            number = parse_id(comment_id)
            if moment.tzinfo is None or number is None:
                return None
            return cls(moment, number)
        except (ValueError, TypeError, OverflowError):
            return None


@dataclass(frozen=True)
class QueuePage:
    """One page of the queue and the cursor of the next one."""

    comments: list[Comment]
    next_cursor: Cursor | None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filtered(queue_filter: QueueFilter) -> Select[Any]:
    """The query for a filter, without order or cursor."""
    query = select(Comment)
    if queue_filter.site_ids is not None:
        query = query.where(Comment.site_id.in_(sorted(queue_filter.site_ids)))
    if queue_filter.site_id is not None:
        query = query.where(Comment.site_id == queue_filter.site_id)
    if queue_filter.status is not None:
        query = query.where(Comment.status == queue_filter.status)
    if queue_filter.thread_key:
        thread_ids = select(Thread.id).where(Thread.key == queue_filter.thread_key)
        if queue_filter.site_id is not None:
            thread_ids = thread_ids.where(Thread.site_id == queue_filter.site_id)
        query = query.where(Comment.thread_id.in_(thread_ids))
    if queue_filter.search:
        if len(queue_filter.search) > MAX_SEARCH:
            raise InvalidInput(N_("Search for at most %(max)d characters."), max=MAX_SEARCH)
        query = query.where(search_condition(queue_filter.search))
    if queue_filter.email:
        query = query.where(Comment.email == queue_filter.email.strip().lower())
    if queue_filter.website:
        keys = website_range(queue_filter.website)
        if keys is None:
            query = query.where(false())
        else:
            query = query.where(Comment.website_key >= keys[0], Comment.website_key < keys[1])
    if queue_filter.ip:
        network = truncate_ip(queue_filter.ip.strip().split("/")[0])
        query = query.where(Comment.ip_truncated == network if network else false())
    if queue_filter.rule:
        query = query.where(Comment.held_by_rule == queue_filter.rule)
    if queue_filter.since is not None:
        query = query.where(Comment.created_at >= queue_filter.since)
    if queue_filter.until is not None:
        query = query.where(Comment.created_at < queue_filter.until)
    return query


def search_condition(term: str) -> ColumnElement[bool]:
    """Comments whose text, author or email contains ``term`` (any case).

    The same matches on every database; how they are found is chosen per database by
    migration ``teams_03`` (``moderation.models.search``): PostgreSQL's trigram indexes
    serve the ``ILIKE`` itself, SQLite asks its FTS5 trigram table. Terms shorter than
    three characters have no trigram and are found by scanning, on both.
    """
    dialect = db.session.get_bind().dialect.name
    if dialect == "sqlite" and len(term) >= MIN_INDEXED_TERM:
        phrase = '{text author email} : "' + term.replace('"', '""') + '"'
        matches = text("SELECT rowid FROM comments_search WHERE comments_search MATCH :phrase")
        return Comment.id.in_(matches.bindparams(phrase=phrase).columns(rowid=Integer))
    pattern = f"%{_escape_like(term)}%"
    return or_(
        Comment.text.ilike(pattern, escape="\\"),
        Comment.author.ilike(pattern, escape="\\"),
        Comment.email.ilike(pattern, escape="\\"),
    )


def queue_page(
    queue_filter: QueueFilter, after: Cursor | None = None, size: int = PAGE_SIZE
) -> QueuePage:
    """One page of comments matching the filter, keyset-paginated on (time, id)."""
    query = _filtered(queue_filter)
    if queue_filter.newest_first:
        order = (Comment.created_at.desc(), Comment.id.desc())
        if after is not None:
            query = query.where(
                or_(
                    Comment.created_at < after.created_at,
                    and_(Comment.created_at == after.created_at, Comment.id < after.id),
                )
            )
    else:
        order = (Comment.created_at.asc(), Comment.id.asc())
        if after is not None:
            query = query.where(
                or_(
                    Comment.created_at > after.created_at,
                    and_(Comment.created_at == after.created_at, Comment.id > after.id),
                )
            )
    query = (
        query.order_by(*order)
        .limit(size + 1)
        .options(joinedload(Comment.thread), joinedload(Comment.site), selectinload(Comment.parent))
    )
    rows: list[Comment] = list(db.session.execute(query).scalars())
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = Cursor(rows[-1].created_at, rows[-1].id) if more and rows else None
    return QueuePage(rows, next_cursor)


def count_matching(queue_filter: QueueFilter) -> int:
    """How many comments a filter matches (what "everything matching" would change)."""
    matching = _filtered(queue_filter).with_only_columns(Comment.id).subquery()
    return int(db.session.execute(select(func.count()).select_from(matching)).scalar_one())


def iter_matching_ids(queue_filter: QueueFilter, batch: int = 500) -> Iterator[list[int]]:
    """Every id matching the filter, in batches (for "everything matching this filter")."""
    after: Cursor | None = None
    oldest_first = replace(queue_filter, newest_first=False)
    while True:
        page = queue_page(oldest_first, after, size=batch)
        if not page.comments:
            return
        yield [comment.id for comment in page.comments]
        if page.next_cursor is None:
            return
        after = page.next_cursor


def statuses_of(ids: list[int], site_ids: frozenset[int] | None) -> dict[int, CommentStatus]:
    """The current status of each comment of ``ids`` the moderator may see (the others,
    purged or of another site, are left out)."""
    if not ids:
        return {}
    query = select(Comment.id, Comment.status).where(Comment.id.in_(ids))
    if site_ids is not None:
        query = query.where(Comment.site_id.in_(sorted(site_ids)))
    return {row.id: row.status for row in db.session.execute(query)}


def status_counts(
    site_id: int | None = None, site_ids: frozenset[int] | None = None
) -> dict[CommentStatus, int]:
    """Comments per status, from the counters kept with every change (of ``site_id``, and
    only of ``site_ids`` when given)."""
    query = select(StatusCount.status, func.sum(StatusCount.count)).group_by(StatusCount.status)
    if site_ids is not None:
        query = query.where(StatusCount.site_id.in_(sorted(site_ids)))
    if site_id is not None:
        query = query.where(StatusCount.site_id == site_id)
    counts = dict.fromkeys(CommentStatus, 0)
    counts.update({status: int(total or 0) for status, total in db.session.execute(query).all()})
    return counts
