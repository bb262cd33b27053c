"""The "Leave a Reply" widget websites embed: loader script, page, form post, demo."""

from __future__ import annotations

from flask import Flask

from moderation.extensions import csrf
from moderation.widget import (
    edits,  # noqa: F401 (registers the author's edit views)
    fragment,
    preview,
)
from moderation.widget.views import bp


def init_app(app: Flask) -> None:
    """Register the blueprint; its posts carry a signed form token instead of a session
    CSRF token (the widget is cross-site: no session cookie can be relied on)."""
    csrf.exempt(bp)
    app.register_blueprint(bp)
    app.register_blueprint(fragment.bp)
    csrf.exempt(preview.bp)  # origin-checked like the form post
    app.register_blueprint(preview.bp)
