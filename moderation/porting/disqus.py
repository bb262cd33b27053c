"""Disqus's XML export: the reader.

The file lists ``<thread dsq:id>`` elements (``<link>``, ``<title>``, ``<id>`` — the page's
``disqus_identifier``, often empty — ``<isClosed>``), then ``<post dsq:id>`` elements:
``<message>`` (HTML, its ``<p>`` paragraphs read as blank lines), ``<createdAt>``,
``<isDeleted>``, ``<isSpam>``, ``<isApproved>`` where present, ``<author>`` (``<name>``,
``<email>``, ``<isAnonymous>``, ``<username>``), ``<ipAddress>``, ``<thread dsq:id>`` and,
for replies, ``<parent dsq:id>``. A post without ``dsq:id`` is known by its ``<id>``.
Disqus has flags, not statuses: a post is ``deleted`` (``isDeleted``, which wins), ``spam``,
``pending`` (``isApproved`` false) or ``approved``.

Threads are kept in memory (title, URL, key: a few hundred bytes each) so that posts can
name them; a post whose thread is not in the file is refused. Posts are not grouped by
thread, so reply order is settled over the whole file.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

from moderation.porting.building import CommentBuilder, clean, paragraphs_as_blank_lines
from moderation.porting.options import ReadOptions, ThreadKeying, choose_key
from moderation.porting.records import (
    MAX_THREAD_KEY_LENGTH,
    ImportFileError,
    Item,
    Refusal,
    RefusalReason,
    TextFormat,
    ThreadRecord,
)
from moderation.porting.replies import order_replies
from moderation.porting.sources import Source, open_source
from moderation.porting.statuses import DISQUS_STATUSES
from moderation.porting.xmlstream import XmlStream, drop

SOURCE_NAME = "disqus"
NS = "{http://disqus.com}"
DSQ_ID = "{http://disqus.com/disqus-internals}id"
_ROOT = f"{NS}disqus"
_THREAD = f"{NS}thread"
_POST = f"{NS}post"


def read_disqus(source: Source, options: ReadOptions | None = None) -> Iterator[Item]:
    """Threads, comments and refusals from a Disqus export, parents before replies."""
    return order_replies(_read(source, options or ReadOptions()), grouped=False)


def _read(source: Source, options: ReadOptions) -> Iterator[Item]:
    """The export's items in file order; threads are announced at their first post."""
    builder = CommentBuilder(SOURCE_NAME, options, DISQUS_STATUSES, TextFormat.HTML)
    threads: dict[str, ThreadRecord | None] = {}
    announced: set[str] = set()
    root: ET.Element | None = None
    with open_source(source) as stream:
        xml = XmlStream(stream, what="Disqus export")
        for batch in xml.batches():
            for event, element in batch:
                if event == "start":
                    if root is None:
                        root = element
                        if element.tag != _ROOT:
                            raise ImportFileError(
                                "This is not a Disqus export: it starts with "
                                f'<{element.tag}>, not <disqus xmlns="http://disqus.com">.'
                            )
                    continue
                tag = element.tag
                if tag == _THREAD and _is_top_level(root, element):
                    thread_id = element.get(DSQ_ID, "")
                    threads[thread_id] = _thread(element, thread_id, options.keying)
                    drop(root, element)
                    xml.mark()
                elif tag == _POST:
                    values = _post_values(element)
                    xml.last_record = f"post {values.get('id') or '?'}"
                    thread_id = values.get("thread", "")
                    thread = threads.get(thread_id)
                    if thread is not None and thread_id not in announced:
                        announced.add(thread_id)
                        yield thread
                    yield _build(builder, values, thread, thread_id in threads)
                    drop(root, element)
                    xml.mark()
                elif _is_top_level(root, element):
                    drop(root, element)  # categories and the like
                    xml.mark()


def _is_top_level(root: ET.Element | None, element: ET.Element) -> bool:
    """Whether ``element`` (which has ended) is a child of the root: a ``<thread>`` there
    defines a thread, one inside a ``<post>`` only names it. Every child of the root is
    dropped as it ends, so a child that ends is the root's first."""
    return root is not None and len(root) > 0 and root[0] is element


def _thread(element: ET.Element, thread_id: str, keying: ThreadKeying) -> ThreadRecord | None:
    """A ``<thread>`` as a record; None when it has no usable key."""
    link = title = identifier = ""
    closed = False
    for child in element:
        tag = child.tag
        if tag == f"{NS}link":
            link = (child.text or "").strip()
        elif tag == f"{NS}title":
            title = " ".join((child.text or "").split())
        elif tag == f"{NS}id":
            identifier = (child.text or "").strip()
        elif tag == f"{NS}isClosed":
            closed = (child.text or "").strip() == "true"
    key = choose_key(keying, link, identifier)
    if not key or len(key) > MAX_THREAD_KEY_LENGTH:
        return None
    return ThreadRecord(key=key, title=title, url=link, source_id=thread_id, is_open=not closed)


_POST_FIELDS = {
    f"{NS}id": "own_id",
    f"{NS}message": "text",
    f"{NS}createdAt": "created",
    f"{NS}isDeleted": "deleted",
    f"{NS}isSpam": "spam",
    f"{NS}isApproved": "approved",
    f"{NS}ipAddress": "ip",
}
_AUTHOR_FIELDS = {f"{NS}name": "author", f"{NS}email": "email", f"{NS}link": "website"}


def _post_values(element: ET.Element) -> dict[str, str]:
    """The fields of one ``<post>``."""
    values = {"id": element.get(DSQ_ID, "")}
    for child in element:
        tag = child.tag
        field = _POST_FIELDS.get(tag)
        if field is not None:
            values[field] = child.text or ""
        elif tag == f"{NS}author":
            for part in child:
                author_field = _AUTHOR_FIELDS.get(part.tag)
                if author_field is not None:
                    values[author_field] = part.text or ""
        elif tag == _THREAD:
            values["thread"] = child.get(DSQ_ID, "")
        elif tag == f"{NS}parent":
            values["parent"] = child.get(DSQ_ID, "")
    if not values["id"].strip():
        values["id"] = values.get("own_id", "")
    return values


def _status(values: dict[str, str]) -> str:
    """Disqus's flags as one status name."""
    if values.get("deleted", "").strip() == "true":
        return "deleted"
    if values.get("spam", "").strip() == "true":
        return "spam"
    if values.get("approved", "").strip() == "false":
        return "pending"
    return "approved"


def _build(
    builder: CommentBuilder, values: dict[str, str], thread: ThreadRecord | None, known: bool
) -> Item:
    """One post's record or refusal."""
    if thread is None:
        thread_id = values.get("thread", "")
        detail = (
            f"its thread {thread_id} has no link or identifier"
            if known
            else f"its thread {thread_id or '(none)'} is not in the file"
        )
        return Refusal(
            source_id=clean(values.get("id")), reason=RefusalReason.NO_THREAD, detail=detail
        )
    return builder.build(
        source_id=values.get("id"),
        thread=thread,
        parent_source_id=values.get("parent"),
        author=values.get("author"),
        email=values.get("email"),
        website=values.get("website"),
        ip=values.get("ip"),
        user_agent=None,
        created=values.get("created"),
        text=paragraphs_as_blank_lines(values.get("text")),
        source_status=_status(values),
    )
