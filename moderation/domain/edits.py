"""Authors' edits: the window a site gives them, and where an edited comment stands.

An edit goes through the site's rules again, as a new comment would (the door-only rules,
duplicates and floods, aside). It never promotes a comment: a comment awaiting moderation
still waits. A published comment stays published only when the rules would publish the new
text at once; otherwise it goes back to the queue (held: pending again, out of public view
until a moderator approves it) or to spam. On a premoderated site every edit of a
published comment therefore waits for a moderator again: unmoderated text never goes live.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from moderation.domain.errors import N_, InvalidInput
from moderation.domain.rules import Outcome
from moderation.domain.status import CommentStatus

#: The longest edit window a site can give (a day).
MAX_EDIT_MINUTES = 1440

#: The window a new site gives its authors (WordPress's plugins' usual quarter hour).
DEFAULT_EDIT_MINUTES = 15

#: What an author may still edit (what they were told is published or awaiting moderation).
EDITABLE = frozenset(
    {CommentStatus.PENDING, CommentStatus.APPROVED, CommentStatus.SPAM, CommentStatus.REJECTED}
)


class EditRefused(InvalidInput):
    """The author's edit is not possible (the window passed, the key is not theirs...)."""


def edit_deadline(created_at: datetime, edit_minutes: int) -> datetime | None:
    """Until when the author may edit a comment written at ``created_at``; ``None``: never."""
    return created_at + timedelta(minutes=edit_minutes) if edit_minutes > 0 else None


def check_editable(
    status: CommentStatus, created_at: datetime, edit_minutes: int, now: datetime
) -> None:
    """Refuse an edit outside the window, or of a comment that is gone."""
    deadline = edit_deadline(created_at, edit_minutes)
    if deadline is None or now > deadline or status not in EDITABLE:
        raise EditRefused(N_("This comment can no longer be edited."))


def status_after_edit(current: CommentStatus, outcome: Outcome) -> CommentStatus:
    """Where an edited comment stands: the rules' outcome for its new text, never higher
    than where it stood (spam and rejected comments look pending to their author, and stay
    where a rule or a moderator put them)."""
    if current in (CommentStatus.SPAM, CommentStatus.REJECTED):
        return current
    if outcome is Outcome.SPAM:
        return CommentStatus.SPAM
    if current is CommentStatus.APPROVED and outcome is Outcome.PUBLISH:
        return CommentStatus.APPROVED
    return CommentStatus.PENDING
