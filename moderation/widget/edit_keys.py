"""The author's edit key: signed when a comment is posted, kept by the widget, and what
lets its author back in to edit or delete it while the site's window lasts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import current_app, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

from moderation.clock import utcnow
from moderation.domain.edits import EDITABLE, edit_deadline
from moderation.extensions import db
from moderation.models import Comment
from moderation.services.sites import SiteInfo
from moderation.widget.context import page_params

EDIT_SALT = "moderation.comment-edit"


@dataclass(frozen=True)
class EditOffer:
    """The author's own comment they may still edit, with the key the widget keeps."""

    comment_id: int
    key: str
    until: datetime
    url: str


def edit_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=EDIT_SALT)


def edit_key(comment_id: int) -> str:
    """The signed key that lets the author edit comment ``comment_id`` from this browser."""
    return edit_serializer().dumps(comment_id)


def edited_comment_id(key: str, edit_minutes: int) -> int | None:
    """The comment an edit key names, while it can be valid (the comment's own window is
    checked by the service); ``None`` for a bad or expired key."""
    if not key or edit_minutes <= 0:
        return None
    try:
        signed_id = edit_serializer().loads(key, max_age=edit_minutes * 60)
    except BadSignature:
        return None
    return signed_id if isinstance(signed_id, int) else None


def edit_page_url(site: SiteInfo, thread_key: str, **extra: Any) -> str:
    """The author's edit page of this thread, with the reader's context kept."""
    query = urlencode(page_params(site, thread_key, **extra))
    return f"{url_for('widget.edit_comment', site_slug=site.slug)}?{query}"


def delete_page_url(site: SiteInfo, thread_key: str) -> str:
    """Where the author's delete of a comment of this thread is posted."""
    query = urlencode(page_params(site, thread_key))
    return f"{url_for('widget.delete_own_comment', site_slug=site.slug)}?{query}"


def edit_offer(site: SiteInfo, thread_key: str, thread_id: int | None) -> EditOffer | None:
    """``?edit-key=``: the comment just posted, while its author may edit it."""
    key = request.args.get("edit-key", "")
    comment_id = edited_comment_id(key, site.edit_minutes)
    comment = db.session.get(Comment, comment_id) if comment_id else None
    if comment is None or comment.thread_id != thread_id or comment.site_id != site.id:
        return None
    until = edit_deadline(comment.created_at, site.edit_minutes)
    if until is None or until <= utcnow() or comment.status not in EDITABLE:
        return None
    url = edit_page_url(site, thread_key, comment=comment.id, key=key)
    return EditOffer(comment.id, key, until, url)
