"""Each rule's record: how often it decided a comment and how often moderators overruled it,
on the dashboard's rules page and from ``moderation rules record``, against counts worked
out by hand."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from moderation.domain.rule_record import records
from moderation.domain.status import CommentStatus
from tests.doors import JsonDoor
from tests.helpers import Actions, signed_in

LINKS = "See <a href='https://a.example'>a</a>, <a href='https://b.example'>b</a> and <a href='https://c.example'>c</a>."

# (text, what the rules do, what a moderator then does)
COMMENTS: list[tuple[str, str, str | None]] = [
    ("Cheap casino bonus", "spam: blocked_words", "restore"),  # overruled
    ("Casino night again", "spam: blocked_words", None),
    ("Casino, casino", "spam: blocked_words", "delete"),  # agreed
    (LINKS, "held: too_many_links", "approve"),  # overruled
    (LINKS + " Again.", "held: too_many_links", "spam"),  # agreed
    ("A plain comment.", "held: premoderation", "approve"),  # no judgment to overrule
    ("Another plain one.", "held: premoderation", "spam"),
]


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"LIMIT_SUBMIT_PER_ADDRESS": "1000/minute", "LIMIT_SUBMIT_PER_EMAIL": "1000/minute"}


@pytest.fixture
def decided(app: Flask, client: FlaskClient, actions: Actions) -> None:
    actions.create_site("blog", ["https://blog.example"], flood_seconds=0, blocked_words="casino")
    door = JsonDoor(app, client)
    moderator = signed_in(app, actions, "boss", "admin")
    for number, (text, _rules, action) in enumerate(COMMENTS):
        answer = door.post(thread=f"t{number}", comment=text, email=f"p{number}@example.org")
        assert answer.accepted, answer.text
        if action:
            comment_id = json.loads(answer.text)["id"]
            assert moderator.moderate(comment_id, action).status_code == 303


EXPECTED = {
    "blocked_words": {"does": "spam", "fired": 3, "overruled": 1},
    "too_many_links": {"does": "held", "fired": 2, "overruled": 1},
    "premoderation": {"does": "held (policy)", "fired": 2, "overruled": None},
}


def test_the_command_prints_each_rule_s_record(runner: FlaskCliRunner, decided: None) -> None:
    result = runner.invoke(args=["rules", "record", "--site", "blog", "--json"])
    assert result.exit_code == 0, result.output
    found = {row.pop("rule"): row for row in json.loads(result.output)}
    assert found == EXPECTED
    table = runner.invoke(args=["rules", "record", "--site", "blog"]).output
    assert re.search(r"blocked_words\s+spam\s+3\s+1 \(33%\)", table), table


def test_the_rules_page_shows_each_rule_s_record(
    app: Flask, actions: Actions, decided: None
) -> None:
    page = signed_in(app, actions, "admin2", "admin").page("/dashboard/sites/blog/try")
    section = page[page.index('id="rule-record"') :]
    rows = re.findall(
        r'<span class="rule-name">(\w+)</span></th><td>([^<]+)</td><td>(\d+)</td>\s*<td>([^<]+)</td>',
        section,
    )
    assert rows == [
        ("blocked_words", "spam", "3", "1 (33%)"),
        ("premoderation", "held (policy)", "2", "\u2013"),
        ("too_many_links", "held", "2", "1 (50%)"),
    ]


def test_an_unknown_site_is_a_one_line_error(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["rules", "record", "--site", "nope"])
    assert result.exit_code != 0
    assert "Unknown site" in result.output


@pytest.mark.any_database
def test_published_comments_are_overruled_when_marked_spam_or_rejected() -> None:
    approved, spam, rejected, deleted, pending = (
        CommentStatus.APPROVED,
        CommentStatus.SPAM,
        CommentStatus.REJECTED,
        CommentStatus.DELETED,
        CommentStatus.PENDING,
    )
    found = records(
        [("open_policy", "publish", 8), ("classifier", "hold", 2), ("classifier", "spam", 1)],
        [
            ("open_policy", approved, spam, 1),
            ("open_policy", approved, rejected, 1),
            ("open_policy", approved, deleted, 1),  # deleting is no judgment on the rule
            ("classifier", pending, rejected, 1),  # agreed
            ("classifier", spam, approved, 1),  # restored: overruled
            ("premoderation", pending, approved, 4),  # the policy judges nothing
        ],
    )
    assert [(r.rule, r.fired, r.overruled) for r in found] == [
        ("open_policy", 8, 2),
        ("classifier", 3, 1),
    ]
    assert found[0].overrule_rate == 0.25
    assert (found[1].held, found[1].spam, found[1].stopped) == (2, 1, 3)
