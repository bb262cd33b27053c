"""The queue, a comment's detail, decisions one by one and in bulk, and the audit log."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm

from moderation.dashboard.blueprint import bp, message_page, moderator, safe_next, site_scope
from moderation.dashboard.forms import BulkForm, ConfirmForm, EditForm, ModerateForm, ReplyForm
from moderation.domain.errors import DomainError, FieldError
from moderation.domain.numbers import parse_id
from moderation.domain.rules import Rule
from moderation.domain.status import (
    CommentStatus,
    ModerationAction,
    available_actions,
    past_tense,
)
from moderation.models import Comment
from moderation.services import (
    attention,
    audit,
    channels,
    closing,
    decisions,
    edits,
    queue,
    sites,
    spam,
)
from moderation.services.moderators import actor_of
from moderation.web.errors import domain_problem, problem, wants_json

STATUS_TABS: list[CommentStatus | None] = [
    CommentStatus.PENDING,
    CommentStatus.APPROVED,
    CommentStatus.REJECTED,
    CommentStatus.SPAM,
    CommentStatus.DELETED,
    None,
]


def filter_from_request() -> tuple[queue.QueueFilter, dict[str, str]]:
    """The queue filter named by the query string, and the parameters that keep it."""
    args = request.args
    scope = site_scope()
    all_sites = {site.slug: site.id for site in sites.list_sites(scope)}
    site_slug = args.get("site", "")
    status_name = args.get("status", CommentStatus.PENDING.value)
    try:
        status: CommentStatus | None = None if status_name == "all" else CommentStatus(status_name)
    except ValueError:
        status, status_name = CommentStatus.PENDING, CommentStatus.PENDING.value
    since, until = _day(args.get("from", "")), _day(args.get("to", ""))
    queue_filter = queue.QueueFilter(
        site_id=all_sites.get(site_slug),
        thread_key=args.get("thread", "").strip()[:255],
        status=status,
        search=args.get("q", "").strip()[: queue.MAX_SEARCH],
        newest_first=args.get("order", "newest") != "oldest",
        site_ids=scope,
        email=args.get("email", "").strip()[:100],
        website=args.get("website", "").strip()[:200],
        ip=args.get("ip", "").strip()[:64],
        rule=args.get("rule", "").strip()[:40],
        since=since,
        until=until + timedelta(days=1) if until else None,
    )
    kept = {
        "site": site_slug if site_slug in all_sites else "",
        "thread": queue_filter.thread_key,
        "status": status_name,
        "q": queue_filter.search,
        "order": "newest" if queue_filter.newest_first else "oldest",
        "email": queue_filter.email,
        "website": queue_filter.website,
        "ip": queue_filter.ip,
        "rule": queue_filter.rule,
        "from": f"{since:%Y-%m-%d}" if since else "",
        "to": f"{until:%Y-%m-%d}" if until else "",
    }
    return queue_filter, {name: value for name, value in kept.items() if value}


def _day(value: str) -> datetime | None:
    """A ``YYYY-MM-DD`` date as midnight UTC; anything else is no date."""
    try:
        return datetime.strptime(value.strip()[:10], "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None


@bp.get("/")
def show_queue() -> ResponseReturnValue:
    """The queue: pending first, badges per status, filters, keyset pages."""
    return _queue_page(BulkForm())


def _queue_page(bulk_form: BulkForm, status: int = 200) -> ResponseReturnValue:
    """The queue for the filter in the query string (``bulk_form`` may carry errors)."""
    queue_filter, params = filter_from_request()
    cursor = queue.Cursor.decode(request.args.get("after", ""))
    page = queue.queue_page(queue_filter, cursor)
    counts = queue.status_counts(queue_filter.site_id, queue_filter.site_ids)
    next_url = request.full_path.rstrip("?")
    if request.endpoint != "dashboard.show_queue":  # a bulk mistake: back to the same queue
        kept: dict[str, Any] = dict(params)
        next_url = url_for("dashboard.show_queue", **kept)
    return render_template(
        "dashboard/queue.html",
        page=page,
        params=params,
        counts=counts,
        tabs=STATUS_TABS,
        current_status=queue_filter.status,
        all_sites=sites.list_sites(site_scope()),
        bulk_form=bulk_form,
        rules=sorted(
            {rule.value for rule in Rule} | ({params["rule"]} if "rule" in params else set())
        ),
        action_form=ModerateForm(),
        actions=list(ModerationAction),
        next_url=next_url,
        first_page=cursor is None,
        attention=attention.needs_attention() if moderator().is_admin else None,
        dead_notifications=channels.dead_notifications() if moderator().is_admin else 0,
        thread_view=_thread_view(queue_filter),
    ), status


def _thread_view(queue_filter: queue.QueueFilter) -> closing.ThreadView | None:
    """The thread a queue is filtered to (a site and its key), to close or reopen it."""
    if queue_filter.site_id is None or not queue_filter.thread_key:
        return None
    thread = closing.find_thread(queue_filter.site_id, queue_filter.thread_key)
    return closing.view_of(thread) if thread is not None else None


@bp.get("/counts")
def show_counts() -> ResponseReturnValue:
    """The queue's counters as JSON for the open queue's light poll: an ETag, and 304 when
    nothing changed (counters come from the database: every process sees the same). With
    ``shown=ID,ID...`` (the comments on the moderator's screen, at most a page) also each
    one's status and actions now, so a decision taken in another browser shows there."""
    queue_filter, _ = filter_from_request()
    counts = queue.status_counts(queue_filter.site_id, queue_filter.site_ids)
    body: dict[str, Any] = {status.value: count for status, count in counts.items()}
    shown = [
        number
        for number in (parse_id(part) for part in request.args.get("shown", "").split(",")[:100])
        if number is not None
    ]
    if shown:
        body["shown"] = {
            str(comment_id): {
                "status": status.value,
                "actions": [action.value for action in available_actions(status)],
            }
            for comment_id, status in queue.statuses_of(shown, site_scope()).items()
        }
    tag = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:20]
    unchanged = request.if_none_match.contains(tag)
    response = Response(status=304) if unchanged else jsonify(body)
    response.set_etag(tag)
    return response


@bp.get("/comments/<int:comment_id>")
def show_comment(comment_id: int) -> ResponseReturnValue:
    """One comment with its thread, parent, replies and history."""
    try:
        comment = decisions.get_comment(comment_id, site_scope())
    except DomainError as error:
        return _refused(error)
    return _comment_page(comment, EditForm(text=comment.text), ReplyForm())


def _comment_page(
    comment: Comment, edit_form: EditForm, reply_form: ReplyForm, status: int = 200
) -> ResponseReturnValue:
    """A comment's page (its forms may carry errors, shown beside their fields)."""
    history, _ = audit.audit_page(audit.AuditFilter(comment_id=comment.id), size=100)
    return render_template(
        "dashboard/comment.html",
        comment=comment,
        history=history,
        action_form=ModerateForm(),
        edit_form=edit_form,
        reply_form=reply_form,
        actions=list(ModerationAction),
        next_url=url_for("dashboard.show_comment", comment_id=comment.id),
        spam_view=spam.view_of(comment.id),
        thread_view=closing.view_of(comment.thread),
        revisions=edits.revisions_of(comment.id),
    ), status


@bp.post("/comments/<int:comment_id>/moderate")
def moderate_comment(comment_id: int) -> ResponseReturnValue:
    """Approve, reject, spam, delete or restore one comment."""
    form = ModerateForm()
    if not form.validate():
        return _invalid(form)
    try:
        result = decisions.moderate(
            comment_id,
            ModerationAction(form.action.data),
            actor_of(moderator()),
            form.reason.data or "",
            site_scope(),
            undoable=True,
        )
    except DomainError as error:
        return _refused(error)
    message = f"Comment {comment_id} {past_tense(ModerationAction(form.action.data))}."
    return _decided(comment_id, result, message, form.next.data, undo=True)


@bp.post("/comments/<int:comment_id>/undo")
def undo_decision(comment_id: int) -> ResponseReturnValue:
    """Take back one's own last decision on a comment, for a few seconds after it."""
    if not ConfirmForm().validate():
        return _invalid(ConfirmForm())
    try:
        result = decisions.undo_decision(comment_id, actor_of(moderator()), site_scope())
    except DomainError as error:
        return _refused(error)
    message = f"Undone: comment {comment_id} is {result.to_status.value} again."
    if result.not_withdrawn:
        message += " Already gone out, not withdrawn: " + "; ".join(result.not_withdrawn) + "."
    return _decided(comment_id, result, message, request.form.get("next"), undo=False)


def _decided(
    comment_id: int,
    result: decisions.ModerationResult,
    message: str,
    next_url: str | None,
    undo: bool,
) -> ResponseReturnValue:
    """After a decision: JSON for the keyboard, else a flash (with an Undo button) and back."""
    undo_url = url_for("dashboard.undo_decision", comment_id=comment_id) if undo else ""
    if wants_json():
        return jsonify(
            id=comment_id,
            status=result.to_status.value,
            message=message,
            actions=[action.value for action in available_actions(result.to_status)],
            undo_url=undo_url,
            undo_seconds=int(decisions.UNDO_WINDOW.total_seconds()),
            not_withdrawn=list(result.not_withdrawn),
        )
    flash(message, f"undo:{undo_url}" if undo else "message")
    return redirect(safe_next(next_url, url_for("dashboard.show_queue")), code=303)


@bp.post("/comments/bulk")
def moderate_bulk() -> ResponseReturnValue:
    """One decision on the selected comments, or on everything the filter matches."""
    form = BulkForm()
    if not form.validate():
        return _invalid(form)
    action = ModerationAction(form.action.data)
    actor = actor_of(moderator())
    if form.all_matching.data:
        queue_filter, params = filter_from_request()
        if request.form.get("confirmed") != "yes" and not wants_json():
            return render_template(
                "dashboard/confirm_bulk.html",
                form=form,
                action=action,
                count=queue.count_matching(queue_filter),
                params=params,
            )
        changed, skipped = decisions.moderate_matching(
            queue_filter, action, actor, form.reason.data or ""
        )
    else:
        if not form.ids.data:
            if wants_json():
                return problem(400, NO_SELECTION)
            form.ids.errors = [NO_SELECTION]
            return _queue_page(form, 400)
        results, refused = decisions.moderate_many(
            list(form.ids.data), action, actor, form.reason.data or "", site_scope()
        )
        changed, skipped = len(results), len(refused)
    message = bulk_message(action, changed, skipped)
    if wants_json():
        return jsonify(changed=changed, skipped=skipped, message=message)
    flash(message)
    return redirect(safe_next(form.next.data, url_for("dashboard.show_queue")), code=303)


NO_SELECTION = "Select at least one comment, or tick “everything matching this filter”."


def count_of(number: int, noun: str) -> str:
    """``1 comment``, ``2 comments``, ``1,234 comments``."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def bulk_message(action: ModerationAction, changed: int, skipped: int) -> str:
    """What a bulk decision did, as a sentence."""
    if changed:
        message = f"{count_of(changed, 'comment')} {past_tense(action)}."
    else:
        message = f"No comment {past_tense(action)}."
    if skipped == 1:
        message += f" 1 comment was left as it was: “{action.value}” does not apply to it."
    elif skipped:
        message += (
            f" {count_of(skipped, 'comment')} were left as they were:"
            f" “{action.value}” does not apply to them."
        )
    return message


@bp.post("/comments/<int:comment_id>/edit")
def edit_comment(comment_id: int) -> ResponseReturnValue:
    """Correct a comment's text (a mistake is shown beside the text)."""
    form = EditForm()
    try:
        comment = decisions.get_comment(comment_id, site_scope())
        if form.validate():
            decisions.edit_text(
                comment_id, form.text.data or "", actor_of(moderator()), site_scope()
            )
            flash(f"Comment {comment_id} edited.")
            return redirect(url_for("dashboard.show_comment", comment_id=comment_id), code=303)
    except FieldError as error:
        form.text.errors = [str(error)]
    except DomainError as error:
        return _refused(error)
    return _comment_page(comment, form, ReplyForm(), 400)


@bp.post("/comments/<int:comment_id>/reply")
def reply_to_comment(comment_id: int) -> ResponseReturnValue:
    """Reply as a moderator: published at once (a mistake is shown beside the reply)."""
    form = ReplyForm()
    try:
        comment = decisions.get_comment(comment_id, site_scope())
        if form.validate():
            reply = decisions.reply_as_moderator(
                comment_id, form.text.data or "", moderator(), site_scope()
            )
            flash(f"Your reply (comment {reply.id}) is published.")
            return redirect(url_for("dashboard.show_comment", comment_id=comment_id), code=303)
    except FieldError as error:
        form.text.errors = [str(error)]
    except DomainError as error:
        return _refused(error)
    return _comment_page(comment, EditForm(text=comment.text), form, 400)


#: The audit log's action filter: every action the service records, in words.
AUDIT_ACTIONS = [
    (
        "Comments",
        [
            ("submitted", "submitted"),
            ("approve", "approved"),
            ("reject", "rejected"),
            ("spam", "marked as spam"),
            ("delete", "deleted"),
            ("restore", "restored"),
            ("edit", "text edited"),
            ("author_edit", "edited by the author"),
            ("reply", "moderator replies"),
            ("purge", "purged"),
            ("undo", "decisions undone"),
        ],
    ),
    (
        "Accounts",
        [
            ("moderator.activate", "account activated"),
            ("moderator.deactivate", "account deactivated"),
            ("moderator.reset_password", "password reset"),
            ("moderator.set_password", "password changed"),
            ("moderator.sites", "sites changed"),
            ("moderator.display_name", "display name changed"),
        ],
    ),
    (
        "Threads",
        [
            ("thread.close", "comments closed"),
            ("thread.reopen", "comments reopened"),
            ("thread.upsert", "thread changed by an integration"),
        ],
    ),
    (
        "Integrations",
        [
            ("integration.create", "integration created"),
            ("integration.rotate", "secret rotated"),
            ("integration.disable", "integration disabled"),
            ("integration.enable", "integration enabled"),
        ],
    ),
]


@bp.get("/audit")
def show_audit() -> ResponseReturnValue:
    """Who did what, filterable by moderator, comment and action."""
    args = request.args
    comment_arg = args.get("comment", "").strip()
    audit_filter = audit.AuditFilter(
        actor=args.get("actor", "").strip()[:200],
        comment_id=parse_id(comment_arg),
        action=args.get("action", "").strip()[:40],
        site_ids=site_scope(),
    )
    before = args.get("before", "")
    events, next_before = audit.audit_page(audit_filter, parse_id(before))
    params: dict[str, Any] = {
        "actor": audit_filter.actor,
        "comment": audit_filter.comment_id or "",
        "action": audit_filter.action,
    }
    return render_template(
        "dashboard/audit.html",
        action_groups=AUDIT_ACTIONS,
        known_actions={value for _, choices in AUDIT_ACTIONS for value, _ in choices},
        events=events,
        next_before=next_before,
        params={name: value for name, value in params.items() if value},
    )


def _refused(error: DomainError) -> ResponseReturnValue:
    """A decision the rules refuse: a clear message, nothing changed."""
    answer = domain_problem(error)
    if wants_json():
        return answer
    back = safe_next(request.form.get("next") or request.referrer, url_for("dashboard.show_queue"))
    title = "Not found" if answer.status_code == 404 else "Not possible"
    return message_page(title, str(error), answer.status_code, back)


def _invalid(form: FlaskForm) -> ResponseReturnValue:
    """A form that does not validate (only a crafted request, the page's buttons always
    do): 400 with the reasons in words, nothing changed."""
    reasons = " ".join(
        f"{field.label.text}: {' '.join(str(error).rstrip('.') + '.' for error in field.errors)}"
        for field in form
        if field.errors
    )
    message = f"Nothing was changed. {reasons}"
    if wants_json():
        return problem(400, message)
    back = safe_next(request.form.get("next") or request.referrer, url_for("dashboard.show_queue"))
    return message_page("Nothing changed", message, 400, back)
