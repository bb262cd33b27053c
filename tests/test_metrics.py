"""``GET /metrics``: hidden unless configured, closed to anyone without the token or an
allowed address, and counting what happened (one process here; tests/test_observability.py
scrapes two worker processes behind ``moderation serve``)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.doors import FormDoor, JsonDoor
from tests.helpers import Actions, metric_samples, metric_value

TOKEN = "scrape-token-for-tests"


def scrape(client: FlaskClient) -> dict[Any, float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return metric_samples(response.get_data(as_text=True))


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"METRICS_TOKEN": TOKEN, "METRICS_ALLOWED_ADDRESSES": "192.0.2.0/24"}


@pytest.mark.parametrize(
    ("headers", "address", "expected"),
    [
        ({}, "127.0.0.1", 403),
        ({"Authorization": "Bearer wrong"}, "127.0.0.1", 403),
        ({"Authorization": TOKEN}, "127.0.0.1", 403),  # not as a bearer token
        ({"Authorization": f"Bearer {TOKEN}"}, "127.0.0.1", 200),
        ({}, "192.0.2.44", 200),  # an allowed network
    ],
)
def test_metrics_need_the_token_or_an_allowed_address(
    client: FlaskClient, headers: dict[str, str], address: str, expected: int
) -> None:
    response = client.get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": address})
    assert response.status_code == expected


def test_without_settings_metrics_do_not_exist(database_url: str, instance_path: Any) -> None:
    from moderation import create_app
    from moderation.extensions import db
    from tests.databases import BASE_CONFIG

    app = create_app({**BASE_CONFIG, "DATABASE_URL": database_url})
    assert app.test_client().get("/metrics").status_code == 404
    with app.app_context():
        db.engine.dispose()


def test_requests_submissions_limits_queue_and_cache_are_counted(
    app: Flask, client: FlaskClient, actions: Actions
) -> None:
    actions.create_site(origins=["https://blog.example"], flood_seconds=0)
    before = scrape(client)
    form, json_door = FormDoor(app, client), JsonDoor(app, client)
    assert form.post(thread="a", email="a@example.com").status == 303
    assert form.post(thread="a", email="b@example.com", contact_phone="1").status == 303  # spam
    assert json_door.post(thread="b", email="c@example.com").status == 202
    assert json_door.post(thread="b", email="c@example.com").status == 409  # duplicate
    for _ in range(2):  # the same rendering twice: a miss, then a hit
        assert client.get("/w/blog?thread=a").status_code == 200
    after = scrape(client)

    def moved(name: str, **labels: str) -> float:
        return metric_value(after, name, **labels) - metric_value(before, name, **labels)

    request = {"route": "/w/<site_slug>", "method": "POST", "status": "303"}
    assert moved("moderation_http_requests_total", **request) == 2
    assert (
        moved(
            "moderation_http_request_duration_seconds_count", route="/w/<site_slug>", method="POST"
        )
        == 2
    )
    sub = "moderation_submissions_total"
    assert moved(sub, door="form", outcome="held", rule="premoderation") == 1
    assert moved(sub, door="form", outcome="spam", rule="honeypot") == 1
    assert moved(sub, door="json", outcome="held", rule="premoderation") == 1
    assert moved(sub, door="json", outcome="refused", rule="duplicate") == 1
    assert metric_value(after, "moderation_queue_pending", site="blog") == 2
    assert metric_value(after, "moderation_queue_oldest_pending_age_seconds", site="blog") >= 0
    assert metric_value(after, "moderation_outbox_deliveries", channel="webhook", state="dead") == 0
    assert moved("moderation_render_cache_lookups_total", result="hit") >= 1
    assert moved("moderation_render_cache_lookups_total", result="miss") >= 1


@pytest.fixture
def limited(app: Flask) -> Flask:
    app.config["LIMIT_SUBMIT_PER_ADDRESS"] = "1/hour"
    return app


def test_a_rate_limit_refusal_is_counted_by_its_limit(
    limited: Flask, client: FlaskClient, actions: Actions
) -> None:
    actions.create_site(origins=["https://blog.example"], flood_seconds=0)
    before = scrape(client)
    form = FormDoor(limited, client)
    assert form.post(thread="a", email="a@example.com").status == 303
    assert form.post(thread="a", email="b@example.com", comment="Another one").status == 429
    after = scrape(client)
    name = "moderation_rate_limit_refusals_total"
    assert (
        metric_value(after, name, limit="submit-address")
        - metric_value(before, name, limit="submit-address")
        == 1
    )
    sub = "moderation_submissions_total"
    labels = {"door": "form", "outcome": "refused", "rule": "rate_limit"}
    assert metric_value(after, sub, **labels) - metric_value(before, sub, **labels) == 1


def test_no_label_holds_an_address_or_a_name(
    app: Flask, client: FlaskClient, actions: Actions
) -> None:
    actions.create_site(origins=["https://blog.example"])
    FormDoor(app, client).post(thread="x", email="secret.person@example.com", author="Zed Q")
    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).get_data(
        as_text=True
    )
    for private in ("secret.person", "Zed Q", "198.51.100.7"):
        assert private not in text
