"""A site's block lists: add, remove and list entries, and find the one a submission hits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select

from moderation.clock import utcnow
from moderation.domain.blocklist import (
    BlockKind,
    blocked_reason,
    candidates,
    clean_entry,
    clean_kind,
)
from moderation.domain.errors import N_, InvalidInput, NotFound
from moderation.extensions import db
from moderation.models import BlockEntry
from moderation.services import events
from moderation.services.events import Actor
from moderation.services.sites import get_site

#: The longest a temporary entry may last.
MAX_DAYS = 3650


@dataclass(frozen=True)
class BlockView:
    """One entry as listed for its site's admins."""

    kind: str
    value: str
    reason: str
    expires_at: datetime | None
    expired: bool


def add_block(
    site_slug: str, kind: str, value: str, reason: str, days: float | None, actor: Actor
) -> BlockEntry:
    """List ``value`` (or change its reason and expiry when it is listed already)."""
    site = get_site(site_slug)
    block_kind = clean_kind(kind)
    clean = clean_entry(block_kind, value)
    if days is not None and not 0 < days <= MAX_DAYS:
        raise InvalidInput(N_("An expiry must be between 0 and %(max)d days."), max=MAX_DAYS)
    expires_at = utcnow() + timedelta(days=days) if days is not None else None
    entry = db.session.execute(
        select(BlockEntry).where(
            BlockEntry.site_id == site.id, BlockEntry.kind == block_kind, BlockEntry.value == clean
        )
    ).scalar_one_or_none()
    if entry is None:
        entry = BlockEntry(site_id=site.id, kind=block_kind.value, value=clean)
        db.session.add(entry)
    entry.reason = reason.strip()[:500]
    entry.expires_at = expires_at
    db.session.flush()
    events.audit(actor, "block", site_id=site.id, reason=_audit_text(block_kind, clean))
    db.session.commit()
    return entry


def remove_block(site_slug: str, kind: str, value: str, actor: Actor) -> None:
    """Take an entry off the list; :class:`NotFound` when it is not there."""
    site = get_site(site_slug)
    block_kind = clean_kind(kind)
    clean = clean_entry(block_kind, value)
    entry = db.session.execute(
        select(BlockEntry).where(
            BlockEntry.site_id == site.id, BlockEntry.kind == block_kind, BlockEntry.value == clean
        )
    ).scalar_one_or_none()
    if entry is None:
        raise NotFound(N_("%(value)r is not on the block list."), value=value)
    db.session.delete(entry)
    events.audit(actor, "unblock", site_id=site.id, reason=_audit_text(block_kind, clean))
    db.session.commit()


def list_blocks(site_slug: str, now: datetime | None = None) -> list[BlockView]:
    """The site's entries by kind and value, expired ones marked."""
    site = get_site(site_slug)
    moment = now or utcnow()
    rows = db.session.execute(
        select(BlockEntry)
        .where(BlockEntry.site_id == site.id)
        .order_by(BlockEntry.kind, BlockEntry.value)
    ).scalars()
    return [
        BlockView(
            row.kind,
            row.value,
            row.reason,
            row.expires_at,
            row.expires_at is not None and row.expires_at <= moment,
        )
        for row in rows
    ]


def blocked_by(
    site_id: int, email: str, website: str, links: Sequence[str], client_ip: str, now: datetime
) -> str | None:
    """The reason a current entry blocks this submission, or None (one indexed SELECT)."""
    wanted = candidates(email, website, links, client_ip)
    if not wanted:
        return None
    rows = db.session.execute(
        select(BlockEntry.kind, BlockEntry.value, BlockEntry.reason).where(
            BlockEntry.site_id == site_id,
            BlockEntry.value.in_([value for _, value in wanted]),
            or_(BlockEntry.expires_at.is_(None), BlockEntry.expires_at > now),
        )
    ).all()
    listed = {(row.kind, row.value): row.reason for row in rows}
    for kind, value in wanted:
        if (kind.value, value) in listed:
            return blocked_reason(kind, value, listed[(kind.value, value)])
    return None


def _audit_text(kind: BlockKind, value: str) -> str:
    """What the audit log keeps: never an email address."""
    return f"{kind.value}" if kind is BlockKind.EMAIL else f"{kind.value} {value}"
