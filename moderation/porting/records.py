"""The records every reader yields and every writer takes: threads, comments, refusals.

One set of types serves both directions, so a file read in one format can be written in
another, and the round trips compare like with like. They are plain slotted dataclasses
(not frozen: a frozen dataclass costs 1.6 µs more per record, 1.6 s per million comments);
treat them as values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

#: The service's limit on a comment's text (WordPress's), in characters.
MAX_TEXT_LENGTH = 65_525
#: The longest thread key the service stores.
MAX_THREAD_KEY_LENGTH = 255


class Status(StrEnum):
    """Where a comment stands; the same five values as the service's ``CommentStatus``."""

    APPROVED = "approved"
    PENDING = "pending"
    SPAM = "spam"
    REJECTED = "rejected"
    DELETED = "deleted"


class CommentKind(StrEnum):
    """What the record is: a person's comment, or a notice that another page linked here."""

    COMMENT = "comment"
    PINGBACK = "pingback"
    TRACKBACK = "trackback"


class TextFormat(StrEnum):
    """How ``text`` is written. Isso and Commento store Markdown; the others store HTML."""

    HTML = "html"
    MARKDOWN = "markdown"


class RefusalReason(StrEnum):
    """Why a record was not turned into a comment: one summary line per value."""

    TEXT_TOO_LONG = "text too long"
    MISSING_FIELD = "missing required field"
    UNREADABLE_DATE = "unreadable date"
    UNKNOWN_STATUS = "unknown status"
    UNSUPPORTED_KIND = "unsupported comment type"
    NO_THREAD = "no usable thread"
    DUPLICATE_ID = "duplicate id"
    REPLY_CYCLE = "reply cycle"
    UNREADABLE_RECORD = "unreadable record"


@dataclass(slots=True, kw_only=True)
class ThreadRecord:
    """A page that has comments.

    ``key`` is what the service files comments under (the page's path by default, see
    :class:`~moderation.porting.options.ThreadKeying`); ``source_id`` is the source's own
    identifier of the page (WordPress post id, Disqus thread id, Isso thread id, Remark42
    URL, or the key itself in our JSONL).
    """

    key: str
    title: str = ""
    url: str = ""
    source_id: str = ""
    is_open: bool = True


@dataclass(slots=True, kw_only=True)
class CommentRecord:
    """One comment, pingback or trackback, as found in the source and as it maps here.

    Raw on purpose: ``email`` is not normalised and ``ip`` not truncated (the service does
    both with the same code as for new comments); ``text`` is not sanitised. ``created_at``
    is always aware and in UTC. ``source_status`` is the value as the source wrote it,
    ``status`` what the status map made of it. ``notes`` say what the reader changed (for
    example a reply whose parent is missing, kept as a top-level comment).
    ``held_by_rule`` and ``held_reason`` travel in our own exports only.
    """

    source: str
    source_id: str
    thread: ThreadRecord
    parent_source_id: str | None
    author: str | None
    email: str | None
    website: str | None
    ip: str | None
    user_agent: str | None
    created_at: datetime
    text: str
    text_format: TextFormat
    source_status: str
    status: Status
    kind: CommentKind = CommentKind.COMMENT
    held_by_rule: str | None = None
    held_reason: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def thread_key(self) -> str:
        """The key of the comment's thread."""
        return self.thread.key

    @property
    def thread_title(self) -> str:
        """The title of the comment's thread."""
        return self.thread.title

    @property
    def thread_url(self) -> str:
        """The URL of the comment's thread."""
        return self.thread.url


@dataclass(slots=True, kw_only=True)
class Refusal:
    """A record that could not become a comment, and why.

    ``source_id`` is None when the record was too broken to name itself; ``detail`` is one
    readable line with the specifics (the limit, the odd value, the position in the file).
    """

    source_id: str | None
    reason: RefusalReason
    detail: str
    thread_key: str | None = None


#: What a reader yields: a thread before its first comment, comments with parents before
#: their replies, refusals where records could not be used.
Item = ThreadRecord | CommentRecord | Refusal


class ImportFileError(Exception):
    """The file as a whole cannot be read: not the format, hostile, cut short or undecodable.

    The message is meant for the person running the import; it names the position (line,
    column or byte offset) and, when known, the last record read before the problem.
    """
