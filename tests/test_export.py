"""``moderation export`` and the dashboard's download: a site's comments out, and back in
(export then import gives the same threads, tree, statuses, texts and dates)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from moderation.extensions import db
from moderation.models import AuditEvent, Comment, Site, Thread
from tests.helpers import PASSWORD, Actions, approve, seed_comments
from tests.porting_support import FIXTURES, make_isso_database


def snapshot(app: Flask, slug: str, *, whole_seconds: bool = False) -> dict[str, Any]:
    """A site as its readers and moderators know it, without ids: threads, and comments
    with their status, author, website, text, the HTML readers see, date and the comment
    they answer."""
    with app.app_context():
        site_id = db.session.scalar(select(Site.id).where(Site.slug == slug))
        threads = {
            row.id: (row.key, row.title, row.url, row.is_open)
            for row in db.session.execute(select(Thread).where(Thread.site_id == site_id))
            .scalars()
            .all()
        }
        comments = db.session.execute(select(Comment).where(Comment.site_id == site_id)).scalars()
        by_id = {comment.id: comment for comment in comments}

        def name(comment: Comment) -> tuple[str, str, str]:
            created = (
                comment.created_at.replace(microsecond=0) if whole_seconds else comment.created_at
            )
            return threads[comment.thread_id][0], created.isoformat(), comment.text

        shown = {
            name(comment): (
                comment.status.value,
                comment.author,
                comment.url,
                comment.html,
                name(by_id[comment.parent_id]) if comment.parent_id else None,
            )
            for comment in by_id.values()
        }
        assert len(shown) == len(by_id), "two comments alike: the snapshot cannot tell them apart"
        return {"threads": sorted(threads.values()), "comments": shown}


@pytest.fixture
def populated(app: Flask, actions: Actions, runner: FlaskCliRunner, tmp_path: Path) -> str:
    """A site with imported comments (a tree, every WordPress status, Isso's Markdown) and
    some posted here, one approved with a reply, one rejected."""
    from moderation.domain.status import ModerationAction
    from moderation.services.decisions import moderate
    from moderation.services.events import Actor

    actions.create_site("blog", flood_seconds=0)
    result = runner.invoke(
        args=["import", "wxr", str(FIXTURES / "wordpress-1.2.xml"), "--site", "blog"]
    )
    assert result.exit_code == 0, result.output
    isso = make_isso_database(tmp_path / "isso.db")
    result = runner.invoke(args=["import", "isso", str(isso), "--site", "blog"])
    assert result.exit_code == 0, result.output
    first, _pending, third = seed_comments(app, 3)
    approve(app, first)
    with app.app_context():
        moderate(third, ModerationAction.REJECT, Actor("moderator", "1", "tester"))
        reply = seed_comments(app, 1, text="A reply <em>here</em>", author="Ren")[0]
        db.session.get_one(Comment, reply).parent_id = first
        db.session.commit()
    return "blog"


@pytest.mark.parametrize("fmt", ["jsonl", "wxr"])
def test_export_then_import_into_an_empty_site_gives_the_same_site(
    app: Flask, actions: Actions, runner: FlaskCliRunner, populated: str, tmp_path: Path, fmt: str
) -> None:
    exported = tmp_path / f"export.{fmt}"
    result = runner.invoke(
        args=["export", "--site", "blog", "--format", fmt, "--output", str(exported)]
    )
    assert result.exit_code == 0, result.output
    assert "Exported 4 thread(s)" in result.output
    actions.create_site("copy")
    imported = runner.invoke(args=["import", fmt, str(exported), "--site", "copy"])
    assert imported.exit_code == 0, imported.output
    assert "Refused: 0." in imported.output
    # WXR dates have whole seconds (WordPress's format); JSON lines keep microseconds
    whole = fmt == "wxr"
    original, copy = (
        snapshot(app, "blog", whole_seconds=whole),
        snapshot(app, "copy", whole_seconds=whole),
    )
    assert copy["threads"] == original["threads"]
    assert copy["comments"] == original["comments"]
    statuses = {value[0] for value in original["comments"].values()}
    assert {"approved", "pending", "rejected", "spam", "deleted"} <= statuses
    assert any(value[4] for value in original["comments"].values()), "no reply in the tree"
    assert any("<li>" in value[3] for value in original["comments"].values()), "no Markdown"


def test_export_leaves_emails_out_unless_asked(
    app: Flask, runner: FlaskCliRunner, populated: str
) -> None:
    plain = runner.invoke(args=["export", "--site", "blog"])
    assert plain.exit_code == 0
    assert "@" not in "".join(
        line
        for line in plain.stdout.splitlines()
        if '"type":"comment"' in line and '"email"' in line
    )
    assert "author0@example.com" not in plain.stdout
    header = json.loads(plain.stdout.splitlines()[0])
    assert header["format"] == "moderation-export" and header["emails"] is False
    assert json.loads(plain.stdout.splitlines()[-1])["type"] == "end"
    with_emails = runner.invoke(args=["export", "--site", "blog", "--include-emails"])
    assert "author0@example.com" in with_emails.stdout
    with app.app_context():
        reasons = (
            db.session.execute(select(AuditEvent.reason).where(AuditEvent.action == "exported"))
            .scalars()
            .all()
        )
    assert reasons == ["jsonl", "jsonl, emails included"]


def test_exporting_an_unknown_site_is_a_one_line_error_and_writes_no_file(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(args=["export", "--site", "nope", "--output", str(tmp_path / "x.jsonl")])
    assert result.exit_code == 1 and "Unknown site" in result.output
    assert list(tmp_path.glob("x.jsonl*")) == []


def _signed_in(client: FlaskClient, username: str) -> str:
    """Sign ``username`` in; the dashboard's CSRF token."""

    def token(path: str) -> str:
        html = client.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
            r'name="csrf-token" content="([^"]+)"', html
        )
        assert match, html
        return match.group(1)

    response = client.post(
        "/dashboard/sign-in",
        data={
            "csrf_token": token("/dashboard/sign-in"),
            "username": username,
            "password": PASSWORD,
        },
    )
    assert response.status_code == 303
    return token("/dashboard/data")


def test_admins_download_the_same_export_from_the_dashboard(
    app: Flask, client: FlaskClient, actions: Actions, runner: FlaskCliRunner, populated: str
) -> None:
    actions.create_moderator("root", role="admin")
    token = _signed_in(client, "root")
    response = client.post(
        "/dashboard/data/export", data={"csrf_token": token, "site": "blog", "format": "jsonl"}
    )
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="blog-comments.jsonl"'
    downloaded = response.get_data(as_text=True).splitlines()
    command = runner.invoke(args=["export", "--site", "blog"]).stdout.splitlines()
    # the same file but for the moment it was made
    assert downloaded[1:] == command[1:]
    wxr = client.post(
        "/dashboard/data/export", data={"csrf_token": token, "site": "blog", "format": "wxr"}
    )
    assert wxr.status_code == 200 and wxr.get_data(as_text=True).rstrip().endswith("</rss>")
    unknown = client.post(
        "/dashboard/data/export", data={"csrf_token": token, "site": "nope", "format": "jsonl"}
    )
    assert unknown.status_code == 400


def test_moderators_and_forged_posts_cannot_download(
    client: FlaskClient, actions: Actions, populated: str
) -> None:
    actions.create_moderator("mod")
    token = _signed_in_moderator(client)
    response = client.post(
        "/dashboard/data/export", data={"csrf_token": token, "site": "blog", "format": "jsonl"}
    )
    assert response.status_code == 403


def _signed_in_moderator(client: FlaskClient) -> str:
    html = client.get("/dashboard/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert token
    client.post(
        "/dashboard/sign-in",
        data={"csrf_token": token.group(1), "username": "mod", "password": PASSWORD},
    )
    page = client.get("/dashboard/").get_data(as_text=True)
    found = re.search(r'name="csrf-token" content="([^"]+)"', page) or re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', page
    )
    assert found
    return found.group(1)
