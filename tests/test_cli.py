"""Every CLI command through the Click runner: success, and one-line errors."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from werkzeug.security import check_password_hash

from moderation.extensions import db
from moderation.models import Moderator, Site


def invoke(runner: FlaskCliRunner, *args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(args=list(args), input=stdin)


def assert_one_line_error(result, fragment: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    assert fragment in lines[0]


def test_sites_create_and_list(runner: FlaskCliRunner, app: Flask) -> None:
    result = invoke(
        runner,
        "sites",
        "create",
        "blog",
        "--name",
        "My Blog",
        "--origin",
        "https://Blog.Example.com/",
        "--origin",
        "http://localhost:8080",
        "--policy",
        "open",
    )
    assert result.exit_code == 0, result.output
    assert "Created site 'blog' (open)" in result.output
    with app.app_context():
        site = db.session.execute(select(Site)).scalar_one()
        assert site.origins == ["https://blog.example.com", "http://localhost:8080"]
    listing = invoke(runner, "sites", "list")
    assert listing.exit_code == 0
    assert "blog\topen\tMy Blog\thttps://blog.example.com http://localhost:8080" in listing.output


def test_sites_list_when_empty(runner: FlaskCliRunner) -> None:
    result = invoke(runner, "sites", "list")
    assert result.exit_code == 0
    assert "No sites yet" in result.output


def test_sites_create_refuses_a_duplicate_slug(runner: FlaskCliRunner) -> None:
    invoke(runner, "sites", "create", "blog", "--name", "A", "--origin", "https://a.example")
    result = invoke(
        runner, "sites", "create", "blog", "--name", "B", "--origin", "https://b.example"
    )
    assert_one_line_error(result, "already exists")


@pytest.mark.parametrize(
    ("origin", "fragment"),
    [
        ("blog.example.com", "Malformed origin"),
        ("ftp://blog.example.com", "Malformed origin"),
        ("https://blog.example.com/path", "no path"),
        ("https://user:pw@blog.example.com", "no path, query or credentials"),
        ("https://blog.example.com:99999", "Malformed origin"),
        ("https://", "Malformed origin"),
    ],
)
def test_sites_create_refuses_malformed_origins(
    runner: FlaskCliRunner, origin: str, fragment: str
) -> None:
    result = invoke(runner, "sites", "create", "blog", "--name", "Blog", "--origin", origin)
    assert_one_line_error(result, fragment)


@pytest.mark.parametrize("slug", ["Blog", "blog-", "my blog", "a" * 65, "blog!"])
def test_sites_create_refuses_bad_slugs(runner: FlaskCliRunner, slug: str) -> None:
    result = invoke(
        runner, "sites", "create", slug, "--name", "Blog", "--origin", "https://a.example"
    )
    assert_one_line_error(result, "Invalid site slug")


def test_sites_update_changes_settings(runner: FlaskCliRunner, app: Flask) -> None:
    invoke(runner, "sites", "create", "blog", "--name", "Blog", "--origin", "https://a.example")
    result = invoke(
        runner,
        "sites",
        "update",
        "blog",
        "--policy",
        "trusted",
        "--max-links",
        "4",
        "--moderation-words",
        "casino, viagra",
        "--submit-limit",
        "50/hour",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        site = db.session.execute(select(Site)).scalar_one()
        assert site.policy.value == "trusted"
        assert site.max_links == 4
        assert site.moderation_words == "casino\nviagra"
        assert site.submit_limit == "50/hour"


def test_sites_update_unknown_site(runner: FlaskCliRunner) -> None:
    assert_one_line_error(
        invoke(runner, "sites", "update", "nope", "--max-links", "3"), "Unknown site 'nope'"
    )


def test_sites_update_refuses_bad_values(runner: FlaskCliRunner) -> None:
    invoke(runner, "sites", "create", "blog", "--name", "Blog", "--origin", "https://a.example")
    assert_one_line_error(
        invoke(runner, "sites", "update", "blog", "--max-links", "-1"), "max_links must be between"
    )
    assert_one_line_error(
        invoke(runner, "sites", "update", "blog", "--submit-limit", "lots"), "Invalid limit"
    )


def test_moderators_create_from_stdin(runner: FlaskCliRunner, app: Flask) -> None:
    result = invoke(
        runner,
        "moderators",
        "create",
        "alice",
        "--role",
        "admin",
        "--password-stdin",
        stdin="a long and unusual passphrase\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created admin 'alice'" in result.output
    with app.app_context():
        alice = db.session.execute(select(Moderator)).scalar_one()
        assert alice.role.value == "admin"
        method = app.config["PASSWORD_HASH_METHOD"]  # the suite's cheap one: see test_config
        assert alice.password_hash.startswith(method.split(":")[0] + ":")
        assert check_password_hash(alice.password_hash, "a long and unusual passphrase")


def test_moderators_create_with_prompt(runner: FlaskCliRunner) -> None:
    result = invoke(
        runner,
        "moderators",
        "create",
        "bob",
        stdin="another fine passphrase\nanother fine passphrase\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created moderator 'bob'" in result.output


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("", "The password is empty"),
        ("   ", "The password is empty"),
        ("short", "too short"),
        ("password123", "too easy to guess"),
        ("aaaaaaaaaaaa", "too easy to guess"),
        ("carol-is-my-name", "must not contain the username"),
    ],
)
def test_moderators_create_refuses_weak_passwords(
    runner: FlaskCliRunner, password: str, fragment: str
) -> None:
    result = invoke(
        runner, "moderators", "create", "carol", "--password-stdin", stdin=password + "\n"
    )
    assert_one_line_error(result, fragment)


def test_moderators_create_refuses_duplicates(runner: FlaskCliRunner) -> None:
    invoke(
        runner, "moderators", "create", "dave", "--password-stdin", stdin="a fine passphrase 1\n"
    )
    result = invoke(
        runner, "moderators", "create", "dave", "--password-stdin", stdin="a fine passphrase 2\n"
    )
    assert_one_line_error(result, "already exists")


def test_serve_refuses_several_processes_on_memory_rate_limits(runner: FlaskCliRunner) -> None:
    result = invoke(runner, "serve", "--workers", "2")
    assert_one_line_error(result, "in-memory rate limits")


@pytest.mark.any_database
def test_serve_runs_one_process_more_than_the_cores_unless_limits_are_in_memory() -> None:
    from moderation.commands.serve import server_processes, usable_cores

    assert server_processes(None, "sqlite:////srv/ratelimits.db") == usable_cores() + 1
    assert server_processes(3, "redis://127.0.0.1:6379/0") == 3
    assert server_processes(None, "memory://") == 1
    assert server_processes(1, "memory://") == 1


def test_commands_report_an_unreachable_database(instance_path) -> None:  # type: ignore[no-untyped-def]
    from moderation import create_app
    from tests.databases import BASE_CONFIG

    app = create_app(
        {**BASE_CONFIG, "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    )
    result = app.test_cli_runner().invoke(args=["sites", "list"])
    assert_one_line_error(result, "cannot reach the database")


def test_comments_purge_removes_deleted_comments_for_good(
    runner: FlaskCliRunner, app: Flask, actions: Any
) -> None:
    from moderation.domain.status import CommentStatus, ModerationAction
    from moderation.services.decisions import moderate
    from moderation.services.events import Actor
    from moderation.services.queue import status_counts
    from tests.helpers import seed_comments, stored_comments

    actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
    parent, kept = seed_comments(app, 2)
    with app.app_context():
        moderate(parent, ModerationAction.APPROVE, Actor("moderator", "1", "t"))
    [reply] = seed_comments(app, 1, parent_id=parent, email="reply@example.com")
    with app.app_context():
        moderate(parent, ModerationAction.DELETE, Actor("moderator", "1", "t"))
    young = invoke(runner, "comments", "purge")  # deleted moments ago: kept for 30 days
    assert "0 deleted comment(s) purged" in young.output
    result = invoke(runner, "comments", "purge", "--older-than-days", "0")
    assert result.exit_code == 0, result.output
    assert "1 deleted comment(s) purged" in result.output
    rows = {row["id"]: row for row in stored_comments(app)}
    assert parent not in rows
    assert rows[reply]["parent_id"] is None
    assert kept in rows
    with app.app_context():
        assert status_counts()[CommentStatus.DELETED] == 0
