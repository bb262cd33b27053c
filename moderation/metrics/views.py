"""``GET /metrics``: for Prometheus only. With neither ``METRICS_TOKEN`` nor
``METRICS_ALLOWED_ADDRESSES`` set, it does not exist (404); otherwise a request needs the
bearer token or an allowed address (403 without)."""

from __future__ import annotations

import hmac
import ipaddress
import os

from flask import Blueprint, Flask, Response, abort, current_app, request

bp = Blueprint("metrics", __name__)

#: Where the app keeps the parsed ``METRICS_ALLOWED_ADDRESSES`` (read through
#: :func:`scrape_networks`).
EXTENSION_KEY = "moderation.metrics_networks"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def allowed_networks(setting: str) -> list[Network]:
    """``METRICS_ALLOWED_ADDRESSES``: addresses or networks separated by commas or spaces."""
    return [ipaddress.ip_network(part, strict=False) for part in setting.replace(",", " ").split()]


def may_scrape(token: str, networks: list[Network]) -> bool:
    """The request carries the bearer token, or comes from an allowed network."""
    offered = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
        return True
    try:
        client = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(client in network for network in networks)


def scrape_networks() -> list[Network]:
    """The current app's networks that may scrape without the token."""
    found = current_app.extensions[EXTENSION_KEY]
    assert isinstance(found, list)
    return found


@bp.get("/metrics")
def metrics() -> Response:
    """Every worker's counts added up, and the queue and outbox read now."""
    token = str(current_app.config["METRICS_TOKEN"] or "")
    networks = scrape_networks()
    if not token and not networks:
        abort(404)
    if not may_scrape(token, networks):
        abort(403)
    # imported here, not above: see the package's docstring
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    from moderation.metrics.scrape import DatabaseCollector, ThisProcess

    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client.multiprocess import MultiProcessCollector

        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(ThisProcess())
    registry.register(DatabaseCollector())
    response = Response(generate_latest(registry), mimetype=None)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Register the endpoint; a malformed address list stops the start with its reason."""
    try:
        networks = allowed_networks(str(app.config["METRICS_ALLOWED_ADDRESSES"] or ""))
    except ValueError as error:
        raise ValueError(f"METRICS_ALLOWED_ADDRESSES: {error}") from None
    app.extensions[EXTENSION_KEY] = networks
    app.register_blueprint(bp)
