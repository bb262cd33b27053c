"""``moderation import`` and ``moderation export``: moving comments in and out of a site."""

from __future__ import annotations

import io
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import click
from flask.cli import with_appcontext
from sqlalchemy import Engine, text

from moderation.commands.errors import one_line_errors
from moderation.extensions import db
from moderation.porting import (
    ExportFormat,
    ImportFormat,
    ReadOptions,
    StatusMapError,
    ThreadKeying,
    parse_status_map,
)
from moderation.porting.sources import Source
from moderation.services.events import Actor
from moderation.services.exporting import export_site
from moderation.services.importing import import_comments

#: Who the audit log says ran a command-line import or export.
COMMAND_LINE = Actor("system", "cli", "command line")


@click.command("import")
@click.argument("fmt", metavar="FORMAT", type=click.Choice([f.value for f in ImportFormat]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--site", "site_slug", required=True, help="The site to import into.")
@click.option("--dry-run", is_flag=True, help="Read and check everything; store nothing.")
@click.option(
    "--status-map",
    default="",
    metavar="SOURCE=STATUS,...",
    help="Map source statuses to ours, e.g. 'trash=deleted,0=approved,*=pending'.",
)
@click.option(
    "--thread-key",
    type=click.Choice([k.value for k in ThreadKeying]),
    default=ThreadKeying.PATH.value,
    show_default=True,
    help="Key threads by the page's path, its full URL, or the source's page id.",
)
@click.option(
    "--emit-events",
    is_flag=True,
    help="Send outbound events for imported comments (off by default).",
)
@click.option(
    "--learn/--no-learn",
    default=True,
    show_default=True,
    help="Teach the spam classifier the imported statuses (approved: ham, spam: spam); "
    "--no-learn also skips the features the classifier would learn (a helper process on large files).",
)
@with_appcontext
@one_line_errors
def import_command(
    fmt: str,
    file: Path,
    site_slug: str,
    dry_run: bool,
    status_map: str,
    thread_key: str,
    emit_events: bool,
    learn: bool,
) -> None:
    """Import comments from a WordPress (WXR), Disqus, Isso, Remark42, Commento or JSONL export.

    Re-running the same import adds nothing; an interrupted import, re-run, completes.
    """
    try:
        overrides = parse_status_map(status_map)
    except StatusMapError as error:
        raise click.BadParameter(str(error), param_hint="--status-map") from None
    options = ReadOptions(keying=ThreadKeying(thread_key), status_overrides=overrides)
    with _progress(file, fmt) as source:
        report = import_comments(
            fmt,
            source,
            site_slug,
            options=options,
            dry_run=dry_run,
            emit_events=emit_events,
            learn=learn,
            actor=COMMAND_LINE,
            rebuilding=_RebuildShown(db.engine) if sys.stderr.isatty() else None,
        )
    if dry_run:
        click.echo("Dry run: nothing was stored.")
    for line in report.lines():
        click.echo(line)
    if report.error:
        raise click.ClickException(
            "the file could not be read to the end; what was read before is kept "
            "(fix the file and run the import again: nothing is imported twice)"
        )


@contextmanager
def _progress(file: Path, fmt: str) -> Iterator[Source]:
    """The file to read, with a progress bar on standard error when it is a terminal."""
    if fmt == ImportFormat.ISSO or not sys.stderr.isatty():
        yield file
        return
    size = os.path.getsize(file)
    with (
        click.progressbar(length=size, label=f"Importing {file.name}", file=sys.stderr) as bar,
        open(file, "rb") as raw,
    ):
        yield io.BufferedReader(_Counting(raw, bar.update), 1 << 16)


class _RebuildShown:
    """On standard error, which search index is being built after the import and how far
    its build is (PostgreSQL's ``pg_stat_progress_create_index``, read every second on a
    connection of its own): the text's takes most of the time, about 10 s per 10⁵ comments."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.started = time.perf_counter()
        self.step = ""
        self.finished = threading.Event()
        self.watcher: threading.Thread | None = None
        self.lock = threading.Lock()

    def __call__(self, done: int, total: int) -> None:
        if done == total:
            self.finished.set()
            if self.watcher is not None:
                self.watcher.join()
            self._show(f"Built the search index again ({total} of {total})", last=True)
            return
        self.step = f"Building the search index again: {done + 1} of {total}"
        self._show(self.step)
        if self.watcher is None:
            self.watcher = threading.Thread(target=self._watch, daemon=True)
            self.watcher.start()

    def _watch(self) -> None:
        """Show the build's phase and how far it is, every second until the last is built."""
        with self.engine.connect() as connection:
            while not self.finished.wait(1.0):
                row = connection.execute(_BUILD_PROGRESS).first()
                connection.rollback()
                if row is not None and not self.finished.is_set():
                    phase, done, total = row
                    share = f" {done / total:.0%}" if total else ""
                    self._show(f"{self.step}, {phase}{share}")

    def _show(self, message: str, last: bool = False) -> None:
        with self.lock:
            elapsed = time.perf_counter() - self.started
            # over the progress bar's line, cleared to its end
            click.echo(f"\r\x1b[K{message} ({elapsed:,.0f} s)", err=True, nl=last)


_BUILD_PROGRESS = text(
    "SELECT phase, blocks_done, blocks_total FROM pg_stat_progress_create_index "
    "WHERE relid = 'comments'::regclass LIMIT 1"
)


class _Counting(io.RawIOBase):
    """A binary file that reports how many bytes were read."""

    def __init__(self, inner: IO[bytes], advance: Callable[[int], None]) -> None:
        self._inner = inner
        self._advance = advance

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        """The file's own (the import estimates its comments from its size)."""
        return self._inner.fileno()

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        self._advance(len(data))
        return len(data)


@click.command("export")
@click.option("--site", "site_slug", required=True, help="The site to export.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice([f.value for f in ExportFormat]),
    default=ExportFormat.JSONL.value,
    show_default=True,
)
@click.option("--include-emails", is_flag=True, help="Write commenters' emails (personal data).")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write to this file instead of standard output.",
)
@with_appcontext
@one_line_errors
def export_command(site_slug: str, fmt: str, include_emails: bool, output: Path | None) -> None:
    """Export a site's threads and comments as JSON lines or WordPress WXR (streamed)."""
    if output is None:
        out = sys.stdout
        counts = export_site(site_slug, fmt, out, include_emails=include_emails, actor=COMMAND_LINE)
    else:
        # written beside, then renamed: OUTPUT is either the whole export or untouched
        partial = output.with_name(output.name + ".partial")
        try:
            with open(partial, "w", encoding="utf-8", newline="\n") as out:
                counts = export_site(
                    site_slug, fmt, out, include_emails=include_emails, actor=COMMAND_LINE
                )
            partial.replace(output)
        finally:
            partial.unlink(missing_ok=True)
    click.echo(f"Exported {counts[0]:,} thread(s) and {counts[1]:,} comment(s).", err=True)
