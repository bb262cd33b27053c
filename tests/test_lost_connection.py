"""A database connection that dies during a request (PostgreSQL restarted, a backend
killed) must not turn the answer the view already made into a 500: ending the request's
session rolls back on the dead connection, which raises."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from moderation.extensions import db
from tests.databases import uses_server_database

pytestmark = pytest.mark.skipif(
    not uses_server_database(), reason="SQLite has no server connection to lose"
)


def test_an_answer_survives_its_connection_dying_under_it(app: Flask, database_url: str) -> None:
    killer = create_engine(database_url)

    def answer_then_lose_the_connection() -> str:
        pid = db.session.scalar(text("SELECT pg_backend_pid()"))  # a transaction is open
        with killer.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        return "made"

    app.add_url_rule("/made-then-lost", view_func=answer_then_lose_the_connection)
    client = app.test_client()
    response = client.get("/made-then-lost")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "made"
    # the next request gets a fresh connection from the pool
    assert client.get("/healthz").status_code == 200
    with app.app_context():
        assert db.session.scalar(text("SELECT 1")) == 1
    killer.dispose()
