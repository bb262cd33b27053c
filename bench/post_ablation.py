#!/usr/bin/env python3
"""What each part of a comment post costs: the post loop of ``bench/post_profile.py`` run
once with everything on and once with each part switched off (in this process only, by
patching the part out: the product is not changed), and the difference.

    valgrind --tool=callgrind --instr-atstart=no --separate-threads=yes \\
        --callgrind-out-file=OUT python bench/post_ablation.py --backend sqlite|pg --callgrind OUT [--posts 30]
    python bench/post_ablation.py --backend sqlite|pg [--rounds 5] [--posts 300]

Under valgrind (``--callgrind OUT``, the same file name as valgrind's), each variant's
posts are counted in instructions (``OUT.N`` per variant): a count that does not move with
the machine's load (the objects alive before each variant's posts are frozen, ``gc.freeze``,
so a full collection of them cannot land in one variant). Without it, the CPU time of this process (``time.process_time``) per
post, each variant measured once per round, in a rotated order, and the median of the
rounds. Either way, per post: the SQL statements (with BEGIN and COMMIT where psycopg sends
them: each a round trip on PostgreSQL) and the Redis round trips.

Besides the variants of our post, three references measured by the same loop: ``floor``,
the Flask floor of a post (``bench/floor/app.py``, on its own database of the same kind),
``null-route`` (a POST of the same body to a route of our app that only parses the JSON and
answers 202: the test client, Flask and our request hooks) and ``bare-flask`` (the same
route on a bare Flask app). Databases and limits' storage as ``bench/inprocess.py``
(``BENCH_PG_URL``; the floor's PostgreSQL database is its name + ``_floor``).
Run with ``MODERATION_SITE_SETTINGS_STALENESS=3600`` so the site's cached settings are
not re-read in the middle of a slow (valgrind) run.
"""

from __future__ import annotations

import argparse
import functools
import gc
import html
import importlib
import itertools
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

from sqlalchemy import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

import inprocess
import post_profile
import seed_ours

from moderation.models.search import SEARCH_TABLE


@dataclass
class Remembered:
    """What a part's stand-in answers: the real part's first answer (taken during the
    variant's warm-up posts)."""

    values: dict[str, Any] = field(default_factory=dict)

    def first(self, name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        """``real``, called once; its first answer from then on."""

        def stand_in(*args: Any, **kwargs: Any) -> Any:
            if name not in self.values:
                self.values[name] = real(*args, **kwargs)
            return self.values[name]

        return stand_in


#: A variant switches parts off inside an ExitStack (patches undone when it closes).
Switch = Callable[[ExitStack, Remembered], None]


def _route_limit(stack: ExitStack, _memo: Remembered) -> None:
    from moderation.web.limits import limiter

    stack.enter_context(patch.object(limiter, "enabled", False))


def _origin(stack: ExitStack, _memo: Remembered) -> None:
    from moderation.web import door

    stack.enter_context(patch.object(door, "refuse_foreign_origin", lambda _site: None))


def _fields(stack: ExitStack, _memo: Remembered) -> None:
    from moderation.domain.comments import CommentDraft
    from moderation.web import door

    def taken_as_sent(fields: Any, _deliverability: bool) -> CommentDraft:
        return CommentDraft(str(fields["comment"]), str(fields["author"]), str(fields["email"]))

    stack.enter_context(patch.object(door, "validate_draft", taken_as_sent))


def _token_signature(stack: ExitStack, _memo: Remembered) -> None:
    """The token's signature and checks off (its spent row is still written)."""
    from moderation.services import form_tokens

    nonces = itertools.count()
    issued = datetime.now(UTC) - timedelta(seconds=10)

    def unchecked(_token: str, _site: str, _thread: str, _now: datetime) -> Any:
        return form_tokens.FormToken(f"ablation-{os.getpid()}-{next(nonces)}", issued)

    stack.enter_context(patch.object(form_tokens, "check_submitted", unchecked))


def _token(stack: ExitStack, _memo: Remembered) -> None:
    """No form token at all: neither its checks nor its spent row (nor the fill time)."""
    from moderation.services import form_tokens

    stack.enter_context(patch.object(form_tokens, "check_submitted", lambda *_args: None))


def _rows_without(**fields: None) -> Switch:
    """The submission's rows with ``fields`` (``spent_token``, ``assessment``) left out."""

    def switch(stack: ExitStack, _memo: Remembered) -> None:
        from moderation.services import submissions

        real = submissions.write_rows
        stack.enter_context(
            patch.object(submissions, "write_rows", lambda rows: real(replace(rows, **fields)))
        )

    return switch


def _comment_row_only(stack: ExitStack, _memo: Remembered) -> None:
    """Only the comment's own row: no spent token, audit event, counters, assessment."""
    from moderation.extensions import db
    from moderation.services import submission_writes, submissions
    from moderation.services.prepared import prepared

    def comment_only(rows: Any) -> int:
        connection = db.session.connection()
        comment = rows.comment
        statement = prepared(submission_writes._INSERT_COMMENT, connection.dialect, tuple(comment))
        return int(statement.execute(connection, comment).scalar_one())

    stack.enter_context(patch.object(submissions, "write_rows", comment_only))


def _one_row(which: str) -> Switch:
    """SQLite, where each row is a statement of its own: leave out one of them (``audit``,
    ``outcome`` or ``counter``: the status counter with the day's queue depth)."""

    def switch(stack: ExitStack, _memo: Remembered) -> None:
        from moderation.services import events, statistics, submission_writes

        if which == "counter":
            stack.enter_context(patch.object(events, "count_status", lambda *_args: None))
            return
        real = submission_writes.prepared

        def skipping(statement: Any, dialect: Any, keys: tuple[str, ...] = ()) -> Any:
            skipped = (
                statement is submission_writes._INSERT_AUDIT
                if which == "audit"
                else statement is statistics.count_submission_statement(dialect.name)
            )
            if skipped:
                return _Nothing()
            return real(statement, dialect, keys)

        stack.enter_context(patch.object(submission_writes, "prepared", skipping))

    return switch


class _Nothing:
    """A prepared statement that runs nothing."""

    def execute(self, _connection: Any, _params: Any) -> None:
        return None


def _gate(stack: ExitStack, _memo: Remembered) -> None:
    from moderation.ratelimit.admission import Admission
    from moderation.ratelimit.gate import RateGate

    stack.enter_context(patch.object(RateGate, "admit", lambda *_args: Admission()))


def _gate_without(scope: str) -> Switch:
    """The gate without one of its limits (``address``, ``email``, ``site``) or without
    the flood interval (``flood``)."""

    def switch(stack: ExitStack, _memo: Remembered) -> None:
        from moderation.ratelimit.gate import RateGate

        real = RateGate.admit

        def admit(self: Any, checks: Any, flood_keys: Any, flood_seconds: int) -> Any:
            if scope == "flood":
                return real(self, checks, [], flood_seconds)
            return real(self, [c for c in checks if c[0] != scope], flood_keys, flood_seconds)

        stack.enter_context(patch.object(RateGate, "admit", admit))

    return switch


def _first_read(stack: ExitStack, memo: Remembered) -> None:
    from moderation.services import submissions

    stack.enter_context(
        patch.object(submissions, "first_look", memo.first("look", submissions.first_look))
    )


def _render(stack: ExitStack, _memo: Remembered) -> None:
    from moderation.services import submissions

    escaped: Callable[[str, Any], str] = lambda text, _format: f"<p>{html.escape(text)}</p>"  # noqa: E731
    stack.enter_context(patch.object(submissions, "render_text", escaped))


def _read_html(stack: ExitStack, _memo: Remembered) -> None:
    from moderation.domain.reading import Reading
    from moderation.services import submissions

    stack.enter_context(
        patch.object(submissions, "read_html", lambda text: Reading(text, text, (), ()))
    )


def _rules(stack: ExitStack, memo: Remembered) -> None:
    """The rules and the author's signals off; the classifier is still asked (and its
    assessment written), the decision is the real one of the first post."""
    from moderation.services import submissions

    real = submissions.decide
    remembered = memo.first("decision", real)

    def decided(draft: Any, rules: Any, signals: Any, classify: Any, **options: Any) -> Any:
        classify()
        return remembered(draft, rules, signals, classify, **options)

    stack.enter_context(patch.object(submissions, "decide", decided))
    no_signals = {"author_has_approved_comment": False, "blocked_by": None}
    stack.enter_context(
        patch.object(
            submissions,
            "author_and_content_signals",
            lambda *_args, **_options: {**no_signals, "author_comment_count": None},
        )
    )


def _classifier(stack: ExitStack, memo: Remembered) -> None:
    """The classifier's features, counts and scoring off; the first post's assessment is
    kept (and written) for every post. (Where a post reads the counts ahead, in its first
    read, that read asks for none.)"""
    from moderation.services import submissions

    real = submissions.classifier
    if hasattr(submissions, "counts_wanted"):
        features = memo.first("features", submissions.spam.draft_features)
        stack.enter_context(patch.object(submissions.spam, "draft_features", features))
        stack.enter_context(patch.object(submissions, "counts_wanted", lambda *_args: ((), ())))

    def asked(site: Any, draft: Any, client_ip: Any, assessed: list[Any], *ahead: Any) -> Any:
        if "assessment" not in memo.values:
            return _remembering(real(site, draft, client_ip, assessed, *ahead), assessed, memo)

        def classify() -> Any:
            assessed.append(memo.values["assessment"])
            return memo.values["assessment"].result

        return classify

    stack.enter_context(patch.object(submissions, "classifier", asked))


def _remembering(classify: Any, assessed: list[Any], memo: Remembered) -> Any:
    def first() -> Any:
        score = classify()
        memo.values["assessment"] = assessed[-1]
        return score

    return first


def _notifications(stack: ExitStack, _memo: Remembered) -> None:
    from moderation.services import notifications

    stack.enter_context(patch.object(notifications, "after_submit", lambda *_a, **_k: None))


def _metrics(stack: ExitStack, _memo: Remembered) -> None:
    from moderation.services import submissions

    stack.enter_context(patch.object(submissions, "count_submission", lambda *_args: None))


def _commit(stack: ExitStack, _memo: Remembered) -> None:
    """The transaction rolled back instead of committed (what a commit costs more)."""
    from moderation.extensions import db
    from moderation.services import submissions

    class RollingBack:
        def __getattr__(self, name: str) -> Any:
            return getattr(db.session, name)

        def commit(self) -> None:
            db.session.rollback()

    stack.enter_context(patch.object(submissions, "db", type("Db", (), {"session": RollingBack()})))


def _together(*switches: Switch) -> Switch:
    def switch(stack: ExitStack, memo: Remembered) -> None:
        for each in switches:
            each(stack, memo)

    return switch


#: (name, what is off, switch). "all checks" leaves what the floor does too (the thread's
#: read, the comment's row, the commit) and our view and request hooks.
VARIANTS: list[tuple[str, str, Switch | None]] = [
    ("everything on", "", None),
    ("route limit", "Flask-Limiter's per-address route limit", _route_limit),
    ("origin", "the Origin check", _origin),
    ("fields", "field validation (normalising, email_validator)", _fields),
    ("token signature", "the form token's signature, age and binding", _token_signature),
    ("form token", "the form token altogether (also its spent row and the fill time)", _token),
    ("gate", "the three limits and the flood interval", _gate),
    ("limit address", "the per-address limit", _gate_without("address")),
    ("limit email", "the per-email limit", _gate_without("email")),
    ("limit site", "the per-site limit", _gate_without("site")),
    ("flood", "the flood interval", _gate_without("flood")),
    ("first read", "the first read (thread, duplicate, block list, hooks)", _first_read),
    ("render", "rendering and sanitising (markdown + nh3)", _render),
    ("read html", "reading the rendered text (links, text)", _read_html),
    ("rules", "the rules and the author's signals", _rules),
    ("classifier", "the classifier's features and counts", _classifier),
    ("spent row", "the spent token's row", _rows_without(spent_token=None)),
    ("audit row", "the audit event's row (SQLite)", _one_row("audit")),
    ("counter row", "the status counter and queue depth (SQLite)", _one_row("counter")),
    ("outcome row", "the day's outcome count (SQLite)", _one_row("outcome")),
    ("assessment row", "the classifier's assessment row", _rows_without(assessment=None)),
    ("rows but the comment", "every row but the comment's", _comment_row_only),
    ("notifications", "notifications (moderators, mail settings)", _notifications),
    ("metrics", "the submission metric", _metrics),
    ("commit", "the commit (rolled back instead)", _commit),
    (
        "all checks",
        "all of the above but the first read and the commit",
        _together(
            _route_limit,
            _origin,
            _fields,
            _token,
            _gate,
            _render,
            _read_html,
            _rules,
            _classifier,
            _comment_row_only,
            _notifications,
            _metrics,
        ),
    ),
]


class RedisTrips:
    """Round trips to Redis from this process (a pipeline or a script is one)."""

    def __init__(self) -> None:
        from redis.connection import AbstractConnection

        self.count = 0
        real = AbstractConnection.send_packed_command

        def counted(connection: Any, command: Any, check_health: bool = True) -> None:
            self.count += 1
            real(connection, command, check_health)

        AbstractConnection.send_packed_command = counted  # type: ignore[method-assign]


@dataclass
class Loop:
    """One way to post: ``post(number)``, its warm-up and its statements' counter."""

    post: Callable[[int], None]
    counter: Any
    switch: Switch | None = None
    #: SQLite: the full-text index the posts add to (ours; the floor has none)
    search_table: str = ""

    def settle(self) -> None:
        """SQLite, before each variant's posts (not counted): the write-ahead log moved
        into the database file and emptied, and the full-text index merged into one
        segment. Either would otherwise do a large piece of work after some number of
        posts (a checkpoint every ~1,000 pages, a merge of the index's segments every
        4, 16, 64... inserts: millions of instructions each), landing in one variant
        and not another; this way every variant starts from the same state, and its own
        posts' merges are the same ones for every variant."""
        if self.search_table:
            self._sqlite(
                f"INSERT INTO {self.search_table}({self.search_table}) VALUES ('optimize')"  # noqa: S608 - a constant
            )
        self._sqlite("PRAGMA wal_checkpoint(TRUNCATE)")

    def checkpoint(self) -> None:
        """SQLite, after each variant's posts (counted): each variant pays for moving its
        own pages out of the write-ahead log."""
        self._sqlite("PRAGMA wal_checkpoint(PASSIVE)")

    def _sqlite(self, sql: str) -> None:
        engine = self.counter.engine if self.counter is not None else None
        if engine is not None and engine.dialect.name == "sqlite":
            statements = self.counter.count  # (not a statement of the posts)
            with engine.begin() as connection:
                connection.exec_driver_sql(sql)
            self.counter.count = statements


def null_poster(app: Any) -> Callable[[int], None]:
    """POSTs of the benchmark's body to a route that parses it and answers 202."""
    client = app.test_client()
    issued = datetime.now(UTC) - timedelta(seconds=10)

    def post(number: int) -> None:
        body, headers = inprocess.post_fields(number, issued)
        response = client.post("/bench/null", json=body, headers=headers)
        assert response.status_code == 202, response.status_code

    return post


def add_null_route(app: Any) -> None:
    """``POST /bench/null`` on ``app`` (before its first request)."""
    from flask import jsonify, request

    def null() -> Any:
        return jsonify(received=len(request.get_json())), 202

    app.add_url_rule("/bench/null", "bench_null", null, methods=["POST"])
    if "csrf" in app.extensions:
        app.extensions["csrf"].exempt(null)


def floor_loop(backend: str, folder: Path) -> Loop:
    """The floor app (bench/floor/app.py) on its own fresh database."""
    if backend == "pg":
        url = make_url(os.environ.get("BENCH_PG_URL", inprocess.DEFAULT_PG_URL))
        floor_url = url.set(database=f"{url.database}_floor").render_as_string(hide_password=False)
        inprocess.fresh_postgres(floor_url)
    else:
        floor_url = f"sqlite:///{folder / 'floor.db'}"
    os.environ["FLOOR_DATABASE_URL"] = floor_url
    sys.path.insert(0, str(Path(__file__).resolve().parent / "floor"))
    floor = importlib.import_module("app")
    floor.create()
    client = floor.app.test_client()
    issued = datetime.now(UTC) - timedelta(seconds=10)

    def post(number: int) -> None:
        body, headers = inprocess.post_fields(number, issued)
        response = client.post(
            "/api/v1/sites/bench/comments?thread=%2Fbench%2Ffresh", json=body, headers=headers
        )
        assert response.status_code == 202, response.status_code

    with floor.app.app_context():
        counter = inprocess.Counter.of_engine(floor.db.engine)
    return Loop(post, counter)


def bare_flask_loop() -> Loop:
    """The null route on a bare Flask app."""
    from flask import Flask

    bare = Flask("bare")
    add_null_route(bare)
    return Loop(null_poster(bare), None)


@contextmanager
def switched(loop: Loop, memo: Remembered) -> Iterator[None]:
    with ExitStack() as stack:
        if loop.switch is not None:
            loop.switch(stack, memo)
        yield


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "pg"], default="sqlite")
    parser.add_argument("--door", choices=["json", "form"], default="json")
    parser.add_argument("--posts", type=int, default=300, help="measured posts per variant")
    parser.add_argument("--warm", type=int, default=3, help="unmeasured posts per variant")
    parser.add_argument("--rounds", type=int, default=5, help="CPU time: rounds (median)")
    parser.add_argument("--callgrind", metavar="OUT", help="valgrind's --callgrind-out-file")
    parser.add_argument(
        "--first-number",
        type=int,
        default=1,
        help="of the posts (their addresses and emails): two runs on one Redis apart",
    )
    parser.add_argument(
        "--only", action="append", default=[], metavar="VARIANT", help="e.g. --only gate"
    )
    parser.add_argument(
        "--from-log", metavar="FILE", help="only print the table of an earlier run's log"
    )
    args = parser.parse_args()
    if args.from_log:
        print(report(*_read_log(Path(args.from_log)), args))
        return 0
    wanted = [v for v in VARIANTS if not args.only or v[0] in args.only or v[0] == VARIANTS[0][0]]
    with tempfile.TemporaryDirectory(prefix="post-ablation-") as folder:
        folder_path = Path(folder)
        folder_path.chmod(0o700)
        app = inprocess.make_app(args.backend, folder_path)
        add_null_route(app)
        with app.app_context():
            seed_ours.ensure_site()  # (not the read workloads' threads)
        counter = inprocess.Counter(app)
        redis_trips = RedisTrips()
        ours = post_profile.poster(app, args.door)
        loops: dict[str, Loop] = {
            name: Loop(ours, counter, switch, SEARCH_TABLE) for name, _, switch in wanted
        }
        loops["null-route"] = Loop(null_poster(app), counter)
        loops["bare-flask"] = bare_flask_loop()
        loops["floor"] = floor_loop(args.backend, folder_path)
        names = list(loops)
        if args.callgrind:
            names.append(names[0])  # everything on again, last: does the count drift?
        numbers = itertools.count(args.first_number)
        results: dict[str, list[float]] = {name: [] for name in loops}
        statements: dict[str, float] = {}
        trips: dict[str, float] = {}
        rounds = 1 if args.callgrind else args.rounds
        for round_number in range(rounds):
            order = names[round_number % len(names) :] + names[: round_number % len(names)]
            for name in order:
                loop, memo = loops[name], Remembered()
                warm = args.warm * (4 if round_number == 0 and name == names[0] else 1)
                with switched(loop, memo):
                    for _ in range(warm):
                        loop.post(next(numbers))
                    batch = [next(numbers) for _ in range(args.posts)]
                    if loop.counter is not None:
                        loop.counter.count = 0
                    # a full collection over every object of the process costs millions of
                    # instructions: one landing in a variant's posts would be charged to
                    # that variant alone. The young generations are still collected.
                    gc.collect()
                    gc.freeze()
                    loop.settle()
                    redis_trips.count = 0
                    if args.callgrind:
                        post_profile.counted(functools.partial(_run, loop, batch), name)
                        results[name].append(_last_dump_total(args.callgrind) / args.posts)
                    else:
                        started = time.process_time()
                        _run(loop, batch)
                        results[name].append(1000 * (time.process_time() - started) / args.posts)
                    statements[name] = (
                        loop.counter.count / args.posts if loop.counter is not None else 0.0
                    )
                    trips[name] = redis_trips.count / args.posts
                    gc.unfreeze()
                inprocess.log(
                    f"{name}: {results[name][-1]:,.3f} per post, {statements[name]:.2f} "
                    f"statements, {trips[name]:.2f} Redis round trips"
                )
    print(report(results, statements, trips, wanted, args))
    return 0


def _run(loop: Loop, numbers: list[int]) -> None:
    for number in numbers:
        loop.post(number)
    loop.checkpoint()


def _last_dump_total(prefix: str) -> float:
    """The ``totals:`` line of callgrind's newest dump, ``prefix.N``, or of its main thread,
    ``prefix.N-01`` (valgrind's ``--separate-threads=yes``, which leaves out the
    instructions of background threads: ``limits``' in-memory storage runs a timer thread
    every few milliseconds of wall time, a count that would move with the machine's load).
    Its ``summary:`` says 0 when counting was switched on and off by hand."""
    folder, name = Path(prefix).parent, Path(prefix).name
    dumps: dict[int, Path] = {}
    for path in folder.glob(f"{name}.*"):
        number, _, thread = path.name[len(name) + 1 :].partition("-")
        if number.isdigit() and thread in ("", "01"):
            dumps[int(number)] = path
    newest = dumps[max(dumps)]
    for line in reversed(newest.read_text().splitlines()):
        if line.startswith("totals:"):
            return float(line.split()[1])
    raise ValueError(f"no totals in {newest}")


def _read_log(
    path: Path,
) -> tuple[dict[str, list[float]], dict[str, float], dict[str, float], list[Any]]:
    """The results of an earlier run, from its log lines (in the order measured)."""
    results: dict[str, list[float]] = {}
    statements: dict[str, float] = {}
    trips: dict[str, float] = {}
    for line in path.read_text().splitlines():
        found = re.match(
            r"\[[\d:]+\] (.+): ([\d,.]+) per post, ([\d.]+) statements, ([\d.]+) Redis", line
        )
        if found:
            name = found[1]
            results.setdefault(name, []).append(float(found[2].replace(",", "")))
            statements[name], trips[name] = float(found[3]), float(found[4])
    wanted = [variant for variant in VARIANTS if variant[0] in results]
    return results, statements, trips, wanted


def report(
    results: dict[str, list[float]],
    statements: dict[str, float],
    trips: dict[str, float],
    wanted: list[tuple[str, str, Switch | None]],
    args: argparse.Namespace,
) -> str:
    unit = "instructions" if args.callgrind else "CPU ms"
    scale = 1e-6 if args.callgrind else 1.0
    suffix = " M" if args.callgrind else ""
    median = {name: statistics.median(values) for name, values in results.items()}
    # under valgrind: the last "everything on", measured after every other variant (the
    # first one still paid some of the process's warming up: psycopg prepares a statement
    # on its fifth run, for one)
    base = results[VARIANTS[0][0]][-1] if args.callgrind else median[VARIANTS[0][0]]
    median[VARIANTS[0][0]] = base
    what = {name: off for name, off, _ in wanted}
    lines = [
        f"{args.backend}, {args.door} door, {args.posts} posts per variant"
        + ("" if args.callgrind else f", median of {args.rounds} rounds"),
        "",
        f"| variant (off) | {unit} per post | saved | share of the post | spread "
        "| statements per post | Redis round trips per post |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, values in results.items():
        value = median[name]
        saved = base - value if name in what and name != VARIANTS[0][0] else None
        spread = f"{min(values) * scale:.3f}-{max(values) * scale:.3f}" if len(values) > 1 else ""
        label = f"{name}: {what[name]}" if what.get(name) else name
        lines.append(
            f"| {label} | {value * scale:.3f}{suffix} | "
            + (f"{saved * scale:.3f}{suffix} | {saved / base:.1%}" if saved is not None else " | ")
            + f" | {spread} | {statements.get(name, 0):.2f} | {trips.get(name, 0):.2f} |"
        )
    floor = median["floor"]
    lines += [
        "",
        f"floor × 2.82 / 2 (in process, without the HTTP server's share): "
        f"{floor * 1.41 * scale:.3f}{suffix}; everything on / floor: {base / floor:.2f}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
