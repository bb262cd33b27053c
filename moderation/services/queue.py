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
#: How many of the newest comments SQLite's search looks among first (then the usual query).
WINDOWS = (1_000, 40_000)


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
    if _searches_fts(term):
        return _fts_matches(term)
    pattern = f"%{_escape_like(term)}%"
    return or_(
        Comment.text.ilike(pattern, escape="\\"),
        Comment.author.ilike(pattern, escape="\\"),
        Comment.email.ilike(pattern, escape="\\"),
    )


def _searches_fts(term: str) -> bool:
    """Whether ``term`` is looked up in SQLite's FTS5 table."""
    return len(term) >= MIN_INDEXED_TERM and db.session.get_bind().dialect.name == "sqlite"


def _fts_phrase(term: str) -> str:
    return '{text author email} : "' + term.replace('"', '""') + '"'


def _fts_matches(term: str, above: int = 0, upto: int | None = None) -> ColumnElement[bool]:
    """Comments the FTS5 table matches, with an id in ``(above, upto]``: FTS5 reads only
    that part of its lists."""
    where = "comments_search MATCH :phrase AND rowid > :above"
    params: dict[str, object] = {"phrase": _fts_phrase(term), "above": above}
    if upto is not None:
        where += " AND rowid <= :upto"
        params["upto"] = upto
    matches = text(f"SELECT rowid FROM comments_search WHERE {where}")  # noqa: S608
    return Comment.id.in_(matches.bindparams(**params).columns(rowid=Integer))


def queue_page(
    queue_filter: QueueFilter, after: Cursor | None = None, size: int = PAGE_SIZE
) -> QueuePage:
    """One page of comments matching the filter, keyset-paginated on (time, id)."""
    rows = _recent_matches_first(queue_filter, after, size)
    if rows is None:
        rows = _page_rows(_filtered(queue_filter), queue_filter.newest_first, after, size)
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = Cursor(rows[-1].created_at, rows[-1].id) if more and rows else None
    return QueuePage(rows, next_cursor)


def _after(cursor: Cursor, newest_first: bool) -> ColumnElement[bool]:
    """Entries past ``cursor`` in the page order."""
    if newest_first:
        return or_(
            Comment.created_at < cursor.created_at,
            and_(Comment.created_at == cursor.created_at, Comment.id < cursor.id),
        )
    return or_(
        Comment.created_at > cursor.created_at,
        and_(Comment.created_at == cursor.created_at, Comment.id > cursor.id),
    )


def _page_rows(
    query: Select[Any], newest_first: bool, after: Cursor | None, size: int
) -> list[Comment]:
    """The first ``size + 1`` comments of ``query`` past ``after``, in the page order."""
    if newest_first:
        order = (Comment.created_at.desc(), Comment.id.desc())
    else:
        order = (Comment.created_at.asc(), Comment.id.asc())
    if after is not None:
        query = query.where(_after(after, newest_first))
    query = (
        query.order_by(*order)
        .limit(size + 1)
        .options(joinedload(Comment.thread), joinedload(Comment.site), selectinload(Comment.parent))
    )
    return list(db.session.execute(query).scalars())


def _recent_matches_first(
    queue_filter: QueueFilter, after: Cursor | None, size: int
) -> list[Comment] | None:
    """A search's page, newest first, on SQLite, looked for among the newest comments the
    other filters keep; None when the usual query must answer.

    The usual query asks FTS5 for every match and sorts them all by time: seconds for a
    common word at 10^6 comments. Here FTS5 reads only the id range of the newest
    :data:`WINDOWS` comments (first the fewest): a common word fills the page from the
    first window, one author's email within a few thousand comments. The page is exact: a
    window is the start of the page order, and every match inside it is found. When the
    largest window holds too few matches, the usual query answers (fast for a rare term:
    FTS5 finds its few matches at once).
    """
    term = queue_filter.search
    if not queue_filter.newest_first or len(term) > MAX_SEARCH or not _searches_fts(term):
        return None
    unsearched = _filtered(replace(queue_filter, search=""))
    if after is not None:
        unsearched = unsearched.where(_after(after, True))
    newest_ids = unsearched.with_only_columns(Comment.id, Comment.created_at).order_by(
        Comment.created_at.desc(), Comment.id.desc()
    )
    for window in WINDOWS:
        newest = newest_ids.with_only_columns(Comment.id).limit(window).subquery()
        low, high, count = db.session.execute(
            select(func.min(newest.c.id), func.max(newest.c.id), func.count())
        ).one()
        if not count:
            return []
        query = unsearched.where(_fts_matches(term, low - 1, high))
        if count == window:  # the window ends at its last comment (by time, then id)
            edge = db.session.execute(newest_ids.offset(window - 1).limit(1)).one()
            query = query.where(
                or_(
                    Comment.created_at > edge.created_at,
                    and_(Comment.created_at == edge.created_at, Comment.id >= edge.id),
                )
            )
        rows = _page_rows(query, True, None, size)
        if len(rows) > size or count < window:
            return rows
    return None


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
