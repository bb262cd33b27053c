"""Reading threads: approved comments in display order, a page at a time, public fields only."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select

from moderation.cache import caches
from moderation.domain.closing import ThreadClosing, closes_at, thread_closing
from moderation.domain.privacy import PublicComment, avatar_key
from moderation.domain.sites import CommentOrder
from moderation.domain.status import CommentStatus
from moderation.extensions import db
from moderation.models import Comment, Moderator, Thread
from moderation.services.sites import SiteInfo


@dataclass(frozen=True)
class ThreadPage:
    """One page of a thread: top-level comments with all their replies, in order."""

    comments: list[PublicComment]
    page: int
    pages: int
    total: int


@dataclass(frozen=True)
class ThreadState:
    """What decides whether a cached view of a thread is current."""

    id: int
    version: int
    is_open: bool
    approved_count: int
    #: when it began (closing by age counts from here)
    created_at: datetime
    #: a moderator reopened it: closing by age does not apply
    keep_open: bool = False


#: The public state of a thread that has no row yet: no comment was ever published, it is
#: open. A thread whose comments are all held has exactly this state too (its version
#: moves only with public changes), so public answers cannot tell the two apart.
NO_PUBLIC_STATE = (0, True)


def closing_of(site: SiteInfo, thread: ThreadState | None, now: datetime) -> ThreadClosing:
    """Whether ``thread`` takes comments at ``now``, and why not (a thread without a row
    is open: it begins with its first comment)."""
    if thread is None:
        return ThreadClosing.OPEN
    return thread_closing(
        thread.is_open, thread.keep_open, thread.created_at, site.close_after_days, now
    )


def is_closed(site: SiteInfo, thread: ThreadState | None, now: datetime) -> bool:
    """``thread`` takes no comments at ``now``."""
    return closing_of(site, thread, now) is not ThreadClosing.OPEN


def closes_by_age_at(site: SiteInfo, thread: ThreadState | None, now: datetime) -> datetime | None:
    """When ``thread``, open at ``now``, closes by age without a write (else ``None``)."""
    if (
        thread is None
        or thread.keep_open
        or closing_of(site, thread, now) is not ThreadClosing.OPEN
    ):
        return None
    return closes_at(thread.created_at, site.close_after_days)


def public_state(site: SiteInfo, thread: ThreadState | None, now: datetime) -> tuple[int, bool]:
    """What readers can know of ``thread``: its public version and whether it is open at
    ``now`` (never its id: ids are global, and a held first comment creates the row)."""
    if thread is None:
        return NO_PUBLIC_STATE
    return (thread.version, not is_closed(site, thread, now))


def last_page_bound(site: SiteInfo, thread: ThreadState | None, page: int) -> int:
    """``page``, or a page number no thread page can be beyond when it is larger: pages
    past the end all show the last page, and collapse to one cache entry and one ETag."""
    approved = thread.approved_count if thread is not None else 0
    return max(1, min(page, math.ceil(approved / site.page_size)))


# Built once: the hot read paths skip statement construction and the ORM layer.
#: The columns of a :class:`ThreadState`, in its order.
THREAD_STATE_COLUMNS = (
    Thread.id,
    Thread.version,
    Thread.is_open,
    Thread.approved_count,
    Thread.created_at,
    Thread.keep_open,
)
_THREAD_STATE = select(*THREAD_STATE_COLUMNS).where(
    Thread.site_id == bindparam("site_id"), Thread.key == bindparam("key")
)
_APPROVED_COUNTS = select(Thread.key, Thread.approved_count).where(
    Thread.site_id == bindparam("site_id"), Thread.key.in_(bindparam("keys", expanding=True))
)


def thread_state(site_id: int, key: str) -> ThreadState | None:
    """The thread's id, version and open state, or ``None`` before its first comment."""
    row = db.session.connection().execute(_THREAD_STATE, {"site_id": site_id, "key": key}).first()
    return state_of(row) if row else None


def state_of(row: Any) -> ThreadState:
    """A :class:`ThreadState` from a row that selected :data:`THREAD_STATE_COLUMNS`."""
    return ThreadState(
        row.id, row.version, row.is_open, row.approved_count, row.created_at, row.keep_open
    )


def public_thread_state(site_id: int, key: str) -> ThreadState | None:
    """:func:`thread_state` for public reads, remembered for a moment between requests."""
    state: ThreadState | None = caches().public_state.get(
        ("thread", site_id, key), lambda: thread_state(site_id, key)
    )
    return state


@dataclass(frozen=True)
class ThreadPost:
    """The post a thread belongs to, as its page last named it."""

    title: str
    url: str


def post_of(thread: ThreadState | None) -> ThreadPost | None:
    """The title and address stored for ``thread``, when it has either (remembered for a
    moment between public reads, as the thread's state is)."""
    if thread is None:
        return None

    def load() -> ThreadPost | None:
        row = db.session.execute(
            select(Thread.title, Thread.url).where(Thread.id == thread.id)
        ).one()
        return ThreadPost(row.title, row.url) if row.title or row.url else None

    post: ThreadPost | None = caches().public_state.get(("post", thread.id, thread.version), load)
    return post


def public_post_of(thread: ThreadState | None) -> ThreadPost | None:
    """:func:`post_of` for public reads, remembered for a moment between requests."""
    if thread is None:
        return None
    post: ThreadPost | None = caches().public_state.get(
        ("post", thread.id), lambda: post_of(thread)
    )
    return post


def public_counts(site: SiteInfo, keys: list[str]) -> dict[str, int]:
    """:func:`approved_counts` for public reads, remembered for a moment between requests."""
    counts: dict[str, int] = caches().public_state.get(
        ("counts", site.id, tuple(keys)), lambda: approved_counts(site, keys)
    )
    return counts


def forget_public_state() -> None:
    """Changes made in this process are seen by its next public read."""
    caches().public_state.forget()


def read_page(
    site: SiteInfo,
    thread: ThreadState | None,
    page: int,
    avatar_secret: bytes,
    order: CommentOrder | None = None,
) -> ThreadPage:
    """Approved comments of ``thread``, threaded, ``site.page_size`` top-level per page:
    top-level comments in ``order`` (default: the site's), replies under each in the
    order they were written. A reply whose parent is not public is shown at the top level.

    Only the page is read, whatever the thread's length: its top-level comments from an
    index that holds nothing else, then the trees under them by their ``root_id``."""
    if thread is None or thread.approved_count == 0:
        return ThreadPage([], 1, 1, 0)
    newest = (order or site.sort) is CommentOrder.NEWEST
    connection = db.session.connection()
    ids = {"thread_id": thread.id}
    roots = connection.execute(_TOP_LEVEL_COUNT, ids).scalar_one()
    promoted = _promoted(thread.id, newest)
    pages = max(1, math.ceil((roots + len(promoted)) / site.page_size))
    page = min(max(1, page), pages)
    offset = (page - 1) * site.page_size
    shown_top: Sequence[Any]
    if promoted:
        shown_top = _merged_window(thread.id, newest, offset, site.page_size, promoted)
    else:
        window = {**ids, "offset": offset, "limit": site.page_size}
        shown_top = connection.execute(_TOP_LEVEL[newest], window).all()
    trees = sorted({row.root_id or row.id for row in shown_top})
    replies = connection.execute(_TREES, {"roots": trees}).all()
    children: dict[int, list[Any]] = defaultdict(list)
    for row in sorted(replies, key=_written):  # each list in the order written
        if row.status is CommentStatus.APPROVED and row.parent_id is not None:
            children[row.parent_id].append(row)

    ordered: list[PublicComment] = []
    # depth first, each comment before its replies (a stack: any depth is fine)
    stack = [(row, 1) for row in reversed(shown_top)]
    while stack:
        row, depth = stack.pop()
        identity = f"moderator:{row.username}" if row.username else row.email
        ordered.append(
            PublicComment(
                id=row.id,
                parent_id=row.parent_id if depth > 1 else None,
                author=row.author,
                url=row.url,
                avatar=avatar_key(avatar_secret, site.id, identity),
                html=row.html,
                created_at=row.created_at,
                depth=min(depth, site.max_depth),
                by_moderator=bool(row.username),
                edited=row.edited_at is not None,
            )
        )
        stack.extend((child, depth + 1) for child in reversed(children.get(row.id, ())))
    return ThreadPage(ordered, page, pages, thread.approved_count)


def _written(row: Any) -> tuple[datetime, int]:
    """The order comments were written in."""
    return (row.created_at, row.id)


def _promoted(thread_id: int, newest: bool) -> list[Any]:
    """Approved replies to comments of the thread that are not public: they stand at the
    top level, in display order. Found from those comments (usually none: then nothing
    more is read)."""
    connection = db.session.connection()
    hidden = connection.execute(_HIDDEN, {"thread_id": thread_id}).scalars().all()
    found = []
    for start in range(0, len(hidden), 500):
        chunk = {"parents": hidden[start : start + 500]}
        found += [
            row
            for row in connection.execute(_CHILDREN, chunk)
            if row.status is CommentStatus.APPROVED
        ]
    return sorted(found, key=_written, reverse=newest)


def _merged_window(
    thread_id: int, newest: bool, offset: int, size: int, promoted: Sequence[Any]
) -> list[Any]:
    """Top-level comments ``offset`` to ``offset + size`` when some replies stand at the
    top level too (``promoted``, in display order; their parent is not public): the
    comments without a parent from ``offset - len(promoted)`` on, merged with them."""
    start = max(0, offset - len(promoted))
    wanted = offset + size - start
    rows = (
        db.session.connection()
        .execute(_TOP_LEVEL[newest], {"thread_id": thread_id, "offset": start, "limit": wanted})
        .all()
    )

    def before(first: Any, second: Any) -> bool:
        """``first`` is shown before ``second``."""
        return (_written(first) < _written(second)) != newest

    # each one's place among all top-level comments
    placed = [
        (start + number + sum(before(reply, row) for reply in promoted), row)
        for number, row in enumerate(rows)
    ]
    for number, reply in enumerate(promoted):
        above = sum(before(row, reply) for row in rows)
        if (start and not above) or (len(rows) == wanted and above == len(rows)):
            continue  # before the rows read (so before the window) or after them
        placed.append((number + start + above, reply))
    placed.sort(key=lambda pair: pair[0])
    return [row for place, row in placed if offset <= place < offset + size]


#: The order comments are written in (top-level comments: the reverse for newest first).
_ORDER = (Comment.created_at, Comment.id)
#: What a page shows of a comment (and what places it).
_PAGE_COLUMNS = (
    Comment.id,
    Comment.parent_id,
    Comment.root_id,
    Comment.author,
    Comment.url,
    Comment.email,
    Comment.html,
    Comment.created_at,
    Comment.edited_at,
    Moderator.username,
)
#: Approved comments of the thread without a parent (those ``ix_comments_thread_top_level``
#: holds: the index has the same condition).
_WITHOUT_PARENT = (
    Comment.thread_id == bindparam("thread_id"),
    Comment.status == CommentStatus.APPROVED,
    Comment.parent_id.is_(None),
)
_TOP_LEVEL_COUNT = select(func.count()).select_from(Comment).where(*_WITHOUT_PARENT)
_TOP_LEVEL = {
    newest: select(*_PAGE_COLUMNS)
    .outerjoin(Moderator, Moderator.id == Comment.moderator_id)
    .where(*_WITHOUT_PARENT)
    .order_by(*(column.desc() if newest else column for column in _ORDER))
    .offset(bindparam("offset"))
    .limit(bindparam("limit"))
    for newest in (False, True)
}
#: The thread's comments that are not public.
_HIDDEN = select(Comment.id).where(
    Comment.thread_id == bindparam("thread_id"),
    Comment.status.in_(
        [status for status in CommentStatus if status is not CommentStatus.APPROVED]
    ),
)
# The next two read by one index each, whatever their status, and the caller keeps the
# approved ones in order (with a status or an order in the query, SQLite without statistics
# prefers an index of every approved comment, and reads the thread or the site whole).
#: The replies to some comments.
_CHILDREN = (
    select(*_PAGE_COLUMNS, Comment.status)
    .outerjoin(Moderator, Moderator.id == Comment.moderator_id)
    .where(Comment.parent_id.in_(bindparam("parents", expanding=True)))
)
#: Every reply in the trees of some top-level comments.
_TREES = (
    select(*_PAGE_COLUMNS, Comment.status)
    .outerjoin(Moderator, Moderator.id == Comment.moderator_id)
    .where(Comment.root_id.in_(bindparam("roots", expanding=True)))
)


def approved_counts(site: SiteInfo, keys: list[str]) -> dict[str, int]:
    """Approved comments per thread key; threads that do not exist count 0."""
    rows = (
        db.session.connection().execute(_APPROVED_COUNTS, {"site_id": site.id, "keys": keys}).all()
    )
    counts = dict.fromkeys(keys, 0)
    counts.update({row.key: row.approved_count for row in rows})
    return counts
