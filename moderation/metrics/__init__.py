"""Prometheus metrics (the official ``prometheus_client``) and ``GET /metrics``.

What the service counts is recorded through the functions below; the instruments live in
:mod:`moderation.metrics.instruments`, imported on first use and not before: under
``moderation serve`` the client library must see ``PROMETHEUS_MULTIPROC_DIR`` when it is
first imported (in each worker, after the fork), so that every worker process and the
delivery worker write their counts to files that a scrape adds up
(https://prometheus.github.io/client_python/multiprocess/).

No label holds an email, a name or an address: routes are URL rules, sites are slugs,
limits and rules are names from the code.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

#: Which label a submission limit of the gate is counted under (the gate's scopes
#: ``address``, ``email`` and ``site`` are the submission limits).
_LIMIT_NAMES = {"address": "submit-address", "email": "submit-email", "site": "submit-site"}


@lru_cache(maxsize=1024)
def _request_series(route: str, method: str, status: int) -> tuple[Any, Any]:
    """The request counter's and the duration histogram's series for these labels (the
    same objects ``labels()`` returns each time, found once: every request counts)."""
    from moderation.metrics import instruments

    return (
        instruments.REQUESTS.labels(route, method, str(status)),
        instruments.REQUEST_SECONDS.labels(route, method),
    )


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    """One answered request."""
    counter, histogram = _request_series(route, method, status)
    counter.inc()
    histogram.observe(seconds)


def count_submission(door: str, outcome: str, rule: str) -> None:
    """One comment through a door: published, held, spam or refused, and the rule that decided."""
    from moderation.metrics import instruments

    instruments.SUBMISSIONS.labels(door, outcome, rule).inc()


def count_rate_limit_refusal(scope: str) -> None:
    """A rate limit refused something."""
    from moderation.metrics import instruments

    instruments.RATE_LIMIT_REFUSALS.labels(_LIMIT_NAMES.get(scope, scope)).inc()


def count_delivery_attempt(channel: str, outcome: str) -> None:
    """One outbox attempt: delivered, retry or dead."""
    from moderation.metrics import instruments

    instruments.DELIVERY_ATTEMPTS.labels(channel, outcome).inc()


@lru_cache(maxsize=2)
def _render_cache_series(hit: bool) -> Any:
    from moderation.metrics import instruments

    return instruments.RENDER_CACHE.labels("hit" if hit else "miss")


def count_render_cache_lookup(hit: bool) -> None:
    """A rendered public page was looked up in this process's cache."""
    _render_cache_series(hit).inc()


def count_storage_error(storage: str, kind: str) -> None:
    """The database or Redis failed (``kind`` is the exception's class name)."""
    from moderation.metrics import instruments

    instruments.STORAGE_ERRORS.labels(storage, kind).inc()
