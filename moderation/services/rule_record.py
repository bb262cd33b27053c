"""Each rule's record on a site, from its comments as they stand (for the dashboard's rules
page and ``moderation rules record``)."""

from __future__ import annotations

from sqlalchemy import func, select

from moderation.domain.rule_record import RuleRecord, records
from moderation.extensions import db
from moderation.models import Comment
from moderation.services.sites import site_info


def site_record(site_slug: str) -> list[RuleRecord]:
    """How often each rule decided a comment of the site, and how often moderators
    overruled it: one grouped count over the site's comments."""
    site = site_info(site_slug)
    rows = db.session.execute(
        select(Comment.held_by_rule, Comment.status, func.count())
        .where(Comment.site_id == site.id)
        .group_by(Comment.held_by_rule, Comment.status)
    ).all()
    return records((rule or "", status, int(count)) for rule, status, count in rows)
