"""Writers, and round trips writer → reader: the same threads, tree, statuses, texts and
dates come back, in both JSONL and WXR; emails and addresses only when asked."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from moderation.porting import (
    CommentKind,
    CommentRecord,
    ImportFileError,
    JsonlWriter,
    Status,
    TextFormat,
    ThreadRecord,
    WxrWriter,
    open_writer,
    read,
    read_jsonl,
    read_wxr,
)
from tests.porting_support import FIXTURES, Collected, collect, synthetic_threads

pytestmark = pytest.mark.any_database

WP = "{http://wordpress.org/export/1.2/}"


def export(
    fmt: str, threads: list[tuple[ThreadRecord, list[CommentRecord]]], **options: object
) -> bytes:
    """``threads`` written as ``fmt`` with ``options``, as bytes."""
    out = io.StringIO()
    with open_writer(
        fmt, out, site="blog", site_url="https://blog.example.com", **options
    ) as writer:  # type: ignore[arg-type]
        for thread, comments in threads:
            writer.write_thread(thread, comments)
    return out.getvalue().encode()


def sample() -> list[tuple[ThreadRecord, list[CommentRecord]]]:
    """Three threads with every status, replies, a pingback, rules and reasons, Markdown."""
    threads = list(synthetic_threads(3, 12))
    _thread, comments = threads[0]
    comments[1] = replace(
        comments[1], held_by_rule="too_many_links", held_reason="3 links; the site allows 2"
    )
    comments[2] = replace(
        comments[2],
        text="**Markdown** with <b>tags</b>, ]]> and an ampersand & — 日本語",
        text_format=TextFormat.MARKDOWN,
    )
    comments[3] = replace(comments[3], kind=CommentKind.PINGBACK)
    return threads


def fail_midway(writer: JsonlWriter | WxrWriter) -> None:
    """Write a thread, then fail as a lost database connection would."""
    with writer:
        thread, comments = next(synthetic_threads(1, 2))
        writer.write_thread(thread, comments)
        raise RuntimeError("database went away")


def same_content(original: list[tuple[ThreadRecord, list[CommentRecord]]], back: Collected) -> None:
    """The threads, tree, statuses, kinds, texts and dates of ``original`` are in ``back``."""
    assert [(t.key, t.title, t.url, t.is_open) for t in back.threads] == [
        (t.key, t.title, t.url, t.is_open) for t, _ in original
    ]
    expected = [c for _, comments in original for c in comments]
    assert len(back.comments) == len(expected)
    for comment, returned in zip(expected, back.comments.values(), strict=True):
        assert returned.source_id.endswith(comment.source_id)
        assert returned.thread.key == comment.thread.key
        assert (returned.parent_source_id is None) == (comment.parent_source_id is None)
        if comment.parent_source_id is not None:
            assert returned.parent_source_id is not None
            assert returned.parent_source_id.endswith(comment.parent_source_id)
        assert returned.status is comment.status
        assert returned.kind is comment.kind
        assert returned.text == comment.text
        assert returned.text_format is comment.text_format
        assert returned.created_at == comment.created_at
        assert returned.author == comment.author
        assert returned.website == comment.website
        assert returned.held_by_rule == comment.held_by_rule
        assert returned.held_reason == comment.held_reason
        assert returned.notes == ()


class TestJsonl:
    def test_round_trip_keeps_everything(self, tmp_path: Path) -> None:
        original = sample()
        path = tmp_path / "export.jsonl"
        path.write_bytes(export("jsonl", original, include_emails=True, include_addresses=True))
        back = collect(read_jsonl(path))
        same_content(original, back)
        first = original[0][1][0]
        returned = back.comments[first.source_id]
        assert (returned.email, returned.ip, returned.user_agent) == (
            first.email,
            first.ip,
            first.user_agent,
        )
        assert returned.source == "moderation"

    def test_microseconds_survive(self, tmp_path: Path) -> None:
        thread, comments = next(synthetic_threads(1, 1))
        moment = datetime(2026, 11, 2, 10, 0, 0, 123456, tzinfo=UTC)
        original = [(thread, [replace(comments[0], created_at=moment)])]
        path = tmp_path / "export.jsonl"
        path.write_bytes(export("jsonl", original))
        assert collect(read_jsonl(path)).comments["1"].created_at == moment

    def test_emails_and_addresses_only_when_asked(self, tmp_path: Path) -> None:
        data = export("jsonl", sample())
        assert b"@example.org" not in data
        assert b"192.0.2." not in data
        assert b"Mozilla" not in data
        path = tmp_path / "export.jsonl"
        path.write_bytes(data)
        back = collect(read_jsonl(path))
        assert all(c.email is None and c.ip is None for c in back.comments.values())

    def test_the_header_and_closing_lines(self) -> None:
        out = io.StringIO()
        moment = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
        with JsonlWriter(
            out, site="blog", origin="comments.example.com/blog", exported_at=moment
        ) as writer:
            thread, comments = next(synthetic_threads(1, 2))
            writer.write_thread(thread, comments)
        lines = [json.loads(line) for line in out.getvalue().splitlines()]
        assert lines[0] == {
            "format": "moderation-export",
            "version": 1,
            "exported_at": "2026-11-30T10:00:00Z",
            "site": "blog",
            "origin": "comments.example.com/blog",
            "emails": False,
            "addresses": False,
        }
        assert [line["type"] for line in lines[1:]] == ["thread", "comment", "comment", "end"]
        assert lines[-1] == {"type": "end", "threads": 1, "comments": 2}
        assert lines[3]["parent"] == "1"

    def test_an_origin_keeps_two_instances_ids_apart(self, tmp_path: Path) -> None:
        path = tmp_path / "export.jsonl"
        path.write_bytes(export("jsonl", list(synthetic_threads(1, 2)), origin="old.example/blog"))
        back = collect(read_jsonl(path))
        assert list(back.comments) == ["old.example/blog/1", "old.example/blog/2"]
        assert back.parents()["old.example/blog/2"] == "old.example/blog/1"

    def test_an_export_that_failed_midway_is_recognisable(self, tmp_path: Path) -> None:
        out = io.StringIO()
        with pytest.raises(RuntimeError):
            fail_midway(JsonlWriter(out))
        path = tmp_path / "partial.jsonl"
        path.write_text(out.getvalue(), encoding="utf-8")
        with pytest.raises(ImportFileError, match="cut short"):
            list(read_jsonl(path))


class TestWxr:
    def test_round_trip_keeps_statuses_rules_formats_and_keys(self, tmp_path: Path) -> None:
        original = sample()
        path = tmp_path / "export.xml"
        path.write_bytes(export("wxr", original, include_emails=True, include_addresses=True))
        back = collect(read_wxr(path))
        same_content(original, back)
        first = original[0][1][0]
        returned = back.comments[first.source_id]
        assert (returned.email, returned.ip) == (first.email, first.ip)

    def test_what_wordpress_sees(self, tmp_path: Path) -> None:
        original = sample()
        document = ET.fromstring(export("wxr", original))  # noqa: S314 - our own output
        assert document.find("channel/" + WP + "wxr_version").text == "1.2"  # type: ignore[union-attr]
        items = document.findall("channel/item")
        assert len(items) == 3
        item = items[0]
        assert item.findtext("title") == "Post 0"
        assert item.findtext("link") == "https://blog.example.com/posts/0/"
        assert item.findtext(WP + "post_type") == "post"
        assert item.findtext(WP + "comment_status") == "closed"  # synthetic thread 0 is closed
        comments = item.findall(WP + "comment")
        approved = {
            c.findtext(WP + "comment_id"): c.findtext(WP + "comment_approved") for c in comments
        }
        by_status = {c.source_id: c.status for c in original[0][1]}
        wordpress_value = {
            Status.APPROVED: "1",
            Status.PENDING: "0",
            Status.SPAM: "spam",
            Status.REJECTED: "trash",
            Status.DELETED: "trash",
        }
        assert approved == {key: wordpress_value[status] for key, status in by_status.items()}
        second = comments[1]
        assert second.findtext(WP + "comment_parent") == "1"
        assert second.findtext(WP + "comment_date_gmt") == "2026-01-01 00:00:02"
        assert second.findtext(WP + "comment_author_email") == ""
        assert second.findtext(WP + "comment_author_IP") == ""
        types = {c.findtext(WP + "comment_type") for c in document.iter(WP + "comment")}
        assert types == {"comment", "pingback"}

    def test_without_our_metadata_statuses_map_as_wordpress_would(self, tmp_path: Path) -> None:
        data = export("wxr", sample())
        stripped = ET.fromstring(data)  # noqa: S314 - our own output
        for comment in stripped.iter(WP + "comment"):
            for meta in comment.findall(WP + "commentmeta"):
                comment.remove(meta)
        path = tmp_path / "plain.xml"
        path.write_bytes(ET.tostring(stripped))
        back = collect(read_wxr(path))
        statuses = set(back.statuses().values())
        assert statuses == {"approved", "pending", "spam", "deleted"}

    def test_text_xml_cannot_carry_is_left_out(self, tmp_path: Path) -> None:
        thread, comments = next(synthetic_threads(1, 1))
        nasty = "a]]>b\x00c\x1fd <script>e</script> & f"
        path = tmp_path / "nasty.xml"
        path.write_bytes(export("wxr", [(thread, [replace(comments[0], text=nasty)])]))
        assert collect(read_wxr(path)).comments["1"].text == "a]]>bcd <script>e</script> & f"

    def test_non_numeric_ids_are_numbered_for_wordpress(self, tmp_path: Path) -> None:
        remark = collect(read("remark42", FIXTURES / "remark42.jsonl"))
        threads = [
            (thread, [c for c in remark.comments.values() if c.thread.key == thread.key])
            for thread in remark.threads
        ]
        path = tmp_path / "converted.xml"
        path.write_bytes(export("wxr", threads))
        back = collect(read_wxr(path))
        assert len(back.comments) == len(remark.comments)
        assert all(key.isdigit() for key in back.comments)
        assert [c.parent_source_id is None for c in back.comments.values()] == [
            c.parent_source_id is None for c in remark.comments.values()
        ]

    def test_an_export_that_failed_midway_is_not_well_formed(self) -> None:
        out = io.StringIO()
        with pytest.raises(RuntimeError):
            fail_midway(WxrWriter(out))
        with pytest.raises(ET.ParseError):
            ET.fromstring(out.getvalue())  # noqa: S314 - our own output


@pytest.mark.parametrize("target", ["jsonl", "wxr"])
@pytest.mark.parametrize(
    ("fmt", "fixture"),
    [
        ("wxr", "wordpress-1.2.xml"),
        ("disqus", "disqus.xml"),
        ("remark42", "remark42.jsonl"),
        ("commento", "commento.json"),
    ],
)
def test_imported_comments_export_and_come_back_the_same(
    tmp_path: Path, fmt: str, fixture: str, target: str
) -> None:
    imported = collect(read(fmt, FIXTURES / fixture))
    threads = [
        (thread, [c for c in imported.comments.values() if c.thread.key == thread.key])
        for thread in imported.threads
    ]
    threads = [(thread, comments) for thread, comments in threads if comments]
    path = tmp_path / f"export.{target}"
    path.write_bytes(export(target, threads, include_emails=True, include_addresses=True))
    back = collect(read(target, path))
    assert [t.key for t in back.threads] == [t.key for t, _ in threads]
    originals = [comment for _, comments in threads for comment in comments]
    returned = list(back.comments.values())
    assert [c.status for c in returned] == [c.status for c in originals]
    assert [c.text for c in returned] == [c.text for c in originals]
    assert [c.kind for c in returned] == [c.kind for c in originals]
    assert [c.created_at.replace(microsecond=0) for c in returned] == [
        c.created_at.replace(microsecond=0) for c in originals
    ]
    positions = {c.source_id: n for n, c in enumerate(originals)}
    back_positions = {c.source_id: n for n, c in enumerate(returned)}
    assert [
        None if c.parent_source_id is None else back_positions[c.parent_source_id] for c in returned
    ] == [None if c.parent_source_id is None else positions[c.parent_source_id] for c in originals]


def test_pingbacks_keep_their_kind_in_both_formats(tmp_path: Path) -> None:
    thread, comments = next(synthetic_threads(1, 3))
    comments = [replace(comments[0], kind=CommentKind.TRACKBACK), *comments[1:]]
    for target in ("jsonl", "wxr"):
        path = tmp_path / f"kinds.{target}"
        path.write_bytes(export(target, [(thread, comments)]))
        assert collect(read(target, path)).comments["1"].kind is CommentKind.TRACKBACK
