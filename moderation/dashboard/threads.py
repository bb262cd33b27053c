"""Closing a thread to new comments and reopening it (any moderator of its site)."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from moderation.dashboard.blueprint import bp, message_page, moderator, safe_next, site_scope
from moderation.dashboard.forms import ConfirmForm
from moderation.domain.errors import DomainError
from moderation.services import closing
from moderation.services.moderators import actor_of
from moderation.web.errors import domain_problem


@bp.post("/threads/<int:thread_id>/<any(close, reopen):change>")
def change_thread(thread_id: int, change: str) -> ResponseReturnValue:
    """Close a thread (no new comments, the widget says so) or reopen it."""
    back = safe_next(request.form.get("next"), url_for("dashboard.show_queue"))
    if not ConfirmForm().validate():
        return message_page("Nothing changed", "The form was stale; try again.", 400, back)
    try:
        view = closing.set_open(thread_id, change == "reopen", actor_of(moderator()), site_scope())
    except DomainError as error:
        answer = domain_problem(error)
        return message_page("Not found", str(error), answer.status_code, back)
    key = view.thread.key
    flash(
        f"Comments on “{key}” are open again."
        if change == "reopen"
        else f"Comments on “{key}” are closed."
    )
    return redirect(back, code=303)
