"""The classifier's counts in the database: a :class:`~moderation.domain.spam.CountStore`
that every process shares and changes with atomic increments only."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Text, case, cast, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, scoped_session

from moderation.domain.spam import Counts
from moderation.domain.spam.store import Key
from moderation.models import SpamCount
from moderation.services.list_parameters import list_value, one_of
from moderation.services.prepared import prepared


@cache
def _select_counts(dialect: str) -> Any:
    """The counts of some features in some scopes, built once per dialect: each list is one
    parameter, so the statement's text is the same whatever the comment's features."""
    return select(SpamCount.scope, SpamCount.feature, SpamCount.spam, SpamCount.ham).where(
        one_of(SpamCount.scope, "scopes", dialect),
        one_of(SpamCount.feature, "features", dialect),
    )


def counts_column(dialect: str) -> Any:
    """A column (``spam_counts``) holding, as one JSON text, the rows
    :meth:`SqlCountStore.counts` would read for the scopes and features bound as
    ``count_scopes`` and ``count_features``: another read can bring them along
    (:func:`read_counts` decodes them)."""
    columns = (SpamCount.scope, SpamCount.feature, SpamCount.spam, SpamCount.ham)
    rows: Any = (
        cast(func.json_agg(func.json_build_array(*columns)), Text)
        if dialect == "postgresql"
        else func.json_group_array(func.json_array(*columns))
    )
    return (
        select(rows)
        .where(
            one_of(SpamCount.scope, "count_scopes", dialect),
            one_of(SpamCount.feature, "count_features", dialect),
        )
        .scalar_subquery()
        .label("spam_counts")
    )


def read_counts(value: str | None) -> dict[Key, Counts]:
    """The rows of a :func:`counts_column`, as :meth:`SqlCountStore.counts` returns them."""
    found: dict[Key, Counts] = {}
    for scope, feature, spam, ham in json.loads(value) if value else ():
        if spam or ham:  # a row un-learned to zero counts as none
            found[(scope, feature)] = Counts(spam, ham)
    return found


class SqlCountStore:
    """Counts in ``spam_counts``, read and written on ``session``'s connection.

    Writes join the caller's transaction (the status change that taught them), so a
    decision and what it taught commit or roll back together.
    """

    def __init__(self, session: Session | scoped_session[Any]) -> None:
        self.session = session

    def counts(self, scopes: Sequence[str], features: Collection[str]) -> Mapping[Key, Counts]:
        """One SELECT of the wanted rows (the lists are one parameter each: no length limit)."""
        found: dict[Key, Counts] = {}
        connection = self.session.connection()
        dialect = connection.dialect.name
        # its four columns are text and whole numbers: rows need no conversion
        rows = prepared(_select_counts(dialect), connection.dialect).execute(
            connection,
            {"scopes": list_value(scopes, dialect), "features": list_value(features, dialect)},
        )
        for row in rows:
            if row.spam or row.ham:  # a row un-learned to zero counts as none
                found[(row.scope, row.feature)] = Counts(row.spam, row.ham)
        return found

    def add(self, deltas: Mapping[Key, Counts]) -> None:
        """``INSERT … ON CONFLICT DO UPDATE SET spam = spam + Δ`` (never below zero).

        Keys are grouped by their delta (learning one comment gives every key the same
        one), one executemany per group, each in the sorted order ``deltas`` has, so two
        writers lock rows in the same order.
        """
        if len(set(deltas.values())) > 1 and all(
            delta.spam >= 0 and delta.ham >= 0 for delta in deltas.values()
        ):
            self.add_increments(deltas)
            return
        groups: dict[Counts, list[Key]] = {}
        for key, delta in deltas.items():
            groups.setdefault(delta, []).append(key)
        connection = self.session.connection()
        dialect = connection.dialect.name
        for delta, keys in groups.items():
            rows = [
                {
                    "scope": scope,
                    "feature": feature,
                    "spam": max(delta.spam, 0),
                    "ham": max(delta.ham, 0),
                }
                for scope, feature in keys
            ]
            insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(SpamCount)
            table = SpamCount.__table__.c
            statement = insert.on_conflict_do_update(
                index_elements=[table.scope, table.feature],
                set_={
                    "spam": _clamped(table.spam, delta.spam),
                    "ham": _clamped(table.ham, delta.ham),
                },
            )
            connection.execute(statement, rows)

    def add_increments(self, deltas: Mapping[Key, Counts]) -> None:
        """:meth:`add` of increments none negative (a batch of imported comments: the
        caller knows, and the check is skipped): one write in the sorted order ``deltas``
        has, each row adding its own values (through the driver: thousands of rows a
        batch). Only imports do this, so the bulk writer is loaded here, not in every
        web process."""
        from moderation.services.bulk_rows import add_to_rows

        rows = [
            {"scope": scope, "feature": feature, "spam": delta.spam, "ham": delta.ham}
            for (scope, feature), delta in deltas.items()
        ]
        add_to_rows(self.session.connection(), SpamCount.__table__, ("scope", "feature"), rows)


def _clamped(column: ColumnElement[int], delta: int) -> ColumnElement[int]:
    """``column + delta``, never below zero, the same on SQLite and PostgreSQL."""
    if delta >= 0:
        return column + delta
    return case((column + delta < 0, 0), else_=column + delta)
