"""From a score to what the pipeline does: spam, hold, or pass on to the site's policy.

The classifier never publishes anything: its mildest verdict, :attr:`Verdict.PASS`,
means "no objection", and the site's policy (premoderate, trusted, open) decides next.
An abstaining classifier always passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from moderation.domain.spam.classifier import SpamScore


class Verdict(StrEnum):
    """The classifier rule's outcome."""

    SPAM = "spam"  # stored as spam
    HOLD = "hold"  # pending for a moderator, even on open and trusted sites
    PASS = "pass"  # noqa: S105 - no objection: the policy decides


@dataclass(frozen=True)
class Thresholds:
    """A site's cut-offs: ``hold ≤ score < spam`` holds, ``score ≥ spam`` is spam.

    A young model is less sure than its scores say: until it has learned
    ``min_learned_for_spam`` spam and as many ham decisions, a spam score only holds.
    The defaults come from ``bench/spam_evaluate.py`` (see ``bench/SPAM_RESULTS.md``):
    on both corpora they mark at least 90% of spam as spam and under 1% of ham, and the
    band between the thresholds is the "unsure" zone a moderator looks at.
    """

    hold: float = 0.40
    spam: float = 0.80
    min_learned_for_spam: int = 50

    def __post_init__(self) -> None:
        if not 0.0 < self.hold <= self.spam <= 1.0:
            raise ValueError("thresholds need 0 < hold ≤ spam ≤ 1")


def verdict_for(result: SpamScore, thresholds: Thresholds | None = None) -> Verdict:
    """Spam at or above the spam threshold, hold at or above the hold one, else pass."""
    limits = thresholds or Thresholds()
    if result.abstained:
        return Verdict.PASS
    if result.score >= limits.spam:
        learned = min(result.learned_spam, result.learned_ham)
        return Verdict.SPAM if learned >= limits.min_learned_for_spam else Verdict.HOLD
    if result.score >= limits.hold:
        return Verdict.HOLD
    return Verdict.PASS
