"""Rows inserted through the driver fail as any other statement does: a duplicate key is
SQLAlchemy's IntegrityError, which is how an import running beside another one on the
same file learns to store its batch again (the driver's own error went past that)."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import Column, Integer, MetaData, String, Table
from sqlalchemy.exc import IntegrityError

from moderation.extensions import db
from moderation.services.bulk_rows import insert_rows

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
