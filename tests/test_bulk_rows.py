"""Rows inserted through the driver fail as any other statement does: a duplicate key is
SQLAlchemy's IntegrityError, which is how an import running beside another one on the
same file learns to store its batch again (the driver's own error went past that)."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.exc import IntegrityError

from moderation.extensions import db
from moderation.services.bulk_rows import add_to_rows, insert_rows

PROBE = Table(
    "bulk_rows_probe",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("name", String(20), nullable=False),
)


def test_a_duplicate_key_is_an_integrity_error_and_the_session_goes_on(app: Flask) -> None:
    with app.app_context():
        PROBE.create(db.engine, checkfirst=True)
        try:
            insert_rows(db.session.connection(), PROBE, [{"id": 1, "name": "first"}])
            db.session.commit()
            with pytest.raises(IntegrityError):
                insert_rows(
                    db.session.connection(),
                    PROBE,
                    [{"id": 2, "name": "second"}, {"id": 1, "name": "again"}],
                )
            db.session.rollback()
            insert_rows(db.session.connection(), PROBE, [{"id": 2, "name": "second"}])
            db.session.commit()
            rows = db.session.execute(PROBE.select().order_by(PROBE.c.id)).all()
            assert [tuple(row) for row in rows] == [(1, "first"), (2, "second")]
        finally:
            db.session.rollback()
            PROBE.drop(db.engine, checkfirst=True)


COUNTS = Table(
    "bulk_rows_counts_probe",
    MetaData(),
    Column("scope", String(10), primary_key=True),
    Column("feature", String(20), primary_key=True),
    Column("spam", Integer, nullable=False),
    Column("ham", Integer, nullable=False),
)


def test_added_rows_grow_the_counts_present_and_insert_the_others(app: Flask) -> None:
    """What an import's batch does to the classifier's counts: rows present add the new
    values to theirs, the others are inserted as given."""
    with app.app_context():
        COUNTS.create(db.engine, checkfirst=True)
        try:
            connection = db.session.connection()
            insert_rows(connection, COUNTS, [{"scope": "s", "feature": "a", "spam": 2, "ham": 5}])
            add_to_rows(
                connection,
                COUNTS,
                ("scope", "feature"),
                [
                    {"scope": "s", "feature": "a", "spam": 1, "ham": 0},
                    {"scope": "s", "feature": "b", "spam": 0, "ham": 3},
                    {"scope": "t", "feature": "a", "spam": 4, "ham": 1},
                ],
            )
            db.session.commit()
            rows = db.session.execute(COUNTS.select().order_by(COUNTS.c.scope, COUNTS.c.feature))
            assert [tuple(row) for row in rows] == [
                ("s", "a", 3, 5),
                ("s", "b", 0, 3),
                ("t", "a", 4, 1),
            ]
        finally:
            db.session.rollback()
            COUNTS.drop(db.engine, checkfirst=True)
