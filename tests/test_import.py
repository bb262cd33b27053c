"""``moderation import``: other systems' exports into a site, through the CLI, on the real
database (SQLite, or PostgreSQL when ``MODERATION_DATABASE_URL`` names one)."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from moderation.extensions import db
from moderation.models import AuditEvent, Comment, OutboxDelivery, StatusCount, Thread
from tests.helpers import Actions
from tests.mail_servers import SmtpSink, deliver, mail_config
from tests.porting_support import FIXTURES, make_isso_database

WXR = FIXTURES / "wordpress-1.2.xml"


def run_import(runner: FlaskCliRunner, *args: str | Path) -> Any:
    """``moderation import ARGS`` (the site is ``blog`` unless given)."""
    argv = ["import", *map(str, args)]
    if "--site" not in argv:
        argv += ["--site", "blog"]
    return runner.invoke(args=argv)


def comments_by_source_id(app: Flask, site_slug: str = "blog") -> dict[str, Comment]:
    """The stored comments of a site, by the id they had in their source."""
    from moderation.models import Site

    with app.app_context():
        site_id = db.session.scalar(select(Site.id).where(Site.slug == site_slug))
        rows = db.session.execute(select(Comment).where(Comment.site_id == site_id)).scalars()
        found = {row.source_id or str(row.id): row for row in rows}
        for row in found.values():
            db.session.expunge(row)
        return found


def count(app: Flask, model: type[Any]) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def site(actions: Actions) -> str:
    actions.create_site("blog")
    return "blog"


def test_wordpress_export_becomes_threads_and_comments_with_their_tree(
    app: Flask, runner: FlaskCliRunner, site: str
) -> None:
    result = run_import(runner, "wxr", WXR)
    assert result.exit_code == 0, result.output
    assert "Comments imported:" in result.output
    stored = comments_by_source_id(app)
    zoe, editor, kenji = stored["101"], stored["102"], stored["104"]
    # replies keep their parents, whatever order the file had
    assert editor.parent_id == zoe.id and kenji.parent_id == editor.id
    assert zoe.author == "Zoë Ångström" and zoe.url == "https://zoe.example.org/"
    assert zoe.ip_truncated == "203.0.113.0/24"
    assert kenji.ip_truncated == "2001:db8:85a3::/48"
    assert zoe.created_at.isoformat() == "2026-11-02T09:30:00+00:00"
    assert zoe.source == "wordpress" and zoe.status.value == "approved"
    # the same sanitiser as new comments: allowed tags kept, links made safe
    assert "<em>ristretto</em>" in zoe.html and 'rel="nofollow ugc noopener noreferrer"' in zoe.html
    with app.app_context():
        thread = db.session.execute(select(Thread).where(Thread.id == zoe.thread_id)).scalar_one()
        assert thread.key == "/2026/11/hello-espresso/"
        assert thread.title == "Hello, Espresso — a first post"
        assert thread.url == "https://blog.example.com/2026/11/hello-espresso/"
        approved = sum(c.status.value == "approved" for c in stored.values())
        counted = db.session.scalar(
            select(func.sum(StatusCount.count)).where(StatusCount.status == "approved")
        )
        assert counted == approved
        # no events unless asked, and one audit line for the whole import
        assert db.session.scalar(select(func.count()).select_from(OutboxDelivery)) == 0
        actions = db.session.execute(select(AuditEvent.action)).scalars().all()
        assert actions.count("imported") == 1


def test_running_the_same_import_again_adds_nothing(
    app: Flask, runner: FlaskCliRunner, site: str
) -> None:
    first = run_import(runner, "wxr", WXR)
    before = count(app, Comment), count(app, Thread)
    second = run_import(runner, "wxr", WXR)
    assert second.exit_code == 0, second.output
    assert (count(app, Comment), count(app, Thread)) == before
    assert "Comments imported: 0." in second.output
    assert f"Skipped as already present: {before[0]:,}." in second.output
    assert "Threads created: 0." in second.output
    assert first.output.count("Refused:") == 1


def test_comments_erased_or_purged_since_stay_gone_when_the_import_runs_again(
    app: Flask, runner: FlaskCliRunner, site: str
) -> None:
    """A re-run completes an interrupted import; it must not bring back a person erased
    since (address and all), nor comments purged once deleted."""
    assert run_import(runner, "wxr", WXR).exit_code == 0
    erased = runner.invoke(
        args=["people", "erase", "editor@blog.example.com", "--mode", "delete", "--yes"]
    )
    assert erased.exit_code == 0, erased.output
    deleted = {k for k, c in comments_by_source_id(app).items() if c.status.value == "deleted"}
    assert "106" in deleted
    purged = runner.invoke(args=["comments", "purge", "--older-than-days", "0"])
    assert f"{len(deleted)} deleted comment(s) purged" in purged.output
    before = comments_by_source_id(app)
    assert not ({"102"} | deleted) & set(before)
    assert before["104"].parent_id is None  # the reply to the erased comment, on top

    for extra in (("--dry-run",), ()):
        again = run_import(runner, "wxr", WXR, *extra)
        assert again.exit_code == 0, again.output
        assert "imported: 0." in again.output
        assert f"Skipped as removed here since (erased or purged): {1 + len(deleted)}." in (
            again.output
        )
        assert f"Skipped as already present: {len(before):,}." in again.output
    after = comments_by_source_id(app)
    assert set(after) == set(before)
    assert all(c.email != "editor@blog.example.com" for c in after.values())
    with app.app_context():  # the audit log says so too (the dry run leaves no entry)
        last = db.session.execute(
            select(AuditEvent.reason)
            .where(AuditEvent.action == "imported")
            .order_by(AuditEvent.id.desc())
            .limit(1)
        ).scalar_one()
    assert f"{1 + len(deleted)} removed here since" in last, last
    # another site's import of the same file is its own
    Actions(app).create_site("fresh")
    assert run_import(runner, "wxr", WXR, "--site", "fresh").exit_code == 0
    assert {"102", "106"} <= set(comments_by_source_id(app, "fresh"))


def test_a_comment_noted_as_removed_twice_is_noted_once(
    app: Flask, runner: FlaskCliRunner, site: str
) -> None:
    """An import running while a person is erased may store their comment again, and a
    second erasure notes it again: that must not fail the erasure."""
    from moderation.models import RemovedImport
    from moderation.services.removed_imports import note_removed

    assert run_import(runner, "wxr", WXR).exit_code == 0
    stored = comments_by_source_id(app)
    with app.app_context():
        note_removed([stored["101"].id])
        note_removed([stored["101"].id, stored["102"].id])
        db.session.commit()
        noted = db.session.execute(select(RemovedImport.source, RemovedImport.source_id)).all()
    assert sorted(noted) == [("wordpress", "101"), ("wordpress", "102")]


def test_the_cycle_collector_is_as_it_was_after_an_import_stored_or_stopped(
    runner: FlaskCliRunner, site: str, tmp_path: Path
) -> None:
    """The import runs the collector less often (a bulk job); the process keeps its own
    setting afterwards, whether the file was stored or refused half way."""
    import gc

    before = gc.get_threshold()
    assert run_import(runner, "wxr", WXR).exit_code == 0
    assert gc.get_threshold() == before
    cut = tmp_path / "cut.xml"
    cut.write_bytes(WXR.read_bytes()[:-200])
    assert run_import(runner, "wxr", cut).exit_code == 1
    assert gc.get_threshold() == before


def test_an_interrupted_import_completes_when_run_again(
    app: Flask, runner: FlaskCliRunner, site: str, tmp_path: Path
) -> None:
    whole = WXR.read_bytes()
    cut = tmp_path / "cut.xml"
    cut.write_bytes(whole[: whole.index(b"<wp:comment_id>102")])
    stopped = run_import(runner, "wxr", cut)
    assert stopped.exit_code == 1
    assert "Stopped:" in stopped.output and "run the import again" in stopped.output
    part = count(app, Comment)
    assert part >= 1

    finished = run_import(runner, "wxr", WXR)
    assert finished.exit_code == 0, finished.output
    assert f"Skipped as already present: {part:,}." in finished.output
    completed = comments_by_source_id(app, "blog")

    # the same as one uninterrupted run into an empty site
    Actions(app).create_site("fresh")
    assert run_import(runner, "wxr", WXR, "--site", "fresh").exit_code == 0
    uninterrupted = comments_by_source_id(app, "fresh")
    assert set(uninterrupted) == set(completed)
    for key, comment in completed.items():
        parent = comment.parent_id and next(
            k for k, c in completed.items() if c.id == comment.parent_id
        )
        twin = uninterrupted[key]
        twin_parent = twin.parent_id and next(
            k for k, c in uninterrupted.items() if c.id == twin.parent_id
        )
        assert parent == twin_parent, key


_REFUSE_ONE = {
    "sqlite": [
        "CREATE TRIGGER refuse_one BEFORE INSERT ON comments WHEN NEW.source_id = '106' "
        "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.source_id = '106' THEN RAISE EXCEPTION 'refused by the test'; END IF; "
        "RETURN NEW; END $$",
        "CREATE TRIGGER refuse_one BEFORE INSERT ON comments FOR EACH ROW "
        "EXECUTE FUNCTION refuse_one()",
    ],
}
_ALLOW_ALL = {
    "sqlite": ["DROP TRIGGER refuse_one"],
    "postgresql": ["DROP TRIGGER refuse_one ON comments", "DROP FUNCTION refuse_one()"],
}


def test_a_batch_the_database_refuses_stops_the_import_and_a_rerun_completes_it(
    app: Flask, site: str
) -> None:
    """A database error while a batch is stored stops the import with that error, the
    batches stored before it stay, and the import run again once the database accepts
    completes it (as one run into an empty site would have)."""
    from sqlalchemy.exc import DBAPIError

    from moderation.services.importing import import_comments

    with app.app_context():
        dialect = db.engine.dialect.name
        for statement in _REFUSE_ONE[dialect]:
            db.session.execute(text(statement))
        db.session.commit()
        try:
            with pytest.raises(DBAPIError, match="refused by the test"):
                import_comments("wxr", WXR, "blog", batch_size=2)
            db.session.rollback()
            stored = {c.source_id for c in comments_by_source_id(app).values()}
            assert stored and "106" not in stored
        finally:
            db.session.rollback()
            for statement in _ALLOW_ALL[dialect]:
                db.session.execute(text(statement))
            db.session.commit()
        report = import_comments("wxr", WXR, "blog", batch_size=2)
        assert report.present == len(stored)
        assert report.error is None
        Actions(app).create_site("fresh")
        whole = import_comments("wxr", WXR, "fresh")
    assert report.imported + report.present == whole.imported
    assert "106" in comments_by_source_id(app)


def test_a_dry_run_reports_and_stores_nothing(
    app: Flask, runner: FlaskCliRunner, site: str
) -> None:
    dry = run_import(runner, "wxr", WXR, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "Dry run: nothing was stored." in dry.output
    assert count(app, Comment) == 0 and count(app, Thread) == 0
    real = run_import(runner, "wxr", WXR)
    assert real.output.split("Comments imported:")[1].split(".")[0] in dry.output


def test_an_unknown_status_is_refused_and_a_status_map_brings_it_in_on_a_rerun(
    app: Flask, runner: FlaskCliRunner, site: str, tmp_path: Path
) -> None:
    odd = tmp_path / "odd.xml"
    odd.write_text(
        WXR.read_text(encoding="utf-8").replace(
            "<wp:comment_approved><![CDATA[1]]></wp:comment_approved>",
            "<wp:comment_approved><![CDATA[weird]]></wp:comment_approved>",
            1,
        ),
        encoding="utf-8",
    )
    first = run_import(runner, "wxr", odd)
    assert "refused: unknown status" in first.output
    assert "--status-map weird=pending" in first.output
    before = count(app, Comment)
    second = run_import(runner, "wxr", odd, "--status-map", "weird=approved")
    assert second.exit_code == 0, second.output
    assert "Comments imported: 1." in second.output
    assert count(app, Comment) == before + 1
    bad = run_import(runner, "wxr", odd, "--status-map", "weird=lovely")
    assert bad.exit_code == 2 and "is not a status" in bad.output


def test_events_are_emitted_only_when_asked(
    app: Flask, runner: FlaskCliRunner, site: str, actions: Actions
) -> None:
    from moderation.services.events import SYSTEM
    from moderation.services.integrations import IntegrationSettings, create_integration

    with app.app_context():
        create_integration(
            "listener",
            "blog",
            IntegrationSettings(events=("comment.created",), target_url="http://127.0.0.1:9/in"),
            True,
            SYSTEM,
        )
    run_import(runner, "wxr", WXR)
    assert count(app, OutboxDelivery) == 0
    actions.create_site("other")
    with app.app_context():
        create_integration(
            "listener",
            "other",
            IntegrationSettings(events=("comment.created",), target_url="http://127.0.0.1:9/in"),
            True,
            SYSTEM,
        )
    result = run_import(runner, "wxr", WXR, "--site", "other", "--emit-events")
    assert result.exit_code == 0, result.output
    assert count(app, OutboxDelivery) == len(comments_by_source_id(app, "other"))


class TestNotifications:
    """Imported comments are decided elsewhere, most long ago: nobody is emailed or told
    in a chat about them, though the site's moderators hear of every comment held here."""

    @pytest.fixture
    def config_overrides(self, smtp: SmtpSink) -> dict[str, Any]:
        return mail_config(smtp, WEBHOOK_ALLOW_PRIVATE_TARGETS=True)

    def test_imported_comments_notify_nobody(
        self, app: Flask, runner: FlaskCliRunner, site: str, actions: Actions, smtp: SmtpSink
    ) -> None:
        from moderation.services import moderators, notify_settings
        from moderation.services.events import SYSTEM
        from tests.helpers import seed_comments

        actions.create_moderator("mo")
        with app.app_context():
            account = moderators.get_by_username("mo")
            notify_settings.set_email(account, "mo@moderators.example", SYSTEM)
        added = runner.invoke(args=["chat", "add", "blog", "http://127.0.0.1:9/chat"])
        assert added.exit_code == 0, added.output
        result = run_import(runner, "wxr", WXR)
        assert result.exit_code == 0, result.output
        assert any(c.status.value == "pending" for c in comments_by_source_id(app).values())
        assert count(app, OutboxDelivery) == 0
        deliver(app)
        assert smtp.messages == []
        # the same site hears of a comment held here: by email and in the chat
        seed_comments(app, 1)
        with app.app_context():
            channels = set(db.session.execute(select(OutboxDelivery.channel)).scalars())
        assert {"email", "chat"} <= channels


def test_invalid_emails_are_kept_and_flagged_and_valid_ones_normalised(
    app: Flask, runner: FlaskCliRunner, site: str, tmp_path: Path
) -> None:
    text = WXR.read_text(encoding="utf-8")
    text = text.replace("zoe@example.org", "Zoe@EXAMPLE.org").replace(
        "kenji@example.jp", "kenji at example dot jp"
    )
    path = tmp_path / "emails.xml"
    path.write_text(text, encoding="utf-8")
    result = run_import(runner, "wxr", path)
    stored = comments_by_source_id(app)
    flagged = sum(comment.email_flagged for comment in stored.values())
    assert f"Invalid emails kept as found and flagged: {flagged}." in result.output
    assert stored["101"].email == "Zoe@example.org" and not stored["101"].email_flagged
    assert stored["104"].email == "kenji at example dot jp" and stored["104"].email_flagged


def test_the_file_s_own_threads_can_be_keyed_by_full_url(
    app: Flask, runner: FlaskCliRunner, site: str
) -> None:
    run_import(runner, "wxr", WXR, "--thread-key", "url")
    with app.app_context():
        keys = set(db.session.execute(select(Thread.key)).scalars())
    assert "https://blog.example.com/2026/11/hello-espresso/" in keys


@pytest.mark.parametrize(
    ("fmt", "name"),
    [
        ("disqus", "disqus.xml"),
        ("remark42", "remark42.jsonl"),
        ("commento", "commento.json"),
        ("wxr", "wordpress-1.0.xml"),
        ("wxr", "wordpress-1.1.xml"),
    ],
)
def test_every_format_imports_what_its_reader_reads(
    app: Flask, runner: FlaskCliRunner, site: str, fmt: str, name: str, tmp_path: Path
) -> None:
    from moderation.porting import CommentKind, CommentRecord, read

    path = FIXTURES / name
    if fmt == "remark42":  # Remark42 backups are gzip-compressed
        path = tmp_path / "backup.gz"
        path.write_bytes(gzip.compress((FIXTURES / name).read_bytes()))
    expected = [
        item
        for item in read(fmt, path)
        if isinstance(item, CommentRecord) and item.kind is CommentKind.COMMENT
    ]
    result = run_import(runner, fmt, path)
    assert result.exit_code == 0, result.output
    stored = comments_by_source_id(app)
    assert len(stored) == len(expected) > 0
    for record in expected:
        comment = stored[record.source_id]
        assert comment.status.value == record.status.value
        parent = record.parent_source_id
        assert comment.parent_id == (stored[parent].id if parent else None)


@pytest.mark.parametrize(
    ("fmt", "name"), [("disqus", "disqus.xml"), ("remark42", "remark42.jsonl")]
)
def test_html_paragraphs_are_stored_as_a_new_comment_s_paragraphs(
    app: Flask, runner: FlaskCliRunner, site: str, fmt: str, name: str
) -> None:
    """Disqus and Remark42 write their texts as <p> paragraphs: readers get those
    paragraphs, not each wrapped in another (``<p><p>``: an empty paragraph around each in
    a browser) with line breaks between them."""
    from moderation.domain.rendering import render_comment

    result = run_import(runner, fmt, FIXTURES / name)
    assert result.exit_code == 0, result.output
    shown = [comment for comment in comments_by_source_id(app).values() if comment.html]
    assert shown
    for comment in shown:
        assert "<p><p>" not in comment.html and "</p><br>" not in comment.html, comment.html
        assert comment.html == render_comment(comment.text)
    if fmt == "disqus":
        assert comments_by_source_id(app)["9003"].html.startswith(
            "<p>Reply to a reply: 美味しいコーヒー ☕</p><p><a href="
        )


def test_isso_markdown_is_rendered_and_sanitised(
    app: Flask, runner: FlaskCliRunner, site: str, tmp_path: Path
) -> None:
    database = make_isso_database(tmp_path / "comments.db")
    result = run_import(runner, "isso", database)
    assert result.exit_code == 0, result.output
    stored = comments_by_source_id(app)
    assert stored
    for comment in stored.values():
        assert "<script" not in comment.html.lower()
        assert "**" not in comment.html
    anonymous = [c for c in stored.values() if c.author == "Anonymous"]
    assert anonymous or all(c.author for c in stored.values())


def test_pingbacks_are_skipped_and_reported(app: Flask, runner: FlaskCliRunner, site: str) -> None:
    text = WXR.read_text(encoding="utf-8")
    if "pingback" not in text and "trackback" not in text:
        pytest.skip("the fixture has no pingback")
    result = run_import(runner, "wxr", WXR)
    assert "(not comments)" in result.output


@pytest.mark.parametrize(
    "document",
    [
        '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        "<rss><channel><item><title>&b;</title></item></channel></rss>",
        "<rss><channel><item><title>cut",
        "\xff\xfe not xml at all",
    ],
    ids=["entities", "cut-short", "not-xml"],
)
def test_hostile_files_are_refused_with_a_clear_error_and_nothing_half_written(
    app: Flask, runner: FlaskCliRunner, site: str, tmp_path: Path, document: str
) -> None:
    path = tmp_path / "hostile.xml"
    path.write_bytes(document.encode("latin-1", errors="replace"))
    result = run_import(runner, "wxr", path)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "Stopped:" in result.output
    assert count(app, Comment) == 0 and count(app, Thread) == 0


def test_unknown_site_and_missing_file_are_one_line_errors(
    runner: FlaskCliRunner, site: str, tmp_path: Path
) -> None:
    unknown = run_import(runner, "wxr", WXR, "--site", "nope")
    assert unknown.exit_code == 1 and "Unknown site" in unknown.output
    missing = run_import(runner, "wxr", tmp_path / "none.xml")
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_imported_deleted_and_spam_comments_get_their_grace_periods_from_the_import(
    app: Flask, runner: FlaskCliRunner, site: str
) -> None:
    run_import(runner, "wxr", WXR)
    before = {key: c.status.value for key, c in comments_by_source_id(app).items()}
    assert {"deleted", "spam"} <= set(before.values())
    assert runner.invoke(args=["comments", "purge"]).exit_code == 0
    assert runner.invoke(args=["retention", "run"]).exit_code == 0
    after = comments_by_source_id(app)
    assert set(after) == set(before)
    spam = [c for c in after.values() if c.status.value == "spam"]
    assert all(c.email for c in spam)


def _wxr_comment(comment_id: str, text: str, parent: str = "0", approved: str = "1") -> str:
    return (
        f"<wp:comment><wp:comment_id>{comment_id}</wp:comment_id>"
        f"<wp:comment_author>P{comment_id}</wp:comment_author>"
        f"<wp:comment_content><![CDATA[{text}]]></wp:comment_content>"
        "<wp:comment_date_gmt>2026-11-02 10:00:00</wp:comment_date_gmt>"
        f"<wp:comment_approved>{approved}</wp:comment_approved>"
        f"<wp:comment_parent>{parent}</wp:comment_parent></wp:comment>"
    )


def test_huge_comments_reply_cycles_and_odd_statuses_are_refused_and_reported(
    app: Flask, runner: FlaskCliRunner, site: str, tmp_path: Path
) -> None:
    path = tmp_path / "hostile.xml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"><channel>'
        "<item><title>Post</title><link>https://blog.example.com/post/</link>"
        "<wp:post_id>1</wp:post_id>"
        + _wxr_comment("1", "fine")
        + _wxr_comment("2", "x" * 10 * 1024 * 1024)
        + _wxr_comment("3", "loop a", parent="4")
        + _wxr_comment("4", "loop b", parent="3")
        + _wxr_comment("5", "answers the loop", parent="3")
        + _wxr_comment("6", "odd", approved="maybe")
        + _wxr_comment("7", "orphan", parent="99")
        + "</item></channel></rss>\n",
        encoding="utf-8",
    )
    result = run_import(runner, "wxr", path)
    assert result.exit_code == 0, result.output
    assert "refused: text too long" in result.output
    assert "2 refused: reply cycle" in result.output
    assert "refused: unknown status" in result.output
    assert "Comments imported: 3." in result.output
    stored = comments_by_source_id(app)
    assert set(stored) == {"1", "5", "7"}
    assert stored["5"].parent_id is None and "reply cycle" in stored["5"].held_reason
    assert "not in the file" in stored["7"].held_reason


@pytest.mark.slow
def test_two_imports_of_one_file_at_once_store_each_comment_once(
    app: Flask, site: str, database_url: str, instance_path: Path, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    from moderation.porting import JsonlWriter
    from tests.porting_support import synthetic_threads

    path = tmp_path / "big.jsonl"
    with path.open("w", encoding="utf-8") as out, JsonlWriter(out, site="old") as writer:
        for thread, comments in synthetic_threads(40, 60):
            writer.write_thread(thread, comments)
    env = {
        **os.environ,
        "MODERATION_DATABASE_URL": database_url,
        "MODERATION_INSTANCE_PATH": str(instance_path),
        "MODERATION_SECRET_KEY": "test-secret-key-not-for-production",
    }
    command = [sys.executable, "-m", "moderation", "import", "jsonl", str(path), "--site", "blog"]
    runs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=300)[0].decode() for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    stored = comments_by_source_id(app)
    expected = sum(1 for line in path.read_text().splitlines() if '"type":"comment"' in line)
    pingbacks = sum(1 for line in path.read_text().splitlines() if '"kind":"pingback"' in line)
    assert len(stored) == expected - pingbacks
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Thread)) == 40


@pytest.mark.slow
def test_a_terminal_shows_a_progress_bar_and_a_pipe_does_not(
    app: Flask, site: str, database_url: str, instance_path: Path
) -> None:
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "MODERATION_DATABASE_URL": database_url,
        "MODERATION_INSTANCE_PATH": str(instance_path),
        "MODERATION_SECRET_KEY": "test-secret-key-not-for-production",
    }
    command = [sys.executable, "-m", "moderation", "import", "wxr", str(WXR), "--site", "blog"]
    controller, terminal = os.openpty()
    try:
        finished = subprocess.run(
            command, env=env, stdout=subprocess.PIPE, stderr=terminal, timeout=120, check=False
        )
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(controller)
    assert finished.returncode == 0
    assert b"Importing wordpress-1.2.xml" in shown and b"100%" in shown
    assert b"Importing" not in finished.stdout
    assert b"Comments imported:" in finished.stdout


def test_imported_comments_are_found_by_the_queue_search_and_later_ones_too(
    app: Flask, runner: FlaskCliRunner, site: str
) -> None:
    """The import fills the search index per batch (SQLite: not through the per-row
    trigger); the trigger is back afterwards for comments posted later."""
    from moderation.services.queue import QueueFilter, count_matching
    from tests.helpers import seed_comments

    assert run_import(runner, "wxr", WXR).exit_code == 0
    seed_comments(app, 1, text="A later comment about a siphon brewer")
    with app.app_context():
        every = QueueFilter(status=None, search="ristretto")
        assert count_matching(every) == sum(
            "ristretto" in c.text.lower() for c in comments_by_source_id(app).values()
        )
        assert count_matching(every) >= 1
        assert count_matching(QueueFilter(status=None, search="Zoë Ångs")) >= 1
        assert count_matching(QueueFilter(status=None, search="siphon brewer")) == 1
        if db.session.get_bind().dialect.name == "sqlite":
            # the batches merged FTS5's segments sixteen at a time: the default is back
            setting = db.session.scalar(
                text("SELECT v FROM comments_search_config WHERE k = 'automerge'")
            )
            assert setting == 4


@pytest.mark.any_database
@pytest.mark.parametrize(
    "address",
    [
        "203.0.113.9",
        "2001:db8:85a3::8a2e:370:7334",
        "2001:0:5::9",
        "0:0:1::",
        "::1",
        "::",
        "::ffff:0102:0304",
        "::ffff:1.2.3.4",
        "fe80::1%eth0",
        " 2001:DB8:AbC:1:2:3:4:5 ",
        "not an address",
    ],
)
def test_the_import_truncates_addresses_as_new_comments_are(address: str) -> None:
    from moderation.domain.privacy import truncate_ip
    from moderation.services.import_fields import truncated_address as _truncate

    assert _truncate(address) == truncate_ip(address)


@pytest.mark.any_database
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(
        st.sampled_from(list("ab <>&;/=\"' \n\t\u00a0\u00e9\u4e2d\u200b\r\x00\ufeff"))
        | st.characters(),
        max_size=40,
    )
    | st.sampled_from(["<b>x</b> https://a.example/x.", "a\n\nb\nc", "plain https://x.example"])
)
def test_imported_html_is_what_new_comments_get(text: str) -> None:
    """Plain texts skip the sanitiser on import: it would have returned them unchanged."""
    from moderation.domain.comments import strip_controls
    from moderation.domain.rendering import render_comment
    from moderation.services.import_fields import imported_html

    cleaned = strip_controls(text)
    assert imported_html(cleaned) == render_comment(cleaned)


@pytest.mark.any_database
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    inside=st.lists(
        st.sampled_from(
            [
                *"ab <>&;/=\"' \n\t\u00a0\u00e9\u4e2d\u200b\r\x00\x0c\ufeff\ufffe\u2028",
                *("p>", "<p>", "</p>", "<P>", "</p >", "<b>", "://", "https://x.example/a."),
                "\n\n",
            ]
        )
        | st.characters(exclude_categories=("Cs",)),
        max_size=40,
    ).map("".join),
    before=st.sampled_from(["<p>", "", " <p>", "<p", "<P>", "p>"]),
    after=st.sampled_from(["</p>", "", "</p> ", "</P>", "/p>", "</p>x"]),
)
def test_a_paragraph_of_plain_text_is_rendered_as_new_comments_are(
    before: str, inside: str, after: str
) -> None:
    """Plain text in one ``<p>`` skips the sanitiser on import too (it keeps it as it is)."""
    from moderation.domain.comments import strip_controls
    from moderation.domain.rendering import render_comment
    from moderation.services.import_fields import imported_html

    cleaned = strip_controls(before + inside + after)
    assert imported_html(cleaned) == render_comment(cleaned)


def _mixed_wxr(path: Path) -> None:
    """A WXR of three threads: every status, replies, pingbacks, and replies to pingbacks
    (stored on top: their parent is not a comment), HTML, unicode, IPv4 and IPv6."""
    from datetime import UTC, datetime, timedelta

    from moderation.porting import (
        CommentKind,
        CommentRecord,
        Status,
        TextFormat,
        ThreadRecord,
        WxrWriter,
    )

    statuses = [Status.APPROVED, Status.SPAM, Status.APPROVED, Status.PENDING, Status.DELETED]
    words = ["espresso", "crema", "Café", "naïve", "кофе", "美味しい", "BUY", "cheap", "pills"]
    began = datetime(2026, 1, 1, tzinfo=UTC)
    with (
        path.open("w", encoding="utf-8") as out,
        WxrWriter(out, include_emails=True, include_addresses=True) as writer,
    ):
        for page in range(3):
            thread = ThreadRecord(
                key=f"/post-{page}/", title=f"Post {page}", url=f"https://b.example/post-{page}/"
            )
            comments = []
            for number in range(25):
                kind = CommentKind.PINGBACK if number % 11 == 4 else CommentKind.COMMENT
                parent = None
                if number % 3 == 2:
                    parent = f"{page}-{number - 1}"  # a reply (to a pingback when 4 was one)
                text = " ".join(words[(number + k) % len(words)] for k in range(number % 7 + 2))
                if number % 4 == 0:
                    text = f"<p>{text} <em>see</em> https://shop-{number}.example/buy</p>"
                comments.append(
                    CommentRecord(
                        source="wordpress",
                        source_id=f"{page}-{number}",
                        thread=thread,
                        parent_source_id=parent,
                        author=f"Person {number % 5}",
                        email=f"person{number % 6}@example.org" if number % 9 else "not an email",
                        website=f"https://site{number % 4}.example/" if number % 2 else "",
                        ip="2001:db8::1" if number % 2 else f"198.51.100.{number}",
                        user_agent="Mozilla/5.0",
                        created_at=began + timedelta(hours=page * 100 + number),
                        text=text,
                        text_format=TextFormat.HTML,
                        source_status="1",
                        status=statuses[number % len(statuses)],
                        kind=kind,
                    )
                )
            writer.write_thread(thread, comments)


def test_the_classifier_learns_the_same_when_a_helper_process_works_out_the_features(
    app: Flask, actions: Actions, tmp_path: Path
) -> None:
    """Large imports work out what comments teach in a helper process (several batches);
    small ones in the importing process: the same comments, features and counts."""
    from moderation.domain.spam import site_scope
    from moderation.models import CommentSpam, Site, SpamCount
    from moderation.services.importing import import_comments

    wxr = tmp_path / "mixed.xml"
    _mixed_wxr(wxr)
    learned = {}
    for slug, parallel in (("inline", False), ("helper", True)):
        actions.create_site(slug)
        with app.app_context():
            report = import_comments("wxr", wxr, slug, batch_size=7, parallel=parallel)
            assert report.imported > 50 and report.taught["spam"] > 0 and not report.error
            site_id = db.session.scalar(select(Site.id).where(Site.slug == slug))
            rows = db.session.execute(
                select(Comment, CommentSpam.features, CommentSpam.label)
                .join(CommentSpam, CommentSpam.comment_id == Comment.id, isouter=True)
                .where(Comment.site_id == site_id)
            ).all()
            by_id = {comment.id: comment.source_id for comment, _f, _l in rows}
            stored = {
                comment.source_id: (
                    by_id.get(comment.parent_id),
                    comment.text,
                    comment.html,
                    comment.status,
                    comment.email,
                    comment.email_flagged,
                    comment.ip_truncated,
                    features,
                    label,
                )
                for comment, features, label in rows
            }
            counts = {
                row.feature: (row.spam, row.ham)
                for row in db.session.execute(
                    select(SpamCount).where(SpamCount.scope == site_scope(site_id))
                ).scalars()
            }
        learned[slug] = (report.lines(), stored, counts)
    inline, helper = learned["inline"], learned["helper"]
    assert inline[0] == helper[0]
    assert inline[1] == helper[1]
    assert inline[2] == helper[2]
    # replies to pingbacks are stored on top (3 threads, one each), and learned as such
    learned_rows = [row for row in helper[1].values() if row[7] is not None]
    assert sum(row[0] is not None for row in helper[1].values()) == 3 * 8 - 3
    for row in learned_rows:
        assert ("reply" if row[0] is not None else "toplevel") in row[7].split("\n")
