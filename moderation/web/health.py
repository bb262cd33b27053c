"""Liveness (``/healthz``) and readiness (``/readyz``) for operators and load balancers."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from moderation.extensions import db
from moderation.services.readiness import readiness

bp = Blueprint("health", __name__)

#: Seconds a load balancer should wait before asking again after a 503.
RETRY_AFTER = "5"


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 when the database answers, 503 (with the reason) when it does not."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        db.session.rollback()
        response = jsonify(status="unavailable", database=error.__class__.__name__)
        response.headers["Retry-After"] = RETRY_AFTER
        return response, 503
    return jsonify(status="ok", database="ok"), 200


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """200 when every part this process needs works; 503 naming the parts that do not."""
    checks = readiness(
        current_app.config["RATELIMIT_STORAGE_URI"],
        float(current_app.config["READY_OUTBOX_STUCK_SECONDS"]),
    )
    failing = [check.name for check in checks if check.failed]
    response = jsonify(
        status="unavailable" if failing else "ready",
        failing=failing,
        checks={check.name: {"state": check.state, "detail": check.detail} for check in checks},
    )
    response.headers["Cache-Control"] = "no-store"
    if failing:
        response.headers["Retry-After"] = RETRY_AFTER
        return response, 503
    return response, 200


def init_app(app: Flask) -> None:
    """Register the blueprint."""
    app.register_blueprint(bp)
