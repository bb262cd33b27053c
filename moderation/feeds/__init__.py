"""Atom feeds of published comments: ``/feeds/<site>.atom`` and ``?thread=KEY``."""

from __future__ import annotations

from flask import Flask

from moderation.feeds.views import bp


def init_app(app: Flask) -> None:
    """Register the blueprint (reads only: nothing to protect from forgery)."""
    app.register_blueprint(bp)
