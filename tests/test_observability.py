"""A real ``moderation serve`` (two worker processes sharing Redis, JSON logs, one proxy hop
trusted) driven through every door, a dashboard sign-in, inbound and outbound webhooks and
error pages; then its logs and its metrics are read as an operator would: one line per
request and per background job, each with its id, nothing private in any of them, and
``/metrics`` adding up what both workers and the delivery worker counted."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from moderation.clock import utcnow
from moderation.services import form_tokens
from tests.helpers import Actions, create_integration, metric_samples, metric_value, signed_headers
from tests.redis_dbs import CHECKS_DB, redis_url
from tests.servers import (
    Browser,
    ServerProcess,
    fresh_server_env,
    leave_server_database_empty,
    service_app,
    start_server,
)
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.slow

RUN = uuid.uuid4().hex[:8]
SECRET_KEY = f"observability-secret-key-{uuid.uuid4().hex}"
METRICS_TOKEN = f"metrics-{uuid.uuid4().hex}"
PASSWORD = f"moderator password {uuid.uuid4().hex[:8]}"
ORIGIN = "https://blog.example"
REDIS = redis_url(CHECKS_DB)


@dataclass
class Driven:
    """The server after the traffic, and everything private that passed through it."""

    server: ServerProcess
    private: dict[str, str] = field(default_factory=dict)
    request_ids: list[str] = field(default_factory=list)
    submissions: dict[tuple[str, str], int] = field(default_factory=dict)
    #: the scrape taken after the traffic, and the number of webhooks delivered by then
    metrics: dict[tuple[str, tuple[tuple[str, str], ...]], float] = field(default_factory=dict)
    delivered: int = 0

    def keep(self, label: str, value: str) -> str:
        """Remember ``value`` as something no log line may contain."""
        self.private[label] = value
        return value

    def log_lines(self) -> list[str]:
        """What the server and its delivery worker wrote, but the admin password line
        (printed once on purpose, on the first start)."""
        return [
            line
            for line in self.server.output().splitlines()
            if not line.startswith("Created the first admin")
        ]

    def events(self) -> list[dict[str, object]]:
        """The service's own lines, decoded (each must be one JSON object)."""
        found = []
        for line in self.log_lines():
            if line.startswith("{"):
                found.append(json.loads(line))
        return found


def form_token(thread: str) -> str:
    """A token issued ten seconds ago, as if a person had filled in the form."""
    return form_tokens.issue(SECRET_KEY, "blog", thread, utcnow() - timedelta(seconds=10))


def submit_through_every_door(
    driven: Driven, browser: Browser, integration: str, secret: str
) -> None:
    """Comments by the form, the JSON API and the webhook: held, spam, a duplicate, and
    one address over its limit."""

    def email(door: str, number: int) -> str:
        return driven.keep(f"email {door} {number}", f"Log.{RUN}.{door}{number}@Example.COM")

    def address(number: int) -> str:
        return driven.keep(f"address {number}", f"198.51.100.{100 + number}")

    def count(door: str, outcome: str, status: int, expected: tuple[int, ...]) -> None:
        assert status in expected, (door, outcome, status)
        driven.submissions[(door, outcome)] = driven.submissions.get((door, outcome), 0) + 1

    for number in range(2):  # form: one held, one spam (the honeypot)
        thread = f"form-{number}"
        fields = {
            "comment": f"Form comment {number} {RUN}",
            "author": "Ann Example",
            "email": email("form", number),
            "form_token": driven.keep(f"form token {number}", form_token(thread)),
            "contact_phone": "555" if number == 1 else "",
        }
        status, headers, _ = browser.form(
            f"/w/blog?thread={thread}",
            fields,
            {"Origin": ORIGIN, "X-Forwarded-For": address(number)},
        )
        count("form", "spam" if number == 1 else "held", status, (303,))
        driven.request_ids.append(headers["X-Request-ID"])

    payload = {
        "comment": f"JSON comment {RUN}",
        "author": "Ben Example",
        "email": email("json", 0),
        "form_token": driven.keep("json token", form_token("json")),
    }
    headers = {"Origin": ORIGIN, "X-Forwarded-For": address(5)}
    status, _, _ = browser.json("POST", "/api/v1/sites/blog/comments?thread=json", payload, headers)
    count("json", "held", status, (202,))
    payload["form_token"] = driven.keep("json token 2", form_token("json"))
    status, _, _ = browser.json("POST", "/api/v1/sites/blog/comments?thread=json", payload, headers)
    count("json", "refused", status, (409,))  # the same comment twice

    for number in range(4):  # the per-address limit is 3 an hour: the fourth is refused
        data = {
            "site": "blog",
            "thread": "hooked",
            "author": "App User",
            "email": email("webhook", number),
            "comment": f"Webhook comment {number} {RUN}",
            "client_ip": driven.keep(f"webhook client {number}", "203.0.113.77"),
        }
        content = json.dumps({"type": "comment.submit", "data": data})
        signed = signed_headers(secret, content)
        driven.keep(f"signature {number}", signed["webhook-signature"])
        status, _, _ = browser.request(
            "POST",
            f"/api/v1/hooks/{integration}",
            content.encode(),
            {"Content-Type": "application/json", **signed},
        )
        outcome = "refused" if number == 3 else "held"
        count("webhook", outcome, status, (429,) if number == 3 else (200, 201, 202))


def sign_in_and_search(driven: Driven, browser: Browser) -> None:
    """A wrong password, the right one, then a search for an address in the queue."""
    _, _, page = browser.request("GET", "/dashboard/sign-in")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token, page
    driven.keep("csrf token", token.group(1))
    for password, expected in (
        (driven.keep("wrong password", "hunter2-" + RUN), 401),
        (PASSWORD, 303),
    ):
        status, _, _ = browser.form(
            "/dashboard/sign-in",
            {"csrf_token": token.group(1), "username": "alice", "password": password},
        )
        assert status == expected
    for number, cookie in enumerate(browser.cookie_values()):
        driven.keep(f"cookie {number}", cookie)
    status, _, page = browser.request("GET", f"/dashboard/?q={driven.private['email form 0']}")
    assert status == 200
    assert RUN in page


def provoke_errors(driven: Driven, browser: Browser, integration: str, secret: str) -> None:
    """A page that does not exist (an address in its path), a forged webhook, a signed one
    that is not JSON, an invalid address: each a clear 4xx with its request id."""
    email = driven.keep("email in a path", f"lost.{RUN}@example.org")
    status, headers, page = browser.request(
        "GET", f"/nothing/{email}", headers={"Accept": "text/html"}
    )
    assert status == 404
    assert headers["X-Request-ID"] in page  # the reference a user can quote
    driven.request_ids.append(headers["X-Request-ID"])

    content = json.dumps({"type": "comment.submit", "data": {"email": email}})
    forged = signed_headers("whsec_" + "A" * 32, content)
    status, _, _ = browser.request(
        "POST", f"/api/v1/hooks/{integration}", content.encode(),
        {"Content-Type": "application/json", **forged},
    )  # fmt: skip
    assert status == 401
    status, _, _ = browser.request(
        "POST", f"/api/v1/hooks/{integration}", b"{not json",
        {"Content-Type": "application/json", **signed_headers(secret, "{not json")},
    )  # fmt: skip
    assert status == 400
    payload = {
        "comment": "x",
        "author": "A",
        "email": "not-an-address",
        "form_token": form_token("bad"),
    }
    status, _, _ = browser.json(
        "POST", "/api/v1/sites/blog/comments?thread=bad", payload, {"Origin": ORIGIN}
    )
    assert status == 422


def read_concurrently(driven: Driven, path: str, count: int) -> None:
    """``count`` reads from eight clients at once, so both workers take some."""
    browser = Browser(driven.server.url)
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: browser.request("GET", path)[0], range(count)))
    assert statuses == [200] * count


def scrape(driven: Driven) -> None:
    """Refused without the token; with it, every process's counts in one answer."""
    browser = Browser(driven.server.url)
    assert browser.request("GET", "/metrics")[0] == 403
    status, _, text = browser.request(
        "GET", "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    assert status == 200, text
    driven.metrics = metric_samples(text)


@pytest.fixture(scope="module")
def driven(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Driven]:
    """One server for the module, driven once; the tests read what it left behind."""
    tmp_path = tmp_path_factory.mktemp("observability")
    metrics_directory = tmp_path / "metrics"
    metrics_directory.mkdir()
    # left by a process of an earlier run (beyond any pid Linux hands out)
    (metrics_directory / "counter_4194999.db").write_bytes(b"left by an earlier run")
    env = fresh_server_env(
        tmp_path,
        SECRET_KEY=SECRET_KEY,
        METRICS_TOKEN=METRICS_TOKEN,
        LOG_FORMAT="json",
        TRUSTED_PROXIES="1",
        RATELIMIT_STORAGE_URI=REDIS,
        RATELIMIT_KEY_PREFIX=f"test-{RUN}",
        LIMIT_SUBMIT_PER_ADDRESS="3/hour",  # an hour: no window turns over mid-test
        SESSION_COOKIE_SECURE="false",
        WEBHOOK_ALLOW_PRIVATE_TARGETS="true",
    )
    env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_directory)
    receiver = Receiver(secret="").start()
    server = start_server(tmp_path, env, args=["--workers", "2", "--threads", "4"])
    driven = Driven(server)
    try:
        for value in (SECRET_KEY, METRICS_TOKEN, PASSWORD):
            driven.keep(f"setting {value[:8]}", value)
        with service_app(env) as app:  # through the services, on the server's database
            actions = Actions(app)
            actions.create_site("blog", [ORIGIN], flood_seconds=0)  # the limits decide
            actions.create_moderator("alice", "admin", PASSWORD)
            integration, secret = create_integration(
                app, "blog", receiver.url, ("comment.created",)
            )
        receiver.secret = driven.keep("integration secret", secret)

        browser = Browser(server.url)
        submit_through_every_door(driven, browser, integration, secret)
        sign_in_and_search(driven, browser)
        provoke_errors(driven, browser, integration, secret)
        deadline = time.monotonic() + 30
        while len(receiver.accepted) < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(receiver.accepted) >= 4, server.output()[-3000:]
        read_concurrently(driven, "/readyz", 40)
        time.sleep(0.3)  # the worker writes its line after the receiver answered
        driven.delivered = len(receiver.accepted)
        scrape(driven)
        yield driven
    finally:
        server.stop()
        receiver.stop()
        leave_server_database_empty(env["MODERATION_INSTANCE_PATH"])


def test_every_request_and_delivery_has_one_json_line_with_its_id(driven: Driven) -> None:
    events = driven.events()
    requests = [event for event in events if event["event"] == "request"]
    assert {event["request_id"] for event in requests} >= set(driven.request_ids)
    widget_posts = [e for e in requests if e["route"] == "/w/<site_slug>" and e["method"] == "POST"]
    assert len(widget_posts) == 2
    assert all(isinstance(e["duration_ms"], float) and e["status"] == 303 for e in widget_posts)
    deliveries = [event for event in events if event["event"] == "delivery"]
    assert deliveries and all(event["outcome"] == "delivered" for event in deliveries)
    assert all(event["job_id"] and event["channel"] == "webhook" for event in deliveries)


def test_metrics_add_up_every_worker_process(driven: Driven) -> None:
    m = driven.metrics
    readyz = [e for e in driven.events() if e["event"] == "request" and e["route"] == "/readyz"]
    assert len({event["pid"] for event in readyz}) == 2, "both web workers answered"
    assert (
        metric_value(
            m, "moderation_http_requests_total", route="/readyz", method="GET", status="200"
        )
        == 40
    )
    assert (
        metric_value(
            m, "moderation_http_request_duration_seconds_count", route="/readyz", method="GET"
        )
        == 40
    )
    hooks = {"route": "/api/v1/hooks/<integration_id>", "method": "POST"}
    assert metric_value(m, "moderation_http_requests_total", **hooks, status="429") == 1
    assert metric_value(m, "moderation_http_requests_total", **hooks, status="401") == 1

    counted: dict[tuple[str, str], float] = {}
    for (name, labels), number in m.items():
        if name == "moderation_submissions_total":
            found = dict(labels)
            key = (found["door"], found["outcome"])
            counted[key] = counted.get(key, 0) + number
    assert counted == driven.submissions
    assert metric_value(m, "moderation_rate_limit_refusals_total", limit="submit-address") == 1
    # the delivery worker is a process of its own: its attempts are in the same answer
    delivered = metric_value(
        m, "moderation_outbox_attempts_total", channel="webhook", outcome="delivered"
    )
    assert delivered >= driven.delivered >= 4
    held = sum(n for (door, outcome), n in driven.submissions.items() if outcome == "held")
    assert metric_value(m, "moderation_queue_pending", site="blog") == held
    assert metric_value(m, "moderation_outbox_deliveries", channel="webhook", state="dead") == 0


def test_no_log_line_holds_an_address_a_cookie_a_token_or_a_secret(driven: Driven) -> None:
    text = "\n".join(driven.log_lines()).lower()
    # the scan reads the web workers' lines and the delivery worker's
    assert driven.request_ids[0] in text
    assert '"event": "delivery"' in text
    assert "/nothing/" not in text, "a raw path was logged"
    leaks = {
        label: value
        for label, value in driven.private.items()
        if value.lower() in text or value.lower().replace("@", "%40") in text
    }
    assert not leaks, leaks
