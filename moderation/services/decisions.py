"""Decisions on comments: every path (dashboard, webhook, CLI) changes status here, through
the one transition table, with an audit event and outbound events in the same transaction."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select

from moderation.clock import utcnow
from moderation.domain.comments import CommentDraft, clean_text
from moderation.domain.errors import N_, Conflict, DomainError, NotFound
from moderation.domain.numbers import parse_id
from moderation.domain.rendering import render_text
from moderation.domain.rules import Rule
from moderation.domain.status import CommentStatus, ModerationAction, target_of, undo_target
from moderation.extensions import db, get_by_id
from moderation.models import (
    AuditEvent,
    Comment,
    CommentRevision,
    DeliveryState,
    Moderator,
    OutboxDelivery,
)
from moderation.services import events, notifications, spam
from moderation.services.events import STATUS_EVENTS, Actor
from moderation.services.queue import QueueFilter, iter_matching_ids
from moderation.services.removed_imports import note_removed


@dataclass(frozen=True)
class ModerationResult:
    """A comment after a decision, and where it came from."""

    comment: Comment
    from_status: CommentStatus
    to_status: CommentStatus
    #: After an undo: what the undone decision sent that had already gone out (or was
    #: being sent) and so could not be withdrawn, in a moderator's words.
    not_withdrawn: tuple[str, ...] = ()


def get_comment(comment_id: int, site_ids: AbstractSet[int] | None = None) -> Comment:
    """The comment, or :class:`NotFound`; ``site_ids`` limits which sites may be seen."""
    comment = get_by_id(Comment, comment_id)
    if comment is None or (site_ids is not None and comment.site_id not in site_ids):
        raise NotFound(N_("Comment %(id)s does not exist."), id=comment_id)
    return comment


def moderate(
    comment_id: int,
    action: ModerationAction,
    actor: Actor,
    reason: str = "",
    site_ids: AbstractSet[int] | None = None,
    before_commit: Callable[[ModerationResult], None] | None = None,
    undoable: bool = False,
) -> ModerationResult:
    """Apply ``action`` to one comment and commit (``before_commit`` runs in the transaction).

    ``undoable``: the moderator is offered an Undo, so the emails the decision causes wait
    out :data:`UNDO_WINDOW` in the outbox (an email cannot be called back once sent).
    """
    decided_at = utcnow()
    result = _apply(get_comment(comment_id, site_ids), action, actor, reason)
    if undoable:
        _hold_emails(result.comment.id, decided_at, decided_at + UNDO_WINDOW)
    if before_commit is not None:
        before_commit(result)
    db.session.commit()
    return result


def moderate_many(
    comment_ids: list[int],
    action: ModerationAction,
    actor: Actor,
    reason: str = "",
    site_ids: AbstractSet[int] | None = None,
) -> tuple[list[ModerationResult], dict[int, str]]:
    """Apply ``action`` to several comments in one transaction.

    Comments the action does not apply to are skipped and reported with the reason;
    the others change together. Comments outside ``site_ids`` count as missing.
    """
    results: list[ModerationResult] = []
    skipped: dict[int, str] = {}
    valid_ids = [comment_id for comment_id in comment_ids if parse_id(comment_id) is not None]
    query = select(Comment).where(Comment.id.in_(valid_ids)).order_by(Comment.id)
    if site_ids is not None:
        query = query.where(Comment.site_id.in_(sorted(site_ids)))
    comments = db.session.execute(query).scalars()
    found = set()
    for comment in comments:
        found.add(comment.id)
        try:
            results.append(_apply(comment, action, actor, reason))
        except DomainError as error:  # keep going with the others
            skipped[comment.id] = str(error)
    for missing in set(comment_ids) - found:
        skipped[missing] = f"Comment {missing} does not exist."
    db.session.commit()
    return results, skipped


def moderate_matching(
    queue_filter: QueueFilter, action: ModerationAction, actor: Actor, reason: str = ""
) -> tuple[int, int]:
    """Apply ``action`` to every comment a queue filter matches, a batch per transaction.

    Returns how many changed and how many the action did not apply to.
    """
    changed = skipped = 0
    for batch in iter_matching_ids(queue_filter):
        results, refused = moderate_many(batch, action, actor, reason, queue_filter.site_ids)
        changed += len(results)
        skipped += len(refused)
    return changed, skipped


#: How long a moderator's decision can be undone.
UNDO_WINDOW = timedelta(seconds=10)


def undo_decision(
    comment_id: int,
    actor: Actor,
    site_ids: AbstractSet[int] | None = None,
    window: timedelta = UNDO_WINDOW,
    now: datetime | None = None,
) -> ModerationResult:
    """Take back the actor's own last decision on a comment, within ``window`` of it.

    The comment returns to the status it had (``pending`` included), with an ``undo``
    audit event; the undone decision's outbound events and notification emails that have
    not gone out yet are withdrawn (the result names those that had), and returning to
    approved, rejected or spam sends that event again.
    """
    comment = get_comment(comment_id, site_ids)
    last = db.session.execute(
        select(AuditEvent)
        .where(AuditEvent.comment_id == comment.id)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    decisions = {action.value for action in ModerationAction}
    if (
        last is None
        or (last.actor_type, last.actor_id) != (actor.kind, actor.id)
        or last.action not in decisions
        or last.to_status != comment.status.value
    ):
        raise Conflict(N_("There is no decision of yours to undo on this comment."))
    before = comment.status
    after = undo_target(
        before, CommentStatus(last.from_status), last.created_at, now or utcnow(), window
    )
    comment.status = after
    comment.updated_at = utcnow()
    withdrawn, not_withdrawn = _withdraw_unsent(comment.id, STATUS_EVENTS[before], last.created_at)
    reason = f"undid {last.action}"
    if withdrawn or not_withdrawn:
        reason += f"; {withdrawn} unsent message(s) withdrawn, {len(not_withdrawn)} already out"
    events.audit(
        actor,
        "undo",
        comment.id,
        comment.site_id,
        from_status=before.value,
        to_status=after.value,
        reason=reason,
    )
    if after in STATUS_EVENTS:
        events.emit(
            STATUS_EVENTS[after],
            comment,
            comment.site.slug,
            comment.thread.key,
            events.EventDecision(actor, reason=f"undid {last.action}"),
        )
    _count_move(comment, before, after)
    db.session.commit()
    return ModerationResult(comment, before, after, tuple(not_withdrawn))


def _caused_by_decision(
    comment_id: int, since: datetime, event_type: str | None = None
) -> list[OutboxDelivery]:
    """The outbox rows a decision on the comment queued at ``since``: the notification
    emails about the comment, and its outbound ``event_type`` events when named."""
    kinds = [OutboxDelivery.channel == "email"]
    if event_type is not None:
        kinds.append(OutboxDelivery.event_type == event_type)
    rows = db.session.execute(
        select(OutboxDelivery)
        .where(OutboxDelivery.created_at >= since, or_(*kinds))
        .order_by(OutboxDelivery.id)
    ).scalars()
    return [row for row in rows if _comment_of(row) == comment_id]


def _comment_of(delivery: OutboxDelivery) -> object:
    """The id of the comment an outbox row is about (emails carry it beside the message)."""
    if delivery.channel == "email":
        return delivery.payload.get("comment_id")
    return delivery.payload.get("data", {}).get("id")


def _hold_emails(comment_id: int, since: datetime, until: datetime) -> None:
    """Keep the emails a decision just queued in the outbox until ``until``."""
    for row in _caused_by_decision(comment_id, since):
        row.next_attempt_at = until


def _withdraw_unsent(comment_id: int, event_type: str, since: datetime) -> tuple[int, list[str]]:
    """Remove a decision's outbound events and emails that no worker has tried or taken
    yet; returns how many were withdrawn and a description of each one already out."""
    withdrawn, gone = 0, []
    for delivery in _caused_by_decision(comment_id, since, event_type):
        untouched = (
            delivery.state is DeliveryState.PENDING
            and delivery.attempts == 0
            and delivery.locked_until is None
        )
        if untouched:
            db.session.delete(delivery)
            withdrawn += 1
        else:
            gone.append(_described(delivery))
    return withdrawn, gone


def _described(delivery: OutboxDelivery) -> str:
    """A delivery that went out (or is going), as the moderator reads it."""
    if delivery.state is DeliveryState.DELIVERED:
        how = "sent"
    elif delivery.state is DeliveryState.PENDING and delivery.attempts == 0:
        how = "being sent"
    else:
        how = "tried"
    if delivery.channel == "email":
        return f"the email to {delivery.recipient} ({how})"
    name = delivery.integration.name if delivery.integration else "an integration"
    return f"the {delivery.event_type} event to {name} ({how})"


def purge_deleted(older_than: timedelta, actor: Actor, now: datetime | None = None) -> int:
    """Remove deleted comments for good once they have been deleted for ``older_than``.

    ``deleted`` is the end of the status machine: after a grace period in which a mistake
    can still be seen in the dashboard, the row (and the email it holds) goes away.
    Replies to a purged comment stay, shown at the top level. An imported comment's
    source id is noted, so that running its import again does not bring it back.
    """
    cutoff = (now or utcnow()) - older_than
    rows = db.session.execute(
        select(Comment.id, Comment.site_id).where(
            Comment.status == CommentStatus.DELETED, Comment.updated_at < cutoff
        )
    ).all()
    per_site: dict[int, list[int]] = {}
    for row in rows:
        per_site.setdefault(row.site_id, []).append(row.id)
    for site_id, ids in per_site.items():
        note_removed(ids)  # so that an import run again does not bring them back
        for start in range(0, len(ids), 500):
            db.session.execute(delete(Comment).where(Comment.id.in_(ids[start : start + 500])))
        events.count_status(site_id, CommentStatus.DELETED, -len(ids))
        events.audit(
            actor,
            "purge",
            site_id=site_id,
            reason=f"{len(ids)} comment(s) deleted before {cutoff:%Y-%m-%d %H:%M} UTC purged",
        )
    db.session.commit()
    return len(rows)


def _apply(
    comment: Comment, action: ModerationAction, actor: Actor, reason: str
) -> ModerationResult:
    """Move one comment through the status machine (no commit)."""
    before = comment.status
    after = target_of(action, before)
    comment.status = after
    comment.updated_at = utcnow()
    events.audit(
        actor,
        action.value,
        comment.id,
        comment.site_id,
        from_status=before.value,
        to_status=after.value,
        reason=reason,
    )
    events.emit(
        STATUS_EVENTS[after],
        comment,
        comment.site.slug,
        comment.thread.key,
        events.EventDecision(actor, reason=reason),
    )
    _count_move(comment, before, after)
    notifications.after_decision(comment, before, after)
    return ModerationResult(comment, before, after)


def _count_move(comment: Comment, before: CommentStatus, after: CommentStatus) -> None:
    """Keep the status counters, the thread's public count and what the comment teaches
    the spam classifier right after a move."""
    events.count_status(comment.site_id, before, -1)
    events.count_status(comment.site_id, after, +1)
    spam.learn_decision(comment, after)
    was_public, is_public = before is CommentStatus.APPROVED, after is CommentStatus.APPROVED
    if was_public != is_public:
        events.touch_thread(comment.thread_id, approved_delta=1 if is_public else -1)


def edit_text(
    comment_id: int, text: str, actor: Actor, site_ids: AbstractSet[int] | None = None
) -> Comment:
    """Change a comment's text (a moderator's correction), re-rendered and audited."""
    comment = get_comment(comment_id, site_ids)
    cleaned = clean_text(text)
    if cleaned == comment.text:
        return comment
    db.session.add(
        CommentRevision(
            comment_id=comment.id,
            text=comment.text,
            status=comment.status.value,
            edited_by=f"{actor.kind}:{actor.name}",
            edited_at=utcnow(),
        )
    )
    comment.text = cleaned
    comment.html = render_text(cleaned, comment.site.comment_format)
    comment.updated_at = utcnow()
    events.audit(
        actor,
        "edit",
        comment.id,
        comment.site_id,
        from_status=comment.status.value,
        to_status=comment.status.value,
        reason="text edited",
    )
    if comment.status is CommentStatus.APPROVED:
        events.touch_thread(comment.thread_id)
    db.session.commit()
    return comment


def reply_as_moderator(
    parent_id: int, text: str, moderator: Moderator, site_ids: AbstractSet[int] | None = None
) -> Comment:
    """A moderator's reply, published at once under the comment it answers."""
    parent = get_comment(parent_id, site_ids)
    draft = CommentDraft(text=clean_text(text), author=moderator.public_name, email="")
    now = utcnow()
    actor = Actor("moderator", str(moderator.id), moderator.username)
    if parent.status is not CommentStatus.APPROVED:
        # answering a comment approves it: a public reply to a hidden comment makes no sense
        _apply(parent, ModerationAction.APPROVE, actor, "approved by replying")
    reply = Comment(
        site_id=parent.site_id,
        thread_id=parent.thread_id,
        parent_id=parent.id,
        root_id=parent.root_id or parent.id,
        author=draft.author,
        email=draft.email,
        url="",
        text=draft.text,
        html=render_text(draft.text, parent.site.comment_format),
        status=CommentStatus.APPROVED,
        created_at=now,
        updated_at=now,
        held_by_rule=Rule.MODERATOR.value,
        held_reason="Written by a moderator.",
        source="dashboard",
        moderator_id=moderator.id,
    )
    reply.site = parent.site
    reply.thread = parent.thread
    db.session.add(reply)
    db.session.flush()
    events.audit(
        actor,
        "reply",
        reply.id,
        reply.site_id,
        to_status=CommentStatus.APPROVED.value,
        reason=f"reply to comment {parent.id}",
    )
    events.emit(
        ("comment.created", "comment.approved"),
        reply,
        parent.site.slug,
        parent.thread.key,
        events.EventDecision(actor, reason=f"reply to comment {parent.id}"),
    )
    events.count_status(reply.site_id, CommentStatus.APPROVED, +1)
    events.touch_thread(parent.thread_id, approved_delta=1)
    notifications.after_decision(reply, CommentStatus.PENDING, CommentStatus.APPROVED)
    db.session.commit()
    return reply
