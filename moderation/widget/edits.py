"""The author's edit of their own comment: a page with its text, and the post that saves it.

The signed edit key the widget kept (``?key=``, issued with the comment) is what lets the
author in; the service checks the site's window and judges the new text again."""

from __future__ import annotations

from typing import Any

from flask import Response, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from moderation.clock import utcnow
from moderation.domain.edits import EditRefused
from moderation.domain.errors import N_, DomainError, FieldError
from moderation.domain.numbers import parse_id
from moderation.domain.status import CommentStatus
from moderation.models import Comment
from moderation.services import edits, threads
from moderation.services.sites import SiteInfo
from moderation.web.door import refuse_foreign_origin
from moderation.web.errors import Refusal
from moderation.web.limits import limiter, public_posts_limit
from moderation.web.security import set_frame_ancestors
from moderation.widget.context import host_origin, reader_look, widget_url
from moderation.widget.edit_keys import delete_page_url, edit_page_url, edited_comment_id
from moderation.widget.views import bp, load_site, preview_serializer, thread_key_from_request


def _comment_to_edit(site: SiteInfo, thread_key: str, key: str, raw_id: str) -> Comment:
    """The comment ``raw_id`` names while its author may edit it with ``key``."""
    comment_id = edited_comment_id(key, site.edit_minutes)
    thread = threads.thread_state(site.id, thread_key)
    if comment_id is None or comment_id != parse_id(raw_id) or thread is None:
        raise EditRefused(N_("This comment can no longer be edited."))
    return edits.editable_comment(site, comment_id, thread.id, utcnow())


def _edit_page(
    site: SiteInfo,
    thread_key: str,
    comment: Comment | None,
    key: str,
    text: str,
    error: str = "",
    status: int = 200,
) -> Response:
    set_frame_ancestors(list(site.origins))
    body = render_template(
        "widget/edit.html",
        site=site,
        thread_key=thread_key,
        comment=comment,
        key=key,
        text=text,
        error=error,
        action=edit_page_url(site, thread_key),
        delete_action=delete_page_url(site, thread_key),
        back=widget_url(site, thread_key, f"comment-{comment.id}" if comment else ""),
        parent_origin=host_origin(site),
        look=reader_look(),
    )
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/w/<site_slug>/edit")
def edit_comment(site_slug: str) -> Response:
    """The author's comment in a form, to correct it while the site allows."""
    site = load_site(site_slug)
    thread_key = thread_key_from_request()
    key = request.args.get("key", "")
    try:
        comment = _comment_to_edit(site, thread_key, key, request.args.get("comment", ""))
    except DomainError as error:
        return _edit_page(site, thread_key, None, "", "", Refusal.of(error).detail, 403)
    return _edit_page(site, thread_key, comment, key, comment.text)


@bp.post("/w/<site_slug>/edit")
@limiter.limit(public_posts_limit)
def save_edit(site_slug: str) -> ResponseReturnValue:
    """Save the author's edit: back to the comment, shown as awaiting moderation when the
    edit went back to the queue."""
    site = load_site(site_slug)
    thread_key = thread_key_from_request()
    refuse_foreign_origin(site)
    text = request.form.get("comment", "")
    key = request.form.get("key", "")
    try:
        comment = _comment_to_edit(site, thread_key, key, request.form.get("comment_id", ""))
    except DomainError as error:
        return _edit_page(site, thread_key, None, "", "", Refusal.of(error).detail, 403)
    address = request.remote_addr or ""
    try:
        result = edits.edit_by_author(site, comment, text, thread_key, address, utcnow())
    except FieldError as error:
        return _edit_page(site, thread_key, comment, key, text, Refusal.of(error).detail, 422)
    extra: dict[str, Any] = {"edit-key": key, "posted": comment.id}
    if result.comment.status is not CommentStatus.APPROVED:
        extra["unapproved"] = comment.id
        extra["moderation-hash"] = preview_serializer().dumps(comment.id)
    return redirect(widget_url(site, thread_key, f"comment-{comment.id}", **extra), code=303)


@bp.post("/w/<site_slug>/delete")
@limiter.limit(public_posts_limit)
def delete_own_comment(site_slug: str) -> ResponseReturnValue:
    """Delete the author's comment within the edit window, once they ticked the
    confirmation; back to the comments."""
    site = load_site(site_slug)
    thread_key = thread_key_from_request()
    refuse_foreign_origin(site)
    key = request.form.get("key", "")
    try:
        comment = _comment_to_edit(site, thread_key, key, request.form.get("comment_id", ""))
    except DomainError as error:
        return _edit_page(site, thread_key, None, "", "", Refusal.of(error).detail, 403)
    if request.form.get("confirm") != "yes":
        unconfirmed = gettext("Tick the box to confirm that you want to delete your comment.")
        return _edit_page(site, thread_key, comment, key, comment.text, unconfirmed, 422)
    edits.delete_by_author(comment)
    return redirect(widget_url(site, thread_key, "comments"), code=303)
