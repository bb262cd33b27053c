"""One log line and one metrics observation per request, with the request id that is also sent back (``X-Request-ID``)
and printed on error pages.

The line names the route (``/w/<site>``), never the raw path or query string, which may
carry a token (``/notify/<token>``) or a search for an address; no client address, cookie
or header value is written.
"""

from __future__ import annotations

import logging
import os
import re
import time

from flask import Flask, Response, g, request

from moderation.logs import log_event
from moderation.metrics import observe_request

log = logging.getLogger("moderation.requests")

HEADER = "X-Request-ID"
#: An id a proxy in front may hand us (nginx's ``$request_id`` is 32 hex digits); anything
#: else is replaced, so a client cannot write arbitrary text into the logs.
_WELL_FORMED = re.compile(r"[A-Za-z0-9_-]{8,64}")


def request_id() -> str:
    """This request's id: the proxy's when well formed, else a new one (made on first use,
    so an error page rendered before any hook ran has one too)."""
    found = g.get("request_id")
    if found is None:
        found = g.request_id = id_for(request.headers.get(HEADER, ""))
    return str(found)


def id_for(offered: str) -> str:
    """The id of a request whose ``X-Request-ID`` header says ``offered`` ("" if none)."""
    # 32 random hex digits, as a uuid4's hex (without its object, on every request)
    return offered if _WELL_FORMED.fullmatch(offered) else os.urandom(16).hex()


def route() -> str:
    """The URL rule that matched (``/w/<site>``), or ``-`` when none did."""
    return request.url_rule.rule if request.url_rule is not None else "-"


def start_request() -> None:
    """Note the time; make the id."""
    g.request_started = time.perf_counter()
    request_id()


def finish_request(response: Response) -> Response:
    """Return the id to the client, count the request and write its line."""
    identifier = request_id()
    response.headers[HEADER] = identifier
    started = g.get("request_started")
    seconds = time.perf_counter() - started if started else None
    method, name, status = request.method, route(), response.status_code
    if seconds is not None:
        observe_request(name, method, status, seconds)
    if log.isEnabledFor(logging.INFO):  # the fields cost something too: only when written
        write_line(identifier, method, name, status, seconds, response.calculate_content_length())
    return response


def write_line(
    identifier: str, method: str, name: str, status: int, seconds: float | None, size: int | None
) -> None:
    """The request's line (at ``INFO``)."""
    log_event(
        log,
        "request",
        request_id=identifier,
        pid=os.getpid(),
        method=method,
        route=name,
        status=status,
        duration_ms=round(seconds * 1000, 1) if seconds is not None else None,
        bytes=size,
    )


def init_app(app: Flask) -> None:
    """Run first among the before-request hooks (a limit or a session check may answer
    early) and stamp every response."""
    app.before_request_funcs.setdefault(None, []).insert(0, start_request)
    app.after_request(finish_request)
    app.jinja_env.globals["request_id"] = request_id
