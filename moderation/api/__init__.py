"""JSON APIs: the public API for websites, the inbound webhook for integrators, OpenAPI."""

from __future__ import annotations

from flask import Flask

from moderation.api.hooks import bp as hooks_bp
from moderation.api.openapi import bp as openapi_bp
from moderation.api.public import bp as public_bp
from moderation.api.reads import bp as reads_bp


def init_app(app: Flask) -> None:
    """Register the API blueprints."""
    app.register_blueprint(public_bp)
    app.register_blueprint(hooks_bp)
    app.register_blueprint(reads_bp)
    app.register_blueprint(openapi_bp)
