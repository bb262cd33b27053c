"""The classifier's memory after a person's erasure and after SECRET_KEY changed: nothing
derived from the erased address stays, what their comments taught is what anonymous
comments would teach, and a rebuild makes a model learned under another key whole again."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from moderation import create_app
from moderation.extensions import db
from tests.databases import BASE_CONFIG
from tests.doors import JsonDoor
from tests.helpers import Actions

PERSON = "Spam.Sender@Example.net"


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"LIMIT_SUBMIT_PER_ADDRESS": "1000/minute", "LIMIT_SUBMIT_PER_EMAIL": "1000/minute"}


@pytest.fixture
def learned(app: Flask, client: FlaskClient, actions: Actions) -> dict[str, list[int]]:
    """Two people's comments, decided: the person's as spam (and one left pending), the
    other's approved."""
    from moderation.domain.status import ModerationAction
    from moderation.services.decisions import moderate
    from moderation.services.events import Actor

    actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
    door = JsonDoor(app, client)
    ids: dict[str, list[int]] = {"person": [], "other": []}
    plan = [
        ("person", PERSON, "Cheap pills at https://pills.example now", "spam"),
        ("person", PERSON, "More cheap pills, best price", "spam"),
        ("person", PERSON, "Still waiting here", None),
        ("other", "reader@example.org", "A thoughtful reply about the post", "approve"),
        ("other", "reader@example.org", "I agree with the second point", "approve"),
    ]
    for number, (who, email, text, action) in enumerate(plan):
        answer = door.post(
            thread=f"t{number}", comment=text, email=email, address=f"203.0.113.{number + 1}"
        )
        assert answer.accepted, answer.text
        comment_id = json.loads(answer.text)["id"]
        ids[who].append(comment_id)
        if action:
            with app.app_context():
                moderate(comment_id, ModerationAction(action), Actor("moderator", "1", "mod"))
    return ids


def counts(app: Flask) -> dict[tuple[str, str], tuple[int, int]]:
    """Every non-zero row of the counts (the key's fingerprint left out)."""
    from moderation.models import SpamCount

    with app.app_context():
        rows = db.session.execute(select(SpamCount)).scalars()
        return {
            (row.scope, row.feature): (row.spam, row.ham)
            for row in rows
            if (row.spam or row.ham) and not row.feature.startswith("@key:")
        }


def personal_rows(app: Flask, email: str) -> list[tuple[str, str]]:
    from moderation.services import spam

    with app.app_context():
        own = spam.extractor().personal_features(email)
        address = next(feature for feature in own if feature.startswith("email:h:"))
    from moderation.models import CommentSpam, SpamCount

    with app.app_context():
        in_counts = db.session.execute(
            select(SpamCount.scope, SpamCount.feature).where(SpamCount.feature == address)
        ).all()
        in_comments = db.session.execute(
            select(CommentSpam.comment_id).where(CommentSpam.features.contains(address))
        ).all()
    return [tuple(row) for row in in_counts] + [("comment", str(r[0])) for r in in_comments]


def rebuilt(app: Flask) -> dict[tuple[str, str], tuple[int, int]]:
    """The counts a rebuild from the comments gives."""
    from moderation.services import spam_upkeep

    with app.app_context():
        spam_upkeep.rebuild_model()
    return counts(app)


@pytest.mark.parametrize("mode", ["anonymise", "delete"])
def test_erasing_a_person_erases_what_the_classifier_learned_from_them(
    app: Flask, learned: dict[str, list[int]], mode: str
) -> None:
    assert personal_rows(app, PERSON)  # learned: the keyed hash of the address is counted
    before = counts(app)
    result = app.test_cli_runner().invoke(args=["people", "erase", PERSON, "--mode", mode, "--yes"])
    assert result.exit_code == 0, result.output
    assert personal_rows(app, PERSON) == []
    after = counts(app)
    messages = after[("*", "@messages")]
    # anonymised comments still teach (as anonymous ones); deleted ones taught nothing
    assert messages == ((2, 2) if mode == "anonymise" else (0, 2))
    assert before[("*", "@messages")] == (2, 2)
    # exactly what the comments as they now stand would teach
    assert after == rebuilt(app)


def test_a_model_learned_under_another_secret_key_is_found_and_rebuilt(
    app: Flask, database_url: str, learned: dict[str, list[int]]
) -> None:
    from moderation.services import spam_upkeep

    with app.app_context():
        assert spam_upkeep.check_key(record_when_new=True).matches  # as `serve` records it
        db.session.commit()
    rotated = create_app(
        {**BASE_CONFIG, "DATABASE_URL": database_url, "SECRET_KEY": "another-key-after-rotation"}
    )
    try:
        runner = rotated.test_cli_runner()
        check = runner.invoke(args=["spam", "check"])
        assert check.exit_code != 0
        assert "moderation spam rebuild" in check.output
        assert personal_rows(rotated, PERSON) == []  # the new key's hash is unknown
        result = runner.invoke(args=["spam", "rebuild"])
        assert result.exit_code == 0, result.output
        assert "2 approved (ham) and 2 spam" in result.output
        assert runner.invoke(args=["spam", "check"]).exit_code == 0
        assert personal_rows(rotated, PERSON)  # learned again under the new key
        assert personal_rows(app, PERSON) == []  # the old key's hashes are gone
        assert counts(rotated)[("*", "@messages")] == (2, 2)
    finally:
        with rotated.app_context():
            db.session.remove()
            db.engine.dispose()
