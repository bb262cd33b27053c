"""ALTCHA challenges for suspicious submissions only: the JSON door's 428 flow with a solver
written here (PBKDF2 by hand, not the altcha package), the form's challenge page with and
without JavaScript, the webhook door that is never asked, and what a solution lets through."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
from html import unescape
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from moderation.domain.challenge import Suspicion, suspicions
from moderation.domain.comments import CommentDraft
from moderation.domain.rules import Decision, Outcome, Rule, Signals, SiteRules, decide
from moderation.domain.sites import SitePolicy
from moderation.domain.spam import SpamScore, Thresholds
from tests.doors import FormDoor, JsonDoor, WebhookDoor
from tests.helpers import Actions, aged_token, stored_comments

LINKED = "Have a look at <a href='https://example.org/guide'>this guide</a>, it helped me."


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {
        "LIMIT_SUBMIT_PER_ADDRESS": "1000/minute",
        "LIMIT_SUBMIT_PER_EMAIL": "1000/minute",
        "LIMIT_SUBMIT_SOFT_PER_ADDRESS": "1000/minute",
        "CHALLENGE_COST": 10,
        "CHALLENGE_COUNTER_MAX": 40,
    }


@pytest.fixture
def site(actions: Actions) -> str:
    actions.create_site(
        "blog", ["https://blog.example"], flood_seconds=0, policy="open", challenge_suspicious=True
    )
    return "blog"


def solve(challenge: dict[str, Any]) -> str:
    """ALTCHA PoW v2 by hand: the first counter whose PBKDF2 key starts with the prefix."""
    parameters = challenge["parameters"]
    assert parameters["algorithm"] == "PBKDF2/SHA-256"
    nonce, salt = bytes.fromhex(parameters["nonce"]), bytes.fromhex(parameters["salt"])
    for counter in range(1_000_000):
        key = hashlib.pbkdf2_hmac(
            "sha256",
            nonce + struct.pack(">I", counter),
            salt,
            parameters["cost"],
            parameters["keyLength"],
        ).hex()
        if key.startswith(parameters["keyPrefix"]):
            payload = {"challenge": challenge, "solution": {"counter": counter, "derivedKey": key}}
            return base64.b64encode(json.dumps(payload).encode()).decode()
    raise AssertionError("no solution")


def challenge_of(app: Flask, status: int, body: dict[str, Any]) -> dict[str, Any]:
    assert status == 428, body
    assert body["challenge_field"] == "altcha"
    return body["challenge"]  # type: ignore[no-any-return]


def test_json_door_answers_428_with_a_challenge_and_a_solution_lets_the_comment_through(
    app: Flask, client: FlaskClient, site: str
) -> None:
    door = JsonDoor(app, client)
    token = aged_token(app, site, "post-1")
    asked = door.post(comment=LINKED, form_token=token)
    assert asked.status == 428
    assert asked.headers["Content-Type"] == "application/problem+json"
    body = json.loads(asked.text)
    assert body["challenge_reasons"] == ["first_comment_links"]
    assert "solves a small puzzle" in body["detail"]
    assert stored_comments(app) == []  # nothing stored while asked

    answer = solve(challenge_of(app, asked.status, body))
    passed = door.post(comment=LINKED, form_token=token, altcha=answer)
    assert passed.status == 201, passed.text  # an open site publishes it
    stored = stored_comments(app)[-1]
    assert stored["status"] == "approved"
    assert "passed a proof-of-work challenge (a first comment with links)" in stored["reason"]


def test_a_solution_is_good_for_its_own_comment_once(
    app: Flask, client: FlaskClient, site: str
) -> None:
    door = JsonDoor(app, client)
    token = aged_token(app, site, "post-1")
    asked = door.post(comment=LINKED, form_token=token)
    answer = solve(challenge_of(app, asked.status, json.loads(asked.text)))

    other_text = door.post(comment=LINKED + " And more.", form_token=token, altcha=answer)
    assert other_text.status == 428
    assert "was not accepted" in json.loads(other_text.text)["detail"]
    assert door.post(comment=LINKED, form_token=token, altcha=answer).status == 201
    # the token is spent with the comment: the same solution with a new token is not enough
    again = door.post(
        comment=LINKED,
        email="bo@example.com",
        form_token=aged_token(app, site, "post-1"),
        altcha=answer,
    )
    assert again.status == 428
    tampered = door.post(
        comment=LINKED, email="cy@example.com", form_token=token, altcha="bm90IGpzb24="
    )
    assert tampered.status in (403, 428)  # a spent token is refused before anything else
    assert len(stored_comments(app)) == 1


def test_honest_comments_and_sure_spam_are_never_asked(
    app: Flask, client: FlaskClient, site: str
) -> None:
    door = JsonDoor(app, client)
    assert door.post(comment="No links here, just thanks.").status == 201
    # the honeypot marks spam silently: a bot learns nothing, not even that it was suspected
    assert door.post(comment=LINKED, email="bot@example.com", contact_phone="555").status == 202
    # an author with an approved comment may post links without being asked
    assert door.post(comment=LINKED).status == 201
    assert [c["status"] for c in stored_comments(app)] == ["approved", "spam", "approved"]


def test_the_webhook_door_is_never_challenged(app: Flask, client: FlaskClient, site: str) -> None:
    answer = WebhookDoor(app, client).post(comment=LINKED)
    assert answer.status == 201, answer.text


def test_sites_without_the_setting_never_challenge(
    app: Flask, client: FlaskClient, actions: Actions
) -> None:
    actions.create_site("news", ["https://blog.example"], flood_seconds=0, policy="open")
    assert JsonDoor(app, client, site="news").post(comment=LINKED).status == 201


def test_over_the_soft_limit_a_sender_is_asked_not_refused(
    app: Flask, client: FlaskClient, site: str
) -> None:
    app.config["LIMIT_SUBMIT_SOFT_PER_ADDRESS"] = "1/minute"
    app.config["LIMIT_SUBMIT_PER_ADDRESS"] = "3/minute"
    door = JsonDoor(app, client)
    assert door.post(comment="First, no links.").status == 201
    token = aged_token(app, site, "post-1")
    asked = door.post(comment="Second, no links.", form_token=token)
    body = json.loads(asked.text)
    assert body["challenge_reasons"] == ["soft_limit"]
    passed = door.post(
        comment="Second, no links.", form_token=token, altcha=solve(body["challenge"])
    )
    assert passed.status == 201, passed.text
    # the hard limit still refuses, solved or not
    refused = door.post(comment="Third, no links.")
    assert refused.status == 429


def test_the_form_shows_the_challenge_with_the_vendored_widget_and_a_no_script_note(
    app: Flask, client: FlaskClient, site: str
) -> None:
    door = FormDoor(app, client)
    token = aged_token(app, site, "post-1")
    asked = door.post(comment=LINKED, form_token=token)
    assert asked.status == 428
    page = asked.text
    assert "solves a small puzzle" in page
    assert "/static/altcha/altcha-setup.js" in page
    assert "https://" not in re.sub(r"https://(blog\.example|example\.org)[^\"'<\s]*", "", page)
    found = re.search(r"<altcha-widget[^>]*challenge=\"([^\"]+)\"", page)
    assert found, page
    challenge = json.loads(unescape(found.group(1)))
    assert "this guide" in page  # what was typed is kept
    assert "<noscript>" in page and "JavaScript" in page
    passed = door.post(comment=LINKED, form_token=token, altcha=solve(challenge))
    assert passed.status == 303, passed.text
    for path in (
        "altcha/altcha.min.js",
        "altcha/pbkdf2.js",
        "altcha/altcha-setup.js",
        "altcha/altcha.css",
        "altcha/LICENSE.txt",
    ):
        response = client.get(f"/static/{path}")
        assert response.status_code == 200, path
        response.close()


def test_the_site_setting_is_on_the_command_line(app: Flask, runner: Any, actions: Actions) -> None:
    actions.create_site("news", ["https://blog.example"])
    result = runner.invoke(args=["sites", "update", "news", "--challenge"])
    assert result.exit_code == 0, result.output
    from moderation.services.sites import site_info

    with app.app_context():
        assert site_info("news").challenge_suspicious
    runner.invoke(args=["sites", "update", "news", "--no-challenge"])
    with app.app_context():
        assert not site_info("news").challenge_suspicious


# --- the domain's part, without an app ---------------------------------------------------


def grey(score: float = 0.6) -> SpamScore:
    return SpamScore(score, False, f"classifier {score}", learned_spam=100, learned_ham=100)


@pytest.mark.any_database
def test_a_grey_zone_hold_is_suspicious_and_a_solution_passes_it_to_the_policy() -> None:
    draft = CommentDraft(text="hello", author="Ann", email="ann@example.com")
    rules = SiteRules(policy=SitePolicy.OPEN, spam_thresholds=Thresholds())
    held = decide(draft, rules, Signals(), lambda: grey())
    assert (held.outcome, held.rule) == (Outcome.HOLD, Rule.CLASSIFIER)
    assert suspicions(held, soft_limited=False, first_comment=False, link_count=0) == {
        Suspicion.GREY_ZONE
    }
    passed = decide(draft, rules, Signals(), lambda: grey(), pass_grey_zone=True)
    assert passed.outcome is Outcome.PUBLISH
    sure = decide(draft, rules, Signals(), lambda: grey(0.95), pass_grey_zone=True)
    assert sure.outcome is Outcome.SPAM  # a solution never clears a sure spam verdict
    assert not suspicions(sure, soft_limited=True, first_comment=True, link_count=3)


@pytest.mark.any_database
def test_refusals_are_never_challenged() -> None:
    refused = Decision(Outcome.REFUSE, Rule.DUPLICATE, "dup")
    assert not suspicions(refused, soft_limited=True, first_comment=True, link_count=1)


def test_the_site_setting_is_on_the_dashboard(app: Flask, actions: Actions) -> None:
    from moderation.services.sites import site_info
    from tests.helpers import signed_in

    actions.create_site("news", ["https://blog.example"])
    dashboard = signed_in(app, actions, "boss", "admin")
    form = dashboard.page("/dashboard/sites/news")
    assert 'name="challenge_suspicious"' in form
    fields = {
        "name": "News",
        "origins": "https://blog.example",
        "policy": "premoderate",
        "max_links": "2",
        "flood_seconds": "15",
        "max_depth": "5",
        "page_size": "50",
        "spam_hold_threshold": "0.4",
        "spam_threshold": "0.8",
        "hold_first_comments": "0",
    }
    assert (
        dashboard.post("/dashboard/sites/news", **fields, challenge_suspicious="y").status_code
        == 303
    )
    with app.app_context():
        assert site_info("news").challenge_suspicious
    page = dashboard.page("/dashboard/sites/news")
    assert re.search(r'<input checked id="challenge_suspicious"[^>]*type="checkbox"', page), page
    assert dashboard.post("/dashboard/sites/news", **fields).status_code == 303
    with app.app_context():
        assert not site_info("news").challenge_suspicious
