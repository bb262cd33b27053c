"""Signing in and out, re-authentication, and the role checks every view makes.

Flask-Login keeps a random key in the cookie (``Moderator.get_id``); the key names a
server-side record (:mod:`moderation.services.dashboard_sessions`) that every request
checks, so a session can end for good: at sign-out, on a password reset, a deactivation, an
admin's "sign out everywhere", or after its absolute lifetime or idle time.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import confirm_login, login_fresh, login_user, logout_user

from moderation.dashboard.blueprint import bp, moderator, safe_next, too_many_sign_ins
from moderation.dashboard.forms import ConfirmPasswordForm, SignInForm
from moderation.extensions import login_manager
from moderation.models import Moderator
from moderation.ratelimit import Check, gate, private_key
from moderation.services import dashboard_sessions, moderators
from moderation.services.dashboard_sessions import SessionPolicy
from moderation.web.errors import problem, wants_json
from moderation.web.limits import client_key

F = TypeVar("F", bound=Callable[..., Any])

REFRESH_MESSAGE = "Please give your password again: this action needs a recent sign-in."


def init_login() -> None:
    """Flask-Login: where to sign in, where to confirm the password again, and "basic"
    session protection (a cookie replayed from another address or browser still names its
    session, but is never fresh: sensitive actions ask for the password)."""
    login_manager.login_view = "dashboard.sign_in"
    login_manager.refresh_view = "dashboard.confirm_password"
    login_manager.needs_refresh_message = REFRESH_MESSAGE
    login_manager.session_protection = "basic"


def session_policy() -> SessionPolicy:
    """The configured lifetimes of a dashboard session."""
    config = current_app.config
    return SessionPolicy(
        absolute=timedelta(seconds=float(config["SESSION_ABSOLUTE_LIFETIME"])),
        idle=timedelta(seconds=float(config["SESSION_IDLE_TIMEOUT"])),
        fresh=timedelta(seconds=float(config["SESSION_FRESH_LIFETIME"])),
    )


@login_manager.user_loader  # type: ignore[untyped-decorator]
def load_moderator(session_key: str) -> Moderator | None:
    """The active moderator whose live session the cookie names."""
    return dashboard_sessions.load(session_key, session_policy())


ADMINS_ONLY = "Only admins can open this page or do this."


def admin_required(view: F) -> F:
    """Only admins manage sites, moderators, integrations and data. A moderator who reaches
    such a page (an old bookmark, a shared link) is told so in words: 403 with the
    dashboard around it, problem+json for JSON clients. The answer is the same whatever the
    page names, so it tells nothing of another site (those things answer 404 elsewhere)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not moderator().is_admin:
            if wants_json():
                return problem(403, ADMINS_ONLY)
            return render_template("dashboard/forbidden.html", detail=ADMINS_ONLY), 403
        return view(*args, **kwargs)

    wrapper.admin_only = True  # type: ignore[attr-defined]  # read by the route walk's tests
    return wrapper  # type: ignore[return-value]


def fresh_sign_in_required(back: str | None = None) -> Callable[[F], F]:
    """Sensitive actions need the password given within ``SESSION_FRESH_LIFETIME`` in this
    very browser (Flask-Login's freshness, lost when the cookie turns up from elsewhere);
    otherwise the moderator confirms it and comes back to the page ``back`` (an endpoint;
    ``None``: the same address, whose GET shows the form again)."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            key = moderator().session_key
            if login_fresh() and dashboard_sessions.is_fresh(key, session_policy()):
                return view(*args, **kwargs)
            if wants_json():
                return problem(401, REFRESH_MESSAGE)
            flash(REFRESH_MESSAGE)
            again = url_for(back) if back else request.path
            target = url_for(str(login_manager.refresh_view), next=again)
            return redirect(target, code=303)

        return wrapper  # type: ignore[return-value]

    return decorator


def sign_in_checks(username: str) -> list[Check]:
    """The failure limits an attempt on ``username`` is counted against, before its
    password is checked: per client address, and per account from every address."""
    config = current_app.config
    return [
        ("sign-in-failures", str(config["LIMIT_LOGIN_FAILURES"]), (client_key(),)),
        (
            "sign-in-account",
            str(config["LIMIT_LOGIN_FAILURES_PER_ACCOUNT"]),
            (private_key(username.strip()),),
        ),
    ]


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> ResponseReturnValue:
    """The sign-in form; a fresh session on success. Each attempt is counted before the
    password is checked (atomically: simultaneous guesses cannot all pass) and refunded
    when the password was right."""
    form = SignInForm()
    if form.validate_on_submit():
        username = form.username.data or ""
        breach, taken = gate().take(sign_in_checks(username))
        if breach is not None:
            return too_many_sign_ins(breach.retry_after)
        account = moderators.authenticate(username, form.password.data or "")
        if account is not None:
            gate().give_back(taken)
            target = safe_next(request.args.get("next"), url_for("dashboard.show_queue"))
            account.session_key = dashboard_sessions.start(account, session_policy())
            session.clear()  # a fresh session: nothing from before sign-in survives
            login_user(account, fresh=True)
            session.permanent = True
            return redirect(target, code=303)
        form.password.errors.append("Wrong username or password.")
        return render_template("dashboard/sign_in.html", form=form), 401
    status = 400 if form.errors else 200
    return render_template("dashboard/sign_in.html", form=form), status


@bp.route("/confirm-password", methods=["GET", "POST"])
def confirm_password() -> ResponseReturnValue:
    """Re-authentication: the signed-in moderator gives the password again (counted against
    the same failure limits as sign-in) and the session is fresh for a while."""
    form = ConfirmPasswordForm()
    target = safe_next(request.args.get("next"), url_for("dashboard.show_queue"))
    if form.validate_on_submit():
        account = moderator()
        breach, taken = gate().take(sign_in_checks(account.username))
        if breach is not None:
            return too_many_sign_ins(breach.retry_after)
        if dashboard_sessions.confirm_password(account, form.password.data or ""):
            gate().give_back(taken)
            confirm_login()
            flash("Password confirmed.")
            return redirect(target, code=303)
        form.password.errors.append("Wrong password.")
        return render_template("dashboard/confirm_password.html", form=form), 401
    status = 400 if form.errors else 200
    return render_template("dashboard/confirm_password.html", form=form), status


@bp.post("/sign-out")
def sign_out() -> ResponseReturnValue:
    """End the session on the server too: a copy of the cookie signs nobody in."""
    dashboard_sessions.end(moderator().session_key)
    logout_user()
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("dashboard.sign_in"), code=303)
