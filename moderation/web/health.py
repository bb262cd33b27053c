"""Liveness and database reachability for operators and load balancers."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from moderation.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 when the database answers, 503 (with the reason) when it does not."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        db.session.rollback()
        response = jsonify(status="unavailable", database=error.__class__.__name__)
        response.headers["Retry-After"] = "5"
        return response, 503
    return jsonify(status="ok", database="ok"), 200


def init_app(app: Flask) -> None:
    """Register the blueprint."""
    app.register_blueprint(bp)
