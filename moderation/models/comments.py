"""Sites, their threads and comments, and the per-status counters of the queue."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy import text as sql
from sqlalchemy.orm import Mapped, mapped_column, relationship

from moderation.clock import utcnow
from moderation.domain.edits import DEFAULT_EDIT_MINUTES
from moderation.domain.sites import CommentFormat, CommentOrder, SitePolicy
from moderation.domain.status import CommentStatus
from moderation.models.base import Base, UTCDateTime, enum_column

#: The type of ``Comment.website_key``: code-point order on every database.
WEBSITE_KEY = String(200).with_variant(String(200, collation="C"), "postgresql")


class Site(Base):
    """A website that embeds the widget, with its own policy, limits and word lists."""

    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    policy: Mapped[SitePolicy] = mapped_column(
        enum_column(SitePolicy), default=SitePolicy.PREMODERATE
    )
    max_links: Mapped[int] = mapped_column(Integer, default=2)
    flood_seconds: Mapped[int] = mapped_column(Integer, default=15)
    max_depth: Mapped[int] = mapped_column(Integer, default=5)
    page_size: Mapped[int] = mapped_column(Integer, default=50)
    submit_limit: Mapped[str | None] = mapped_column(String(100), default=None)
    moderation_words: Mapped[str] = mapped_column(Text, default="")
    blocked_words: Mapped[str] = mapped_column(Text, default="")
    #: The classifier rule: at or above ``spam_threshold`` spam, at or above the hold one held.
    spam_hold_threshold: Mapped[float] = mapped_column(Float, default=0.40)
    spam_threshold: Mapped[float] = mapped_column(Float, default=0.80)
    #: Hold the first N comments of an author new to the site (0: off).
    hold_first_comments: Mapped[int] = mapped_column(Integer, default=0)
    #: How comments are written: WordPress's text and tags, or Markdown (CommonMark).
    comment_format: Mapped[CommentFormat] = mapped_column(
        enum_column(CommentFormat), default=CommentFormat.WORDPRESS, server_default="wordpress"
    )
    #: Ask suspicious submissions (form and JSON API) for an ALTCHA proof-of-work first.
    challenge_suspicious: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Threads stop taking comments this many days after they began (0: never).
    close_after_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Authors may edit or delete their comment for this many minutes after posting it
    #: (0: never). New sites get 15; the column's server default stays 0 so rows written
    #: before the window existed keep edits off.
    edit_minutes: Mapped[int] = mapped_column(
        Integer, default=DEFAULT_EDIT_MINUTES, server_default="0"
    )
    #: The default order of top-level comments in the widget (readers may switch).
    sort: Mapped[CommentOrder] = mapped_column(
        enum_column(CommentOrder), default=CommentOrder.OLDEST, server_default="oldest"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    threads: Mapped[list[Thread]] = relationship(back_populates="site")


class Thread(Base):
    """One page of a site that takes comments, named by the site's own key."""

    __tablename__ = "threads"
    __table_args__ = (UniqueConstraint("site_id", "key", name="uq_threads_site_id_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(300), default="")
    url: Mapped[str] = mapped_column(String(2000), default="")
    #: False: closed by a moderator or an integration (``thread.upsert``).
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    #: A moderator reopened it: the site's ``close_after_days`` no longer closes it.
    keep_open: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: Bumped whenever the public view of the thread changes: the read cache keys on it.
    version: Mapped[int] = mapped_column(Integer, default=0)
    approved_count: Mapped[int] = mapped_column(Integer, default=0)
    #: When the thread began: its creation, or its earliest comment when imported ones are older.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    site: Mapped[Site] = relationship(back_populates="threads")


class Comment(Base):
    """A comment as submitted, with the decision that placed it and who moderated it."""

    __tablename__ = "comments"
    __table_args__ = (
        # the public read: approved comments of a thread, oldest first
        Index("ix_comments_thread_status_created", "thread_id", "status", "created_at", "id"),
        # a thread page: its top-level comments in order (only they are in this index)...
        Index(
            "ix_comments_thread_top_level",
            "thread_id",
            "status",
            "created_at",
            "id",
            sqlite_where=sql("parent_id IS NULL"),
            postgresql_where=sql("parent_id IS NULL"),
        ),
        # ...and every reply under them (only replies are in this one)
        Index(
            "ix_comments_root_id",
            "root_id",
            sqlite_where=sql("root_id IS NOT NULL"),
            postgresql_where=sql("root_id IS NOT NULL"),
        ),
        # the moderation queue: by site and status, newest or oldest first
        Index("ix_comments_site_status_created", "site_id", "status", "created_at", "id"),
        Index("ix_comments_status_created", "status", "created_at", "id"),
        # trusted authors (site, email, status) and duplicates (thread, email)
        Index("ix_comments_site_email", "site_id", "email", "status"),
        Index("ix_comments_thread_email", "thread_id", "email"),
        Index("ix_comments_parent_id", "parent_id"),
        # the "All" tab, date ranges and exact-email searches over every site and status
        Index("ix_comments_created", "created_at", "id"),
        Index("ix_comments_site_created", "site_id", "created_at", "id"),
        Index("ix_comments_email_created", "email", "created_at"),
        # the website filter: a range of reversed host names (moderation.domain.websites)
        Index("ix_comments_website_key", "website_key"),
        # imports: a comment's id in the system it came from, once per site and source
        Index("uq_comments_site_source", "site_id", "source", "source_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="SET NULL"), default=None
    )
    #: A reply's top-level ancestor when it was written (``None``: a top-level comment),
    #: the same for a whole tree of replies: a thread page loads the trees of its
    #: top-level comments by it (:func:`moderation.services.threads.read_page`). Never changed
    #: afterwards, so no foreign key: when that ancestor is purged it still names the tree.
    root_id: Mapped[int | None] = mapped_column(Integer, default=None)
    author: Mapped[str] = mapped_column(String(245))
    email: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(200), default="")
    #: ``url``'s host, labels reversed (``com.example.www.``): what the website filter
    #: searches. Byte order on PostgreSQL too, so a key range is a range of hosts.
    website_key: Mapped[str] = mapped_column(WEBSITE_KEY, default="", server_default="")
    text: Mapped[str] = mapped_column(Text)
    #: The sanitised HTML of ``text``, rendered once when the text is written.
    html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[CommentStatus] = mapped_column(
        enum_column(CommentStatus), default=CommentStatus.PENDING
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When its author last edited it (readers see "edited"); ``None``: never.
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    ip_truncated: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(500), default="")
    held_by_rule: Mapped[str] = mapped_column(String(40), default="")
    held_reason: Mapped[str] = mapped_column(String(500), default="")
    source: Mapped[str] = mapped_column(String(20), default="form")
    #: The comment's id in the system it was imported from (``source`` names it); None for
    #: comments posted here.
    source_id: Mapped[str | None] = mapped_column(String(255), default=None)
    #: The email was imported as found because it is not a valid address.
    email_flagged: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    moderator_id: Mapped[int | None] = mapped_column(
        ForeignKey("moderators.id", ondelete="SET NULL"), default=None
    )

    thread: Mapped[Thread] = relationship()
    site: Mapped[Site] = relationship()
    parent: Mapped[Comment | None] = relationship(remote_side="Comment.id")


class CommentRevision(Base):
    """A comment's text before an edit (its author's or a moderator's): the history
    moderators see."""

    __tablename__ = "comment_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    #: the text as it was before the edit
    text: Mapped[str] = mapped_column(Text)
    #: its status before the edit
    status: Mapped[str] = mapped_column(String(20))
    #: who edited: "author", or "moderator:<username>"
    edited_by: Mapped[str] = mapped_column(String(245))
    edited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StatusCount(Base):
    """Comments per site and status, kept with every change: the queue's badges stay
    instant at any number of comments."""

    __tablename__ = "status_counts"

    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[CommentStatus] = mapped_column(enum_column(CommentStatus), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
