"""Repeated public reads answered before Flask: the same request, the same answer.

A public read (a thread's comments as JSON, its widget page, counts) is built from values
the per-process caches hand out for a moment (:class:`moderation.cache.Freshness`) and
from the request alone: its method, path, query string and headers. The view that built
one says so (:func:`may_replay`); this middleware then keeps the answer as it left the app
(status, every header, the body), keyed by everything in the request that a view, a hook
or an error page can read, until the first value it was built from expires, a change in
this process forgets one, or the thread closes by age. The same request meanwhile is
answered from it without the app: byte for byte what the app would answer, with the
parts that are each request's own made anew, as the app makes them: the request id
(``X-Request-ID``, the proxy's when well formed), the reader's form token on the widget
page (and so its ``Content-Length``). The request's metrics and log line are written as
the app writes them.

Anything else goes to the app: writes, other methods, answers a view did not mark, an
answer that sets a cookie or is not ``200``/``304``, and every request whose headers
differ in any way the views might read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, request

from moderation.cache import EXTENSION_KEY, BoundedCache, Freshness, Watch
from moderation.clock import utcnow
from moderation.metrics import count_render_cache_lookup, observe_request
from moderation.web import requestlog

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: Where a view leaves its :class:`Replayable` in the WSGI environ.
ENVIRON_KEY = "moderation.replayable"
#: Request headers no view, hook or error page reads (transport, fetch metadata, the
#: browser's name: the submission doors read that, never a read); every other header
#: is part of the key.
IGNORED_HEADERS = frozenset(
    {
        "HTTP_CONNECTION",
        "HTTP_KEEP_ALIVE",
        "HTTP_USER_AGENT",
        "HTTP_ACCEPT_ENCODING",
        "HTTP_CACHE_CONTROL",
        "HTTP_PRAGMA",
        "HTTP_DNT",
        "HTTP_PRIORITY",
        "HTTP_UPGRADE_INSECURE_REQUESTS",
        "HTTP_SEC_FETCH_DEST",
        "HTTP_SEC_FETCH_MODE",
        "HTTP_SEC_FETCH_SITE",
        "HTTP_SEC_FETCH_USER",
        "HTTP_SEC_GPC",
        "HTTP_X_REQUEST_ID",  # made anew for each answer, as the app makes it
        # the reader's address, through proxies: no read depends on it (ProxyFix turns
        # X-Forwarded-Proto and -Host into the scheme and Host, which are in the key)
        "HTTP_X_FORWARDED_FOR",
        "HTTP_X_REAL_IP",
        "HTTP_FORWARDED",
    }
)

log = logging.getLogger("moderation.requests")


@dataclass(frozen=True)
class Replayable:
    """What a view says of its answer: it may be replayed to the same request, with a
    fresh form token from ``token`` in place of ``token_sent``, until ``until`` (UTC)."""

    route: str
    token_sent: bytes | None = None
    token: Callable[[], str] | None = None
    until: datetime | None = None


def may_replay(
    token_sent: str | None = None,
    token: Callable[[], str] | None = None,
    until: datetime | None = None,
) -> None:
    """Called by a public read's view: the answer depends only on the request and on
    values from the timed caches (and on the clock only through ``until``, or through
    the form token ``token_sent``, sent as a body part of its own, which ``token`` makes
    anew)."""
    rule = request.url_rule
    request.environ[ENVIRON_KEY] = Replayable(
        route=rule.rule if rule is not None else "-",
        token_sent=token_sent.encode() if token_sent is not None else None,
        token=token,
        until=until,
    )


@dataclass(frozen=True)
class Answer:
    """A kept answer: the status, the headers with the slots of the request id and the
    length, the body with the slot of the form token."""

    status: str
    status_code: int
    headers: list[tuple[str, str]]
    id_slot: int
    length_slot: int | None
    #: the body's bytes without the token (``Content-Length`` less the token's length)
    fixed_length: int
    #: the body parts, ``None`` where the token goes
    body: tuple[bytes | None, ...]
    method: str
    replayable: Replayable
    generation: int
    expires: float
    #: rendered bodies the app looks up for it (each one a hit, counted as the app counts)
    lookups: int
    #: what it holds, in bytes about: the body and the request's key (headers included)
    weight: int


def request_key(environ: dict[str, Any]) -> tuple[Any, ...]:
    """Everything about a request that a read's answer may depend on."""
    headers = tuple(
        sorted(
            (name, value)
            for name, value in environ.items()
            if name.startswith("HTTP_") and name not in IGNORED_HEADERS
        )
    )
    return (
        environ["REQUEST_METHOD"],
        environ.get("SCRIPT_NAME", ""),
        environ.get("PATH_INFO", ""),
        environ.get("QUERY_STRING", ""),
        environ.get("wsgi.url_scheme", ""),
        environ.get("SERVER_NAME", ""),
        environ.get("SERVER_PORT", ""),
        environ.get("CONTENT_TYPE", ""),
        environ.get("CONTENT_LENGTH", ""),
        headers,
    )


class ReplayReads:
    """WSGI middleware around the Flask app: answer a repeated public read from the
    answer the app gave it (see the module's text)."""

    def __init__(self, app: Flask, wsgi_app: WSGIApp) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        # bodies are mostly the render cache's own bytes; bounded alike, in case they are not
        self.answers: BoundedCache[Answer] = BoundedCache(
            int(app.config["RENDER_CACHE_BYTES"]), size_of=lambda answer: answer.weight
        )

    @property
    def freshness(self) -> Freshness:
        """The app's current :class:`Freshness` (its caches are made after this middleware,
        and may be made anew: a kept answer's generation is then never current)."""
        freshness: Freshness = self.app.extensions[EXTENSION_KEY].freshness
        return freshness

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ["REQUEST_METHOD"] not in ("GET", "HEAD"):
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        key = request_key(environ)
        freshness = self.freshness
        kept = self.answers.get(key)
        if (
            kept is not None
            and kept.generation == freshness.generation
            and kept.expires > time.monotonic()
            and (kept.replayable.until is None or utcnow() < kept.replayable.until)
        ):
            return replay(kept, environ, start_response, started)
        return self.record(key, environ, start_response)

    def record(
        self, key: tuple[Any, ...], environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Any:
        """The app's answer, kept when its view marked it replayable."""
        freshness = self.freshness
        watch = freshness.watch()
        sent: list[Any] = []

        def keep_start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            sent[:] = [status, headers, exc_info]
            return start_response(status, headers, exc_info)

        try:
            answer = self.wsgi_app(environ, keep_start)
        finally:
            freshness.stop()
        replayable = environ.get(ENVIRON_KEY)
        if replayable is None or not sent or watch.rendered:
            return answer
        try:
            body = list(answer)  # bytes the app holds already: nothing is streamed
        finally:
            close = getattr(answer, "close", None)
            if close is not None:
                close()
        kept = keep(sent, body, environ["REQUEST_METHOD"], replayable, watch, len(repr(key)))
        if kept is not None:
            self.answers.put(key, kept)
        return body


def keep(
    sent: list[Any],
    body: list[bytes],
    method: str,
    replayable: Replayable,
    watch: Watch,
    key_size: int,
) -> Answer | None:
    """The answer to keep, or ``None`` when it must not be replayed."""
    status, headers, exc_info = sent
    if exc_info is not None or not status.startswith(("200 ", "304 ")):
        return None
    names = [name.lower() for name, _ in headers]
    if "set-cookie" in names or names.count(requestlog.HEADER.lower()) != 1:
        return None
    length_slot = names.index("content-length") if "content-length" in names else None
    parts: list[bytes | None] = list(body)
    token_length = 0
    if replayable.token_sent is not None:
        if replayable.token is None:
            return None
        token_length = len(replayable.token_sent)
        if method == "GET":
            if parts.count(replayable.token_sent) != 1:
                return None
            parts[parts.index(replayable.token_sent)] = None
    if length_slot is not None:
        fixed_length = int(headers[length_slot][1]) - token_length
    else:
        fixed_length = sum(len(part) for part in parts if part is not None)
    return Answer(
        status=status,
        status_code=int(status.split(" ", 1)[0]),
        headers=list(headers),
        id_slot=names.index(requestlog.HEADER.lower()),
        length_slot=length_slot,
        fixed_length=fixed_length,
        body=tuple(parts),
        method=method,
        replayable=replayable,
        generation=watch.generation,
        expires=watch.until,
        lookups=watch.lookups,
        weight=fixed_length + key_size,
    )


def replay(
    kept: Answer, environ: dict[str, Any], start_response: Callable[..., Any], started: float
) -> list[bytes]:
    """``kept`` again, with this request's own id and form token; counted and logged."""
    identifier = requestlog.id_for(environ.get("HTTP_X_REQUEST_ID", ""))
    headers = list(kept.headers)
    headers[kept.id_slot] = (headers[kept.id_slot][0], identifier)
    token = b""
    replayable = kept.replayable
    if replayable.token is not None:
        token = replayable.token().encode()
    size = kept.fixed_length + len(token)
    if kept.length_slot is not None:
        headers[kept.length_slot] = (headers[kept.length_slot][0], str(size))
    if replayable.token is not None and kept.method == "GET":
        body = [token if part is None else part for part in kept.body]
    else:
        body = list(kept.body)  # type: ignore[arg-type]
    start_response(kept.status, headers)
    for _ in range(kept.lookups):
        count_render_cache_lookup(True)
    seconds = time.perf_counter() - started
    observe_request(replayable.route, kept.method, kept.status_code, seconds)
    if log.isEnabledFor(logging.INFO):
        requestlog.write_line(
            identifier, kept.method, replayable.route, kept.status_code, seconds, size
        )
    return body


def wrap(app: Flask) -> None:
    """Put the middleware right around the app (before the proxy and body handling wrap
    it: it sees the request as the app does), unless ``REPLAY_PUBLIC_READS`` is off."""
    if app.config["REPLAY_PUBLIC_READS"]:
        app.wsgi_app = ReplayReads(app, app.wsgi_app)  # type: ignore[method-assign]
