"""The web edge every blueprint shares: the one table from error to answer, origins,
security headers, sessions, template helpers, route limits, the health check and the
request log, the browser door that the widget form and the JSON API both go through."""

from __future__ import annotations

from flask import Flask

from moderation.web import errors, health, limits, requestlog, security, sessions, templating


def init_app(app: Flask) -> None:
    """Install the edge on ``app`` (before the blueprints)."""
    requestlog.init_app(app)
    limits.init_app(app)
    security.init_app(app)
    sessions.init_app(app)
    errors.init_app(app)
    templating.init_app(app)
    health.init_app(app)
