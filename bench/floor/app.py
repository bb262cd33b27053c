"""The floor of a comment post in Flask: what any Flask + Flask-SQLAlchemy service pays for
one durable comment, with none of our product's checks.

    POST /api/v1/sites/bench/comments?thread=KEY   JSON {"comment", "author", "email", ...}
        presence checks only; find or create the thread (one SELECT, one INSERT the first
        time), INSERT the comment, COMMIT; answers 202 {"id": N}
    GET /healthz                                    tiny 200 for readiness checks

No form token, no rate limits, no rules, no classifier, no events, no sanitising: so the
distance between this app and ours is what our checks cost, and its rate against Isso's is
the most any Flask service on this database could reach here. Database: $FLOOR_DATABASE_URL
(SQLite with the same pragmas as ours: WAL, synchronous=NORMAL; or PostgreSQL).
The app opens no connection at import time, so gunicorn --preload forks it safely.
"""

from __future__ import annotations

import os
import time
from typing import Any

from flask import Flask, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event, select

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["FLOOR_DATABASE_URL"]
db = SQLAlchemy(app)


class Thread(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "threads"
    id = db.Column(db.Integer, primary_key=True)
    key = db.Column(db.String(512), unique=True, nullable=False)


class Comment(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "comments"
    id = db.Column(db.Integer, primary_key=True)
    thread_id = db.Column(db.Integer, db.ForeignKey("threads.id"), index=True, nullable=False)
    created = db.Column(db.Float, nullable=False)
    status = db.Column(db.String(16), nullable=False, default="pending")
    body = db.Column(db.Text, nullable=False)
    author = db.Column(db.String(256), nullable=False)
    email = db.Column(db.String(320), nullable=False)
    website = db.Column(db.String(512))


if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
    with app.app_context():

        @event.listens_for(db.engine, "connect")
        def _pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()


@app.post("/api/v1/sites/bench/comments")
def post_comment() -> Any:
    data = request.get_json(silent=True) or {}
    key = request.args.get("thread", "")
    text, author, email = data.get("comment"), data.get("author"), data.get("email")
    if not key or not text or not author or not email or "@" not in email:
        return jsonify(error="comment, author and email are required"), 400
    thread_id = db.session.execute(select(Thread.id).where(Thread.key == key)).scalar()
    if thread_id is None:
        thread = Thread(key=key)
        db.session.add(thread)
        db.session.flush()
        thread_id = thread.id
    comment = Comment(
        thread_id=thread_id,
        created=time.time(),
        body=text,
        author=author,
        email=email,
        website=data.get("website"),
    )
    db.session.add(comment)
    db.session.commit()
    return jsonify(id=comment.id, status="pending"), 202


@app.get("/healthz")
def healthz() -> Any:
    return "ok"


def rows(key: str) -> int:
    with app.app_context():
        found = db.session.execute(
            select(db.func.count(Comment.id)).join(Thread).where(Thread.key == key)
        ).scalar()
        return int(found or 0)


def create() -> None:
    with app.app_context():
        db.drop_all()
        db.create_all()
