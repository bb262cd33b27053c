"""The system suite's ledger: every answer the clients got held against what the database
holds (nothing lost, doubled, invented or misattributed), the servers' logs boiled down,
and the counts reported at the end of the session."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.system_harness import LOCKED, MARKER, TRACEBACK, LoadRun


@dataclass
class Counts:
    """What the clients saw, held against what the database holds."""

    sent: int = 0  # submissions sent (POSTs)
    acked: int = 0  # 2xx answers
    stored: int = 0  # comment rows in the database
    lost: int = 0  # acknowledged, not stored
    duplicated: int = 0  # extra rows for one submission
    phantom: int = 0  # rows no request of this run sent
    misattributed: int = 0  # an answer describing another comment than its request's
    http_5xx: int = 0  # any 5xx, form tokens included
    http_503: int = 0
    http_500: int = 0
    limited: int = 0  # 429
    refused: int = 0  # other 4xx
    connection_errors: int = 0  # no HTTP answer at all
    locked: int = 0  # "database is locked" in an answer
    tracebacks: int = 0  # a traceback in an answer
    token_failures: int = 0  # form tokens not issued (the comment was not sent)
    stored_unacked: int = 0  # not acknowledged, stored anyway (5xx, cut connections, 4xx)
    stored_refused: int = 0  # refused with a 4xx, stored anyway
    examples: list[str] = field(default_factory=list)

    def line(self) -> str:
        names = [f.name for f in fields(self) if f.name != "examples"]
        return ", ".join(f"{name}={getattr(self, name)}" for name in names)

    def example(self, message: str) -> None:
        if len(self.examples) < 12:
            self.examples.append(message)


def stored_comments(database_url: str, after_id: int = 0) -> list[dict[str, Any]]:
    """Every comment row (after ``after_id``: stored since a moment), read with a
    connection of our own."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT id, author, email, text, html, ip_truncated FROM comments"
                    " WHERE id > :after"
                ),
                {"after": after_id},
            ).mappings()
            return [dict(row) for row in rows]
    finally:
        engine.dispose()


def last_comment_id(database_url: str) -> int:
    """The highest comment id so far (0: none). Ids only grow: rows stored after this
    call, once nothing is being written, have higher ones."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT max(id) FROM comments")).scalar() or 0)
    finally:
        engine.dispose()


def sqlite_url(instance: Path) -> str:
    return f"sqlite:///{instance / 'moderation.db'}"


def verify(run: LoadRun, database_url: str, after_id: int = 0) -> Counts:
    """Hold every answer against the database (its comments after ``after_id``: on a
    database earlier runs wrote to, what was stored since the run began)."""
    counts = Counts()
    rows = stored_comments(database_url, after_id)
    by_id = {row["id"]: row for row in rows}
    by_marker: dict[str | None, list[dict[str, Any]]] = {}
    for row in rows:
        found = MARKER.search(row["text"] or "")
        by_marker.setdefault(found.group(0) if found else None, []).append(row)
    posts = run.posts()
    sent_markers = Counter(attempt.marker for attempt in posts)
    assert max(sent_markers.values(), default=1) == 1, "a marker was sent twice"
    counts.sent = len(posts)
    counts.stored = len(rows)

    for attempt in run.attempts:
        body = attempt.body
        if attempt.status is None:
            counts.connection_errors += 1
        elif attempt.status >= 500:
            counts.http_5xx += 1
            counts.http_503 += attempt.status == 503
            counts.http_500 += attempt.status == 500
            if attempt.status != 503:
                counts.example(attempt.describe())
        elif attempt.status == 429:
            counts.limited += 1
            if not attempt.probe:
                counts.example(attempt.describe())
        elif attempt.status >= 400:
            counts.refused += 1
            counts.example(attempt.describe())
        if LOCKED in body:
            counts.locked += 1
            counts.example("database is locked: " + attempt.describe())
        if TRACEBACK in body or 'File "/' in body:
            counts.tracebacks += 1
            counts.example("traceback: " + attempt.describe())
        if attempt.stage == "token":
            counts.token_failures += 1

    for attempt in posts:
        matching = by_marker.get(attempt.marker, [])
        if not attempt.ok:
            if matching:
                counts.stored_unacked += 1
                if attempt.status is not None and 400 <= attempt.status < 500:
                    counts.stored_refused += 1
                    counts.example("refused yet stored: " + attempt.describe())
            continue
        counts.acked += 1
        if not matching:
            counts.lost += 1
            counts.example(f"lost: {attempt.describe()} answer={attempt.answer}")
        answer = attempt.answer or {}
        row = by_id.get(answer.get("id"))
        problems = []
        if row is None:
            if matching:  # (a lost comment is counted as lost, not twice)
                problems.append(f"no row with the answered id {answer.get('id')}")
        else:
            if attempt.marker not in (row["text"] or ""):
                problems.append(f"row {row['id']} holds {row['text']!r}")
            if row["author"] != attempt.author or row["email"] != attempt.email:
                problems.append(f"row {row['id']} is by {row['author']!r} <{row['email']}>")
            if attempt.network and row["ip_truncated"] != attempt.network:
                problems.append(f"row {row['id']} came from {row['ip_truncated']}")
        if answer.get("author") != attempt.author:
            problems.append(f"answer names {answer.get('author')!r}")
        html = str(answer.get("html") or "")
        if attempt.marker not in html or len(MARKER.findall(html)) != 1:
            problems.append(f"answer html {html[:200]!r}")
        if answer.get("status") not in ("pending", "approved"):
            problems.append(f"answer status {answer.get('status')!r}")
        if problems:
            counts.misattributed += 1
            counts.example(f"misattributed {attempt.marker}: {'; '.join(problems)}")

    for marker, matching in by_marker.items():
        if marker is None or marker not in sent_markers:
            counts.phantom += len(matching)
            counts.example(f"phantom rows {[row['id'] for row in matching]} marker={marker}")
        elif len(matching) > 1:
            counts.duplicated += len(matching) - 1
            counts.example(f"duplicated {marker}: rows {[row['id'] for row in matching]}")
    return counts


def log_findings(logs: str) -> dict[str, int]:
    return {
        "log_tracebacks": logs.count(TRACEBACK),
        "log_locked": logs.count(LOCKED),
        "log_errors": len(re.findall(r"\bERROR\b", logs)),
    }


def log_excerpt(logs: str, limit: int = 40) -> str:
    """The server logs boiled down: each distinct error line, the product's own frames of
    its tracebacks and the exceptions they ended in, with how often each was seen."""
    lines = logs.splitlines()
    seen: Counter[str] = Counter()
    for index, line in enumerate(lines):
        stripped = line.rstrip()
        if "ERROR" in line or LOCKED in line or EXCEPTION_LINE.match(line):
            seen[stripped] += 1
        elif 'File "' in line and "/moderation/" in line:
            following = lines[index + 1].rstrip() if index + 1 < len(lines) else ""
            seen[f"{stripped}\n{following}"] += 1
    return "\n".join(f"[x{count}] {text}" for text, count in list(seen.items())[:limit])


EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Refused|Shutdown)\b")


# -- reporting -----------------------------------------------------------------------------


class _Summary:
    """Prints every run's counts at the end of the session, captured output or not."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminalreporter.section("system suite counts")
        for line in self.lines:
            terminalreporter.write_line(line)


def report(config: pytest.Config, name: str, counts: Counts, **extra: object) -> str:
    """Record ``name``'s counts for the session summary and print them (seen with -s or
    when the test fails)."""
    plugin = config.pluginmanager.get_plugin("system-suite-summary")
    if plugin is None:
        plugin = _Summary()
        config.pluginmanager.register(plugin, "system-suite-summary")
    details = ", ".join(f"{key}={value}" for key, value in extra.items())
    line = f"{name}: {counts.line()}" + (f"; {details}" if details else "")
    plugin.lines.append(line)
    print(line)
    for example in counts.examples:
        print("   ", example)
    return line


def explain(counts: Counts, logs: str = "") -> str:
    """A failure message: the counts, examples of what went wrong, the server logs' worst."""
    parts = [counts.line(), *counts.examples]
    excerpt = log_excerpt(logs)
    if excerpt:
        parts.extend(["-- server logs --", excerpt])
    return "\n".join(parts)


def assert_nothing_lost(counts: Counts, logs: str) -> None:
    """The invariants every run keeps, faults or not."""
    message = explain(counts, logs)
    assert counts.sent > 0 and counts.acked > 0, message
    assert counts.lost == 0, message
    assert counts.duplicated == 0, message
    assert counts.phantom == 0, message
    assert counts.misattributed == 0, message
    assert counts.stored <= counts.sent, message
    assert counts.locked == 0, message
    assert counts.tracebacks == 0, message
    assert counts.http_500 == 0, message
    assert counts.http_5xx == counts.http_503, message
    assert counts.stored_refused == 0, message
    assert counts.acked + counts.stored_unacked == counts.stored, message


def assert_clean(counts: Counts, logs: str) -> None:
    """A run without faults: every request answered, and answered well."""
    assert_nothing_lost(counts, logs)
    message = explain(counts, logs)
    assert counts.http_5xx == 0, message
    assert counts.connection_errors == 0, message
    assert counts.token_failures == 0, message
    assert counts.refused == 0, message
    assert counts.limited == 0, message
    assert counts.acked == counts.sent == counts.stored, message
    assert log_findings(logs)["log_tracebacks"] == 0, message
