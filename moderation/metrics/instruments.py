"""The instruments. Importing this module imports ``prometheus_client``: see the package's
docstring for why that waits until the first count."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

#: Seconds; a public read answers in milliseconds, a submission in tens of them.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "moderation_http_requests",
    "HTTP requests answered, by route (the URL rule), method and status.",
    ["route", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "moderation_http_request_duration_seconds",
    "Time to answer a request, by route and method.",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
SUBMISSIONS = Counter(
    "moderation_submissions",
    "Comments submitted, by door (form, json, webhook), outcome (published, held, spam, "
    "refused) and the rule that decided.",
    ["door", "outcome", "rule"],
)
RATE_LIMIT_REFUSALS = Counter(
    "moderation_rate_limit_refusals",
    "Requests refused by a rate limit, by limit.",
    ["limit"],
)
DELIVERY_ATTEMPTS = Counter(
    "moderation_outbox_attempts",
    "Outbox delivery attempts, by channel (webhook, email, chat) and outcome "
    "(delivered, retry, dead).",
    ["channel", "outcome"],
)
RENDER_CACHE = Counter(
    "moderation_render_cache_lookups",
    "Lookups in the per-process cache of rendered public pages, by result (hit, miss).",
    ["result"],
)
STORAGE_ERRORS = Counter(
    "moderation_storage_errors",
    "Errors talking to the database or Redis, by storage and error class.",
    ["storage", "kind"],
)
