"""What a submission reads before anything else, in one round trip: the thread, the
duplicate check, whether the site's block list, integrations and chat hooks can concern
it at all (on most sites they cannot, and then they are not read), and the classifier's
counts for the comment's features (read ahead: the classifier is asked on most posts, and
reading them here saves it a round trip of its own)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, exists, or_, select

from moderation.domain.blocklist import candidates as block_candidates
from moderation.domain.comments import CommentDraft
from moderation.domain.spam import Counts
from moderation.domain.spam.store import Key
from moderation.domain.status import CommentStatus
from moderation.extensions import db
from moderation.models import BlockEntry, ChatHook, Comment, Integration, Site, Thread
from moderation.services.list_parameters import list_value, one_of
from moderation.services.prepared import prepared
from moderation.services.spam_store import counts_column, read_counts
from moderation.services.threads import THREAD_STATE_COLUMNS, ThreadState, state_of


@dataclass(frozen=True)
class FirstLook:
    """What a submission reads before anything else, in one round trip."""

    #: the thread's state (``None`` before its first comment)
    thread: ThreadState | None
    #: the same person already said exactly this on this thread (WordPress's check)
    is_duplicate: bool
    #: a current block list entry names one of the submission's values (its kind is
    #: checked by :func:`blocklist.blocked_by`, read only then)
    maybe_blocked: bool
    #: the site has an active integration with a webhook target (events to queue)
    has_integrations: bool
    #: the site has chat hooks (held comments are posted there)
    has_chat_hooks: bool
    #: the classifier's counts for the features :func:`first_look` was given
    spam_counts: Mapping[Key, Counts]


@cache
def _first_look_statement(dialect: str) -> Any:
    """The statement of :func:`first_look`: one row whether or not the thread exists yet
    (the site's row, the thread joined to it). Built once per dialect (the block list's
    candidates are one parameter)."""
    return (
        select(
            *THREAD_STATE_COLUMNS,
            exists()
            .where(
                Comment.thread_id == Thread.id,
                Comment.email == bindparam("email"),
                Comment.text == bindparam("text"),
                Comment.status != CommentStatus.DELETED,
            )
            .label("is_duplicate"),
            exists()
            .where(
                BlockEntry.site_id == Site.id,
                one_of(BlockEntry.value, "block_values", dialect),
                or_(BlockEntry.expires_at.is_(None), BlockEntry.expires_at > bindparam("now")),
            )
            .label("maybe_blocked"),
            exists()
            .where(
                Integration.site_id == Site.id,
                Integration.is_active.is_(True),
                Integration.target_url != "",
            )
            .label("has_integrations"),
            exists().where(ChatHook.site_id == Site.id).label("has_chat_hooks"),
            counts_column(dialect),
        )
        .select_from(Site)
        .outerjoin(Thread, and_(Thread.site_id == Site.id, Thread.key == bindparam("key")))
        .where(Site.id == bindparam("site_id"))
    )


def first_look(
    site_id: int,
    thread_key: str,
    client_ip: str,
    now: datetime,
    draft: CommentDraft,
    links: tuple[str, ...],
    counts_of: tuple[Sequence[str], Sequence[str]] = ((), ()),
) -> FirstLook:
    """:class:`FirstLook` for ``draft`` posted on ``thread_key`` from ``client_ip`` at ``now``
    (its text links to ``links``), with the classifier's counts of ``counts_of`` (scopes,
    features: :func:`~moderation.domain.spam.counts_wanted`)."""
    wanted = block_candidates(draft.email, draft.url, links, client_ip)
    connection = db.session.connection()
    dialect = connection.dialect.name
    params = {
        "site_id": site_id,
        "key": thread_key,
        "email": draft.email,
        "text": draft.text,
        "block_values": list_value((value for _, value in wanted), dialect),
        "now": now,
        "count_scopes": list_value(counts_of[0], dialect),
        "count_features": list_value(counts_of[1], dialect),
    }
    row = prepared(_first_look_statement(dialect), connection.dialect).first(connection, params)
    if row is None:  # the site is gone: let every later read find out the usual way
        return FirstLook(None, False, True, True, True, read_counts(None))
    return FirstLook(
        state_of(row) if row.id is not None else None,
        bool(row.is_duplicate),
        bool(row.maybe_blocked),
        bool(row.has_integrations),
        bool(row.has_chat_hooks),
        read_counts(row.spam_counts),
    )
