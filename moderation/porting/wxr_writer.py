"""WordPress's export format (WXR 1.2), written: what WordPress's importer reads back.

One ``<item>`` per thread (a published ``post`` titled and linked as the thread, dated at
its first comment; WordPress matches existing posts by title and date) with its
``<wp:comment>`` children. Statuses become ``comment_approved`` values WordPress knows:
approved ``1``, pending ``0``, spam ``spam``, deleted and rejected ``trash`` (WordPress
has no "rejected"). What WordPress's fields cannot say rides along as metadata WordPress
keeps and ignores, so that our reader gets it back: ``moderation_status`` (for rejected
comments), ``moderation_text_format`` (for Markdown), ``moderation_held_by_rule``,
``moderation_held_reason``, and the thread's ``moderation_thread_key``. WordPress ids are numbers: numeric ids are kept, others are numbered from
10¹⁵ on, per export. Dates are written to the second. Characters XML cannot carry
(control characters) are left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import format_datetime as rfc2822
from typing import TextIO
from xml.sax.saxutils import escape, quoteattr

from moderation.porting.records import CommentKind, CommentRecord, Status, TextFormat, ThreadRecord
from moderation.porting.wordpress import (
    META_REASON,
    META_RULE,
    META_STATUS,
    META_TEXT_FORMAT,
    META_THREAD_KEY,
)
from moderation.porting.writing import ExportWriter

WXR_VERSION = "1.2"
_APPROVED = {
    Status.APPROVED: "1",
    Status.PENDING: "0",
    Status.SPAM: "spam",
    Status.REJECTED: "trash",
    Status.DELETED: "trash",
}
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_FIRST_FREE_ID = 10**15
_MAX_NUMERIC_ID = 10**18


def _cdata(text: str | None) -> str:
    """``text`` as a CDATA section (WordPress's own way), XML-safe."""
    if not text:
        return "<![CDATA[]]>"
    text = _NOT_XML.sub("", text).replace("]]>", "]]]]><![CDATA[>")
    return f"<![CDATA[{text}]]>"


def _wp_date(moment: datetime) -> str:
    """WordPress's ``Y-m-d H:i:s``, in UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _meta(tag: str, key: str, value: str) -> str:
    """A ``<wp:postmeta>`` or ``<wp:commentmeta>`` entry."""
    return (
        f"\t\t\t<wp:{tag}><wp:meta_key>{_cdata(key)}</wp:meta_key>"
        f"<wp:meta_value>{_cdata(value)}</wp:meta_value></wp:{tag}>\n"
    )


class WxrWriter(ExportWriter):
    """Writes a WXR 1.2 file (see :class:`ExportWriter`; WXR has no field for user
    agents). The file is closed (``</channel></rss>``) only by a block that ends without
    an exception, so a failed export is not well-formed XML and cannot be mistaken for a
    whole one.
    """

    def __init__(
        self,
        out: TextIO,
        *,
        site_title: str = "",
        site_url: str = "",
        include_emails: bool = False,
        include_addresses: bool = False,
        exported_at: datetime | None = None,
    ) -> None:
        super().__init__(out, include_emails=include_emails, include_addresses=include_addresses)
        self._next_id = _FIRST_FREE_ID
        url = escape(site_url)
        out.write(
            '<?xml version="1.0" encoding="UTF-8" ?>\n'
            '<rss version="2.0"\n'
            '\txmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"\n'
            '\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n'
            '\txmlns:wfw="http://wellformedweb.org/CommentAPI/"\n'
            '\txmlns:dc="http://purl.org/dc/elements/1.1/"\n'
            '\txmlns:wp="http://wordpress.org/export/1.2/"\n>\n'
            "<channel>\n"
            f"\t<title>{escape(_NOT_XML.sub('', site_title))}</title>\n"
            f"\t<link>{url}</link>\n"
            "\t<description></description>\n"
            f"\t<pubDate>{rfc2822(exported_at or datetime.now(UTC))}</pubDate>\n"
            f"\t<wp:wxr_version>{WXR_VERSION}</wp:wxr_version>\n"
            f"\t<wp:base_site_url>{url}</wp:base_site_url>\n"
            f"\t<wp:base_blog_url>{url}</wp:base_blog_url>\n"
            "\t<generator>moderation</generator>\n"
        )

    def write_thread(self, thread: ThreadRecord, comments: Iterable[CommentRecord]) -> None:
        """One ``<item>`` with the thread's comments (give parents before their replies)."""
        ids: dict[str, str] = {}
        iterator = iter(comments)
        first = next(iterator, None)
        dated = first.created_at if first is not None else datetime.now(UTC)
        self._write_item_head(thread, dated)
        if first is not None:
            self._write_comment(first, ids)
            for comment in iterator:
                self._write_comment(comment, ids)
        self._out.write("\t</item>\n")

    def close(self) -> None:
        """End the channel and the document."""
        self._out.write("</channel>\n</rss>\n")

    def _number(self, source_id: str) -> str:
        """A WordPress id for ``source_id``: itself when numeric, else the next free one."""
        if source_id.isdigit() and 0 < int(source_id) < _MAX_NUMERIC_ID:
            return str(int(source_id))
        self._next_id += 1
        return str(self._next_id)

    def _write_item_head(self, thread: ThreadRecord, dated: datetime) -> None:
        """The ``<item>`` opening: a published post standing for the thread."""
        post_id = self._number(thread.source_id or "")
        slug = thread.key.strip("/").rsplit("/", 1)[-1] or thread.key
        status = "open" if thread.is_open else "closed"
        self._out.write(
            "\t<item>\n"
            f"\t\t<title>{_cdata(thread.title)}</title>\n"
            f"\t\t<link>{escape(_NOT_XML.sub('', thread.url))}</link>\n"
            f"\t\t<pubDate>{rfc2822(dated.astimezone(UTC))}</pubDate>\n"
            "\t\t<dc:creator><![CDATA[]]></dc:creator>\n"
            f"\t\t<guid isPermaLink={quoteattr('false')}>{escape(_NOT_XML.sub('', thread.url))}</guid>\n"
            "\t\t<description></description>\n"
            "\t\t<content:encoded><![CDATA[]]></content:encoded>\n"
            "\t\t<excerpt:encoded><![CDATA[]]></excerpt:encoded>\n"
            f"\t\t<wp:post_id>{post_id}</wp:post_id>\n"
            f"\t\t<wp:post_date>{_cdata(_wp_date(dated))}</wp:post_date>\n"
            f"\t\t<wp:post_date_gmt>{_cdata(_wp_date(dated))}</wp:post_date_gmt>\n"
            f"\t\t<wp:comment_status>{_cdata(status)}</wp:comment_status>\n"
            "\t\t<wp:ping_status><![CDATA[closed]]></wp:ping_status>\n"
            f"\t\t<wp:post_name>{_cdata(slug)}</wp:post_name>\n"
            "\t\t<wp:status><![CDATA[publish]]></wp:status>\n"
            "\t\t<wp:post_parent>0</wp:post_parent>\n"
            "\t\t<wp:menu_order>0</wp:menu_order>\n"
            "\t\t<wp:post_type><![CDATA[post]]></wp:post_type>\n"
            "\t\t<wp:post_password><![CDATA[]]></wp:post_password>\n"
            "\t\t<wp:is_sticky>0</wp:is_sticky>\n"
        )
        self._out.write(_meta("postmeta", META_THREAD_KEY, thread.key).replace("\t\t\t", "\t\t", 1))

    def _write_comment(self, comment: CommentRecord, ids: dict[str, str]) -> None:
        """One ``<wp:comment>``; ``ids`` maps the thread's source ids to WordPress ids."""
        own_id = ids[comment.source_id] = self._number(comment.source_id)
        parent = comment.parent_source_id
        parent_id = ids.get(parent, "0") if parent is not None else "0"
        kind = "comment" if comment.kind is CommentKind.COMMENT else comment.kind.value
        date = _cdata(_wp_date(comment.created_at))
        email = comment.email if self._emails else None
        ip = comment.ip if self._addresses else None
        meta = ""
        if comment.status is Status.REJECTED:  # the one status "trash" would not bring back
            meta += _meta("commentmeta", META_STATUS, comment.status.value)
        if comment.text_format is not TextFormat.HTML:
            meta += _meta("commentmeta", META_TEXT_FORMAT, comment.text_format.value)
        if comment.held_by_rule:
            meta += _meta("commentmeta", META_RULE, comment.held_by_rule)
        if comment.held_reason:
            meta += _meta("commentmeta", META_REASON, comment.held_reason)
        self._out.write(
            "\t\t<wp:comment>\n"
            f"\t\t\t<wp:comment_id>{own_id}</wp:comment_id>\n"
            f"\t\t\t<wp:comment_author>{_cdata(comment.author)}</wp:comment_author>\n"
            f"\t\t\t<wp:comment_author_email>{_cdata(email)}</wp:comment_author_email>\n"
            f"\t\t\t<wp:comment_author_url>{escape(_NOT_XML.sub('', comment.website or ''))}</wp:comment_author_url>\n"
            f"\t\t\t<wp:comment_author_IP>{_cdata(ip)}</wp:comment_author_IP>\n"
            f"\t\t\t<wp:comment_date>{date}</wp:comment_date>\n"
            f"\t\t\t<wp:comment_date_gmt>{date}</wp:comment_date_gmt>\n"
            f"\t\t\t<wp:comment_content>{_cdata(comment.text)}</wp:comment_content>\n"
            f"\t\t\t<wp:comment_approved>{_cdata(_APPROVED[comment.status])}</wp:comment_approved>\n"
            f"\t\t\t<wp:comment_type>{_cdata(kind)}</wp:comment_type>\n"
            f"\t\t\t<wp:comment_parent>{parent_id}</wp:comment_parent>\n"
            "\t\t\t<wp:comment_user_id>0</wp:comment_user_id>\n"
            f"{meta}"
            "\t\t</wp:comment>\n"
        )
