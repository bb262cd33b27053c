"""One place that turns errors into answers: problem+json for APIs, a page for people."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext
from flask_limiter import RateLimitExceeded
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

from moderation.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from moderation.services.form_tokens import FormTokenRefused
from moderation.services.integrations import ScopeRefused, SignatureRefused
from moderation.services.submissions import RateLimited, Refused
from moderation.web.limits import route_limit_retry_after

log = logging.getLogger(__name__)

#: How long clients should wait when the database is unreachable.
DATABASE_RETRY_AFTER = 5


def wants_json() -> bool:
    """API paths and clients that ask for JSON get problem+json."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes.accept_html


def problem(
    status: int,
    detail: str,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """An RFC 9457 problem document."""
    body = {
        "type": "about:blank",
        "title": title or HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": detail,
        **extra,
    }
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def domain_problem(error: DomainError) -> Response:
    """A refusal from the rules or services as problem+json, with the right status."""
    status, body, headers = domain_problem_parts(error)
    return problem(
        status,
        body["detail"],
        headers=headers,
        **{
            key: value
            for key, value in body.items()
            if key not in ("type", "title", "status", "detail")
        },
    )


def domain_problem_parts(error: DomainError) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Status, RFC 9457 body and headers for a refusal (the webhook stores these)."""
    detail = gettext(error.message, **error.params)
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    status = 400
    if isinstance(error, NotFound):
        status = 404
    elif isinstance(error, Conflict):
        status = 409
    elif isinstance(error, FormTokenRefused):
        status = 403
    elif isinstance(error, RateLimited):
        status = 429
        headers["Retry-After"] = str(error.retry_after)
        detail = gettext(
            "You have posted too many comments. Please try again in %(seconds)d seconds.",
            seconds=error.retry_after,
        )
    elif isinstance(error, Refused):
        status = 429 if error.retry_after else 409
        extra["rule"] = error.decision.rule.value
        if error.retry_after:
            headers["Retry-After"] = str(error.retry_after)
    elif isinstance(error, InvalidInput):
        status = 422 if error.field_errors else 400
        if error.field_errors:
            extra["errors"] = {
                name: gettext(message) for name, message in error.field_errors.items()
            }
    elif isinstance(error, SignatureRefused):
        status = 401
    elif isinstance(error, ScopeRefused):
        status = 403
    body = {
        "type": "about:blank",
        "title": HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": detail,
        **extra,
    }
    return status, body, headers


def error_page(
    status: int, title: str, detail: str, headers: dict[str, str] | None = None
) -> Response:
    """A plain HTML error page (never a traceback), plain text if even that fails."""
    try:
        body = render_template("error.html", status=status, title=title, detail=detail)
        response = Response(body, status=status)
    except Exception:
        log.exception("the error page could not be rendered")
        response = Response(f"{status} {title}\n\n{detail}\n", status=status, mimetype="text/plain")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def handle_http_exception(error: HTTPException) -> Response:
    """Every HTTP error, as problem+json or as a page."""
    status = error.code or 500
    title = error.name
    detail = error.description or title
    headers = {}
    if isinstance(error, RateLimitExceeded):
        wait = route_limit_retry_after()
        headers["Retry-After"] = str(wait)
        detail = gettext(
            "Too many requests. Please try again in %(seconds)d seconds.", seconds=wait
        )
    if wants_json():
        return problem(status, detail, title, headers)
    return error_page(status, title, detail, headers)


def handle_database_unavailable(error: DBAPIError) -> Response:
    """The database went away: ask clients to retry shortly instead of failing hard."""
    if isinstance(error, OperationalError) or error.connection_invalidated:
        log.warning("database unavailable: %s", error.__class__.__name__)
        detail = gettext("The service is briefly unavailable. Please try again in a few seconds.")
        headers = {"Retry-After": str(DATABASE_RETRY_AFTER)}
        if wants_json():
            return problem(503, detail, headers=headers)
        return error_page(503, "Service Unavailable", detail, headers)
    return handle_unexpected(error)


def handle_unexpected(error: Exception) -> Response:
    """A bug: log it with its traceback, answer without one."""
    log.exception("unhandled error on %s %s", request.method, request.path, exc_info=error)
    server_error = InternalServerError()
    if wants_json():
        return problem(500, gettext("Something went wrong on our side; it has been logged."))
    return error_page(
        500, server_error.name, gettext("Something went wrong on our side; it has been logged.")
    )


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DBAPIError, handle_database_unavailable)
    app.register_error_handler(Exception, handle_unexpected)
