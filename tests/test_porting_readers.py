"""Each reader on fixtures written from its format's published description: counts, tree,
statuses, dates, unicode, pingbacks, and the refusals that say why."""

from __future__ import annotations

import gzip
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from moderation.porting import (
    CommentKind,
    ReadOptions,
    RefusalReason,
    Status,
    Tally,
    TextFormat,
    ThreadKeying,
    read,
    read_commento,
    read_disqus,
    read_isso,
    read_remark42,
    read_wxr,
)
from tests.porting_support import FIXTURES, collect, make_isso_database

pytestmark = pytest.mark.any_database


def at(text: str) -> datetime:
    """An aware UTC datetime from ISO text."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class TestWordPress:
    def test_threads_are_the_posts_with_comments_keyed_by_path(self) -> None:
        result = collect(read_wxr(FIXTURES / "wordpress-1.2.xml"))
        assert [(t.key, t.source_id, t.is_open) for t in result.threads] == [
            ("/2026/11/hello-espresso/", "12", True),
            ("/?p=4", "4", False),
            ("/?post_type=shop_order&p=1042", "1042", False),
        ]
        assert result.threads[0].title == "Hello, Espresso — a first post"
        assert result.threads[0].url == "https://blog.example.com/2026/11/hello-espresso/"

    def test_every_status_kind_and_the_tree(self) -> None:
        result = collect(read_wxr(FIXTURES / "wordpress-1.2.xml"))
        assert result.statuses() == {
            "101": "approved",
            "102": "approved",
            "104": "approved",
            "103": "pending",
            "105": "spam",
            "106": "deleted",
            "107": "approved",
            "108": "pending",
            "109": "approved",
            "41": "deleted",
        }
        assert result.comments["106"].source_status == "trash"
        assert result.comments["41"].source_status == "post-trashed"
        assert result.comments["107"].kind is CommentKind.PINGBACK
        assert result.comments["108"].kind is CommentKind.TRACKBACK
        assert result.parents()["104"] == "102"
        assert result.parents()["102"] == "101"
        # 104 comes before 102 in the file; the reader yields it after its parent.
        assert result.order[:3] == ["101", "102", "104"]

    def test_fields_are_raw_and_dates_utc(self) -> None:
        comment = collect(read_wxr(FIXTURES / "wordpress-1.2.xml")).comments["101"]
        assert comment.source == "wordpress"
        assert comment.author == "Zoë Ångström"
        assert comment.email == "zoe@example.org"
        assert comment.website == "https://zoe.example.org/"
        assert comment.ip == "203.0.113.42"
        assert comment.created_at == at("2026-11-02T09:30:00")
        assert comment.text_format is TextFormat.HTML
        assert comment.text.startswith("Lovely post! I prefer a <em>ristretto</em>")
        assert "\nSecond line" in comment.text
        assert comment.thread_key == "/2026/11/hello-espresso/"
        kenji = collect(read_wxr(FIXTURES / "wordpress-1.2.xml")).comments["104"]
        assert kenji.ip == "2001:db8:85a3::8a2e:370:7334"
        assert "美味しいコーヒー ☕" in kenji.text

    def test_what_was_changed_is_noted(self) -> None:
        result = collect(read_wxr(FIXTURES / "wordpress-1.2.xml"))
        assert result.comments["103"].created_at == at("2026-11-03T07:45:00")
        assert result.comments["103"].notes == ("no GMT date: the local date was taken as UTC",)
        assert result.comments["103"].email == "not-an-email"  # kept: the service flags it
        orphan = result.comments["109"]
        assert orphan.parent_source_id is None
        assert orphan.notes == (
            "reply to 99, which is not in the file: kept as a top-level comment",
        )

    def test_unknown_status_and_private_comment_types_are_refused_with_why(self) -> None:
        result = collect(read_wxr(FIXTURES / "wordpress-1.2.xml"))
        assert result.refused() == {
            "110": "unknown status",
            "900": "unsupported comment type",
        }
        assert "--status-map held-for-review=pending" in result.refusals[0].detail
        assert result.refusals[1].detail == (
            "comment type 'order_note' is not a comment, pingback or trackback"
        )

    @pytest.mark.parametrize("version", ["1.0", "1.1"])
    def test_older_versions(self, version: str) -> None:
        result = collect(read_wxr(FIXTURES / f"wordpress-{version}.xml"))
        assert [t.key for t in result.threads] == ["/2009/09/snow-ice/"]
        assert result.threads[0].title == "Snow & ice"
        assert result.statuses() == {"3": "approved", "4": "approved"}
        assert result.parents() == {"3": None, "4": "3"}
        assert result.comments["3"].text == "Here too. Minus 12 °C."
        assert result.comments["4"].created_at == at("2009-09-28T20:00:00")

    def test_keyed_by_full_url_or_post_id(self) -> None:
        by_url = collect(
            read_wxr(FIXTURES / "wordpress-1.2.xml", ReadOptions(keying=ThreadKeying.URL))
        )
        assert by_url.threads[0].key == "https://blog.example.com/2026/11/hello-espresso/"
        by_id = collect(
            read_wxr(FIXTURES / "wordpress-1.2.xml", ReadOptions(keying=ThreadKeying.SOURCE_ID))
        )
        assert [t.key for t in by_id.threads] == ["12", "4", "1042"]

    def test_reads_an_open_file(self) -> None:
        data = (FIXTURES / "wordpress-1.0.xml").read_bytes()
        assert len(collect(read("wxr", io.BytesIO(data))).comments) == 2


class TestDisqus:
    def test_threads_posts_statuses_and_tree(self) -> None:
        result = collect(read_disqus(FIXTURES / "disqus.xml"))
        assert [(t.key, t.source_id, t.is_open) for t in result.threads] == [
            ("/2026/11/hello-espresso/", "5001", True),
            ("/2026/10/радио-кофе/", "5002", False),
        ]
        assert result.statuses() == {
            "9001": "approved",
            "9002": "approved",
            "9003": "approved",
            "9004": "spam",
            "9005": "deleted",
            "9006": "pending",
            "12345678890": "approved",
            "9009": "approved",
        }
        assert result.parents()["9003"] == "9002"
        assert result.order.index("9002") < result.order.index("9003")

    def test_fields_unicode_and_odd_dates(self) -> None:
        result = collect(read_disqus(FIXTURES / "disqus.xml"))
        kenji = result.comments["9003"]
        assert kenji.author == "Kenji 佐藤"
        # Disqus's <p> paragraphs become blank lines, as a person types them here
        assert kenji.text.startswith("Reply to a reply: 美味しいコーヒー ☕\n\n<a href=")
        assert kenji.ip == "2001:db8:85a3::8a2e:370:7334"
        assert kenji.created_at == at("2026-11-02T11:05:10")
        assert result.comments["12345678890"].text == "Слава кофе!"
        assert result.comments["9009"].created_at == at("2026-11-04T11:00:00")  # RFC 2822, +0100

    def test_orphans_and_unreadable_dates_are_refused(self) -> None:
        result = collect(read_disqus(FIXTURES / "disqus.xml"))
        assert result.refused() == {"9008": "no usable thread", "9010": "unreadable date"}
        assert result.refusals[0].detail == "its thread 1337 is not in the file"
        assert result.refusals[1].detail == "date '2011-x09-30T22:48:43Z' cannot be read"

    def test_keyed_by_identifier_with_the_path_when_there_is_none(self) -> None:
        result = collect(
            read_disqus(FIXTURES / "disqus.xml", ReadOptions(keying=ThreadKeying.SOURCE_ID))
        )
        assert [t.key for t in result.threads] == ["post-12", "/2026/10/радио-кофе/"]


class TestIsso:
    def test_threads_modes_markdown_and_epoch_dates(self, tmp_path: Path) -> None:
        result = collect(read_isso(make_isso_database(tmp_path / "comments.db")))
        assert [(t.key, t.title, t.url) for t in result.threads] == [
            (
                "/2026/11/hello-espresso/",
                "Hello, Espresso — a first post",
                "/2026/11/hello-espresso/",
            ),
            ("/notes/markdown", "", "/notes/markdown"),
        ]
        assert result.statuses() == {
            "1": "approved",
            "2": "approved",
            "3": "pending",
            "4": "deleted",
            "5": "approved",
            "6": "approved",
        }
        first = result.comments["1"]
        assert first.created_at == datetime(2026, 11, 2, 9, 30, 0, 500000, tzinfo=UTC)
        assert first.text_format is TextFormat.MARKDOWN
        assert first.ip == "203.0.113.0"
        assert result.comments["3"].author is None  # Isso allows anonymous comments
        assert result.comments["6"].text.startswith("# Heading\n\n- a list")

    def test_deleted_placeholders_keep_their_replies(self, tmp_path: Path) -> None:
        result = collect(read_isso(make_isso_database(tmp_path / "comments.db")))
        assert result.comments["4"].text == ""
        assert result.parents()["5"] == "4"

    def test_unknown_mode_is_refused(self, tmp_path: Path) -> None:
        result = collect(read_isso(make_isso_database(tmp_path / "comments.db")))
        assert result.refused() == {"7": "unknown status"}

    def test_text_that_is_not_utf8_refuses_that_comment_only(self, tmp_path: Path) -> None:
        database = make_isso_database(tmp_path / "comments.db")
        import sqlite3

        connection = sqlite3.connect(database)
        connection.execute("UPDATE comments SET text = CAST(x'4361ff' AS TEXT) WHERE id = 2")
        connection.commit()
        connection.close()
        result = collect(read_isso(database))
        assert result.refused()["2"] == "unreadable record"
        assert "5" in result.comments


class TestRemark42:
    def test_comments_tree_statuses_and_threads(self) -> None:
        result = collect(read_remark42(FIXTURES / "remark42.jsonl"))
        assert [(t.key, t.title, t.is_open) for t in result.threads] == [
            ("/2026/11/hello-espresso/", "Hello, Espresso — a first post", True),
            ("/2026/10/closed/", "Closed for comments", False),
        ]
        ids = list(result.comments)
        assert [result.comments[i].status for i in ids] == [
            Status.APPROVED,
            Status.APPROVED,
            Status.DELETED,
            Status.APPROVED,
            Status.REJECTED,
            Status.APPROVED,
            Status.APPROVED,
        ]
        deleted = result.comments[ids[2]]
        assert deleted.notes == ("deleted without a date: dated 1970-01-01",)
        assert result.comments[ids[3]].parent_source_id == deleted.source_id

    def test_nanosecond_times_hashes_are_not_addresses_no_emails(self) -> None:
        result = collect(read_remark42(FIXTURES / "remark42.jsonl"))
        first, second = list(result.comments.values())[:2]
        assert first.created_at == datetime(2026, 11, 2, 9, 30, 0, 123456, tzinfo=UTC)
        assert first.ip is None  # an HMAC in Remark42's file
        assert second.ip == "198.51.100.7"
        assert all(comment.email is None for comment in result.comments.values())

    def test_html_paragraphs_become_blank_lines(self) -> None:
        result = collect(read_remark42(FIXTURES / "remark42.jsonl"))
        first = next(iter(result.comments.values()))
        assert first.text == "Lovely post! I prefer a <em>ristretto</em>, though."

    def test_broken_lines_are_refused_with_their_number(self) -> None:
        result = collect(read_remark42(FIXTURES / "remark42.jsonl"))
        assert [r.detail.split(":")[0] for r in result.refusals] == ["line 10", "line 11"]
        assert {r.reason for r in result.refusals} == {RefusalReason.UNREADABLE_RECORD}

    def test_gzip_backups_are_read_as_they_are(self, tmp_path: Path) -> None:
        packed = tmp_path / "backup-cafenotes-20261130.gz"
        packed.write_bytes(gzip.compress((FIXTURES / "remark42.jsonl").read_bytes()))
        assert len(collect(read_remark42(packed)).comments) == 7


class TestCommento:
    def test_comments_commenters_and_states(self) -> None:
        result = collect(read_commento(FIXTURES / "commento.json"))
        comments = list(result.comments.values())
        assert [c.status.value for c in comments] == [
            "approved",
            "approved",
            "pending",
            "spam",
            "deleted",
        ]
        assert comments[0].author is None
        assert comments[1].author == "The Editor"
        assert comments[1].email == "editor@blog.example.com"
        assert comments[1].parent_source_id == comments[0].source_id
        assert comments[2].text_format is TextFormat.MARKDOWN
        assert [t.key for t in result.threads] == ["/2026/11/hello-espresso/", "/about/"]


def test_tally_gives_one_line_per_reason_with_counts() -> None:
    tally = Tally()
    for item in read_wxr(FIXTURES / "wordpress-1.2.xml"):
        tally.add(item)
    assert (tally.threads, tally.comments, tally.noted) == (3, 10, 2)
    assert tally.kinds == {"comment": 8, "pingback": 1, "trackback": 1}
    assert tally.refusal_lines() == [
        "1 refused: unknown status (e.g. 110: status 'held-for-review' is not in the status "
        "map (map it with e.g. --status-map held-for-review=pending))",
        "1 refused: unsupported comment type (e.g. 900: comment type 'order_note' is not a "
        "comment, pingback or trackback)",
    ]


def test_the_format_layer_needs_only_the_standard_library() -> None:
    import ast
    import sys
    from pathlib import Path

    import moderation.porting

    for module in Path(moderation.porting.__file__).parent.glob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or name.startswith("moderation.porting"), (
                    f"{module.name} imports {name}"
                )


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>One</p>", "One"),
        ("<p>One <b>bold</b></p>\n<p>Two</p>\n", "One <b>bold</b>\n\nTwo"),
        ("<P class='x'>One<br>line</P><p>Two\nstill two</p>", "One<br>line\n\nTwo still two"),
        ("<p></p><p>  </p><p>Only</p>", "Only"),
        ("Plain text,\nno paragraphs", "Plain text,\nno paragraphs"),
        ("<pre>code</pre> and <param>", "<pre>code</pre> and <param>"),
        (
            "<p>Try:</p>\n<pre><code>def f():\n    return 1\n</code></pre>\n<p>ok</p>",
            "Try:\n\n<pre><code>def f():\n    return 1\n</code></pre>\n\nok",
        ),
        ("<p>a\u00a0b\u3000c  d</p>", "a\u00a0b\u3000c d"),
        ("", ""),
        (None, None),
    ],
)
def test_html_paragraphs_read_as_blank_lines(html: str | None, text: str | None) -> None:
    from moderation.porting.building import paragraphs_as_blank_lines

    assert paragraphs_as_blank_lines(html) == text
