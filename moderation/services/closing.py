"""Closing a thread to new comments and reopening it, from the dashboard (an integration
closes through ``thread.upsert``; the site's ``close_after_days`` closes by age)."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from moderation.clock import utcnow
from moderation.domain.closing import ThreadClosing, closes_at, thread_closing
from moderation.domain.errors import N_, NotFound
from moderation.extensions import db, get_by_id
from moderation.models import Thread
from moderation.services import events
from moderation.services.events import Actor


@dataclass(frozen=True)
class ThreadView:
    """A thread as moderators see it: whether it takes comments, why not, and until when."""

    thread: Thread
    closing: ThreadClosing
    #: when closing by age closes (or closed) it; ``None``: never
    closes_at: datetime | None
    close_after_days: int


def view_of(thread: Thread, now: datetime | None = None) -> ThreadView:
    """``thread``'s closing state at ``now``."""
    days = thread.site.close_after_days
    moment = now or utcnow()
    return ThreadView(
        thread,
        thread_closing(thread.is_open, thread.keep_open, thread.created_at, days, moment),
        None if thread.keep_open else closes_at(thread.created_at, days),
        days,
    )


def get_thread(thread_id: int, site_ids: AbstractSet[int] | None = None) -> Thread:
    """The thread, or :class:`NotFound` (also for a site outside ``site_ids``)."""
    thread = get_by_id(Thread, thread_id)
    if thread is None or (site_ids is not None and thread.site_id not in site_ids):
        raise NotFound(N_("Thread %(id)s does not exist."), id=thread_id)
    return thread


def find_thread(site_id: int, key: str) -> Thread | None:
    """The thread ``key`` of a site, if it has begun."""
    return db.session.execute(
        select(Thread).where(Thread.site_id == site_id, Thread.key == key)
    ).scalar_one_or_none()


def set_open(
    thread_id: int, take_comments: bool, actor: Actor, site_ids: AbstractSet[int] | None = None
) -> ThreadView:
    """Close a thread, or reopen it (a reopened thread no longer closes by age: the
    moderator's choice stands until they close it again); audited, commits."""
    thread = get_thread(thread_id, site_ids)
    before = view_of(thread).closing
    thread.is_open = take_comments
    thread.keep_open = take_comments
    db.session.flush()
    events.touch_thread(thread.id)
    events.audit(
        actor,
        "thread.reopen" if take_comments else "thread.close",
        site_id=thread.site_id,
        from_status=before.value,
        to_status=ThreadClosing.OPEN.value if take_comments else ThreadClosing.CLOSED.value,
        reason=f"thread {thread.key!r}",
    )
    db.session.commit()
    return view_of(thread)
