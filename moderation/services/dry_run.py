"""``rules try``: replay a proposed rule change over a site's last decided comments.

"Decided" means a moderator (or an integration) approved it or marked it spam: what the
comment teaches the classifier (``comment_spam.label``). Each is run through the same
:func:`~moderation.domain.rules.decide` twice, with today's settings and with the proposed
ones. The classifier scores each comment with the counts as they are minus that comment's
own contribution, so a comment is never judged by what it taught.

Not replayed: what only the door saw (honeypot, form timing, duplicates, flood, rate
limits); IPv6 block entries (comments keep only the sender's /48, a block names a /64).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import func, select

from moderation.clock import utcnow
from moderation.domain.blocklist import blocked_reason, candidates, clean_entry, clean_kind
from moderation.domain.comments import CommentDraft
from moderation.domain.dry_run import Replayed, Report
from moderation.domain.errors import N_, InvalidInput
from moderation.domain.reading import read_html
from moderation.domain.rendering import render_text
from moderation.domain.rules import Signals, SiteRules, decide
from moderation.domain.sites import clean_policy, parse_word_list
from moderation.domain.spam import Counts, Label, SpamClassifier, SpamScore, Thresholds
from moderation.domain.spam.classifier import training_deltas
from moderation.domain.spam.store import Key
from moderation.domain.status import CommentStatus
from moderation.extensions import db
from moderation.models import BlockEntry, Comment, CommentSpam
from moderation.services.judging import site_rules
from moderation.services.sites import SiteInfo, site_info
from moderation.services.spam_store import SqlCountStore

MAX_LAST = 5000


@dataclass(frozen=True)
class Proposal:
    """A rule change to try; ``None`` keeps today's setting. Word lists replace today's;
    ``blocks`` are (kind, value) entries added to today's block list."""

    policy: str | None = None
    max_links: int | None = None
    moderation_words: str | None = None
    blocked_words: str | None = None
    blocks: tuple[tuple[str, str], ...] = ()
    spam_hold_threshold: float | None = None
    spam_threshold: float | None = None
    hold_first_comments: int | None = None


class _WithoutOwnCounts:
    """A count store that leaves one comment's own contribution out of the counts."""

    def __init__(self, store: SqlCountStore, own: Mapping[Key, Counts]) -> None:
        self._store, self._own = store, own

    def counts(self, scopes: Sequence[str], features: Collection[str]) -> Mapping[Key, Counts]:
        rows = dict(self._store.counts(scopes, features))
        for key, delta in self._own.items():
            if key in rows:
                row = rows[key] + delta
                rows[key] = Counts(max(row.spam, 0), max(row.ham, 0))
        return rows

    def add(self, deltas: Mapping[Key, Counts]) -> None:  # pragma: no cover - never learns
        raise RuntimeError("a dry run learns nothing")


def try_rules(site_slug: str, proposal: Proposal, last: int = 200) -> Report:
    """How today's settings and the proposed ones treat the site's last ``last`` decided
    comments, against what moderators decided. Changes nothing."""
    if not 1 <= last <= MAX_LAST:
        raise InvalidInput(N_("--last must be between 1 and %(max)d."), max=MAX_LAST)
    site = site_info(site_slug)
    current = site_rules(site, 0)
    proposed = _proposed_rules(current, proposal)
    blocks_now = _active_blocks(site.id)
    blocks_then = {**blocks_now, **_clean_blocks(proposal.blocks)}
    rows = db.session.execute(
        select(Comment, CommentSpam)
        .join(CommentSpam, CommentSpam.comment_id == Comment.id)
        .where(Comment.site_id == site.id, CommentSpam.label.in_([label.value for label in Label]))
        .order_by(Comment.id.desc())
        .limit(last)
    ).all()
    store = SqlCountStore(db.session)
    replayed = []
    for comment, learned in reversed(rows):
        draft = CommentDraft(comment.text, comment.author, comment.email, comment.url)
        actual = Label(learned.label)
        features = learned.features.split("\n") if learned.features else []
        classify = _score_without_itself(site, store, features, actual)
        links = read_html(render_text(comment.text, site.comment_format)).links
        signals = _signals(site, comment)
        before = replace(signals, blocked_by=_blocked(blocks_now, comment, links))
        after = replace(signals, blocked_by=_blocked(blocks_then, comment, links))
        replayed.append(
            Replayed(
                comment.id,
                actual,
                decide(draft, current, before, classify),
                decide(draft, proposed, after, classify),
            )
        )
    db.session.rollback()
    return Report(tuple(replayed))


def _proposed_rules(current: SiteRules, proposal: Proposal) -> SiteRules:
    """Today's rules with the proposal's changes, checked like a real change."""
    today = current.spam_thresholds
    hold, spam = proposal.spam_hold_threshold, proposal.spam_threshold
    try:
        thresholds = Thresholds(
            today.hold if hold is None else hold, today.spam if spam is None else spam
        )
    except ValueError:
        raise InvalidInput(N_("Spam thresholds need 0 < hold ≤ spam ≤ 1.")) from None
    if proposal.max_links is not None and not 0 <= proposal.max_links <= 100:
        raise InvalidInput(N_("max_links must be between 0 and 100."))
    return replace(
        current,
        policy=clean_policy(proposal.policy) if proposal.policy else current.policy,
        max_links=current.max_links if proposal.max_links is None else proposal.max_links,
        moderation_words=_words(proposal.moderation_words, current.moderation_words),
        blocked_words=_words(proposal.blocked_words, current.blocked_words),
        spam_thresholds=thresholds,
        hold_first_comments=(
            current.hold_first_comments
            if proposal.hold_first_comments is None
            else max(0, proposal.hold_first_comments)
        ),
    )


def _words(text: str | None, today: tuple[str, ...]) -> tuple[str, ...]:
    return today if text is None else tuple(parse_word_list(text))


def _clean_blocks(entries: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
    cleaned = {}
    for kind, value in entries:
        block_kind = clean_kind(kind)
        cleaned[(block_kind.value, clean_entry(block_kind, value))] = "proposed"
    return cleaned


def _active_blocks(site_id: int) -> dict[tuple[str, str], str]:
    """Today's unexpired entries of the site."""
    moment = utcnow()
    rows = db.session.execute(
        select(BlockEntry.kind, BlockEntry.value, BlockEntry.reason, BlockEntry.expires_at).where(
            BlockEntry.site_id == site_id
        )
    ).all()
    return {
        (row.kind, row.value): row.reason
        for row in rows
        if row.expires_at is None or row.expires_at > moment
    }


def _blocked(
    entries: Mapping[tuple[str, str], str], comment: Comment, links: Sequence[str]
) -> str | None:
    """The reason an entry would block this stored comment, or None."""
    if not entries:
        return None
    network = ""
    if comment.ip_truncated:
        try:
            parsed = ipaddress.ip_network(comment.ip_truncated, strict=False)
            network = str(parsed.network_address) if parsed.version == 4 else ""
        except ValueError:
            network = ""
    for kind, value in candidates(comment.email, comment.url, links, network):
        if (kind.value, value) in entries:
            return blocked_reason(kind, value, entries[(kind.value, value)])
    return None


def _signals(site: SiteInfo, comment: Comment) -> Signals:
    """What the rules need to know about the author: approved comments before this one."""
    earlier = int(
        db.session.execute(
            select(func.count()).where(
                Comment.site_id == site.id,
                Comment.email == comment.email,
                Comment.status == CommentStatus.APPROVED,
                Comment.id < comment.id,
            )
        ).scalar_one()
    )
    return Signals(author_has_approved_comment=earlier > 0, author_comment_count=earlier)


def _score_without_itself(
    site: SiteInfo, store: SqlCountStore, features: list[str], actual: Label
) -> Callable[[], SpamScore]:
    """The classifier's score of a comment without its own contribution, computed once."""
    found: list[SpamScore] = []

    def classify() -> SpamScore:
        if not found:
            own = training_deltas(site.id, features, actual, sign=-1)
            found.append(SpamClassifier(_WithoutOwnCounts(store, own)).score(site.id, features))
        return found[0]

    return classify
