"""The public data-rights page (GDPR Art. 15 and 17, issue 18): a person asks for their
data or its erasure, receives a link by email, and downloads or erases from it."""

from __future__ import annotations

from flask import Flask

from moderation.privacy.views import bp


def init_app(app: Flask) -> None:
    """Register the pages. Unlike the widget they are on the service's own origin, so
    Flask-WTF's session CSRF token protects every POST (the session opens on /privacy)."""
    app.register_blueprint(bp)
