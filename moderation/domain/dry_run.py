"""Dry run arithmetic: how a proposed rule change would have treated decided comments.

Given, for each comment a moderator decided, what moderators said (spam or ham) and the
outcome under today's settings and under the proposed ones, count the outcomes and
score them: *precision* (of the comments the rules would mark spam, how many moderators
called spam) and *recall* (of the spam moderators saw, how much the rules would mark).
"""

from __future__ import annotations

from dataclasses import dataclass

from moderation.domain.rules import Decision, Outcome
from moderation.domain.spam import Label


@dataclass(frozen=True)
class Replayed:
    """One decided comment: what moderators said, and the two outcomes."""

    comment_id: int
    actual: Label
    current: Decision
    proposed: Decision

    @property
    def changes_fate(self) -> bool:
        """The proposed settings would have placed it differently from today's."""
        return self.current.outcome is not self.proposed.outcome


@dataclass(frozen=True)
class Score:
    """Precision and recall of one way of reading the outcomes (``None``: nothing to divide)."""

    true_positives: int
    flagged: int
    actual_spam: int

    @property
    def precision(self) -> float | None:
        return self.true_positives / self.flagged if self.flagged else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.actual_spam if self.actual_spam else None


@dataclass(frozen=True)
class Report:
    """The replay: every comment, the outcome table, and the scores now and proposed."""

    replayed: tuple[Replayed, ...]

    def table(self, proposed: bool = True) -> dict[Outcome, dict[Label, int]]:
        """Outcome x what moderators said, counted."""
        counts = {outcome: dict.fromkeys(Label, 0) for outcome in _OUTCOMES}
        for row in self.replayed:
            outcome = (row.proposed if proposed else row.current).outcome
            counts[outcome][row.actual] += 1
        return counts

    def marked_spam(self, proposed: bool = True) -> Score:
        """Marking spam: precision and recall against moderators' spam."""
        return self._score({Outcome.SPAM}, proposed)

    def stopped(self, proposed: bool = True) -> Score:
        """Marking spam or holding (not published at once)."""
        return self._score({Outcome.SPAM, Outcome.HOLD}, proposed)

    @property
    def changed(self) -> list[Replayed]:
        """The comments whose fate the proposal changes."""
        return [row for row in self.replayed if row.changes_fate]

    def _score(self, flagged: set[Outcome], proposed: bool) -> Score:
        outcomes = [
            ((row.proposed if proposed else row.current).outcome, row.actual)
            for row in self.replayed
        ]
        return Score(
            true_positives=sum(1 for o, a in outcomes if o in flagged and a is Label.SPAM),
            flagged=sum(1 for o, _ in outcomes if o in flagged),
            actual_spam=sum(1 for _, a in outcomes if a is Label.SPAM),
        )


_OUTCOMES = (Outcome.SPAM, Outcome.HOLD, Outcome.PUBLISH)
