"""WordPress's export (WXR 1.0 to 1.2, RSS 2.0 with the ``wp:`` namespace): the reader.

Each ``<item>`` (post, page, any post type) is a thread: its ``<link>`` (else ``<guid>``)
gives the URL, ``<title>`` the title, ``<wp:post_id>`` the source id, ``<wp:comment_status>``
whether it is open. Its ``<wp:comment>`` children are the comments: ``comment_id``,
``comment_author``, ``comment_author_email``, ``comment_author_url``, ``comment_author_IP``,
``comment_date_gmt`` (``comment_date`` when the GMT date is missing or zero, taken as UTC
and noted), ``comment_content`` (HTML), ``comment_approved`` (``1``, ``0``, ``spam``,
``trash``, ``post-trashed``), ``comment_type`` (empty or ``comment``, ``pingback``,
``trackback``; any other type, such as WooCommerce's private ``order_note``, is refused)
and ``comment_parent`` (``0`` for none). WordPress's own export leaves spam out.

Files we wrote (:mod:`moderation.porting.wxr_writer`) carry our exact values as metadata
the WordPress importer keeps but ignores: the thread key (``moderation_thread_key``
post meta, used under the default keying) and each comment's ``moderation_status``,
``moderation_held_by_rule``, ``moderation_held_reason`` and ``moderation_text_format``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

from moderation.porting.building import CommentBuilder, clean
from moderation.porting.options import ReadOptions, ThreadKeying, choose_key
from moderation.porting.records import (
    MAX_THREAD_KEY_LENGTH,
    CommentKind,
    ImportFileError,
    Item,
    Refusal,
    RefusalReason,
    Status,
    TextFormat,
    ThreadRecord,
)
from moderation.porting.replies import order_replies
from moderation.porting.sources import Source, open_source
from moderation.porting.statuses import WORDPRESS_STATUSES
from moderation.porting.xmlstream import XmlStream, drop

SOURCE_NAME = "wordpress"
WP_NAMESPACES = tuple(f"http://wordpress.org/export/1.{minor}/" for minor in range(4))
#: Our metadata keys, in post meta and comment meta.
META_THREAD_KEY = "moderation_thread_key"
META_STATUS = "moderation_status"
META_RULE = "moderation_held_by_rule"
META_REASON = "moderation_held_reason"
META_TEXT_FORMAT = "moderation_text_format"

_WP_PREFIX = "{http://wordpress.org/export/"
_META_STATUS_FIELD = f"meta:{META_STATUS}"
_META_FORMAT_FIELD = f"meta:{META_TEXT_FORMAT}"
_META_RULE_FIELD = f"meta:{META_RULE}"
_META_REASON_FIELD = f"meta:{META_REASON}"
_STATUS_VALUES = frozenset(s.value for s in Status)
_KINDS = {
    "": CommentKind.COMMENT,
    "comment": CommentKind.COMMENT,
    "pingback": CommentKind.PINGBACK,
    "trackback": CommentKind.TRACKBACK,
}
_NOT_A_DATE = frozenset({"", "0000-00-00 00:00:00"})


def _tags(local_names: dict[str, str]) -> dict[str, str]:
    """``{"{ns}local": field}`` for every WXR namespace version."""
    return {
        f"{{{ns}}}{local}": field for ns in WP_NAMESPACES for local, field in local_names.items()
    }


#: A comment's children, by tag, to the field they fill.
_COMMENT_FIELDS = _tags(
    {
        "comment_id": "id",
        "comment_author": "author",
        "comment_author_email": "email",
        "comment_author_url": "website",
        "comment_author_IP": "ip",
        "comment_agent": "user_agent",
        "comment_date": "date",
        "comment_date_gmt": "date_gmt",
        "comment_content": "text",
        "comment_approved": "approved",
        "comment_type": "type",
        "comment_parent": "parent",
        "commentmeta": "meta",
    }
)
_COMMENT_TAGS = frozenset(f"{{{ns}}}comment" for ns in WP_NAMESPACES)
_ITEM_FIELDS = {"title": "title", "link": "link", "guid": "guid"} | _tags(
    {"post_id": "post_id", "comment_status": "comment_status", "postmeta": "postmeta"}
)


def read_wxr(source: Source, options: ReadOptions | None = None) -> Iterator[Item]:
    """Threads, comments and refusals from a WordPress export, parents before replies."""
    return order_replies(_read(source, options or ReadOptions()), grouped=True)


def _read(source: Source, options: ReadOptions) -> Iterator[Item]:
    """The export's items in file order; each item's thread is announced at its first
    comment, read from the item's elements seen so far (WordPress writes them first)."""
    builder = CommentBuilder(SOURCE_NAME, options, WORDPRESS_STATUSES, TextFormat.HTML)
    channel: ET.Element | None = None
    item: ET.Element | None = None
    thread: ThreadRecord | None = None
    seen_wordpress = False
    with open_source(source) as stream:
        xml = XmlStream(stream, what="WordPress export (WXR)")
        for batch in xml.batches():
            for event, element in batch:
                tag = element.tag
                if event == "start":
                    if tag == "item":
                        item, thread = element, None
                    elif tag == "channel":
                        channel = element
                elif tag in _COMMENT_TAGS:
                    seen_wordpress = True
                    if thread is None:
                        thread = _thread(item, options.keying)
                        if thread is not None:
                            yield thread
                    values = _comment_values(element)
                    xml.last_record = f"comment {values.get('id', '?')}"
                    yield _build(builder, values, thread)
                    drop(item, element)
                    xml.mark()
                elif tag == "item":
                    drop(channel, element)
                    item = thread = None
                    xml.mark()
                elif item is None and channel is not None and tag != "channel":
                    # The channel's own elements (authors, terms...): not needed.
                    seen_wordpress = seen_wordpress or tag.startswith(_WP_PREFIX)
                    drop(channel, element)
                    xml.mark()
    if not seen_wordpress:
        raise ImportFileError(
            "This is not a WordPress export (WXR): it has no wp: elements. "
            "Export it again from Tools → Export in WordPress."
        )


def _thread(item: ET.Element | None, keying: ThreadKeying) -> ThreadRecord | None:
    """The thread of ``item`` (from its children read so far), or None when it has neither
    URL nor id."""
    fields: dict[str, str] = {}
    for child in item if item is not None else ():
        field = _ITEM_FIELDS.get(child.tag)
        if field == "postmeta":
            key, value = _meta(child)
            if key == META_THREAD_KEY:
                fields["moderation_key"] = value
        elif field is not None:
            fields[field] = child.text or ""
    url = (fields.get("link") or fields.get("guid") or "").strip()
    post_id = fields.get("post_id", "").strip()
    own_key = fields.get("moderation_key", "").strip()
    key = own_key if own_key and keying is ThreadKeying.PATH else choose_key(keying, url, post_id)
    if not key or len(key) > MAX_THREAD_KEY_LENGTH:
        return None
    return ThreadRecord(
        key=key,
        title=" ".join(fields.get("title", "").split()),
        url=url,
        source_id=post_id,
        is_open=fields.get("comment_status", "open").strip() != "closed",
    )


def _comment_values(element: ET.Element) -> dict[str, str]:
    """The fields of one ``<wp:comment>``; comment meta as ``meta:KEY``."""
    values: dict[str, str] = {}
    fields_get = _COMMENT_FIELDS.get
    for child in element:
        field = fields_get(child.tag)
        if field == "meta":
            key, value = _meta(child)
            values[f"meta:{key}"] = value
        elif field is not None:
            values[field] = child.text or ""
    return values


def _meta(element: ET.Element) -> tuple[str, str]:
    """``(meta_key, meta_value)`` of a ``<wp:postmeta>`` or ``<wp:commentmeta>``."""
    key = value = ""
    for child in element:
        local = child.tag.rpartition("}")[2]
        if local == "meta_key":
            key = (child.text or "").strip()
        elif local == "meta_value":
            value = child.text or ""
    return key, value


def _build(builder: CommentBuilder, values: dict[str, str], thread: ThreadRecord | None) -> Item:
    """One comment's record or refusal."""
    if thread is None:
        return Refusal(
            source_id=clean(values.get("id")),
            reason=RefusalReason.NO_THREAD,
            detail="its post has no link, guid or id (or a key over 255 characters)",
        )
    comment_type = values.get("type", "").strip()
    kind = _KINDS.get(comment_type)
    if kind is None:
        return Refusal(
            source_id=clean(values.get("id")),
            reason=RefusalReason.UNSUPPORTED_KIND,
            detail=f"comment type {comment_type!r} is not a comment, pingback or trackback",
            thread_key=thread.key,
        )
    created: str = values.get("date_gmt", "").strip()
    notes: tuple[str, ...] = ()
    if created in _NOT_A_DATE and values.get("date", "").strip() not in _NOT_A_DATE:
        created = values["date"]
        notes = ("no GMT date: the local date was taken as UTC",)
    parent = values.get("parent", "").strip()
    exact = values.get(_META_STATUS_FIELD, "").strip()
    text_format = values.get(_META_FORMAT_FIELD, "").strip()
    return builder.build(
        source_id=values.get("id"),
        thread=thread,
        parent_source_id=None if parent in ("", "0") else parent,
        author=values.get("author"),
        email=values.get("email"),
        website=values.get("website"),
        ip=values.get("ip"),
        user_agent=values.get("user_agent"),
        created=created,
        text=values.get("text"),
        source_status=values.get("approved", "").strip(),
        kind=kind,
        text_format=TextFormat.MARKDOWN if text_format == TextFormat.MARKDOWN else None,
        held_by_rule=values.get(_META_RULE_FIELD),
        held_reason=values.get(_META_REASON_FIELD),
        exact_status=Status(exact) if exact in _STATUS_VALUES else None,
        notes=notes,
    )
