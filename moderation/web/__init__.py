"""The web edge every blueprint shares: the one table from error to answer, origins,
security headers, sessions, template helpers, route limits, the health check and the
request log, the browser door that the widget form and the JSON API both go through."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """Install the edge on ``app`` (before the blueprints). Imported here: the package
    holds modules a command needs alone (the replay cache, the request class), which must
    not bring in every service through the error table."""
    from moderation.web import errors, health, limits, requestlog, security, sessions, templating

    requestlog.init_app(app)
    limits.init_app(app)
    security.init_app(app)
    sessions.init_app(app)
    errors.init_app(app)
    templating.init_app(app)
    health.init_app(app)
