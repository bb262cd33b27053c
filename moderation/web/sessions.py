"""Sessions belong to the dashboard (and, for its CSRF token only, the public data-rights
page): other public pages neither read nor write one, so their answers never vary by
cookie and cost nothing to sign or verify."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Flask, Request, Response, request
from flask.sessions import NullSession, SecureCookieSession, SecureCookieSessionInterface

from moderation.extensions import login_manager

#: The part of the service whose pages depend on who is signed in. (The session opens
#: before the URL is matched, so the path decides, not the blueprint.)
SESSION_PREFIX = "/dashboard"
#: The data-rights page's forms carry Flask-WTF's CSRF token, kept in a session cookie of
#: its own (its own path: the dashboard's sign-in never reaches it, nor it the dashboard).
PRIVACY_PREFIX = "/privacy"


class DashboardSessionInterface(SecureCookieSessionInterface):
    """The standard signed-cookie session for the dashboard; nothing elsewhere."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not request.path.startswith((SESSION_PREFIX, PRIVACY_PREFIX)):
            return NullSession()
        return super().open_session(app, request)

    def get_cookie_path(self, app: Flask) -> str:
        """The data-rights page's cookie is scoped to it; the dashboard's as configured."""
        if request and request.path.startswith(PRIVACY_PREFIX):
            return PRIVACY_PREFIX
        return super().get_cookie_path(app)


def dashboard_only(hook: Callable[..., Any]) -> Callable[[Response], Response]:
    """An after-request ``hook`` about the session, run for dashboard paths only."""

    @functools.wraps(hook)
    def on_dashboard(response: Response) -> Response:
        if not request.path.startswith(SESSION_PREFIX):
            return response
        answer: Response = hook(response)
        return answer

    return on_dashboard


def init_app(app: Flask) -> None:
    """Install the session interface; Flask-Login's remember-cookie refresh (a session
    matter) runs on the dashboard only."""
    app.session_interface = DashboardSessionInterface()
    hooks = app.after_request_funcs.setdefault(None, [])
    for index, hook in enumerate(hooks):
        if getattr(hook, "__self__", None) is login_manager:
            hooks[index] = dashboard_only(hook)
