"""Status maps: how each source's statuses become ours, with overrides from the command line.

A status the map does not know is refused (``RefusalReason.UNKNOWN_STATUS``), never guessed:
re-running the import with ``--status-map VALUE=STATUS`` then brings in exactly those
comments, because comments already imported are skipped. Refusing is what keeps that fix
possible: had an unknown status become ``pending``, the re-run would skip those comments
as already present, under a status nobody chose. The wildcard ``*=STATUS`` maps every
status the map does not name, for those who want everything in.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from moderation.porting.records import Status

#: The key that maps every status a map does not name.
WILDCARD = "*"

#: WordPress's ``comment_approved``: ``1``, ``0``, ``spam``, ``trash``, and ``post-trashed``
#: (the comment's post went to the trash).
WORDPRESS_STATUSES: Mapping[str, Status] = MappingProxyType(
    {
        "1": Status.APPROVED,
        "approve": Status.APPROVED,
        "0": Status.PENDING,
        "hold": Status.PENDING,
        "spam": Status.SPAM,
        "trash": Status.DELETED,
        "post-trashed": Status.DELETED,
    }
)

#: Disqus has flags, not statuses; the reader names them ``approved``, ``pending``
#: (``isApproved`` false, where present), ``spam`` (``isSpam``) and ``deleted``
#: (``isDeleted``, which wins over the others).
DISQUS_STATUSES: Mapping[str, Status] = MappingProxyType(
    {
        "approved": Status.APPROVED,
        "pending": Status.PENDING,
        "spam": Status.SPAM,
        "deleted": Status.DELETED,
    }
)

#: Isso's ``mode``: 1 accepted, 2 waiting for moderation, 4 deleted (kept because it has
#: replies; its text and author are already gone).
ISSO_STATUSES: Mapping[str, Status] = MappingProxyType(
    {"1": Status.APPROVED, "2": Status.PENDING, "4": Status.DELETED}
)

#: Remark42 publishes everything; the reader names a comment ``deleted`` (``delete`` set),
#: ``blocked`` (its author is blocked, so Remark42 hides it) or ``visible``.
REMARK42_STATUSES: Mapping[str, Status] = MappingProxyType(
    {"visible": Status.APPROVED, "blocked": Status.REJECTED, "deleted": Status.DELETED}
)

#: Commento's ``state`` (``flagged`` is what its spam check held), plus ``deleted``.
COMMENTO_STATUSES: Mapping[str, Status] = MappingProxyType(
    {
        "approved": Status.APPROVED,
        "unapproved": Status.PENDING,
        "flagged": Status.SPAM,
        "deleted": Status.DELETED,
    }
)

#: Our own export writes our statuses.
JSONL_STATUSES: Mapping[str, Status] = MappingProxyType({s.value: s for s in Status})


class StatusMapError(ValueError):
    """A ``--status-map`` value that cannot be understood; the message says which part."""


def parse_status_map(text: str) -> dict[str, Status]:
    """Overrides from ``"trash=deleted,0=pending,*=pending"``: source value, ``=``, our status.

    Source values are matched exactly (WordPress's ``spam`` is not ``Spam``); ``*`` maps
    every value the format's map does not know. An empty text gives no overrides.
    """
    overrides: dict[str, Status] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        source, equals, target = part.partition("=")
        source, target = source.strip(), target.strip().lower()
        if not equals or not source:
            raise StatusMapError(f"{part.strip()!r} is not SOURCE=STATUS (e.g. trash=deleted).")
        try:
            overrides[source] = Status(target)
        except ValueError:
            allowed = ", ".join(s.value for s in Status)
            raise StatusMapError(
                f"{target!r} in {part.strip()!r} is not a status; use one of {allowed}."
            ) from None
    return overrides


class StatusMapper:
    """A format's map with the overrides applied; ``map`` answers None for unknown values."""

    __slots__ = ("_fallback", "_table")

    def __init__(self, defaults: Mapping[str, Status], overrides: Mapping[str, Status]) -> None:
        table = dict(defaults)
        table.update(overrides)
        self._fallback = table.pop(WILDCARD, None)
        self._table = table

    def map(self, source_status: str) -> Status | None:
        """Our status for the source's value, or None when neither the map nor ``*`` has it."""
        return self._table.get(source_status, self._fallback)

    def unknown_detail(self, source_status: str) -> str:
        """The refusal's line for an unknown value, with the override that would map it."""
        example = source_status or "''"
        return (
            f"status {source_status!r} is not in the status map "
            f"(map it with e.g. --status-map {example}=pending)"
        )
