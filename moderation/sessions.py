"""Sessions belong to the dashboard: public answers never vary by cookie."""

from __future__ import annotations

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask.wrappers import Response

#: Blueprints whose pages depend on who is signed in.
SESSION_BLUEPRINTS = frozenset({"dashboard"})


class DashboardSessionInterface(SecureCookieSessionInterface):
    """The standard signed-cookie session, minus ``Vary: Cookie`` on public answers."""

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        super().save_session(app, session, response)
        if request.blueprint not in SESSION_BLUEPRINTS and not session:
            response.vary.discard("Cookie")


def init_app(app: Flask) -> None:
    """Install the session interface."""
    app.session_interface = DashboardSessionInterface()
