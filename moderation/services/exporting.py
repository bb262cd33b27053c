"""Exporting a site (issue 18): its threads and comments streamed through the porting writers.

The export is read thread by thread, so memory follows the largest thread, not the site;
:func:`export_chunks` yields the text as it is written (the dashboard streams it as the
download), :func:`export_site` writes it to a file. Emails only when asked; truncated
addresses and user agents never (they are not the site's to move elsewhere).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import TextIO

from flask import current_app
from sqlalchemy import select

from moderation.domain.errors import N_, InvalidInput
from moderation.domain.rendering import render_markdown
from moderation.extensions import db
from moderation.models import Comment, Site, Thread
from moderation.porting import (
    CommentKind,
    CommentRecord,
    ExportFormat,
    Status,
    TextFormat,
    ThreadRecord,
    open_writer,
)
from moderation.services import events
from moderation.services.events import Actor
from moderation.services.import_fields import imported_html
from moderation.services.sites import get_site

#: Comments fetched per round trip while a thread is read.
_FETCH = 1000


def export_chunks(
    site_slug: str,
    fmt: ExportFormat | str,
    *,
    include_emails: bool,
    actor: Actor,
    counts: list[int] | None = None,
) -> Iterator[str]:
    """The export of ``site_slug`` as ``fmt``, a piece of text per thread.

    The audit log records who exported which site, and whether emails were included; the
    audit row is committed before the first piece, so a download cut short is still on it.
    ``counts``, when given, becomes ``[threads, comments]`` written so far.
    """
    try:
        fmt = ExportFormat(fmt)
    except ValueError:
        raise InvalidInput(N_("Unknown export format %(format)r."), format=str(fmt)) from None
    site = get_site(site_slug)
    events.audit(
        actor,
        "exported",
        site_id=site.id,
        reason=f"{fmt.value}" + (", emails included" if include_emails else ""),
    )
    db.session.commit()
    return _chunks(site, fmt, include_emails, counts if counts is not None else [0, 0])


def export_site(
    site_slug: str, fmt: ExportFormat | str, out: TextIO, *, include_emails: bool, actor: Actor
) -> tuple[int, int]:
    """Write the export to ``out``; the numbers of threads and comments written."""
    counts = [0, 0]
    chunks = export_chunks(
        site_slug, fmt, include_emails=include_emails, actor=actor, counts=counts
    )
    for chunk in chunks:
        out.write(chunk)
    out.flush()
    return counts[0], counts[1]


def _chunks(
    site: Site, fmt: ExportFormat, include_emails: bool, counts: list[int]
) -> Iterator[str]:
    """Write thread after thread into a buffer, handing over what each one added."""
    buffer = io.StringIO()
    public_url = str(current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    writer = open_writer(
        fmt,
        buffer,
        site=site.slug,
        site_title=site.name,
        site_url=(site.origins or [""])[0],
        origin=f"{public_url}/{site.slug}" if public_url else site.slug,
        include_emails=include_emails,
    )
    thread_ids = list(
        db.session.execute(
            select(Thread.id).where(Thread.site_id == site.id).order_by(Thread.id)
        ).scalars()
    )
    for thread_id in thread_ids:
        thread = db.session.get_one(Thread, thread_id)
        record = ThreadRecord(
            key=thread.key,
            title=thread.title,
            url=thread.url,
            source_id=str(thread.id),
            is_open=thread.is_open,
        )
        writer.write_thread(record, _comments(thread_id, record, counts))
        counts[0] += 1
        db.session.expunge(thread)
        yield _drain(buffer)
    writer.close()
    yield _drain(buffer)


def _comments(thread_id: int, thread: ThreadRecord, counts: list[int]) -> Iterator[CommentRecord]:
    """The thread's comments as records, parents first (ids grow with time)."""
    last_id = 0
    while True:
        rows = db.session.execute(
            select(Comment)
            .where(Comment.thread_id == thread_id, Comment.id > last_id)
            .order_by(Comment.id)
            .limit(_FETCH)
        ).scalars()
        batch = list(rows)
        if not batch:
            return
        for comment in batch:
            counts[1] += 1
            yield _record(comment, thread)
            db.session.expunge(comment)
        last_id = batch[-1].id


def _record(comment: Comment, thread: ThreadRecord) -> CommentRecord:
    """One stored comment as the writers take it."""
    return CommentRecord(
        source="moderation",
        source_id=str(comment.id),
        thread=thread,
        parent_source_id=str(comment.parent_id) if comment.parent_id is not None else None,
        author=comment.author,
        email=comment.email or None,
        website=comment.url or None,
        ip=None,
        user_agent=None,
        created_at=comment.created_at,
        text=comment.text,
        text_format=_text_format(comment),
        source_status=comment.status.value,
        status=Status(comment.status.value),
        kind=CommentKind.COMMENT,
        held_by_rule=comment.held_by_rule or None,
        held_reason=comment.held_reason or None,
    )


def _text_format(comment: Comment) -> TextFormat:
    """The format the comment's text is written in, as its stored HTML shows: Markdown when
    only Markdown gives that HTML (comments imported from Isso or Commento, or written on a
    Markdown site), else HTML. Comments keep no format of their own, and without it an
    import would render a Markdown text as HTML: the same text, another comment to read."""
    if comment.html == imported_html(comment.text):
        return TextFormat.HTML
    if comment.html == render_markdown(comment.text):
        return TextFormat.MARKDOWN
    return TextFormat.HTML


def _drain(buffer: io.StringIO) -> str:
    """What ``buffer`` holds, emptying it."""
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
