"""JSON APIs: the public API for websites, the inbound webhook for integrators, OpenAPI."""

from __future__ import annotations

from flask import Flask

from moderation.api.public import bp as public_bp


def init_app(app: Flask) -> None:
    """Register the API blueprints."""
    app.register_blueprint(public_bp)
