"""Registering sites and changing their settings."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from limits import parse_many
from sqlalchemy import select

from moderation.cache import caches
from moderation.domain.closing import clean_close_after_days
from moderation.domain.edits import DEFAULT_EDIT_MINUTES, MAX_EDIT_MINUTES
from moderation.domain.errors import N_, Conflict, InvalidInput, NotFound
from moderation.domain.sites import (
    CommentFormat,
    CommentOrder,
    SitePolicy,
    clean_comment_format,
    clean_order,
    clean_origins,
    clean_policy,
    clean_slug,
    parse_word_list,
)
from moderation.domain.spam import Thresholds
from moderation.domain.status import CommentStatus
from moderation.extensions import db
from moderation.models import Site, StatusCount


@dataclass(frozen=True)
class SiteInfo:
    """A site's settings as the hot paths need them, cheap to keep between requests."""

    id: int
    slug: str
    name: str
    origins: tuple[str, ...]
    policy: SitePolicy
    max_depth: int
    page_size: int
    max_links: int
    flood_seconds: int
    submit_limit: str | None
    moderation_words: tuple[str, ...]
    blocked_words: tuple[str, ...]
    spam_hold_threshold: float = 0.40
    spam_threshold: float = 0.80
    hold_first_comments: int = 0
    challenge_suspicious: bool = False
    close_after_days: int = 0
    sort: CommentOrder = CommentOrder.OLDEST
    edit_minutes: int = DEFAULT_EDIT_MINUTES
    comment_format: CommentFormat = CommentFormat.WORDPRESS


def site_info(slug: str) -> SiteInfo:
    """The site's public settings, remembered for a few seconds per process.

    Changes made in this process are seen at once; other processes see them within the
    cache's few seconds (``moderation.cache``).
    """
    info: SiteInfo | None = caches().site_info.get(slug, lambda: _load_site_info(slug))
    if info is None:
        raise NotFound(N_("Unknown site %(slug)r."), slug=slug)
    return info


def _load_site_info(slug: str) -> SiteInfo | None:
    site = db.session.execute(select(Site).where(Site.slug == slug)).scalar_one_or_none()
    if site is None:
        return None
    return SiteInfo(
        id=site.id,
        slug=site.slug,
        name=site.name,
        origins=tuple(site.origins),
        policy=site.policy,
        max_depth=site.max_depth,
        page_size=site.page_size,
        max_links=site.max_links,
        flood_seconds=site.flood_seconds,
        submit_limit=site.submit_limit,
        moderation_words=tuple(parse_word_list(site.moderation_words)),
        blocked_words=tuple(parse_word_list(site.blocked_words)),
        spam_hold_threshold=site.spam_hold_threshold,
        spam_threshold=site.spam_threshold,
        hold_first_comments=site.hold_first_comments,
        challenge_suspicious=site.challenge_suspicious,
        close_after_days=site.close_after_days,
        sort=site.sort,
        edit_minutes=site.edit_minutes,
        comment_format=site.comment_format,
    )


def forget_site_info(slug: str) -> None:
    """Drop this process's remembered settings of a site (after a change)."""
    caches().site_info.forget(slug)


def get_site(slug: str) -> Site:
    """The site named ``slug``, or :class:`NotFound`."""
    site = db.session.execute(select(Site).where(Site.slug == slug)).scalar_one_or_none()
    if site is None:
        raise NotFound(N_("Unknown site %(slug)r."), slug=slug)
    return site


def list_sites(site_ids: AbstractSet[int] | None = None) -> list[Site]:
    """Every site (only those in ``site_ids`` when given), by slug."""
    query = select(Site).order_by(Site.slug)
    if site_ids is not None:
        query = query.where(Site.id.in_(sorted(site_ids)))
    return list(db.session.execute(query).scalars())


def create_site(
    slug: str, name: str, origins: list[str], policy: str = SitePolicy.PREMODERATE.value
) -> Site:
    """Register a site and the origins allowed to embed it."""
    clean = clean_slug(slug)
    if not name.strip():
        raise InvalidInput(N_("A site needs a name."))
    if not origins:
        raise InvalidInput(N_("A site needs at least one origin allowed to embed it."))
    allowed = clean_origins(origins)
    chosen_policy = clean_policy(policy)
    if db.session.execute(select(Site.id).where(Site.slug == clean)).first():
        raise Conflict(N_("A site with the slug %(slug)r already exists."), slug=clean)
    site = Site(slug=clean, name=name.strip()[:200], origins=allowed, policy=chosen_policy)
    db.session.add(site)
    db.session.flush()
    db.session.add_all(
        StatusCount(site_id=site.id, status=status, count=0) for status in CommentStatus
    )
    db.session.commit()
    return site


@dataclass(frozen=True)
class SiteSettings:
    """The settings a site owner can change; ``None`` leaves a setting as it is."""

    name: str | None = None
    origins: list[str] | None = None
    policy: str | None = None
    max_links: int | None = None
    flood_seconds: int | None = None
    max_depth: int | None = None
    page_size: int | None = None
    submit_limit: str | None = None
    moderation_words: str | None = None
    blocked_words: str | None = None
    spam_hold_threshold: float | None = None
    spam_threshold: float | None = None
    hold_first_comments: int | None = None
    challenge_suspicious: bool | None = None
    close_after_days: int | None = None
    sort: str | None = None
    edit_minutes: int | None = None
    comment_format: str | None = None


def update_site(slug: str, settings: SiteSettings) -> Site:
    """Change a site's settings after checking every value."""
    site = get_site(slug)
    if settings.name is not None:
        if not settings.name.strip():
            raise InvalidInput(N_("A site needs a name."))
        site.name = settings.name.strip()[:200]
    if settings.origins is not None:
        if not settings.origins:
            raise InvalidInput(N_("A site needs at least one origin allowed to embed it."))
        site.origins = clean_origins(settings.origins)
    if settings.policy is not None:
        site.policy = clean_policy(settings.policy)
    if settings.comment_format is not None:
        # comments already stored keep the HTML they were published with
        site.comment_format = clean_comment_format(settings.comment_format)
    for field, low, high in (
        ("max_links", 0, 100),
        ("flood_seconds", 0, 3600),
        ("max_depth", 1, 10),
        ("page_size", 5, 500),
        ("edit_minutes", 0, MAX_EDIT_MINUTES),
    ):
        value = getattr(settings, field)
        if value is not None:
            if not low <= value <= high:
                raise InvalidInput(
                    N_("%(field)s must be between %(low)d and %(high)d."),
                    field=field,
                    low=low,
                    high=high,
                )
            setattr(site, field, value)
    _set_thresholds(site, settings)
    if settings.hold_first_comments is not None:
        if not 0 <= settings.hold_first_comments <= 100:
            raise InvalidInput(N_("hold_first_comments must be between 0 and 100."))
        site.hold_first_comments = settings.hold_first_comments
    if settings.challenge_suspicious is not None:
        site.challenge_suspicious = settings.challenge_suspicious
    if settings.close_after_days is not None:
        site.close_after_days = clean_close_after_days(settings.close_after_days)
    if settings.sort is not None:
        site.sort = clean_order(settings.sort)
    if settings.submit_limit is not None:
        site.submit_limit = _clean_limit(settings.submit_limit)
    if settings.moderation_words is not None:
        site.moderation_words = "\n".join(parse_word_list(settings.moderation_words))
    if settings.blocked_words is not None:
        site.blocked_words = "\n".join(parse_word_list(settings.blocked_words))
    db.session.commit()
    forget_site_info(slug)
    return site


def _set_thresholds(site: Site, settings: SiteSettings) -> None:
    """The classifier's thresholds: 0 < hold ≤ spam ≤ 1, checked together."""
    hold = settings.spam_hold_threshold
    spam = settings.spam_threshold
    if hold is None and spam is None:
        return
    hold = site.spam_hold_threshold if hold is None else hold
    spam = site.spam_threshold if spam is None else spam
    try:
        Thresholds(hold, spam)
    except ValueError:
        raise InvalidInput(
            N_("Spam thresholds need 0 < hold ≤ spam ≤ 1 (got hold %(hold)s, spam %(spam)s)."),
            hold=hold,
            spam=spam,
        ) from None
    site.spam_hold_threshold, site.spam_threshold = hold, spam


def _clean_limit(text: str) -> str | None:
    """A rate limit in Flask-Limiter notation (``100/hour;1000/day``), or empty for the default."""
    value = text.strip()
    if not value:
        return None
    try:
        parse_many(value)
    except ValueError:
        raise InvalidInput(
            N_("Invalid limit %(limit)r: write it like 100/hour or 10/minute;100/day."),
            limit=value,
        ) from None
    return value
