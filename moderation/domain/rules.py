"""Spam and moderation rules: what happens to a valid comment, and why.

Every decision names the rule that made it and a reason a moderator can read. The
inputs are explicit (counts, flags, the site's settings), so the rules run without an
app or a database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from moderation.domain.comments import CommentDraft
from moderation.domain.errors import N_
from moderation.domain.reading import Reading, comparable, read_html, readings_of_link
from moderation.domain.rendering import render_text
from moderation.domain.sites import CommentFormat, SitePolicy
from moderation.domain.spam import SpamScore, Thresholds, Verdict, verdict_for


class Outcome(StrEnum):
    """What the rules do with a comment."""

    PUBLISH = "publish"  # approved at once
    HOLD = "hold"  # pending, for a moderator
    SPAM = "spam"  # stored as spam; the sender is answered as if it were accepted
    REFUSE = "refuse"  # not stored; the sender is told why


class Rule(StrEnum):
    """The rule behind a decision, stored with the comment and shown to moderators."""

    HONEYPOT = "honeypot"
    TOO_FAST = "too_fast"
    DUPLICATE = "duplicate"
    FLOOD = "flood"
    BLOCKED_WORDS = "blocked_words"
    TOO_MANY_LINKS = "too_many_links"
    MODERATION_WORDS = "moderation_words"
    BLOCK_LIST = "block_list"
    CLASSIFIER = "classifier"
    NEW_AUTHOR = "new_author"
    PREMODERATION = "premoderation"
    FIRST_COMMENT = "first_comment"
    TRUSTED_AUTHOR = "trusted_author"
    OPEN_POLICY = "open_policy"
    MODERATOR = "moderator"


#: What the person who posted reads when a rule refuses their comment (WordPress's words).
DUPLICATE_MESSAGE = N_("Duplicate comment detected; it looks as though you've already said that!")
FLOOD_MESSAGE = N_(
    "You are posting comments too quickly. Please wait %(seconds)d seconds and try again."
)


@dataclass(frozen=True)
class SiteRules:
    """A site's policy and rule settings."""

    policy: SitePolicy = SitePolicy.PREMODERATE
    max_links: int = 2
    moderation_words: tuple[str, ...] = ()
    blocked_words: tuple[str, ...] = ()
    flood_seconds: int = 15
    min_fill_seconds: float = 3.0
    spam_thresholds: Thresholds = field(default_factory=Thresholds)
    hold_first_comments: int = 0
    #: How the site renders comments: the rules judge what readers will see.
    comment_format: CommentFormat = CommentFormat.WORDPRESS


@dataclass(frozen=True)
class Signals:
    """What the service observed about this submission."""

    honeypot_filled: bool = False
    fill_seconds: float | None = None  # None when the door has no form token (webhooks)
    is_duplicate: bool = False
    flood_wait_seconds: int | None = None  # seconds until the flood interval has passed
    author_has_approved_comment: bool = False
    #: Why a block list entry matches this submission ("the email domain x is blocked").
    blocked_by: str | None = None
    #: How many approved comments the author (by email) has on the site (None: not counted).
    author_comment_count: int | None = None


@dataclass(frozen=True)
class Decision:
    """The outcome, the rule that decided and a reason in plain words."""

    outcome: Outcome
    rule: Rule
    reason: str
    retry_after: int | None = None
    params: dict[str, object] = field(default_factory=dict)
    #: What the classifier said, when it was asked.
    spam: SpamScore | None = None


def find_word(searchable: str, words: tuple[str, ...]) -> str | None:
    """The first listed word or phrase that occurs in ``searchable`` (made by
    :func:`searchable_text`), compared as a reader tells them apart
    (:func:`~moderation.domain.reading.comparable`: case, invisible characters and
    look-alike forms do not count)."""
    for word in words:
        wanted = comparable(word)
        if wanted and wanted in searchable:
            return word
    return None


def searchable_text(draft: CommentDraft, reading: Reading) -> str:
    """What the word lists are matched against: the comment as typed and as readers see it
    (its text, where its links go, its tooltips), the name, the email and the website.
    One part per line, so a phrase never joins the end of one part to the next."""
    parts = [draft.text, reading.text, *reading.titles, draft.author, draft.email]
    for address in (*reading.links, draft.url):
        parts.extend(readings_of_link(address))
    return "\n".join(comparable(part) for part in parts if part)


def decide(
    draft: CommentDraft,
    rules: SiteRules,
    signals: Signals,
    classify: Callable[[], SpamScore] | None = None,
    pass_grey_zone: bool = False,
    reading: Reading | None = None,
) -> Decision:
    """Apply the rules in order; the first that speaks decides.

    ``classify`` asks the spam classifier; it is called only when the cheap rules let the
    comment through, and its answer rides on the decision (``Decision.spam``).
    ``pass_grey_zone``: the sender solved a challenge asked for a grey-zone score, so a
    classifier *hold* passes on to the policy (a spam verdict still marks spam).
    ``reading``: the comment as rendered for ``rules.comment_format`` and read
    (:func:`~moderation.domain.reading.read_html`), where the caller has it already.
    """
    if signals.honeypot_filled:
        return Decision(Outcome.SPAM, Rule.HONEYPOT, "The hidden honeypot field was filled in.")
    if signals.fill_seconds is not None and signals.fill_seconds < rules.min_fill_seconds:
        return Decision(
            Outcome.SPAM,
            Rule.TOO_FAST,
            f"The form was sent {signals.fill_seconds:.1f} s after it was shown "
            f"(a person needs at least {rules.min_fill_seconds:g} s).",
        )
    if signals.is_duplicate:
        return Decision(Outcome.REFUSE, Rule.DUPLICATE, DUPLICATE_MESSAGE)
    if signals.flood_wait_seconds:
        return Decision(
            Outcome.REFUSE,
            Rule.FLOOD,
            FLOOD_MESSAGE,
            retry_after=signals.flood_wait_seconds,
            params={"seconds": signals.flood_wait_seconds},
        )
    if signals.blocked_by:
        return Decision(Outcome.SPAM, Rule.BLOCK_LIST, signals.blocked_by)
    # the rules judge what readers will see: the comment as it will be rendered
    if reading is None:
        reading = read_html(render_text(draft.text, rules.comment_format))
    searchable = searchable_text(draft, reading)
    blocked = find_word(searchable, rules.blocked_words)
    if blocked:
        return Decision(Outcome.SPAM, Rule.BLOCKED_WORDS, f"Contains the blocked word {blocked!r}.")
    links = reading.link_count
    if links > rules.max_links:
        return Decision(
            Outcome.HOLD,
            Rule.TOO_MANY_LINKS,
            f"Contains {links} links; the site holds comments with more than {rules.max_links}.",
        )
    held = find_word(searchable, rules.moderation_words)
    if held:
        return Decision(
            Outcome.HOLD, Rule.MODERATION_WORDS, f"Contains the moderation word {held!r}."
        )
    spam = classify() if classify is not None else None
    if spam is not None:
        verdict = verdict_for(spam, rules.spam_thresholds)
        if verdict is Verdict.SPAM or (verdict is Verdict.HOLD and not pass_grey_zone):
            outcome = Outcome.SPAM if verdict is Verdict.SPAM else Outcome.HOLD
            return Decision(outcome, Rule.CLASSIFIER, spam.reason, spam=spam)
    decision = _new_author(rules, signals) or _policy(rules, signals)
    if spam is None:
        return decision
    # the policy decides, and the moderator still reads what the classifier thought
    return Decision(
        decision.outcome, decision.rule, f"{decision.reason} ({spam.reason})", spam=spam
    )


def _new_author(rules: SiteRules, signals: Signals) -> Decision | None:
    """Hold the first comments of an author new to the site, when the site asks for it."""
    count = signals.author_comment_count
    if rules.hold_first_comments and count is not None and count < rules.hold_first_comments:
        return Decision(
            Outcome.HOLD,
            Rule.NEW_AUTHOR,
            f"The author has {count} earlier comment(s) here; the site holds the first "
            f"{rules.hold_first_comments}.",
        )
    return None


def _policy(rules: SiteRules, signals: Signals) -> Decision:
    """The site's policy, once no rule has spoken."""
    if rules.policy is SitePolicy.OPEN:
        return Decision(
            Outcome.PUBLISH, Rule.OPEN_POLICY, "The site publishes comments no rule holds."
        )
    if rules.policy is SitePolicy.TRUSTED:
        if signals.author_has_approved_comment:
            return Decision(
                Outcome.PUBLISH, Rule.TRUSTED_AUTHOR, "The author already has an approved comment."
            )
        return Decision(
            Outcome.HOLD,
            Rule.FIRST_COMMENT,
            "A first comment waits for a moderator (trusted policy).",
        )
    return Decision(Outcome.HOLD, Rule.PREMODERATION, "The site reviews every comment first.")
