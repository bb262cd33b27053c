"""Counting what a reader yielded, for the summary an import prints at the end."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from moderation.porting.records import CommentRecord, Item, Refusal, RefusalReason, ThreadRecord


@dataclass(slots=True)
class Tally:
    """Threads, comments by status and kind, notes, and refusals by reason (with the first
    refusal's detail as an example). Feed it every item; :meth:`refusal_lines` gives one
    line per reason, most frequent first."""

    threads: int = 0
    comments: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    noted: int = 0
    refusals: Counter[RefusalReason] = field(default_factory=Counter)
    examples: dict[RefusalReason, Refusal] = field(default_factory=dict)

    def add(self, item: Item) -> None:
        """Count one item."""
        if isinstance(item, CommentRecord):
            self.comments += 1
            self.statuses[item.status.value] += 1
            self.kinds[item.kind.value] += 1
            self.noted += bool(item.notes)
        elif isinstance(item, ThreadRecord):
            self.threads += 1
        else:
            self.refusals[item.reason] += 1
            self.examples.setdefault(item.reason, item)

    def refusal_lines(self) -> list[str]:
        """``"3 refused: text too long (e.g. 1234: 10,485,760 characters; ...)"``, one per
        reason."""
        lines = []
        for reason, count in self.refusals.most_common():
            example = self.examples[reason]
            who = f"{example.source_id}: " if example.source_id else ""
            lines.append(f"{count:,} refused: {reason.value} (e.g. {who}{example.detail})")
        return lines
