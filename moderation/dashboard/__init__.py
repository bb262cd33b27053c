"""The moderators' review dashboard: sign-in, queue, decisions, audit log, admin pages."""

from __future__ import annotations

from flask import Flask

from moderation.dashboard import (  # noqa: F401 (registers the views)
    account,
    admin,
    auth,
    data,
    integrations,
    notifications,
    queue,
    rules_try,
    statistics,
    threads,
)
from moderation.dashboard.blueprint import bp


def init_app(app: Flask) -> None:
    """Register the blueprint and the session user loader."""
    auth.init_login()
    app.register_blueprint(bp)
