"""``moderation rules try``: a proposed change replayed over decided comments, checked
against numbers worked out by hand."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from tests.doors import JsonDoor
from tests.helpers import Actions, stored_comments

# (text, email, what moderators decided); None: left undecided or rejected
COMMENTS: list[tuple[str, str, str | None]] = [
    ("Win big at the casino tonight", "a@win.example", "spam"),
    ("Best casino bonus codes here", "b@bonus.example", "spam"),
    ("Cheap watches for sale, all brands", "sales@watches.example", "spam"),
    ("I lost money at a casino once; this post is right.", "c@example.org", "approve"),
    ("Great explanation, thanks.", "d@example.org", "approve"),
    ("I disagree with the second point.", "e@example.org", "approve"),
    ("Still waiting for a moderator.", "f@example.org", None),
    ("Rejected, so not a spam or ham decision.", "g@example.org", "reject"),
]


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"LIMIT_SUBMIT_PER_ADDRESS": "1000/minute"}


@pytest.fixture
def decided(app: Flask, client: FlaskClient, actions: Actions) -> list[int]:
    """The comments above on a premoderated site, decided by a moderator."""
    from moderation.domain.status import ModerationAction
    from moderation.services.decisions import moderate
    from moderation.services.events import Actor

    actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
    door = JsonDoor(app, client)
    ids = []
    for number, (text, email, action) in enumerate(COMMENTS):
        answer = door.post(thread=f"t{number}", comment=text, email=email)
        assert answer.accepted, answer.text
        ids.append(json.loads(answer.text)["id"])
        if action:
            with app.app_context():
                moderate(ids[-1], ModerationAction(action), Actor("moderator", "1", "mod"))
    return ids


def try_rules(runner: FlaskCliRunner, *args: str) -> dict[str, Any]:
    result = runner.invoke(args=["rules", "try", "--site", "blog", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def test_dry_run_numbers_match_the_hand_computed_case(
    app: Flask, runner: FlaskCliRunner, decided: list[int]
) -> None:
    before = stored_comments(app)
    report = try_rules(
        runner, "--blocked-words", "casino", "--moderation-words", "watches", "--last", "50"
    )
    # six decisions (3 spam, 3 ham); the pending and the rejected comment are not replayed
    assert report["decided"] == 6
    # today (premoderate, no words): everything is held
    assert report["now"]["table"] == {
        "spam": {"spam": 0, "ham": 0},
        "hold": {"spam": 3, "ham": 3},
        "publish": {"spam": 0, "ham": 0},
    }
    assert report["now"]["marked_spam"] == {
        "flagged": 0,
        "true_positives": 0,
        "precision": None,
        "recall": 0.0,
    }
    # proposed: "casino" marks #1, #2 (spam) and #4 (ham); "watches" holds #3
    assert report["proposed"]["table"] == {
        "spam": {"spam": 2, "ham": 1},
        "hold": {"spam": 1, "ham": 2},
        "publish": {"spam": 0, "ham": 0},
    }
    assert report["proposed"]["marked_spam"]["precision"] == pytest.approx(2 / 3)
    assert report["proposed"]["marked_spam"]["recall"] == pytest.approx(2 / 3)
    assert report["proposed"]["stopped"] == {
        "flagged": 6,
        "true_positives": 3,
        "precision": 0.5,
        "recall": 1.0,
    }
    changed = {
        row["id"]: (row["now"], row["proposed"], row["moderators"]) for row in report["changed"]
    }
    assert changed == {
        decided[0]: ("hold", "spam", "spam"),
        decided[1]: ("hold", "spam", "spam"),
        decided[3]: ("hold", "spam", "ham"),
    }
    assert stored_comments(app) == before  # a dry run changes nothing


def test_dry_run_of_an_open_policy_and_a_block_list_entry(
    app: Flask, runner: FlaskCliRunner, decided: list[int]
) -> None:
    report = try_rules(runner, "--policy", "open", "--block", "email_domain:watches.example")
    # open: the three ham are published and the spam too, except the blocked domain's
    assert report["proposed"]["table"] == {
        "spam": {"spam": 1, "ham": 0},
        "hold": {"spam": 0, "ham": 0},
        "publish": {"spam": 2, "ham": 3},
    }
    assert report["proposed"]["marked_spam"] == {
        "flagged": 1,
        "true_positives": 1,
        "precision": 1.0,
        "recall": pytest.approx(1 / 3),
    }
    assert report["proposed"]["stopped"]["recall"] == pytest.approx(1 / 3)
    assert len(report["changed"]) == 6
    text = runner.invoke(args=["rules", "try", "--site", "blog", "--policy", "open"]).output
    assert "Replayed 6 decided comments of 'blog'." in text
    assert "Would change fate: 6" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--spam-hold-threshold", "0.9", "--spam-threshold", "0.5"], "0 < hold ≤ spam ≤ 1"),
        (["--block", "ip_prefix:10.0.0.0/8"], "Block IPv4 addresses by /24"),
        (["--block", "nonsense"], "KIND:VALUE"),
        (["--last", "0"], "--last must be between 1"),
    ],
)
def test_bad_proposals_are_refused_in_one_line(
    runner: FlaskCliRunner, decided: list[int], args: list[str], message: str
) -> None:
    result = runner.invoke(args=["rules", "try", "--site", "blog", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_dashboard_shows_the_same_dry_run(
    client: FlaskClient, actions: Actions, decided: list[int]
) -> None:
    import re

    from tests.helpers import PASSWORD

    actions.create_moderator("admin", role="admin")
    page = client.get("/dashboard/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    client.post(
        "/dashboard/sign-in",
        data={"csrf_token": token.group(1), "username": "admin", "password": PASSWORD},
    )
    assert "Try a rule change" in client.get("/dashboard/sites/blog").get_data(as_text=True)
    empty = client.get("/dashboard/sites/blog/try")
    assert empty.status_code == 200 and "dry-run-report" not in empty.get_data(as_text=True)
    answer = client.get(
        "/dashboard/sites/blog/try?blocked_words=casino&moderation_words=watches&last=50"
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "Replayed 6 decided comments" in html
    assert "Would change fate (3)" in html
    assert "precision - → 0.67, recall 0.00 → 0.67" in html
    refused = client.get("/dashboard/sites/blog/try?spam_hold_threshold=0.9&spam_threshold=0.5")
    assert refused.status_code == 400
    assert "0 &lt; hold ≤ spam ≤ 1" in refused.get_data(as_text=True)
