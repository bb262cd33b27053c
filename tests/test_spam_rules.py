"""Block lists (with expiry), holding a new author's first comments, and per-site
classifier thresholds: set from the command line and the dashboard, applied by every door."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from tests.doors import DOORS, Door
from tests.helpers import Actions, approve, stored_comments


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"LIMIT_SUBMIT_PER_ADDRESS": "1000/minute", "LIMIT_SUBMIT_PER_EMAIL": "1000/minute"}


@pytest.fixture
def site(actions: Actions) -> str:
    actions.create_site("blog", ["https://blog.example"], flood_seconds=0, policy="open")
    return "blog"


def block(runner: FlaskCliRunner, *args: str) -> str:
    result = runner.invoke(args=["blocks", "add", "blog", *args])
    assert result.exit_code == 0, result.output
    return result.output


def last(app: Flask) -> dict[str, Any]:
    return stored_comments(app)[-1]


@pytest.mark.parametrize("door_class", DOORS)
@pytest.mark.parametrize(
    ("entry", "fields", "address", "reason"),
    [
        (
            ("email", "Bad@Spam.example"),
            {"email": "bad@spam.example"},
            "198.51.100.7",
            "The email address is on the site's block list: scams",
        ),
        (
            ("email_domain", "spam.example"),
            {"email": "x@mail.spam.example"},
            "198.51.100.7",
            "The email domain spam.example is on the site's block list: scams",
        ),
        (
            ("website_domain", "casino.example"),
            {"url": "https://www.casino.example/"},
            "198.51.100.7",
            "The domain casino.example is on the site's block list: scams",
        ),
        (
            ("website_domain", "casino.example"),
            {"comment": "Try <a href='https://win.casino.example/x'>this</a>"},
            "198.51.100.7",
            "The domain casino.example is on the site's block list: scams",
        ),
        (
            ("ip_prefix", "203.0.113.9"),
            {},
            "203.0.113.200",
            "The sender's network 203.0.113.0/24 is on the site's block list: scams",
        ),
        (
            ("ip_prefix", "2001:db8:1:2::/64"),
            {},
            "2001:db8:1:2:ffff::1",
            "The sender's network 2001:db8:1:2::/64 is on the site's block list: scams",
        ),
    ],
)
def test_a_blocked_sender_is_marked_spam_with_the_stored_reason(
    app: Flask,
    client: FlaskClient,
    runner: FlaskCliRunner,
    site: str,
    door_class: type[Door],
    entry: tuple[str, str],
    fields: dict[str, str],
    address: str,
    reason: str,
) -> None:
    block(runner, *entry, "--reason", "scams")
    answer = door_class(app, client).post(address=address, **fields)
    assert answer.accepted  # answered as if it were accepted, like other spam
    assert "spam" not in answer.text.lower()
    stored = last(app)
    assert (stored["status"], stored["rule"], stored["reason"]) == ("spam", "block_list", reason)


def test_neighbours_of_a_blocked_entry_pass(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, site: str
) -> None:
    block(runner, "ip_prefix", "203.0.113.0/24")
    block(runner, "email_domain", "spam.example")
    door = DOORS[0](app, client)
    assert door.post(address="203.0.114.1", email="a@notspam.example").accepted
    assert last(app)["status"] == "approved"


def test_an_expired_entry_blocks_nothing(app: Flask, runner: FlaskCliRunner, site: str) -> None:
    from moderation.clock import utcnow
    from moderation.services import blocklist

    output = block(runner, "email_domain", "spam.example", "--days", "1")
    assert "until" in output
    with app.app_context():
        now = utcnow()
        args = ("x@spam.example", "", [], "198.51.100.7")
        site_id = blocklist.get_site("blog").id
        assert blocklist.blocked_by(site_id, *args, now=now + timedelta(hours=23))
        assert blocklist.blocked_by(site_id, *args, now=now + timedelta(hours=25)) is None
        assert blocklist.list_blocks("blog", now + timedelta(days=2))[0].expired
    listed = runner.invoke(args=["blocks", "list", "blog"])
    assert "email_domain\tspam.example" in listed.output


def test_removing_an_entry_lets_the_sender_through(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, site: str
) -> None:
    block(runner, "email", "ann@example.com")
    result = runner.invoke(args=["blocks", "remove", "blog", "email", "ann@example.com"])
    assert result.exit_code == 0, result.output
    assert DOORS[0](app, client).post().accepted
    assert last(app)["status"] == "approved"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ip_prefix", "203.0.113.0/16"], "Block IPv4 addresses by /24"),
        (["ip_prefix", "not-an-ip"], "is not an IP address"),
        (["email", "nobody"], "is not an email address"),
        (["website_domain", "no spaces.example"], "is not a domain"),
        (["email", "a@b.example", "--days", "-1"], "An expiry must be between"),
    ],
)
def test_bad_entries_are_refused_in_one_line(
    app: Flask, runner: FlaskCliRunner, site: str, args: list[str], message: str
) -> None:
    result = runner.invoke(args=["blocks", "add", "blog", *args])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert "Nothing is blocked" in runner.invoke(args=["blocks", "list", "blog"]).output


def test_a_new_authors_first_comments_are_held_until_approved(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, site: str
) -> None:
    result = runner.invoke(args=["sites", "update", "blog", "--hold-first-comments", "2"])
    assert result.exit_code == 0, result.output
    door = DOORS[1](app, client)
    statuses = []
    for number in range(3):
        assert door.post(thread=f"t{number}", comment=f"Comment {number}").accepted
        stored = last(app)
        statuses.append((stored["status"], stored["rule"]))
        if stored["status"] == "pending":
            assert stored["reason"].startswith(f"The author has {number} earlier comment(s)")
            approve(app, stored["id"])
    assert statuses == [
        ("pending", "new_author"),
        ("pending", "new_author"),
        ("approved", "open_policy"),
    ]
    # another author starts from zero
    assert door.post(thread="t9", email="bob@example.com").accepted
    assert last(app)["rule"] == "new_author"


def test_thresholds_are_set_per_site_and_checked(
    app: Flask, runner: FlaskCliRunner, site: str
) -> None:
    from moderation.services.sites import get_site

    bad = runner.invoke(
        args=["sites", "update", "blog", "--spam-hold-threshold", "0.9", "--spam-threshold", "0.5"]
    )
    assert bad.exit_code == 1 and "0 < hold ≤ spam ≤ 1" in bad.output
    good = runner.invoke(args=["sites", "update", "blog", "--spam-threshold", "0.95"])
    assert good.exit_code == 0, good.output
    with app.app_context():
        stored = get_site("blog")
        assert (stored.spam_hold_threshold, stored.spam_threshold) == (0.40, 0.95)


def test_the_dashboard_site_form_sets_thresholds_and_first_comments(
    app: Flask, client: FlaskClient, actions: Actions, site: str
) -> None:
    import re

    from moderation.services.sites import get_site
    from tests.helpers import PASSWORD

    actions.create_moderator("admin", role="admin")
    page = client.get("/dashboard/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    client.post(
        "/dashboard/sign-in",
        data={"csrf_token": token.group(1), "username": "admin", "password": PASSWORD},
    )
    form = client.get("/dashboard/sites/blog").get_data(as_text=True)
    assert 'name="spam_threshold" type="number" step="0.01" value="0.8"' in form
    token = re.search(r'name="csrf-token" content="([^"]+)"', form) or re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', form
    )
    assert token
    fields = {
        "csrf_token": token.group(1),
        "name": "Blog",
        "origins": "https://blog.example",
        "policy": "open",
        "max_links": "2",
        "flood_seconds": "0",
        "max_depth": "5",
        "page_size": "50",
        "spam_hold_threshold": "0.5",
        "spam_threshold": "0.9",
        "hold_first_comments": "1",
    }
    assert client.post("/dashboard/sites/blog", data=fields).status_code == 303
    refused = client.post("/dashboard/sites/blog", data={**fields, "spam_threshold": "0.3"})
    assert refused.status_code == 400
    assert "0 &lt; hold ≤ spam ≤ 1" in refused.get_data(as_text=True)
    with app.app_context():
        stored = get_site("blog")
        assert (stored.spam_hold_threshold, stored.spam_threshold) == (0.5, 0.9)
        assert stored.hold_first_comments == 1
