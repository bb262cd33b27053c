"""A self-hosted comment moderation service.

:func:`create_app` builds the Flask application; ``wsgi.py`` exposes one for any WSGI
server and ``moderation serve`` runs it under gunicorn.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["create_app"]


def templates_folder() -> str:
    """Templates ship inside the wheel; in a source checkout they are at the top level."""
    packaged = Path(__file__).parent / "templates"
    if packaged.is_dir():
        return str(packaged)
    return str(Path(__file__).parent.parent / "templates")


def create_app(config: Mapping[str, Any] | None = None, instance_path: str | None = None) -> Flask:
    """Build the application; ``config`` overrides every other layer (tests use it).

    Everything is imported here, not at the top: ``moderation --help`` and ``import
    moderation.cli`` must not pay for the whole service."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    from moderation.config import instance_path_from_environment, load_config
    from moderation.logs import configure_logging
    from moderation.web import replay
    from moderation.web.application import ServiceFlask
    from moderation.web.bodylimit import ChunkedBodyLimit

    app = ServiceFlask(
        __name__,
        instance_path=instance_path or instance_path_from_environment(),
        instance_relative_config=True,
        template_folder=templates_folder(),
    )
    load_config(app, config)
    configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])

    replay.wrap(app)
    app.wsgi_app = ChunkedBodyLimit(app.wsgi_app, app.config)  # type: ignore[method-assign]
    if app.config["TRUSTED_PROXIES"] > 0:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    from moderation import (
        api,
        cache,
        commands,
        dashboard,
        feeds,
        notify,
        privacy,
        ratelimit,
        web,
        widget,
    )
    from moderation.extensions import init_extensions
    from moderation.metrics import views as metrics_views

    init_extensions(app)
    cache.init_app(app)
    ratelimit.init_app(app)
    web.init_app(app)
    metrics_views.init_app(app)
    widget.init_app(app)
    feeds.init_app(app)
    api.init_app(app)
    dashboard.init_app(app)
    notify.init_app(app)
    privacy.init_app(app)
    commands.init_app(app)
    return app
