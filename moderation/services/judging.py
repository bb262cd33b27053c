"""What the spam and moderation rules are told about a comment beyond its door: the site's
rule settings, the author's standing (trusted, first comment), the block list, and the
classifier's question, asked only if the rules get that far. A new comment
(:mod:`moderation.services.submissions`) and an author's edit (:func:`judge_edit`) are
judged alike."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import exists, func, select

from moderation.domain.comments import CommentDraft
from moderation.domain.reading import read_html
from moderation.domain.rendering import render_text
from moderation.domain.rules import Decision, Signals, SiteRules, decide
from moderation.domain.sites import SitePolicy
from moderation.domain.spam import Counts, SpamScore, Thresholds
from moderation.domain.spam.store import Key
from moderation.domain.status import CommentStatus
from moderation.extensions import db
from moderation.models import Comment
from moderation.services import blocklist, spam, subscriptions
from moderation.services.sites import SiteInfo


def judge_edit(site: SiteInfo, draft: CommentDraft, client_ip: str, now: datetime) -> Decision:
    """The rules' decision on an author's edited text: as on a new comment's, without the
    rules of the door (timing, duplicates, floods: the comment is already there)."""
    signals = Signals(**author_and_content_signals(site, draft, client_ip, now))
    rules = site_rules(site, current_app.config["SPAM_MIN_FILL_SECONDS"])
    return decide(draft, rules, signals, classifier(site, draft, client_ip, []))


def author_and_content_signals(
    site: SiteInfo,
    draft: CommentDraft,
    client_ip: str,
    now: datetime,
    links: tuple[str, ...] | None = None,
    has_approved: bool | None = None,
    maybe_blocked: bool = True,
) -> dict[str, Any]:
    """What the rules need to know of the author and the text (the door's own signals aside);
    the text's ``links`` and whether the author ``has_approved`` comments, where the caller
    already knows them, and whether a block list entry ``maybe_blocked`` it (when the caller
    knows none does, the list is not read)."""
    if links is None:
        links = read_html(render_text(draft.text, site.comment_format)).links
    return {
        "author_has_approved_comment": (
            site.policy is SitePolicy.TRUSTED
            and (
                has_approved_comment(site.id, draft.email) if has_approved is None else has_approved
            )
            # anyone can type a trusted author's address: optionally trust only confirmed ones
            and (
                not current_app.config["TRUSTED_REQUIRES_CONFIRMED_EMAIL"]
                or subscriptions.is_confirmed(site.id, draft.email)
            )
        ),
        "blocked_by": (
            blocklist.blocked_by(site.id, draft.email, draft.url, links, client_ip, now)
            if maybe_blocked
            else None
        ),
        "author_comment_count": (
            _approved_count(site.id, draft.email) if site.hold_first_comments else None
        ),
    }


def classifier(
    site: SiteInfo,
    draft: CommentDraft,
    client_ip: str,
    assessed: list[spam.Assessment],
    features: frozenset[str] | None = None,
    counts: Mapping[Key, Counts] | None = None,
) -> Callable[[], SpamScore]:
    """The classifier rule's question, asked only if the rules get that far (its full
    assessment is kept in ``assessed``); with the draft's ``features`` and their ``counts``
    where the caller read them ahead."""

    def classify() -> SpamScore:
        assessment = spam.assess(site.id, draft, client_ip, features, counts)
        assessed.append(assessment)
        return assessment.result

    return classify


def site_rules(site: SiteInfo, min_fill_seconds: float) -> SiteRules:
    """The rule settings of ``site``."""
    return SiteRules(
        policy=site.policy,
        max_links=site.max_links,
        moderation_words=site.moderation_words,
        blocked_words=site.blocked_words,
        flood_seconds=site.flood_seconds,
        min_fill_seconds=float(min_fill_seconds),
        spam_thresholds=Thresholds(site.spam_hold_threshold, site.spam_threshold),
        hold_first_comments=site.hold_first_comments,
        comment_format=site.comment_format,
    )


def _approved_count(site_id: int, email: str) -> int:
    """How many approved comments this author (by email) has on the site."""
    return int(
        db.session.execute(
            select(func.count()).where(
                Comment.site_id == site_id,
                Comment.email == email,
                Comment.status == CommentStatus.APPROVED,
            )
        ).scalar_one()
    )


def has_approved_comment(site_id: int, email: str) -> bool:
    """Whether this author (by email) has an approved comment on the site."""
    return bool(
        db.session.execute(
            select(
                exists().where(
                    Comment.site_id == site_id,
                    Comment.email == email,
                    Comment.status == CommentStatus.APPROVED,
                )
            )
        ).scalar()
    )
