"""``GET /api/openapi.json``: OpenAPI 3.1 for every JSON endpoint and the webhook payloads."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

bp = Blueprint("openapi", __name__)


@bp.get("/api/openapi.json")
def openapi() -> Response:
    """The document, cacheable. It is built (and its module imported) on the first request:
    a process that is never asked for it does not hold it."""
    from moderation.api.openapi_document import document

    response = jsonify(document())
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
