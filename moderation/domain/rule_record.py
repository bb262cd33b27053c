"""Each rule's record: how often it decided a comment's fate, and how often moderators
overruled it (issue 19). Pure: it reads counts of (rule, current status) pairs.

A rule *judges* a comment when it marks it spam, holds it as suspicious, or publishes it.
Moderators *overrule* it when they end up deciding the other way: a comment a rule marked
spam or held is approved; a comment a rule published is marked spam or rejected. Rules that
only apply the site's policy (every comment waits, a first comment waits) judge nothing,
so they have no overrule count. A held comment still pending has not been overruled (yet).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from moderation.domain.rules import Rule
from moderation.domain.status import CommentStatus

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
    """One rule's record on a site."""

    rule: str
    action: str
    fired: int
    overruled: int | None  # None: the rule judges nothing

    @property
    def overrule_rate(self) -> float | None:
        """The share of the comments it decided that moderators overruled."""
        if self.overruled is None or not self.fired:
            return None
        return self.overruled / self.fired


def overrules(rule: str, status: CommentStatus) -> bool:
    """Whether a comment ``rule`` decided, now in ``status``, shows moderators disagreed."""
    if rule in NOT_JUDGING:
        return False
    if rule in PUBLISHING:
        return status in (CommentStatus.SPAM, CommentStatus.REJECTED)
    return status is CommentStatus.APPROVED


def records(counts: Iterable[tuple[str, CommentStatus, int]]) -> list[RuleRecord]:
    """The records from ``(rule, current status, comments)`` counts, most fired first."""
    fired: dict[str, int] = {}
    overruled: dict[str, int] = {}
    for rule, status, count in counts:
        fired[rule] = fired.get(rule, 0) + count
        if overrules(rule, status):
            overruled[rule] = overruled.get(rule, 0) + count
    return sorted(
        (
            RuleRecord(
                rule=rule,
                action=ACTIONS.get(rule, "decided"),
                fired=total,
                overruled=None if rule in NOT_JUDGING else overruled.get(rule, 0),
            )
            for rule, total in fired.items()
        ),
        key=lambda record: (-record.fired, record.rule),
    )
