"""Sessions belong to the dashboard (and, for its CSRF token only, the public data-rights
page): other public pages neither read nor write one, so their answers never vary by
cookie and cost nothing to sign or verify."""

from __future__ import annotations

from flask import Flask, Request, request
from flask.sessions import NullSession, SecureCookieSession, SecureCookieSessionInterface

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


def init_app(app: Flask) -> None:
    """Install the session interface."""
    app.session_interface = DashboardSessionInterface()
