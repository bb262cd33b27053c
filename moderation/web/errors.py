"""One place that turns errors into answers: problem+json for APIs, a page for people.

:data:`STATUS` is the one table from a refusal to its HTTP status; the problem documents,
the webhook's stored answers and the widget's re-rendered form all read it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import format_timedelta, gettext
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from moderation.domain.errors import (
    N_,
    Conflict,
    DomainError,
    InvalidFields,
    InvalidInput,
    NotFound,
)
from moderation.logs import log_event
from moderation.metrics import count_rate_limit_refusal, count_storage_error
from moderation.services.challenges import ChallengeRequired
from moderation.services.form_tokens import FormTokenRefused
from moderation.services.integrations import ScopeRefused, SignatureRefused
from moderation.services.refusals import RATE_LIMIT_MESSAGE, Flooded, RateLimited, Refused
from moderation.web.limits import route_limit_retry_after
from moderation.web.requestlog import request_id, route

log = logging.getLogger(__name__)

#: HTTP's names of the errors readers can meet, which their error pages say in their language.
READER_TITLES = frozenset(
    (
        N_("Bad Request"),
        N_("Forbidden"),
        N_("Not Found"),
        N_("Method Not Allowed"),
        N_("Request Entity Too Large"),
        N_("Too Many Requests"),
        N_("Internal Server Error"),
        N_("Service Unavailable"),
    )
)

#: What an error page says under its heading when the code that refused gave no reason of
#: its own: Werkzeug's descriptions are English, these are said in the reader's language.
READER_DETAILS: dict[int, str] = {
    400: N_(
        "The request could not be understood. Go back to the page you came from and try again."
    ),
    403: N_("You are not allowed to open this page."),
    404: N_(
        "There is nothing at this address. Check it for typing mistakes, or go back to the "
        "page that linked here."
    ),
    405: N_("This address does not accept this kind of request."),
    413: N_("What was sent is too large to be accepted."),
    429: N_("Too many requests came from here. Please wait a moment and try again."),
    500: N_("Something went wrong on our side; it has been logged."),
    503: N_("The service is briefly unavailable. Please try again in a few seconds."),
}
#: The sentence of an error the table does not list.
OTHER_DETAIL = N_("This request could not be answered. Go back to the page you came from.")
#: A data-rights form sent without its CSRF token, or with one that expired (Flask-WTF's
#: reasons are English and speak of tokens).
EXPIRED_FORM = N_("This form has expired. Go back, reload the page and send it again.")

#: How long clients should wait when the database is unreachable.
DATABASE_RETRY_AFTER = 5

#: The status of every refusal, by class; a class not listed answers as its nearest
#: listed ancestor (the table is walked along the exception's MRO).
STATUS: dict[type[DomainError], int] = {
    DomainError: 400,
    InvalidInput: 400,
    InvalidFields: 422,
    SignatureRefused: 401,
    FormTokenRefused: 403,
    ScopeRefused: 403,
    NotFound: 404,
    Conflict: 409,
    Refused: 409,
    ChallengeRequired: 428,
    Flooded: 429,
    RateLimited: 429,
}


def status_of(error: DomainError) -> int:
    """The table's status for ``error``."""
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400  # pragma: no cover (DomainError is in the table)


def localized(message: str, params: dict[str, object]) -> str:
    """``message`` in the reader's language; durations written out ("2 minutes", "30 detik")."""
    values = {
        name: format_timedelta(value, threshold=1.1) if isinstance(value, timedelta) else value
        for name, value in params.items()
    }
    return str(gettext(message, **values))


@dataclass(frozen=True)
class Refusal:
    """A refusal as an answer: status, what to say, per-field messages, headers."""

    status: int
    detail: str
    field_errors: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, error: DomainError) -> Refusal:
        """Read ``error`` through the table, translated for the reader."""
        headers: dict[str, str] = {}
        extra: dict[str, Any] = {}
        retry_after = getattr(error, "retry_after", None)
        if retry_after:
            headers["Retry-After"] = str(retry_after)
        if isinstance(error, Refused):
            extra["rule"] = error.decision.rule.value
        if isinstance(error, ChallengeRequired):
            # what a front end needs: the ALTCHA challenge, why it was asked, and the
            # field to send the solution back in
            extra["challenge"] = error.challenge
            extra["challenge_reasons"] = sorted(reason.value for reason in error.reasons)
            extra["challenge_field"] = "altcha"
        field_errors = (
            {name: localized(e.message, e.params) for name, e in error.field_errors.items()}
            if isinstance(error, InvalidFields)
            else {}
        )
        return cls(
            status_of(error), localized(error.message, error.params), field_errors, headers, extra
        )

    def body(self) -> dict[str, Any]:
        """The RFC 9457 problem document."""
        body = problem_body(self.status, self.detail, **self.extra)
        if self.field_errors:
            body["errors"] = self.field_errors
        return body


def route_limit_refusal() -> Refusal:
    """The refusal of the route limit (Flask-Limiter) that stopped this request: the same
    words as the submission limits', with the wait in the reader's language."""
    wait = route_limit_retry_after()
    detail = localized(RATE_LIMIT_MESSAGE, {"wait": timedelta(seconds=wait)})
    return Refusal(429, detail, headers={"Retry-After": str(wait)})


def wants_json() -> bool:
    """API paths and clients that ask for JSON get problem+json."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes.accept_html


def problem_body(
    status: int, detail: str, title: str | None = None, **extra: Any
) -> dict[str, Any]:
    """An RFC 9457 problem document's fields."""
    return {
        "type": "about:blank",
        "title": title or HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": detail,
        **extra,
    }


def problem(
    status: int,
    detail: str,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """An RFC 9457 problem answer."""
    return problem_response(status, problem_body(status, detail, title, **extra), headers)


def problem_response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response:
    """``body`` as ``application/problem+json``."""
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    response.headers.update(headers or {})
    return response


def domain_problem(error: DomainError) -> Response:
    """A refusal from the rules or services as problem+json, with the table's status."""
    refusal = Refusal.of(error)
    return problem_response(refusal.status, refusal.body(), refusal.headers)


def error_page(
    status: int, title: str, detail: str, headers: dict[str, str] | None = None
) -> Response:
    """A plain HTML error page (never a traceback), plain text if even that fails."""
    if title in READER_TITLES:
        title = gettext(title)
    try:
        body = render_template("error.html", status=status, title=title, detail=detail)
        response = Response(body, status=status)
    except Exception:
        log.exception("the error page could not be rendered")
        response = Response(f"{status} {title}\n\n{detail}\n", status=status, mimetype="text/plain")
    response.headers.update(headers or {})
    return response


def error_answer(
    status: int, detail: str, title: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    """problem+json for APIs, a page for people."""
    if wants_json():
        return problem(status, detail, title, headers)
    return error_page(status, title or HTTP_STATUS_CODES.get(status, "Error"), detail, headers)


def reader_detail(error: HTTPException) -> str:
    """What to say of ``error``: the reason the code that raised it gave (already in the
    reader's language), else the table's sentence for its status, translated."""
    if isinstance(error, CSRFError):
        return str(gettext(EXPIRED_FORM))
    if error.description and error.description != type(error).description:
        return error.description
    return str(gettext(READER_DETAILS.get(error.code or 500, OTHER_DETAIL)))


def handle_http_exception(error: HTTPException) -> Response:
    """Every HTTP error, as problem+json or as a page."""
    status = error.code or 500
    if isinstance(error, RateLimitExceeded):
        count_rate_limit_refusal(f"route {route()}")
        refusal = route_limit_refusal()
        detail, headers = refusal.detail, refusal.headers
    else:
        # Werkzeug's own headers (a 405's Allow), without its Content-Type: the body is ours.
        detail = reader_detail(error)
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    return error_answer(status, detail, error.name, headers)


def handle_database_unavailable(error: DBAPIError) -> Response:
    """The database went away: ask clients to retry shortly instead of failing hard."""
    count_storage_error("database", error.__class__.__name__)
    if isinstance(error, OperationalError) or error.connection_invalidated:
        log_event(
            log,
            "database_unavailable",
            logging.WARNING,
            request_id=request_id(),
            error_type=error.__class__.__name__,
        )
        detail = gettext(READER_DETAILS[503])
        return error_answer(503, detail, headers={"Retry-After": str(DATABASE_RETRY_AFTER)})
    return handle_unexpected(error)


def handle_unexpected(error: Exception) -> Response:
    """A bug: log it with its traceback, answer without one."""
    log_event(
        log,
        "unhandled_error",
        logging.ERROR,
        exc_info=error,
        request_id=request_id(),
        method=request.method,
        route=route(),
        error_type=error.__class__.__name__,
    )
    return error_answer(500, gettext(READER_DETAILS[500]))


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DBAPIError, handle_database_unavailable)
    app.register_error_handler(Exception, handle_unexpected)
