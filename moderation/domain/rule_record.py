"""Each rule's record: how often it decided a submission's fate, and how often people
overruled it (issues 17 and 19). Pure: it reads counts of (rule, outcome) from the daily
counts and of (rule, from status, to status) from people's decisions.

A rule *judges* a comment when it marks it spam, holds it as suspicious, refuses it, or
publishes it. People *overrule* it when they decide the other way: a comment a rule marked
spam or held is approved (or restored); a comment a rule published is marked spam or
rejected. Rules that only apply the site's policy (every comment waits, a first comment
waits) judge nothing, so they have no overrule count. A held comment still pending has not
been overruled (yet).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from moderation.domain.rules import Outcome, Rule
from moderation.domain.status import CommentStatus

#: Who makes a decision a person made (audit actor kinds; not a rule, not the author).
PEOPLE = ("moderator", "integration", "email_link")

#: Rules that publish a comment; overruled when moderators mark it spam or reject it.
PUBLISHING = frozenset({Rule.OPEN_POLICY.value, Rule.TRUSTED_AUTHOR.value})
#: Rules that apply the policy (or are no rule at all): no judgment to overrule.
NOT_JUDGING = frozenset(
    {
        Rule.PREMODERATION.value,
        Rule.FIRST_COMMENT.value,
        Rule.MODERATOR.value,
        "imported",
    }
)
#: What a rule does, for the record's table.
ACTIONS = {
    Rule.HONEYPOT.value: "spam",
    Rule.TOO_FAST.value: "spam",
    Rule.BLOCK_LIST.value: "spam",
    Rule.BLOCKED_WORDS.value: "spam",
    Rule.TOO_MANY_LINKS.value: "held",
    Rule.MODERATION_WORDS.value: "held",
    Rule.DUPLICATE.value: "refused",
    Rule.FLOOD.value: "refused",
    Rule.CLASSIFIER.value: "spam or held",
    Rule.NEW_AUTHOR.value: "held",
    Rule.PREMODERATION.value: "held (policy)",
    Rule.FIRST_COMMENT.value: "held (policy)",
    Rule.TRUSTED_AUTHOR.value: "published",
    Rule.OPEN_POLICY.value: "published",
    Rule.MODERATOR.value: "a moderator's reply",
    "imported": "imported",
}


@dataclass(frozen=True)
class RuleRecord:
    """One rule's record: what it decided, and how often people decided otherwise."""

    rule: str
    action: str
    held: int
    spam: int
    refused: int
    published: int
    overruled: int | None  # None: the rule judges nothing

    @property
    def fired(self) -> int:
        """Every submission the rule decided."""
        return self.held + self.spam + self.refused + self.published

    @property
    def stopped(self) -> int:
        """The submissions it held, marked spam or refused (kept from the page)."""
        return self.held + self.spam + self.refused

    @property
    def overrule_rate(self) -> float | None:
        """The share of the comments it decided that people overruled."""
        if self.overruled is None or not self.fired:
            return None
        return self.overruled / self.fired


def overrules(rule: str, before: CommentStatus, after: CommentStatus) -> bool:
    """Whether a person's decision from ``before`` to ``after`` on a comment ``rule``
    decided goes the other way."""
    if rule in NOT_JUDGING:
        return False
    if rule in PUBLISHING:
        return before is CommentStatus.APPROVED and after in (
            CommentStatus.SPAM,
            CommentStatus.REJECTED,
        )
    return after is CommentStatus.APPROVED and before is not CommentStatus.APPROVED


def records(
    outcomes: Iterable[tuple[str, str, int]],
    decisions: Iterable[tuple[str, CommentStatus, CommentStatus, int]],
) -> list[RuleRecord]:
    """The records from ``(rule, outcome, submissions)`` counts and ``(rule, from, to,
    decisions)`` counts of people's decisions, most fired first."""
    fired: dict[str, dict[str, int]] = {}
    for rule, outcome, count in outcomes:
        if rule:
            counts = fired.setdefault(rule, {})
            counts[outcome] = counts.get(outcome, 0) + count
    overruled: dict[str, int] = {}
    for rule, before, after, count in decisions:
        if overrules(rule, before, after):
            overruled[rule] = overruled.get(rule, 0) + count
    return sorted(
        (
            RuleRecord(
                rule=rule,
                action=ACTIONS.get(rule, "decided"),
                held=counts.get(Outcome.HOLD.value, 0),
                spam=counts.get(Outcome.SPAM.value, 0),
                refused=counts.get(Outcome.REFUSE.value, 0),
                published=counts.get(Outcome.PUBLISH.value, 0),
                overruled=None if rule in NOT_JUDGING else overruled.get(rule, 0),
            )
            for rule, counts in fired.items()
        ),
        key=lambda record: (-record.fired, record.rule),
    )
