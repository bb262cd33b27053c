"""The floor of an import: only the unavoidable part of ``moderation import wxr``.

    python bench/import_floor.py /tmp/import-files/comments.wxr
    python bench/import_floor.py FILE --postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench_import
    python bench/import_floor.py FILE --parse-only --parser lxml

Stream-parses the WXR (the standard library's expat tree builder, as our reader; or
``lxml.etree.iterparse`` with a tag filter when lxml is installed and ``--parser lxml``),
takes each ``<wp:comment>``'s fields with no cleaning, sanitising, normalising, rules,
features or reports, gives each comment its id and its parent's (a dict of source ids),
each new thread an id, and inserts the bare rows in batches of 1,000, one transaction each:
SQLite ``executemany``, PostgreSQL ``COPY … FROM STDIN`` (``--executemany``: psycopg's
``executemany`` instead). Pingbacks and trackbacks are skipped as the import skips them.

Two schemas (``--schema``):

* ``bare``: threads and comments with the columns the import fills and one index, the
  unique (site, source, source id) that makes a re-run idempotent: what any importer into
  any schema pays.
* ``unsearched``: ``ours`` below without its search index (the trigger dropped, the GIN
  indexes dropped): the trigram index's share.
* ``ours``: the migrated schema of this project (its 13 comment indexes; SQLite's FTS5
  trigram table, filled per batch by one ``INSERT … SELECT`` merging sixteen segments at
  a time, as the import does;
  PostgreSQL's three GIN trigram indexes): what an import into this schema cannot avoid.

Each run is a fresh process on a new SQLite file or the PostgreSQL database named
(emptied first). Prints comments/s (wall, and per CPU second of this process; on
PostgreSQL also with the server backend's CPU from ``/proc``) and CPU µs per comment.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

_RUN = r"""
import json, os, sqlite3, sys, tempfile, time
import xml.etree.ElementTree as ET

path, url, schema, parser_name, mode = sys.argv[1:6]
sys.path.append(sys.argv[6])  # bench/
from fresh_site import bench_app, fresh_database, migrate_with_site
from worker_shares import cpu_seconds
WP = "{http://wordpress.org/export/1.2/}"
COMMENT = WP + "comment"
FIELDS = {WP + name: index for index, name in enumerate((
    "comment_id", "comment_author", "comment_author_email", "comment_author_url",
    "comment_author_IP", "comment_date_gmt", "comment_content", "comment_approved",
    "comment_type", "comment_parent", "comment_agent"))}
STATUS = {"1": "approved", "0": "pending", "spam": "spam", "trash": "deleted"}
BATCH = 1000

def server_cpu(backend):
    return cpu_seconds([backend]).get(backend, 0.0) if backend else 0.0

def fields_of(comment):
    # a <wp:comment>'s fields, in FIELDS' order (None: absent)
    values = [None] * 11
    for child in comment:
        index = FIELDS.get(child.tag)
        if index is not None:
            values[index] = child.text
    return values

def comments_stdlib(path):
    # the reader's way: expat's C tree builder, events at each end, records dropped
    item_key = None
    channel = item = None
    for event, element in ET.iterparse(path, events=("start", "end")):
        tag = element.tag
        if event == "start":
            if tag == "item":
                item, item_key = element, None
            elif tag == "channel":
                channel = element
            continue
        if tag == COMMENT:
            if item_key is None:
                item_key = item.findtext("link") or item.findtext("guid")
            yield item_key, fields_of(element)
            item.remove(element)
        elif tag == "item":
            channel.remove(element)
            item = None

def comments_lxml(path):
    from lxml import etree
    item_key = None
    for _event, element in etree.iterparse(
        path, events=("end",), tag=(COMMENT, "item", "link"), resolve_entities=False,
        no_network=True, huge_tree=False,
    ):
        tag = element.tag
        if tag == "link":
            item_key = element.text
            continue
        if tag == COMMENT:
            yield item_key, fields_of(element)
        element.clear(keep_tail=False)
        if tag == "item":
            while element.getprevious() is not None:
                del element.getparent()[0]

comments = comments_lxml if parser_name == "lxml" else comments_stdlib
import gc
# the cycle collector as the import sets it (importing._bulk_collection)
gc.set_threshold(50_000, *gc.get_threshold()[1:])
load = os.getloadavg()[0]
started, cpu = time.perf_counter(), time.process_time()
if mode == "parse":
    count = sum(1 for _ in comments(path))
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - started
    print(json.dumps({"imported": count, "wall": wall, "cpu": cpu, "server_cpu": 0, "load": load}))
    raise SystemExit

postgres = url.startswith("postgresql")
folder = tempfile.mkdtemp(prefix="import-floor-")
url = fresh_database(url if postgres else "", folder, "floor.db")

BARE = [
    "CREATE TABLE sites (id INTEGER PRIMARY KEY)",
    "CREATE TABLE threads (id INTEGER PRIMARY KEY, site_id INTEGER NOT NULL REFERENCES sites(id),"
    " key VARCHAR(255) NOT NULL, title VARCHAR(300) NOT NULL, url VARCHAR(2000) NOT NULL,"
    " UNIQUE (site_id, key))",
    "CREATE TABLE comments (id INTEGER PRIMARY KEY, site_id INTEGER NOT NULL REFERENCES sites(id),"
    " thread_id INTEGER NOT NULL REFERENCES threads(id), parent_id INTEGER REFERENCES comments(id),"
    " author VARCHAR(245) NOT NULL, email VARCHAR(100) NOT NULL, url VARCHAR(200) NOT NULL,"
    " text TEXT NOT NULL, html TEXT NOT NULL, status VARCHAR(20) NOT NULL,"
    " created_at TIMESTAMP NOT NULL, ip_truncated VARCHAR(64) NOT NULL,"
    " source VARCHAR(20) NOT NULL, source_id VARCHAR(255))",
    "CREATE UNIQUE INDEX uq_comments_site_source ON comments (site_id, source, source_id)",
    "INSERT INTO sites (id) VALUES (1)",
]
if schema in ("ours", "unsearched"):
    app = bench_app(url, folder)
    with app.app_context():
        site_id = migrate_with_site()
else:
    site_id = 1

if postgres:
    import psycopg
    raw = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    if schema == "bare":
        with raw.transaction():
            for statement in BARE:
                raw.execute(statement.replace("INTEGER PRIMARY KEY", "BIGSERIAL PRIMARY KEY"))
    backend = raw.info.backend_pid
    for setting in filter(None, os.environ.get("FLOOR_PG_SET", "").split(";")):
        raw.execute(f"SET {setting}")  # e.g. gin_pending_list_limit = '64MB'
    raw.commit()
    mark = "%s"
else:
    raw = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("PRAGMA synchronous=NORMAL")
    for pragma in filter(None, os.environ.get("FLOOR_SQLITE_PRAGMAS", "").split(";")):
        raw.execute(f"PRAGMA {pragma}")  # e.g. cache_size=-65536
    if schema == "bare":
        raw.executescript(";".join(BARE))
    backend = 0
    mark = "?"
trigger = ""
if not postgres and schema == "ours":
    trigger = raw.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'comments_search_ai'"
    ).fetchone()[0]
    # FTS5 merging sixteen segments at a time, as the import sets it per batch
    raw.execute("INSERT INTO comments_search(comments_search, rank) VALUES ('automerge', 16)")
if schema == "unsearched":
    # our schema without its search index: the trigram indexes' share of the floor
    if postgres:
        with raw.transaction():
            for column in ("text", "author", "email"):
                raw.execute(f"DROP INDEX ix_comments_trgm_{column}")
    else:
        raw.execute("DROP TRIGGER comments_search_ai")

THREAD_COLUMNS = ["id", "site_id", "key", "title", "url"]
COMMENT_COLUMNS = ["id", "site_id", "thread_id", "parent_id", "author", "email", "url", "text",
                   "html", "status", "created_at", "ip_truncated", "source", "source_id"]
if schema != "bare":
    THREAD_COLUMNS += ["is_open", "keep_open", "version", "approved_count", "created_at"]
    COMMENT_COLUMNS += ["root_id", "website_key", "updated_at", "user_agent", "held_by_rule",
                        "held_reason", "email_flagged"]
NOW = "2026-11-29 12:00:00"
EXTRA_THREAD = (True, False, 0, 0, NOW) if schema != "bare" else ()

def insert(table, columns, rows):
    if postgres and mode == "copy":
        with raw.cursor() as cursor, cursor.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
        return
    statement = (f"INSERT INTO {table} ({', '.join(columns)}) "
                 f"VALUES ({', '.join(mark for _ in columns)})")
    if postgres:
        with raw.cursor() as cursor:
            cursor.executemany(statement, rows)
    else:
        raw.executemany(statement, rows)

threads, ids, roots = {}, {}, {}
next_thread = next_comment = 1  # ids given here, as the import takes them before inserting
batch_threads, batch_comments = [], []
count = 0
server = server_cpu(backend)
# the clocks start here: the schema's setup (create_app, migrations) is no part of a floor
started, cpu = time.perf_counter(), time.process_time()

def flush():
    global batch_threads, batch_comments
    if postgres:
        with raw.transaction():
            if batch_threads:
                insert("threads", THREAD_COLUMNS, batch_threads)
            insert("comments", COMMENT_COLUMNS, batch_comments)
    else:
        raw.execute("BEGIN IMMEDIATE")
        if trigger:
            raw.execute("DROP TRIGGER comments_search_ai")
        if batch_threads:
            insert("threads", THREAD_COLUMNS, batch_threads)
        insert("comments", COMMENT_COLUMNS, batch_comments)
        if trigger:
            raw.execute(
                "INSERT INTO comments_search(rowid, text, author, email) SELECT id, text, author, "
                "email FROM comments WHERE id BETWEEN ? AND ?",
                (batch_comments[0][0], batch_comments[-1][0]),
            )
            raw.execute(trigger)
        raw.execute("COMMIT")
    batch_threads, batch_comments = [], []

for key, values in comments(path):
    kind = values[8]
    if kind and kind != "comment":
        continue
    thread_id = threads.get(key)
    if thread_id is None:
        thread_id = threads[key] = next_thread
        next_thread += 1
        batch_threads.append((thread_id, site_id, key, "", key) + EXTRA_THREAD)
    source_id = values[0]
    new_id = ids[source_id] = next_comment
    next_comment += 1
    parent = values[9]
    parent_id = ids.get(parent) if parent and parent != "0" else None
    row = (new_id, site_id, thread_id, parent_id, values[1] or "", values[2] or "",
           values[3] or "", values[6] or "", values[6] or "", STATUS.get(values[7], "pending"),
           values[5], values[4] or "", "wordpress", source_id)
    if schema != "bare":
        row += (roots.get(parent_id) if parent_id else None, "", NOW, values[10] or "",
                "imported", "", False)
        roots[new_id] = row[-7] or new_id
    batch_comments.append(row)
    count += 1
    if len(batch_comments) >= BATCH:
        flush()
if batch_comments:
    flush()
cpu = time.process_time() - cpu
wall = time.perf_counter() - started
server = server_cpu(backend) - server
print(json.dumps({"imported": count, "wall": wall, "cpu": cpu, "server_cpu": server, "load": load}))
"""


def measure(path: Path, url: str, schema: str, parser: str, mode: str) -> dict[str, float]:
    """One floor run in a fresh process."""
    finished = subprocess.run(
        [sys.executable, "-c", _RUN, str(path), url, schema, parser, mode, str(HERE)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(HERE.parent)},
    )
    if finished.returncode != 0:
        raise SystemExit(finished.stderr[-3000:])
    result: dict[str, float] = json.loads(finished.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, help="a WXR that gen_import_files.py wrote")
    parser.add_argument("--postgres", default="", help="a PostgreSQL URL (emptied!) to use")
    parser.add_argument("--sqlite", action="store_true", help="SQLite too, with --postgres")
    parser.add_argument("--schema", choices=("bare", "ours", "unsearched", "all"), default="all")
    parser.add_argument("--parser", choices=("stdlib", "lxml"), default="stdlib")
    parser.add_argument("--parse-only", action="store_true", help="parse, store nothing")
    parser.add_argument("--executemany", action="store_true", help="PostgreSQL: not COPY")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    print(
        "| database | schema | parser | comments | comments/s (wall) | comments/s (CPU) "
        "| µs CPU/comment | µs CPU/comment with the server's | load |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    if args.parse_only:
        targets = [("(none)", "", "-", "parse")]
    else:
        schemas = ("bare", "unsearched", "ours") if args.schema == "all" else (args.schema,)
        mode = "executemany" if args.executemany else "copy"
        targets = []
        for schema in schemas:
            if not args.postgres or args.sqlite:
                targets.append(("SQLite", "", schema, "executemany"))
            if args.postgres:
                targets.append(("PostgreSQL", args.postgres, schema, mode))
    for engine, url, schema, mode in targets:
        for _ in range(args.runs):
            r = measure(args.file, url, schema, args.parser, mode)
            n = r["imported"]
            label = (
                engine if mode != "executemany" or engine == "SQLite" else f"{engine} (executemany)"
            )
            print(
                f"| {label} | {schema} | {args.parser} | {n:,.0f} | {n / r['wall']:,.0f} | "
                f"{n / r['cpu']:,.0f} | {r['cpu'] / n * 1e6:.0f} | "
                f"{(r['cpu'] + r['server_cpu']) / n * 1e6:.0f} | {r['load']:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
