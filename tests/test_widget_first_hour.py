"""What a new site owner meets in the first hour, over HTTP and the CLI: the snippet with its
``<noscript>`` link, why a frame stayed empty, threads that store only their own site's post."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import PASSWORD, Actions, aged_token, comment_fields, stored_comments

pytestmark = pytest.mark.database_incidental

ORIGIN = "https://blog.example"


def post_from(client: FlaskClient, app: Flask, thread: str, page_url: str, title: str) -> int:
    """A comment posted from the widget framed on ``page_url``."""
    query = f"thread={thread}&origin={ORIGIN}&url={page_url}&title={title}"
    response = client.post(
        f"/w/blog?{query}",
        data={
            **comment_fields(comment=f"On {page_url}"),
            "form_token": aged_token(app, "blog", thread),
        },
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(stored_comments(app)[-1]["id"])


def thread_post(app: Flask, key: str) -> tuple[str, str]:
    from sqlalchemy import select

    from moderation.extensions import db
    from moderation.models import Thread

    with app.app_context():
        row = db.session.execute(select(Thread.title, Thread.url).where(Thread.key == key)).one()
    return (row.title, row.url)


def test_thread_stores_only_an_address_on_the_sites_origins(
    client: FlaskClient, app: Flask, actions: Actions
) -> None:
    actions.create_site("blog", [ORIGIN], flood_seconds=0)
    post_from(client, app, "p", "https://evil.example/phish", "Evil")
    assert thread_post(app, "p") == ("", "")
    post_from(client, app, "p", f"{ORIGIN}/p", "The post")
    assert thread_post(app, "p") == ("The post", f"{ORIGIN}/p")
    # a later page from elsewhere does not take it over
    post_from(client, app, "p", "https://evil.example/p", "Taken")
    assert thread_post(app, "p") == ("The post", f"{ORIGIN}/p")


def test_embed_check_says_what_is_wrong_and_where_to_fix_it(
    client: FlaskClient, actions: Actions
) -> None:
    actions.create_site("blog", [ORIGIN])
    good = client.get("/w/blog/embed-check", headers={"Origin": ORIGIN})
    assert good.json == {"ok": True, "detail": ""}
    assert good.headers["Access-Control-Allow-Origin"] == "*"
    stranger = client.get("/w/blog/embed-check", headers={"Origin": "https://other.example"})
    assert stranger.json is not None and not stranger.json["ok"]
    assert "https://other.example is not an allowed origin" in stranger.json["detail"]
    unknown = client.get("/w/blogg/embed-check?lang=id", headers={"Origin": ORIGIN})
    assert unknown.json is not None
    assert 'tidak ada situs "blogg"' in unknown.json["detail"]


def test_dashboard_snippet_carries_the_noscript_link(client: FlaskClient, actions: Actions) -> None:
    import re

    actions.create_site("blog", [ORIGIN])
    actions.create_moderator("alice", "admin")
    page = client.get("/dashboard/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    client.post(
        "/dashboard/sign-in",
        data={"csrf_token": token.group(1), "username": "alice", "password": PASSWORD},
    )
    html = client.get("/dashboard/sites/blog").get_data(as_text=True)
    assert (
        "&lt;noscript&gt;&lt;a href=&#34;http://localhost/w/blog?thread=UNIQUE-PAGE-KEY&#34;&gt;"
        in html.replace("&quot;", "&#34;")
    )


# --- the CLI and the landing page ------------------------------------------------------


def run_moderation(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m moderation ARGS`` in ``cwd`` with exactly ``env`` (plus PATH and
    PYTHONPATH): no MODERATION_* setting of the test run leaks in."""
    return subprocess.run(
        [sys.executable, "-m", "moderation", *args],
        cwd=cwd,
        env={
            **{name: os.environ[name] for name in ("PATH", "PYTHONPATH") if name in os.environ},
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_help_lists_the_services_commands_not_flasks_internals(tmp_path: Path) -> None:
    result = run_moderation(tmp_path, {}, "--help")
    assert result.returncode == 0, result.stderr
    commands = result.stdout.split("Commands:", 1)[1].split()
    for internal in ("run", "shell", "routes", "limiter"):
        assert internal not in commands
    for ours in ("serve", "sites", "moderators", "integrations", "db"):
        assert ours in commands


def served_instance_migrated(instance: Path) -> None:
    """What ``moderation db upgrade`` leaves in ``instance`` (its default SQLite database),
    done in this process: a command's process costs seconds, and ``db upgrade`` has tests
    of its own."""
    from moderation import create_app
    from moderation.extensions import db
    from tests.databases import migrate

    app = create_app({"DATABASE_URL": None}, instance_path=str(instance))
    migrate(app)
    with app.app_context():
        db.engine.dispose()


def test_cli_in_another_folder_says_which_instance_it_uses_and_that_it_is_empty(
    tmp_path: Path,
) -> None:
    served = tmp_path / "served" / "instance"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    served_instance_migrated(served)
    empty = run_moderation(elsewhere, {}, "sites", "list")
    assert empty.returncode == 1
    assert f"The instance at {elsewhere / 'instance'} has an empty database" in empty.stderr
    assert "MODERATION_INSTANCE_PATH" in empty.stderr
    assert "no such table" not in empty.stderr + empty.stdout
    named = run_moderation(elsewhere, {"MODERATION_INSTANCE_PATH": str(served)}, "sites", "list")
    assert named.returncode == 0, named.stderr
    assert f"Using the instance at {served}" in named.stderr


def test_landing_page_points_to_the_demo_the_dashboard_and_the_docs(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for target in ('href="/demo"', 'href="/dashboard/"', 'href="/api/openapi.json"', "README"):
        assert target in html
