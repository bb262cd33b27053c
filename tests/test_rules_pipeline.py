"""Every rule and every limit, as a matrix of (input, outcome, stored reason), through
every door a comment can come in by."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.doors import DOORS, EVERY_DOOR, ORIGIN, Door
from tests.helpers import Actions, approve, stored_comments
from tests.redis_dbs import LIMITS_DB, redis_url


@pytest.fixture(params=["memory", "redis"])
def config_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Every rule and limit with limits in process memory, and in Redis (one round trip)."""
    if request.param == "memory":
        return {}
    return {
        "RATELIMIT_STORAGE_URI": redis_url(LIMITS_DB),
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex[:10]}",
    }


@pytest.fixture(params=DOORS, ids=lambda door: door.name)
def door(request: pytest.FixtureRequest, app: Flask, client: FlaskClient) -> Door:
    return request.param(app, client)  # type: ignore[no-any-return]


def make_site(actions: Actions, **settings: Any) -> None:
    settings.setdefault("flood_seconds", 0)
    actions.create_site("blog", [ORIGIN], **settings)


THREE_LINKS = "see https://a.example and https://b.example and https://c.example"

RULE_CASES = [
    # (site settings, fields, fill seconds, stored status, stored rule, reason fragment)
    ({}, {}, 10, "pending", "premoderation", "reviews every comment"),
    ({"policy": "open"}, {}, 10, "approved", "open_policy", "publishes"),
    ({"policy": "trusted"}, {}, 10, "pending", "first_comment", "first comment"),
    (
        {"policy": "open"},
        {"comment": THREE_LINKS},
        10,
        "pending",
        "too_many_links",
        "Contains 3 links",
    ),
    (
        {"policy": "open", "max_links": 3},
        {"comment": THREE_LINKS},
        10,
        "approved",
        "open_policy",
        "",
    ),
    (
        {"policy": "open", "moderation_words": "viagra"},
        {"comment": "Cheap VIAGRA"},
        10,
        "pending",
        "moderation_words",
        "'viagra'",
    ),
    (
        {"policy": "open", "blocked_words": "casino, poker"},
        {"comment": "Play poker now"},
        10,
        "spam",
        "blocked_words",
        "'poker'",
    ),
    (
        {"policy": "open", "blocked_words": "spam.example"},
        {"url": "https://spam.example"},
        10,
        "spam",
        "blocked_words",
        "'spam.example'",
    ),
    ({"policy": "open"}, {"contact_phone": "555-0100"}, 10, "spam", "honeypot", "honeypot"),
    (
        {"policy": "open"},
        {},
        1.5,
        "spam",
        "too_fast",
        "s after it was shown (a person needs at least 3 s)",
    ),
]


@pytest.mark.parametrize(
    ("settings", "fields", "fill", "status", "rule", "reason"),
    RULE_CASES,
    ids=[f"{case[3]}-{case[4]}-{index}" for index, case in enumerate(RULE_CASES)],
)
def test_rule_matrix(
    door: Door,
    actions: Actions,
    app: Flask,
    settings: dict[str, Any],
    fields: dict[str, str],
    fill: float,
    status: str,
    rule: str,
    reason: str,
) -> None:
    make_site(actions, **settings)
    answer = door.post(fill_seconds=fill, **fields)
    assert answer.accepted, answer.text
    if door.name == "json":
        # spam is answered as if it were waiting for review
        assert answer.status == (201 if status == "approved" else 202)
        assert '"status":"%s"' % (
            "approved" if status == "approved" else "pending"
        ) in answer.text.replace(" ", "")
    [stored] = stored_comments(app)
    assert (stored["status"], stored["rule"]) == (status, rule)
    assert reason in stored["reason"]


def test_trusted_author_goes_straight_through_after_an_approval(
    door: Door, actions: Actions, app: Flask
) -> None:
    make_site(actions, policy="trusted")
    assert door.post(comment="first").accepted
    approve(app, stored_comments(app)[0]["id"])
    assert door.post(comment="second").accepted
    second = stored_comments(app)[1]
    assert (second["status"], second["rule"]) == ("approved", "trusted_author")
    assert door.post(comment="stranger", email="new@example.com").accepted
    assert stored_comments(app)[2]["rule"] == "first_comment"


def test_duplicate_is_refused_and_not_stored(door: Door, actions: Actions, app: Flask) -> None:
    make_site(actions)
    assert door.post(comment="Same words").accepted
    answer = door.post(comment="Same words")
    assert answer.status == 409
    assert (
        "Duplicate comment detected; it looks as though you&#39;ve already said that!"
        in answer.text
        or (
            "Duplicate comment detected; it looks as though you've already said that!"
            in answer.text
        )
    )
    assert len(stored_comments(app)) == 1
    # the same words from someone else, or elsewhere, are fine
    assert door.post(comment="Same words", email="other@example.com").accepted
    assert door.post(comment="Same words", thread="post-2").accepted


@pytest.mark.parametrize("same", ["address", "email"])
def test_flood_interval_is_refused_with_the_wait(
    door: Door, actions: Actions, app: Flask, same: str
) -> None:
    make_site(actions, flood_seconds=15)
    assert door.post(comment="one", address="203.0.113.1", email="one@example.com").accepted
    second = (
        {"address": "203.0.113.1", "email": "two@example.com"}
        if same == "address"
        else {"address": "203.0.113.2", "email": "one@example.com"}
    )
    answer = door.post(comment="two", **second)
    assert answer.status == 429
    wait = int(answer.headers["Retry-After"])
    assert 1 <= wait <= 15
    assert "You are posting comments too quickly. Please wait" in answer.text
    assert len(stored_comments(app)) == 1
    # another person at the same time is not slowed down
    assert door.post(comment="three", address="203.0.113.3", email="three@example.com").accepted


@pytest.mark.parametrize(
    ("config", "vary", "scope"),
    [
        ({"LIMIT_SUBMIT_PER_ADDRESS": "3/minute"}, "email", "address"),
        ({"LIMIT_SUBMIT_PER_EMAIL": "3/hour"}, "address", "email"),
        ({"LIMIT_SUBMIT_PER_SITE": "3/hour"}, "both", "site"),
    ],
)
def test_submission_limits(
    door: Door, actions: Actions, app: Flask, config: dict[str, str], vary: str, scope: str
) -> None:
    app.config.update(
        {
            "LIMIT_SUBMIT_PER_ADDRESS": "1000/minute",
            "LIMIT_SUBMIT_PER_EMAIL": "1000/hour",
            "LIMIT_SUBMIT_PER_SITE": "1000/hour",
            **config,
        }
    )
    make_site(actions)

    def attempt(number: int):  # type: ignore[no-untyped-def]
        address = f"198.51.{number}.9" if vary in ("address", "both") else "198.51.100.9"
        email = f"person{number}@example.com" if vary in ("email", "both") else "same@example.com"
        return door.post(comment=f"comment {number}", address=address, email=email)

    for number in range(3):
        assert attempt(number).accepted
    refused = attempt(3)
    assert refused.status == 429
    assert int(refused.headers["Retry-After"]) >= 1
    if door.name == "json":
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert "Please try again in" in refused.text
    else:
        assert "You have posted too many comments. Please try again in" in refused.text
        assert ">comment 3</textarea>" in refused.text  # what the person typed is kept
    assert len(stored_comments(app)) == 3


def test_limit_message_is_translated(actions: Actions, app: Flask, client: FlaskClient) -> None:
    from tests.doors import FormDoor

    app.config["LIMIT_SUBMIT_PER_ADDRESS"] = "1/minute"
    make_site(actions)
    door = FormDoor(app, client)
    assert door.post().accepted
    response = client.post(
        "/w/blog?thread=post-1&lang=id",
        data={
            "comment": "lagi",
            "author": "Budi",
            "email": "budi@example.com",
            "form_token": __import__("tests.helpers", fromlist=["x"]).aged_token(
                app, "blog", "post-1"
            ),
        },
        headers={"Origin": ORIGIN},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert response.status_code == 429
    assert (
        "Anda sudah mengirim terlalu banyak komentar. Mohon coba lagi dalam"
        in response.get_data(as_text=True)
    )


def test_ipv6_clients_are_limited_per_64(door: Door, actions: Actions, app: Flask) -> None:
    app.config.update(
        {"LIMIT_SUBMIT_PER_ADDRESS": "2/minute", "LIMIT_SUBMIT_PER_EMAIL": "100/hour"}
    )
    make_site(actions)
    assert door.post(comment="a", address="2001:db8:1:2::1", email="a@example.com").accepted
    assert door.post(comment="b", address="2001:db8:1:2:ffff::9", email="b@example.com").accepted
    assert (
        door.post(comment="c", address="2001:db8:1:2:abcd::1", email="c@example.com").status == 429
    )
    # the next /64 is someone else
    assert door.post(comment="d", address="2001:db8:1:3::1", email="d@example.com").accepted
    assert stored_comments(app)[0]["ip"] == "2001:db8:1::/48"


@pytest.mark.parametrize("trusted", [0, 1])
def test_forged_forwarded_for_changes_nothing_without_trusted_proxies(
    actions: Actions, instance_path: Any, database_url: str, trusted: int
) -> None:
    from moderation import create_app
    from tests.databases import BASE_CONFIG
    from tests.doors import FormDoor

    app = create_app(
        {
            **BASE_CONFIG,
            "DATABASE_URL": database_url,
            "TRUSTED_PROXIES": trusted,
            "LIMIT_SUBMIT_PER_ADDRESS": "2/minute",
            "LIMIT_SUBMIT_PER_EMAIL": "100/hour",
        }
    )
    Actions(app).create_site("blog", [ORIGIN], flood_seconds=0)
    client = app.test_client()
    door = FormDoor(app, client)
    statuses = []
    for number in range(3):
        client.environ_base["HTTP_X_FORWARDED_FOR"] = f"192.0.2.{number + 1}"
        statuses.append(
            door.post(
                comment=f"c{number}", email=f"p{number}@example.com", address="10.0.0.5"
            ).status
        )
    stored = stored_comments(app)
    if trusted:
        # the proxy is trusted: each forwarded address is its own client
        assert statuses == [303, 303, 303]
        assert [row["ip"] for row in stored] == ["192.0.2.0/24"] * 3
    else:
        # anyone can send the header: the socket address decides
        assert statuses == [303, 303, 429]
        assert [row["ip"] for row in stored] == ["10.0.0.0/24"] * 2
    from moderation.extensions import db

    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("door_class", EVERY_DOOR, ids=lambda door: door.name)
def test_content_rules_are_the_same_at_every_door(
    door_class: type[Door], app: Flask, client: FlaskClient, actions: Actions
) -> None:
    make_site(actions, policy="open", blocked_words="casino")
    door = door_class(app, client)
    assert door.post(comment="Plain words").accepted
    assert door.post(comment="Plain words").status == 409  # the duplicate
    assert door.post(comment=THREE_LINKS, email="links@example.com").accepted
    assert door.post(comment="Visit my casino", email="spam@example.com").accepted
    rules = [(row["status"], row["rule"]) for row in stored_comments(app)]
    assert rules == [
        ("approved", "open_policy"),
        ("pending", "too_many_links"),
        ("spam", "blocked_words"),
    ]
