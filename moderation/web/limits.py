"""Flask-Limiter: the per-route limits (form posts, the webhook endpoint), counted in the
same storage as the submission gate. (Failed sign-ins are counted by the gate itself,
before the password is checked: :func:`moderation.dashboard.auth.sign_in`.)"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_qualified_name

from moderation.domain.privacy import rate_limit_address
from moderation.ratelimit import storage_settings


def client_key() -> str:
    """The client a request is limited as: its address (IPv6 by /64)."""
    return rate_limit_address(request.remote_addr or "")


limiter = Limiter(key_func=client_key, key_prefix="moderation")


def public_posts_limit() -> str:
    """The ceiling on POSTs to a public write route per client address (the setting
    ``LIMIT_PUBLIC_POSTS_PER_ADDRESS``), counted before the body is read."""
    return str(current_app.config["LIMIT_PUBLIC_POSTS_PER_ADDRESS"])


#: Methods no route limit applies to.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@limiter.request_filter
def reads_are_not_limited() -> bool:
    """Every route limit is on a write; reads skip Flask-Limiter's per-request work."""
    return request.method in READ_METHODS


def writes_only(hook: Callable[..., Any], *, after: bool = False) -> Callable[..., Any]:
    """``hook`` for writes; reads pass straight by (an after-request hook hands the
    response back untouched)."""

    @functools.wraps(hook)
    def for_writes(*args: Any) -> Any:
        if request.method in READ_METHODS:
            return args[0] if after else None
        return hook(*args)

    return for_writes


def checked_by_its_decorator() -> bool:
    """Whether this request's route limits are all checked by the route's own decorator,
    so Flask-Limiter's ``before_request`` check could find nothing to count.

    For a route marked by ``@limiter.limit``, that check leaves the route's limits (and its
    blueprint's and the defaults) to the decorator and counts only application-wide and
    meta limits: with none configured, it would resolve and evaluate an empty list (7 % of
    a comment submission's work, done twice)."""
    view = current_app.view_functions.get(request.endpoint or "")
    return (
        view is not None
        # Flask-Limiter keeps no public accessor for these two; both are read per request, as
        # Flask-Limiter itself reads them, so an app configured with such limits is checked
        and get_qualified_name(view) in limiter._marked_for_limiting
        and not limiter.limit_manager.application_limits
        and not limiter._meta_limits
    )


def middleware_check_for_writes(hook: Callable[[], Any]) -> Callable[[], Any]:
    """Flask-Limiter's ``before_request`` check, for writes whose route limits are not all
    checked by the route's decorator (:func:`checked_by_its_decorator`)."""

    @functools.wraps(hook)
    def check() -> Any:
        if request.method in READ_METHODS or checked_by_its_decorator():
            return None
        return hook()

    return check


def skip_limiter_hooks_on_reads(app: Flask) -> None:
    """Flask-Limiter's three per-request hooks only run for writes: on a public read they
    found nothing to limit (:func:`reads_are_not_limited`) after a fifth of the read's work.
    Its ``before_request`` check is also skipped where the decorator does the same work."""
    wrappers: list[tuple[list[Any], Callable[[Any], Any]]] = [
        (app.before_request_funcs.setdefault(None, []), middleware_check_for_writes),
        (app.after_request_funcs.setdefault(None, []), functools.partial(writes_only, after=True)),
        (app.teardown_request_funcs.setdefault(None, []), writes_only),
    ]
    for hooks, wrap in wrappers:
        for index, hook in enumerate(hooks):
            owner = getattr(hook, "__self__", None) or next(iter(getattr(hook, "args", ())), None)
            if owner is limiter:
                hooks[index] = wrap(hook)


def route_limit_retry_after() -> int:
    """Seconds until the route limit that refused this request lets it through."""
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, math.ceil(current.reset_at - time.time()))


def init_app(app: Flask) -> None:
    """Configure Flask-Limiter on the service's storage."""
    # X-RateLimit headers would be sent on every answer; Retry-After is set on refusals only
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "moderation")
    configured = app.config["RATELIMIT_STORAGE_URI"]
    uri, options = storage_settings(app.config)
    app.config["RATELIMIT_STORAGE_OPTIONS"] = options
    # Flask-Limiter reads the storage from the config once, here: give it our memory one
    app.config["RATELIMIT_STORAGE_URI"] = uri
    try:
        limiter.init_app(app)
    finally:
        app.config["RATELIMIT_STORAGE_URI"] = configured
    skip_limiter_hooks_on_reads(app)
