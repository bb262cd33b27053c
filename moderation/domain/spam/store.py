"""Where the classifier's counts live: a Protocol, and an in-memory store.

The model is nothing but additive counts, so many processes can share one copy in the
database and change it with atomic increments:

- per (scope, feature): in how many spam and how many ham comments the feature occurred;
- per scope, under the reserved feature :data:`MESSAGES`: how many spam and ham comments
  were learned at all.

A scope is a site (:func:`site_scope`) or the whole instance (:data:`GLOBAL_SCOPE`, the
prior every site borrows from while it has few decisions of its own). Learning adds +1 to
each of a comment's features and to :data:`MESSAGES` in both its site's scope and the
global one; un-learning adds -1. Scoring reads one comment's features in two scopes.

A SQL store implements :class:`CountStore` with one table, for example::

    CREATE TABLE spam_counts (
        scope   VARCHAR(40) NOT NULL,   -- "*" or "site:<id>"
        feature VARCHAR(64) NOT NULL,   -- features.MAX_FEATURE_LENGTH
        spam    INTEGER NOT NULL DEFAULT 0,
        ham     INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (scope, feature)
    );

``counts`` is one ``SELECT … WHERE scope IN (…) AND feature IN (…)``; ``add`` is one
``INSERT … ON CONFLICT (scope, feature) DO UPDATE SET spam = max(spam_counts.spam +
excluded.spam, 0), …`` (``greatest`` on PostgreSQL; SQLite ≥ 3.24 and PostgreSQL both
have the upsert) in the caller's transaction, in the sorted key order that ``add``
receives so that concurrent writers lock rows in the same order and cannot deadlock.
Inserting a new row takes ``max(delta, 0)``: un-learning what was never learned is a
no-op, not a negative count. Rows whose counts are both zero may be deleted at any time.

Size: each learned comment touches its ~30-150 features in two scopes; most rows are
words seen once (400 comments made 9,580 rows, 6,000 mails 118,536). Deleting rows with
``spam + ham <= 1`` that have not changed for months bounds the table at a small cost
in recall; un-learning such a row later is then a clamped no-op.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

#: The instance-wide scope: every decision on every site also counts here.
GLOBAL_SCOPE = "*"
#: The reserved feature holding a scope's message totals (no extracted feature has "@").
MESSAGES = "@messages"

#: A (scope, feature) pair: the key of one row of counts.
Key = tuple[str, str]


def site_scope(site_id: int | str) -> str:
    """The scope of one site; pass a stable id (a slug can be renamed)."""
    return f"site:{site_id}"


@dataclass(frozen=True)
class Counts:
    """How often something occurred in spam and in ham (a delta may be negative)."""

    spam: int = 0
    ham: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.spam + other.spam, self.ham + other.ham)

    @property
    def total(self) -> int:
        """Spam and ham together."""
        return self.spam + self.ham


ZERO = Counts()


class CountStore(Protocol):
    """The classifier's memory: additive counts per (scope, feature)."""

    def counts(self, scopes: Sequence[str], features: Collection[str]) -> Mapping[Key, Counts]:
        """The counts of ``features`` in ``scopes``; pairs never counted may be left out."""
        ...

    def add(self, deltas: Mapping[Key, Counts]) -> None:
        """Add every delta at once (one transaction), never letting a count go below zero.

        ``deltas`` arrive in sorted key order; keep it when writing.
        """
        ...


class InMemoryCountStore:
    """A :class:`CountStore` in a dict: for tests, evaluation and one-process tools."""

    def __init__(self) -> None:
        self._rows: dict[Key, Counts] = {}

    def counts(self, scopes: Sequence[str], features: Collection[str]) -> Mapping[Key, Counts]:
        """The stored counts of ``features`` in ``scopes``."""
        found: dict[Key, Counts] = {}
        for scope in scopes:
            for feature in features:
                row = self._rows.get((scope, feature))
                if row is not None:
                    found[(scope, feature)] = row
        return found

    def add(self, deltas: Mapping[Key, Counts]) -> None:
        """Apply the deltas, clamping at zero and dropping rows that reach zero."""
        for key, delta in deltas.items():
            row = self._rows.get(key, ZERO) + delta
            row = Counts(max(row.spam, 0), max(row.ham, 0))
            if row.total:
                self._rows[key] = row
            else:
                self._rows.pop(key, None)

    def snapshot(self) -> dict[Key, Counts]:
        """A copy of every row (for tests and for writing the counts elsewhere)."""
        return dict(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


class ReadAhead:
    """A :class:`CountStore` answering one ``counts`` question with rows read ahead (in the
    same read as other things); any other question, and every write, go to ``store``."""

    def __init__(
        self,
        store: CountStore,
        scopes: Sequence[str],
        features: Collection[str],
        rows: Mapping[Key, Counts],
    ) -> None:
        self.store = store
        self._question = (tuple(scopes), tuple(features))
        self._rows = rows

    def counts(self, scopes: Sequence[str], features: Collection[str]) -> Mapping[Key, Counts]:
        """The rows read ahead if they answer this question, else the store's."""
        if (tuple(scopes), tuple(features)) == self._question:
            return self._rows
        return self.store.counts(scopes, features)

    def add(self, deltas: Mapping[Key, Counts]) -> None:
        """The store's."""
        self.store.add(deltas)
