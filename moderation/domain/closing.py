"""When a thread takes comments: closed by a moderator or an integration, or by age after
the site's ``close_after_days`` (unless a moderator reopened it since)."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from moderation.domain.errors import N_, InvalidInput

#: The longest closing delay a site can set (ten years; 0 turns closing by age off).
MAX_CLOSE_AFTER_DAYS = 3650


class ThreadClosing(StrEnum):
    """Whether a thread takes comments, and why not."""

    OPEN = "open"
    CLOSED = "closed"  # by a moderator, or an integration's ``thread.upsert``
    CLOSED_BY_AGE = "closed_by_age"  # the site's close-after-days passed


class ThreadClosed(InvalidInput):
    """A comment for a thread that takes none."""

    def __init__(self) -> None:
        super().__init__(N_("Comments are closed on this page."))


def closes_at(started_at: datetime, close_after_days: int) -> datetime | None:
    """When a thread that began at ``started_at`` closes by age; ``None``: never."""
    return started_at + timedelta(days=close_after_days) if close_after_days > 0 else None


def thread_closing(
    is_open: bool, keep_open: bool, started_at: datetime, close_after_days: int, now: datetime
) -> ThreadClosing:
    """The thread's state at ``now``: a moderator's or integration's close first, then age
    (a thread a moderator reopened is exempt from age)."""
    if not is_open:
        return ThreadClosing.CLOSED
    deadline = None if keep_open else closes_at(started_at, close_after_days)
    if deadline is not None and now >= deadline:
        return ThreadClosing.CLOSED_BY_AGE
    return ThreadClosing.OPEN


def clean_close_after_days(value: int) -> int:
    """Days after which threads close (0: never), or a message saying the range."""
    if not 0 <= value <= MAX_CLOSE_AFTER_DAYS:
        raise InvalidInput(
            N_("close_after_days must be between 0 (never) and %(high)d."),
            high=MAX_CLOSE_AFTER_DAYS,
        )
    return value
