"""The pages that links in notification emails open: moderators' decisions, commenters'
confirmation and unsubscription. A GET only shows a page; its button POSTs the change."""

from __future__ import annotations

from flask import Flask

from moderation.extensions import csrf
from moderation.notify.views import bp


def init_app(app: Flask) -> None:
    """Register the pages. The token in the link is the credential: no session, so no
    CSRF token (a forged POST would need the secret link itself)."""
    csrf.exempt(bp)
    app.register_blueprint(bp)
