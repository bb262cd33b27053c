"""What an import says at its end: what the file held, what was stored, skipped and
refused (``moderation import`` prints :meth:`ImportReport.lines`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from moderation.porting import Tally
from moderation.services.import_indexes import Rebuild


@dataclass
class ImportReport:
    """What an import did: what the file held, what was stored, skipped and refused."""

    source: str = ""
    dry_run: bool = False
    read: Tally = field(default_factory=Tally)
    threads_created: int = 0
    imported: int = 0
    present: int = 0
    #: Comments removed here for good since an earlier import (erased, purged): left out.
    removed: int = 0
    skipped_kinds: Counter[str] = field(default_factory=Counter)
    flagged_emails: int = 0
    dropped_websites: int = 0
    #: Comments that taught the spam classifier, by label ("ham": approved, "spam").
    taught: Counter[str] = field(default_factory=Counter)
    error: str | None = None
    #: PostgreSQL's search indexes dropped while the comments were stored.
    search_set_aside: tuple[str, ...] = ()
    #: What the end of the import did about missing search indexes (None: not PostgreSQL).
    search_rebuild: Rebuild | None = None

    def lines(self) -> list[str]:
        """The summary printed at the end, one fact a line."""
        would = "would be " if self.dry_run else ""
        tally = self.read
        lines = [
            f"Read {tally.threads:,} thread(s) and {tally.comments:,} comment(s)"
            + (f" ({self.source})." if self.source else "."),
            f"Threads {would}created: {self.threads_created:,}.",
            f"Comments {would}imported: {self.imported:,}.",
            f"Skipped as already present: {self.present:,}.",
        ]
        if self.removed:
            lines.append(f"Skipped as removed here since (erased or purged): {self.removed:,}.")
        for kind, count in sorted(self.skipped_kinds.items()):
            lines.append(f"Skipped: {count:,} {kind}(s) (not comments).")
        refused = sum(tally.refusals.values())
        lines.append(f"Refused: {refused:,}.")
        lines.extend(f"  {line}" for line in tally.refusal_lines())
        if self.flagged_emails:
            lines.append(f"Invalid emails kept as found and flagged: {self.flagged_emails:,}.")
        if self.dropped_websites:
            lines.append(f"Websites left out (not http or https): {self.dropped_websites:,}.")
        if self.taught:
            lines.append(
                f"Spam classifier {'would learn' if self.dry_run else 'learned'} from: "
                f"{self.taught['ham']:,} approved (ham), {self.taught['spam']:,} spam."
            )
        if tally.noted:
            lines.append(
                f"Changed on the way (reason shown to moderators): {tally.noted:,} comment(s)."
            )
        lines.extend(self._search_lines())
        if self.error:
            lines.append(f"Stopped: {self.error}")
        return lines

    def _search_lines(self) -> list[str]:
        """What happened to PostgreSQL's search indexes, when anything did."""
        rebuild = self.search_rebuild
        if rebuild is None:
            return []
        if rebuild.error:
            return [
                f"Search index: NOT built again ({rebuild.error}); `moderation doctor` builds "
                "it (the search finds the same comments meanwhile, only slower)."
            ]
        if rebuild.left_to_import:
            return [
                "Search index: being kept aside by another import still running, "
                "which builds it again when it ends (`moderation doctor` checks)."
            ]
        if not rebuild.indexes:
            return []
        why = (
            "set aside while the comments were stored"
            if self.search_set_aside
            else "found missing (an import interrupted before)"
        )
        return [
            f"Search index: {why}, built again in {rebuild.seconds:,.1f} s "
            f"({len(rebuild.indexes)} trigram index(es))."
        ]
