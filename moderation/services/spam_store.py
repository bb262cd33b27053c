"""The classifier's counts in the database: a :class:`~moderation.domain.spam.CountStore`
that every process shares and changes with atomic increments only."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, bindparam, case, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, scoped_session

from moderation.domain.spam import Counts
from moderation.domain.spam.store import Key
from moderation.models import SpamCount

#: Features per SELECT: far below every driver's parameter limit.
_CHUNK = 400
#: Built once: the compiled form is cached, only the lists change per comment.
_SELECT_COUNTS = select(SpamCount.scope, SpamCount.feature, SpamCount.spam, SpamCount.ham).where(
    SpamCount.scope.in_(bindparam("scopes", expanding=True)),
    SpamCount.feature.in_(bindparam("features", expanding=True)),
)


class SqlCountStore:
    """Counts in ``spam_counts``, read and written on ``session``'s connection.

    Writes join the caller's transaction (the status change that taught them), so a
    decision and what it taught commit or roll back together.
    """

    def __init__(self, session: Session | scoped_session[Any]) -> None:
        self.session = session

    def counts(self, scopes: Sequence[str], features: Collection[str]) -> Mapping[Key, Counts]:
        """One SELECT of the wanted rows (a few per comment, in chunks for huge ones)."""
        found: dict[Key, Counts] = {}
        wanted = list(features)
        connection = self.session.connection()
        for start in range(0, len(wanted), _CHUNK):
            rows = connection.execute(
                _SELECT_COUNTS,
                {"scopes": list(scopes), "features": wanted[start : start + _CHUNK]},
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
            self._add_increments(deltas)
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

    def _add_increments(self, deltas: Mapping[Key, Counts]) -> None:
        """Many different increments, none negative (a batch of imported comments): one
        executemany in the sorted order ``deltas`` has, each row adding its own values."""
        connection = self.session.connection()
        dialect = connection.dialect.name
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(SpamCount)
        table = SpamCount.__table__.c
        statement = insert.on_conflict_do_update(
            index_elements=[table.scope, table.feature],
            set_={
                "spam": table.spam + insert.excluded.spam,
                "ham": table.ham + insert.excluded.ham,
            },
        )
        rows = [
            {"scope": scope, "feature": feature, "spam": delta.spam, "ham": delta.ham}
            for (scope, feature), delta in deltas.items()
        ]
        connection.execute(statement, rows)


def _clamped(column: ColumnElement[int], delta: int) -> ColumnElement[int]:
    """``column + delta``, never below zero, the same on SQLite and PostgreSQL."""
    if delta >= 0:
        return column + delta
    return case((column + delta < 0, 0), else_=column + delta)
