"""Authors' edits of their own comments, within the site's window, through the rules again
(see ``moderation.domain.edits`` for where an edited comment stands). The text before each
edit is kept for moderators."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from moderation.domain.comments import CommentDraft, clean_text
from moderation.domain.edits import EditRefused, check_editable, status_after_edit
from moderation.domain.errors import N_
from moderation.domain.rendering import render_text
from moderation.domain.status import CommentStatus, ModerationAction
from moderation.extensions import db, get_by_id
from moderation.models import Comment, CommentRevision
from moderation.services import decisions, events
from moderation.services.events import VISITOR
from moderation.services.judging import judge_edit
from moderation.services.sites import SiteInfo

#: The outbound event of a comment an edit moved (a held edit has none: it waits unseen).
_MOVED_EVENTS = {CommentStatus.SPAM: "comment.spam"}


@dataclass(frozen=True)
class EditResult:
    """The comment after its author's edit, and where it stood before."""

    comment: Comment
    from_status: CommentStatus
    changed: bool


def revisions_of(comment_id: int) -> list[CommentRevision]:
    """The texts a comment had before each edit, latest first."""
    return list(
        db.session.execute(
            select(CommentRevision)
            .where(CommentRevision.comment_id == comment_id)
            .order_by(CommentRevision.edited_at.desc(), CommentRevision.id.desc())
        ).scalars()
    )


def editable_comment(site: SiteInfo, comment_id: int, thread_id: int, now: datetime) -> Comment:
    """The author's comment on this site and thread while they may edit it, or
    :class:`EditRefused`."""
    comment = get_by_id(Comment, comment_id)
    if comment is None or comment.site_id != site.id or comment.thread_id != thread_id:
        raise EditRefused(N_("This comment can no longer be edited."))
    check_editable(comment.status, comment.created_at, site.edit_minutes, now)
    return comment


def edit_by_author(
    site: SiteInfo, comment: Comment, text: str, thread_key: str, client_ip: str, now: datetime
) -> EditResult:
    """Replace the text of ``comment`` (checked with :func:`editable_comment`), judge it
    again, keep the text before; audited, commits."""
    cleaned = clean_text(text)
    before = comment.status
    if cleaned == comment.text:
        return EditResult(comment, before, changed=False)
    draft = CommentDraft(
        text=cleaned,
        author=comment.author,
        email=comment.email,
        url=comment.url,
        parent_id=comment.parent_id,
    )
    decision = judge_edit(site, draft, client_ip, now)
    after = status_after_edit(before, decision.outcome)
    db.session.add(
        CommentRevision(
            comment_id=comment.id,
            text=comment.text,
            status=before.value,
            edited_by="author",
            edited_at=now,
        )
    )
    comment.text = cleaned
    comment.html = render_text(cleaned, site.comment_format)
    comment.edited_at = comment.updated_at = now
    comment.status = after
    if after is not before or before is not CommentStatus.APPROVED:
        comment.held_by_rule = decision.rule.value
        comment.held_reason = decision.reason[:500]
    events.audit(
        VISITOR,
        "author_edit",
        comment.id,
        site.id,
        from_status=before.value,
        to_status=after.value,
        reason=f"{decision.rule.value}: {decision.reason}",
    )
    if after is not before:
        events.count_status(site.id, before, -1)
        events.count_status(site.id, after, +1)
        if after in _MOVED_EVENTS:
            events.emit(
                _MOVED_EVENTS[after],
                comment,
                site.slug,
                thread_key,
                events.decided_by_rule(decision.rule.value, decision.reason),
            )
    if before is CommentStatus.APPROVED:
        # the public view changed: new text, or the comment left it
        events.touch_thread(comment.thread_id, approved_delta=-1 if after is not before else 0)
    db.session.commit()
    return EditResult(comment, before, changed=True)


def delete_by_author(comment: Comment) -> None:
    """Delete ``comment`` (checked with :func:`editable_comment`) for its author, as a
    moderator's delete would (audit, ``comment.deleted`` event, counts); commits."""
    decisions.moderate(comment.id, ModerationAction.DELETE, VISITOR, reason="deleted by the author")
