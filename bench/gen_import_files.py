"""Write large import files of every streaming format, for the import speed and memory bench.

    python bench/gen_import_files.py                      # 10^6 comments of each, in ./import-files
    python bench/gen_import_files.py 100000 --out /tmp/f  # 10^5
    python bench/gen_import_files.py 1000000 --formats wxr,jsonl --per-thread 200

Writes ``comments.wxr`` (WordPress WXR 1.2, through our WXR writer), ``comments.jsonl``
(our export, through our JSONL writer), ``disqus.xml``, ``remark42.jsonl.gz`` and
``isso.db``: the same comments in each, deterministic (seeded), with what real sites have
— replies a few levels deep, every status, pingbacks and trackbacks, HTML, unicode,
IPv4 and IPv6 addresses, texts of varied length. The files are large (about 1.1 GB of WXR
per million comments): never commit them.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

from moderation.porting import (
    CommentKind,
    CommentRecord,
    JsonlWriter,
    Status,
    TextFormat,
    ThreadRecord,
    WxrWriter,
)

FORMATS = ("wxr", "jsonl", "disqus", "remark42", "isso")
_WORDS = (
    "coffee",
    "espresso",
    "ristretto",
    "crema",
    "roast",
    "bean",
    "grinder",
    "water",
    "pressure",
    "milk",
    "latte",
    "cup",
    "morning",
    "naïve",
    "café",
    "jalapeño",
    "façade",
    "déjà",
    "vu",
    "美味しい",
    "コーヒー",
    "кофе",
    "قهوة",
    "☕",
    "thanks",
    "great",
    "post",
    "agreed",
    "though",
    "really",
    "think",
    "would",
    "could",
    "maybe",
    "never",
    "always",
    "link",
    "source",
    "example",
)
_STATUSES = (
    [Status.APPROVED] * 80 + [Status.PENDING] * 8 + [Status.SPAM] * 6 + [Status.DELETED] * 4
) + [Status.REJECTED] * 2
_ISSO_MODES = {Status.APPROVED: 1, Status.PENDING: 2, Status.DELETED: 4}


def threads(
    total: int, per_thread: int, seed: int = 18
) -> Iterator[tuple[ThreadRecord, list[CommentRecord]]]:
    """``total`` comments in threads of about ``per_thread``, the same for every format."""
    rng = random.Random(seed)  # noqa: S311 - sample data, not secrets
    start = datetime(2015, 1, 1, tzinfo=UTC)
    made = number = 0
    while made < total:
        number += 1
        size = min(total - made, max(1, int(rng.expovariate(1 / per_thread))))
        thread = ThreadRecord(
            key=f"/{2015 + number % 11}/{number % 12 + 1:02d}/post-{number}/",
            title=f"Post {number}: {' '.join(rng.choices(_WORDS, k=4))}",
            url=f"https://blog.example.com/{2015 + number % 11}/{number % 12 + 1:02d}/post-{number}/",
            source_id=str(number),
            is_open=rng.random() > 0.1,
        )
        comments: list[CommentRecord] = []
        for _ in range(size):
            made += 1
            parent = (
                rng.choice(comments[-5:]).source_id if comments and rng.random() < 0.4 else None
            )
            kind = CommentKind.COMMENT
            roll = rng.random()
            if roll < 0.015:
                kind = CommentKind.PINGBACK
            elif roll < 0.02:
                kind = CommentKind.TRACKBACK
            words = " ".join(rng.choices(_WORDS, k=rng.randint(5, 120)))
            text = f"<p>{words}</p>" if rng.random() < 0.5 else words
            if rng.random() < 0.1:
                text += ' <a href="https://example.org/read">a <em>link</em></a> &amp; more'
            status = rng.choice(_STATUSES)
            comments.append(
                CommentRecord(
                    source="bench",
                    source_id=str(made),
                    thread=thread,
                    parent_source_id=parent if kind is CommentKind.COMMENT else None,
                    author=f"Person {rng.randint(1, total // 3 + 1)}",
                    email=f"person{made}@example.org",
                    website=f"https://site{made % 1000}.example.net/"
                    if rng.random() < 0.3
                    else None,
                    ip=f"198.51.{made % 256}.{made // 256 % 256}"
                    if rng.random() < 0.8
                    else f"2001:db8::{made:x}",
                    user_agent=None,
                    created_at=start + timedelta(seconds=made * 97 + rng.randint(0, 90)),
                    text=text,
                    text_format=TextFormat.HTML,
                    source_status=status.value,
                    status=status,
                    kind=kind,
                )
            )
        yield thread, comments


def write_wxr(path: Path, total: int, per_thread: int) -> None:
    with (
        path.open("w", encoding="utf-8") as out,
        WxrWriter(
            out,
            site_title="Bench",
            site_url="https://blog.example.com",
            include_emails=True,
            include_addresses=True,
        ) as writer,
    ):
        for thread, comments in threads(total, per_thread):
            writer.write_thread(thread, comments)


def write_jsonl(path: Path, total: int, per_thread: int) -> None:
    with (
        path.open("w", encoding="utf-8") as out,
        JsonlWriter(out, site="bench", include_emails=True, include_addresses=True) as writer,
    ):
        for thread, comments in threads(total, per_thread):
            writer.write_thread(thread, comments)


def write_disqus(path: Path, total: int, per_thread: int) -> None:
    """Disqus lists every thread first, then every post."""
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="utf-8"?>\n<disqus xmlns="http://disqus.com" '
            'xmlns:dsq="http://disqus.com/disqus-internals">\n'
            '<category dsq:id="1"><forum>bench</forum><title>General</title></category>\n'
        )
        for thread, _ in threads(total, per_thread):
            out.write(
                f'<thread dsq:id="{thread.source_id}"><id>post-{thread.source_id}</id>'
                f"<forum>bench</forum><link>{escape(thread.url)}</link>"
                f"<title>{escape(thread.title)}</title><createdAt>2015-01-01T00:00:00Z</createdAt>"
                f"<isClosed>{str(not thread.is_open).lower()}</isClosed></thread>\n"
            )
        for thread, comments in threads(total, per_thread):
            for comment in comments:
                parent = (
                    f'<parent dsq:id="{comment.parent_source_id}"/>'
                    if comment.parent_source_id
                    else ""
                )
                out.write(
                    f'<post dsq:id="{comment.source_id}"><id/>'
                    f"<message><![CDATA[{comment.text}]]></message>"
                    f"<createdAt>{comment.created_at.strftime('%Y-%m-%dT%H:%M:%SZ')}</createdAt>"
                    f"<isDeleted>{str(comment.status is Status.DELETED).lower()}</isDeleted>"
                    f"<isSpam>{str(comment.status is Status.SPAM).lower()}</isSpam>"
                    f"<author><email>{comment.email}</email><name>{escape(comment.author or '')}</name>"
                    "<isAnonymous>false</isAnonymous></author>"
                    f"<ipAddress>{comment.ip}</ipAddress>"
                    f'<thread dsq:id="{thread.source_id}"/>{parent}</post>\n'
                )
        out.write("</disqus>\n")


def write_remark42(path: Path, total: int, per_thread: int) -> None:
    """Remark42's backup: gzip, a metadata line, then one comment a line."""
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as out:
        out.write(json.dumps({"version": 1, "users": [], "posts": []}) + "\n")
        for thread, comments in threads(total, per_thread):
            for comment in comments:
                line = {
                    "id": f"c{comment.source_id}",
                    "pid": f"c{comment.parent_source_id}" if comment.parent_source_id else "",
                    "text": comment.text,
                    "user": {
                        "name": comment.author,
                        "id": f"u{comment.author}",
                        "picture": "",
                        "ip": "",
                        "admin": False,
                    },
                    "locator": {"site": "bench", "url": thread.url},
                    "score": 0,
                    "time": comment.created_at.isoformat().replace("+00:00", "Z"),
                    "title": thread.title,
                }
                if comment.status is Status.DELETED:
                    line["delete"] = True
                out.write(json.dumps(line, ensure_ascii=False) + "\n")


def write_isso(path: Path, total: int, per_thread: int) -> None:
    """Isso's schema; statuses Isso lacks (spam, rejected) are left out, as Isso would."""
    path.unlink(missing_ok=True)
    connection = sqlite3.connect(path)
    connection.executescript(
        "CREATE TABLE threads (id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE, title VARCHAR(256));"
        "CREATE TABLE comments (tid REFERENCES threads(id), id INTEGER PRIMARY KEY, parent INTEGER,"
        " created FLOAT NOT NULL, modified FLOAT, mode INTEGER, remote_addr VARCHAR, text VARCHAR,"
        " author VARCHAR, email VARCHAR, website VARCHAR, likes INTEGER DEFAULT 0,"
        " dislikes INTEGER DEFAULT 0, voters BLOB NOT NULL, notification INTEGER NOT NULL DEFAULT 0);"
    )
    for thread, comments in threads(total, per_thread):
        connection.execute(
            "INSERT INTO threads VALUES (?, ?, ?)",
            (int(thread.source_id), thread.key, thread.title),
        )
        connection.executemany(
            "INSERT INTO comments (tid, id, parent, created, mode, remote_addr, text, author, email,"
            " website, voters) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, x'00')",
            [
                (
                    int(thread.source_id),
                    int(c.source_id),
                    int(c.parent_source_id) if c.parent_source_id else None,
                    c.created_at.timestamp(),
                    _ISSO_MODES.get(c.status, 2),
                    c.ip,
                    c.text,
                    c.author,
                    c.email,
                    c.website,
                )
                for c in comments
            ],
        )
    connection.commit()
    connection.close()


WRITERS = {
    "wxr": ("comments.wxr", write_wxr),
    "jsonl": ("comments.jsonl", write_jsonl),
    "disqus": ("disqus.xml", write_disqus),
    "remark42": ("remark42.jsonl.gz", write_remark42),
    "isso": ("isso.db", write_isso),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "comments", nargs="?", type=int, default=1_000_000, help="comments per file"
    )
    parser.add_argument("--out", type=Path, default=Path("import-files"), help="folder to write to")
    parser.add_argument(
        "--formats", default=",".join(FORMATS), help="comma-separated: " + ", ".join(FORMATS)
    )
    parser.add_argument("--per-thread", type=int, default=50, help="average comments per thread")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for fmt in args.formats.split(","):
        name, write = WRITERS[fmt.strip()]
        path = args.out / name
        started = time.perf_counter()
        write(path, args.comments, args.per_thread)
        took = time.perf_counter() - started
        print(f"{fmt:9} {path}  {path.stat().st_size / 1e6:,.0f} MB  {took:.1f} s", flush=True)


if __name__ == "__main__":
    main()
