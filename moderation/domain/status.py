"""The comment status machine: one transition table for every path that moderates."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from moderation.domain.errors import N_, Conflict


class CommentStatus(StrEnum):
    """Where a comment stands. Only ``APPROVED`` comments are ever public."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SPAM = "spam"
    DELETED = "deleted"


#: What an author's preview link shows as "awaiting moderation": what the author was told.
#: Spam and rejected comments look pending (a preview that changed would tell a spammer
#: that a rule or a moderator caught them, and which); a published comment is in the list
#: like any other; a deleted one is gone, from the preview too.
AWAITING_FOR_THE_AUTHOR = frozenset(
    {CommentStatus.PENDING, CommentStatus.SPAM, CommentStatus.REJECTED}
)


class ModerationAction(StrEnum):
    """What a moderator, an integration or a rule can do to a comment."""

    APPROVE = "approve"
    REJECT = "reject"
    SPAM = "spam"
    DELETE = "delete"
    RESTORE = "restore"


#: The allowed moves. ``deleted`` only leaves the table by being purged.
TRANSITIONS: dict[CommentStatus, frozenset[CommentStatus]] = {
    CommentStatus.PENDING: frozenset(
        {CommentStatus.APPROVED, CommentStatus.REJECTED, CommentStatus.SPAM, CommentStatus.DELETED}
    ),
    CommentStatus.APPROVED: frozenset(
        {CommentStatus.REJECTED, CommentStatus.SPAM, CommentStatus.DELETED}
    ),
    CommentStatus.REJECTED: frozenset({CommentStatus.APPROVED, CommentStatus.DELETED}),
    CommentStatus.SPAM: frozenset({CommentStatus.APPROVED, CommentStatus.DELETED}),
    CommentStatus.DELETED: frozenset(),
}

#: The status each action leads to. ``restore`` brings a rejected or spam comment back
#: into public view: the only way back the transition table allows.
ACTION_TARGETS: dict[ModerationAction, CommentStatus] = {
    ModerationAction.APPROVE: CommentStatus.APPROVED,
    ModerationAction.REJECT: CommentStatus.REJECTED,
    ModerationAction.SPAM: CommentStatus.SPAM,
    ModerationAction.DELETE: CommentStatus.DELETED,
    ModerationAction.RESTORE: CommentStatus.APPROVED,
}

#: ``restore`` only applies to comments that were put aside.
RESTORABLE = frozenset({CommentStatus.REJECTED, CommentStatus.SPAM})


def can_transition(current: CommentStatus, target: CommentStatus) -> bool:
    """Whether the table allows moving from ``current`` to ``target``."""
    return target in TRANSITIONS[current]


def undo_target(
    current: CommentStatus,
    previous: CommentStatus,
    decided_at: datetime,
    now: datetime,
    window: timedelta,
) -> CommentStatus:
    """Where undoing the decision ``previous -> current`` leads (back to ``previous``).

    Only a move the table allows can be undone (so the decision was real), only within
    ``window`` of it; otherwise :class:`Conflict` with a reason. Undoing is the one way
    back to ``pending``, and it never lasts longer than the window.
    """
    if not can_transition(previous, current):
        raise Conflict(N_("There is no decision to undo on this comment."))
    if now - decided_at > window:
        raise Conflict(
            N_("Too late to undo: a decision can be undone for %(seconds)d seconds."),
            seconds=int(window.total_seconds()),
        )
    return previous


def target_of(action: ModerationAction, current: CommentStatus) -> CommentStatus:
    """The status ``action`` leads to from ``current``, or :class:`Conflict` with a reason."""
    if action is ModerationAction.RESTORE and current not in RESTORABLE:
        raise Conflict(
            N_("Only rejected or spam comments can be restored; this one is %(status)s."),
            status=current.value,
        )
    target = ACTION_TARGETS[action]
    if not can_transition(current, target):
        if current is CommentStatus.DELETED:
            raise Conflict(
                N_("This comment is deleted; it can no longer be %(action)s."),
                action=past_tense(action),
            )
        raise Conflict(
            N_("This comment is %(current)s; it cannot be %(action)s."),
            current=current.value,
            action=past_tense(action),
        )
    return target


def available_actions(current: CommentStatus) -> list[ModerationAction]:
    """The actions that apply to a comment in ``current`` status, in menu order.

    A rejected or spam comment offers "restore" first and not "approve" as well: both make
    the same move, and two buttons that do one thing make a moderator wonder which to use.
    """
    available = []
    for action in ModerationAction:
        try:
            target_of(action, current)
        except Conflict:
            continue
        available.append(action)
    if ModerationAction.RESTORE in available:
        available.remove(ModerationAction.APPROVE)
        available.remove(ModerationAction.RESTORE)
        available.insert(0, ModerationAction.RESTORE)
    return available


def past_tense(action: ModerationAction) -> str:
    """``approve`` → ``approved``, for messages and event names."""
    return {
        ModerationAction.APPROVE: "approved",
        ModerationAction.REJECT: "rejected",
        ModerationAction.SPAM: "marked as spam",
        ModerationAction.DELETE: "deleted",
        ModerationAction.RESTORE: "restored",
    }[action]
