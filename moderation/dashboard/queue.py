"""The queue, a comment's detail, decisions one by one and in bulk, and the audit log."""

from __future__ import annotations

from typing import Any

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from moderation.dashboard.blueprint import bp, message_page, moderator, safe_next, site_scope
from moderation.dashboard.forms import BulkForm, EditForm, ModerateForm, ReplyForm
from moderation.domain.errors import DomainError
from moderation.domain.numbers import parse_id
from moderation.domain.status import CommentStatus, ModerationAction
from moderation.services import audit, decisions, queue, sites
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
    queue_filter = queue.QueueFilter(
        site_id=all_sites.get(site_slug),
        thread_key=args.get("thread", "").strip()[:255],
        status=status,
        search=args.get("q", "").strip()[: queue.MAX_SEARCH],
        newest_first=args.get("order", "newest") != "oldest",
        site_ids=scope,
    )
    kept = {
        "site": site_slug if site_slug in all_sites else "",
        "thread": queue_filter.thread_key,
        "status": status_name,
        "q": queue_filter.search,
        "order": "newest" if queue_filter.newest_first else "oldest",
    }
    return queue_filter, {name: value for name, value in kept.items() if value}


@bp.get("/")
def show_queue() -> ResponseReturnValue:
    """The queue: pending first, badges per status, filters, keyset pages."""
    queue_filter, params = filter_from_request()
    cursor = queue.Cursor.decode(request.args.get("after", ""))
    page = queue.queue_page(queue_filter, cursor)
    counts = queue.status_counts(queue_filter.site_id, queue_filter.site_ids)
    return render_template(
        "dashboard/queue.html",
        page=page,
        params=params,
        counts=counts,
        tabs=STATUS_TABS,
        current_status=queue_filter.status,
        all_sites=sites.list_sites(site_scope()),
        bulk_form=BulkForm(),
        action_form=ModerateForm(),
        actions=list(ModerationAction),
        next_url=request.full_path.rstrip("?"),
        first_page=cursor is None,
    )


@bp.get("/comments/<int:comment_id>")
def show_comment(comment_id: int) -> ResponseReturnValue:
    """One comment with its thread, parent, replies and history."""
    try:
        comment = decisions.get_comment(comment_id, site_scope())
    except DomainError as error:
        return _refused(error)
    history, _ = audit.audit_page(audit.AuditFilter(comment_id=comment.id), size=100)
    return render_template(
        "dashboard/comment.html",
        comment=comment,
        history=history,
        action_form=ModerateForm(),
        edit_form=EditForm(text=comment.text),
        reply_form=ReplyForm(),
        actions=list(ModerationAction),
        next_url=request.full_path.rstrip("?"),
    )


@bp.post("/comments/<int:comment_id>/moderate")
def moderate_comment(comment_id: int) -> ResponseReturnValue:
    """Approve, reject, spam, delete or restore one comment."""
    form = ModerateForm()
    if not form.validate():
        return _invalid(form.errors)
    try:
        result = decisions.moderate(
            comment_id,
            ModerationAction(form.action.data),
            actor_of(moderator()),
            form.reason.data or "",
            site_scope(),
        )
    except DomainError as error:
        return _refused(error)
    message = f"Comment {comment_id} {result.from_status.value} → {result.to_status.value}."
    if wants_json():
        return jsonify(id=comment_id, status=result.to_status.value, message=message)
    flash(message)
    return redirect(safe_next(form.next.data, url_for("dashboard.show_queue")), code=303)


@bp.post("/comments/bulk")
def moderate_bulk() -> ResponseReturnValue:
    """One decision on the selected comments, or on everything the filter matches."""
    form = BulkForm()
    if not form.validate():
        return _invalid(form.errors)
    action = ModerationAction(form.action.data)
    actor = actor_of(moderator())
    if form.all_matching.data:
        queue_filter, _ = filter_from_request()
        changed, skipped = decisions.moderate_matching(
            queue_filter, action, actor, form.reason.data or ""
        )
    else:
        if not form.ids.data:
            return _invalid({"ids": ["Select at least one comment."]})
        results, refused = decisions.moderate_many(
            list(form.ids.data), action, actor, form.reason.data or "", site_scope()
        )
        changed, skipped = len(results), len(refused)
    message = f"{action.value}: {changed} comment(s) changed"
    if skipped:
        message += f", {skipped} skipped (the action does not apply to them)"
    if wants_json():
        return jsonify(changed=changed, skipped=skipped, message=message + ".")
    flash(message + ".")
    return redirect(safe_next(form.next.data, url_for("dashboard.show_queue")), code=303)


@bp.post("/comments/<int:comment_id>/edit")
def edit_comment(comment_id: int) -> ResponseReturnValue:
    """Correct a comment's text."""
    form = EditForm()
    if not form.validate():
        return _invalid(form.errors)
    try:
        decisions.edit_text(comment_id, form.text.data or "", actor_of(moderator()), site_scope())
    except DomainError as error:
        return _refused(error)
    flash(f"Comment {comment_id} edited.")
    return redirect(url_for("dashboard.show_comment", comment_id=comment_id), code=303)


@bp.post("/comments/<int:comment_id>/reply")
def reply_to_comment(comment_id: int) -> ResponseReturnValue:
    """Reply as a moderator: published at once."""
    form = ReplyForm()
    if not form.validate():
        return _invalid(form.errors)
    try:
        reply = decisions.reply_as_moderator(
            comment_id, form.text.data or "", moderator(), site_scope()
        )
    except DomainError as error:
        return _refused(error)
    flash(f"Reply {reply.id} published.")
    return redirect(url_for("dashboard.show_comment", comment_id=comment_id), code=303)


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


def _invalid(errors: dict[str, list[str]]) -> ResponseReturnValue:
    """A form that does not validate: 400 with the reasons, nothing changed."""
    reasons = "; ".join(
        f"{name}: {', '.join(map(str, messages))}" for name, messages in errors.items()
    )
    message = f"Nothing was changed: {reasons}."
    if wants_json():
        return problem(400, message)
    back = safe_next(request.form.get("next") or request.referrer, url_for("dashboard.show_queue"))
    return message_page("Nothing changed", message, 400, back)
