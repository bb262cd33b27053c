"""Signing in and out, and the role checks every view makes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import login_user, logout_user

from moderation.dashboard.blueprint import bp, moderator, safe_next
from moderation.dashboard.forms import SignInForm
from moderation.domain.numbers import parse_id
from moderation.extensions import db, login_manager
from moderation.models import Moderator
from moderation.services import moderators
from moderation.web.limits import client_key, limiter

F = TypeVar("F", bound=Callable[..., Any])


def init_login() -> None:
    """Flask-Login: sessions name the account and its current session token."""
    login_manager.login_view = "dashboard.sign_in"
    login_manager.session_protection = "strong"


@login_manager.user_loader  # type: ignore[untyped-decorator]
def load_moderator(session_id: str) -> Moderator | None:
    """An active account whose session token still matches (a reset ends old sessions)."""
    account_id, _, token = session_id.partition(":")
    wanted = parse_id(account_id)
    if wanted is None:
        return None
    account = db.session.get(Moderator, wanted)
    if account is None or not account.is_active or account.session_token != token:
        return None
    return account


def admin_required(view: F) -> F:
    """Only admins manage sites, moderators and integrations."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not moderator().is_admin:
            abort(403, description="Only admins can do this.")
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _login_failure_limit() -> str:
    return str(current_app.config["LIMIT_LOGIN_FAILURES"])


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(
    _login_failure_limit,
    key_func=client_key,
    methods=["POST"],
    deduct_when=lambda response: response.status_code != 303,
    scope="sign-in-failures",
)
def sign_in() -> ResponseReturnValue:
    """The sign-in form; a fresh session on success; failures are counted and limited."""
    form = SignInForm()
    if form.validate_on_submit():
        account = moderators.authenticate(form.username.data or "", form.password.data or "")
        if account is not None:
            target = safe_next(request.args.get("next"), url_for("dashboard.show_queue"))
            session.clear()  # a fresh session: nothing from before sign-in survives
            login_user(account)
            session.permanent = True
            return redirect(target, code=303)
        form.password.errors.append("Wrong username or password.")
        return render_template("dashboard/sign_in.html", form=form), 401
    status = 400 if form.errors else 200
    return render_template("dashboard/sign_in.html", form=form), status


@bp.post("/sign-out")
def sign_out() -> ResponseReturnValue:
    """End the session."""
    logout_user()
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("dashboard.sign_in"), code=303)
