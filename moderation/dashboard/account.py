"""A moderator's own account: the name their replies carry, and their password."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_user

from moderation.dashboard.auth import session_policy
from moderation.dashboard.blueprint import bp, moderator
from moderation.dashboard.forms import DisplayNameForm, OwnPasswordForm
from moderation.domain.errors import DomainError
from moderation.services import dashboard_sessions, moderators
from moderation.services.moderators import actor_of


def _page(
    name_form: DisplayNameForm, password_form: OwnPasswordForm, status: int = 200
) -> ResponseReturnValue:
    return render_template(
        "dashboard/account.html", name_form=name_form, password_form=password_form
    ), status


@bp.get("/me")
def show_own_account() -> ResponseReturnValue:
    """The signed-in moderator's name and password forms."""
    return _page(DisplayNameForm(display_name=moderator().display_name), OwnPasswordForm())


@bp.post("/me/name")
def change_display_name() -> ResponseReturnValue:
    """The name published replies carry (empty: the username)."""
    form = DisplayNameForm()
    if form.validate():
        try:
            account = moderators.set_display_name(
                moderator().id, form.display_name.data or "", actor_of(moderator())
            )
        except DomainError as error:
            form.display_name.errors = [str(error)]
        else:
            flash(f"Your replies are now signed “{account.public_name}”.")
            return redirect(url_for("dashboard.show_own_account"), code=303)
    return _page(form, OwnPasswordForm(), 400)


@bp.post("/me/password")
def change_own_password() -> ResponseReturnValue:
    """A new password, after the current one; the account's other sessions end."""
    form = OwnPasswordForm()
    if form.validate():
        try:
            account = moderators.change_own_password(
                moderator(), form.current.data or "", form.new.data or ""
            )
        except DomainError as error:
            wrong = isinstance(error, moderators.WrongCurrentPassword)
            target = form.current if wrong else form.new
            target.errors = [str(error)]
        else:
            # every session ended with the old password; this browser gets a new one
            account.session_key = dashboard_sessions.start(account, session_policy())
            login_user(account, fresh=True)
            flash("Your password is changed. Your other sessions have ended.")
            return redirect(url_for("dashboard.show_own_account"), code=303)
    return _page(DisplayNameForm(display_name=moderator().display_name), form, 400)
