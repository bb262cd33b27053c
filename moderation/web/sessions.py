"""Sessions belong to the dashboard: public pages neither read nor write one, so their
answers never vary by cookie and cost nothing to sign or verify."""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import NullSession, SecureCookieSession, SecureCookieSessionInterface

#: The part of the service whose pages depend on who is signed in. (The session opens
#: before the URL is matched, so the path decides, not the blueprint.)
SESSION_PREFIX = "/dashboard"


class DashboardSessionInterface(SecureCookieSessionInterface):
    """The standard signed-cookie session for the dashboard; nothing elsewhere."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not request.path.startswith(SESSION_PREFIX):
            return NullSession()
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    """Install the session interface."""
    app.session_interface = DashboardSessionInterface()
