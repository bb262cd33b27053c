"""The classifier's counts in the database: the same answers as the in-memory store,
never below zero, and nothing lost when several writers learn at once."""

from __future__ import annotations

import random
import threading

from flask import Flask

from moderation.domain.spam import (
    Counts,
    InMemoryCountStore,
    Label,
    SpamClassifier,
    relabel_deltas,
)
from moderation.extensions import db
from moderation.services.spam_store import SqlCountStore

FEATURES = [f"w:word{number}" for number in range(30)]


def sql_snapshot(app: Flask) -> dict[tuple[str, str], Counts]:
    """Every non-zero row of spam_counts."""
    from sqlalchemy import select

    from moderation.models import SpamCount

    with app.app_context():
        rows = db.session.execute(select(SpamCount)).scalars()
        return {(r.scope, r.feature): Counts(r.spam, r.ham) for r in rows if r.spam or r.ham}


def test_sql_store_learns_exactly_like_the_in_memory_store(app: Flask) -> None:
    memory = InMemoryCountStore()
    chooser = random.Random(7)
    steps = []
    for _ in range(40):
        features = frozenset(chooser.sample(FEATURES, 6))
        steps.append((chooser.choice([1, 2]), features, chooser.choice(list(Label))))
    with app.app_context():
        sql = SqlCountStore(db.session)
        for store in (memory, sql):
            classifier = SpamClassifier(store)
            for site, features, label in steps:
                classifier.learn(site, features, label)
            # a reversed decision moves a comment; un-learning the never-learned is a no-op
            site, features, label = steps[0]
            other = Label.HAM if label is Label.SPAM else Label.SPAM
            classifier.relabel(site, features, old=label, new=other)
            classifier.unlearn(3, ["w:never-seen"], Label.SPAM)
        db.session.commit()
        wanted = ["@messages", *FEATURES, "w:never-seen"]
        assert sql.counts(("site:1", "site:2", "*"), wanted) == memory.counts(
            ("site:1", "site:2", "*"), wanted
        )
    assert sql_snapshot(app) == memory.snapshot()


def test_counts_never_go_below_zero(app: Flask) -> None:
    with app.app_context():
        store = SqlCountStore(db.session)
        store.add(relabel_deltas(1, ["w:casino"], old=None, new=Label.SPAM))
        store.add(relabel_deltas(1, ["w:casino"], old=Label.SPAM, new=None))
        store.add(relabel_deltas(1, ["w:casino"], old=Label.SPAM, new=None))
        db.session.commit()
    assert sql_snapshot(app) == {}


def test_concurrent_learners_lose_no_decision(app: Flask) -> None:
    """Four writers, each in its own connection and transactions, learn 25 comments each."""
    errors: list[BaseException] = []

    def learn_many(label: Label) -> None:
        try:
            with app.app_context():
                classifier = SpamClassifier(SqlCountStore(db.session))
                for _ in range(25):
                    classifier.learn(1, FEATURES[:10], label)
                    db.session.commit()
                db.session.remove()
        except BaseException as error:  # reported below
            errors.append(error)

    workers = [threading.Thread(target=learn_many, args=(label,)) for label in [*Label, *Label]]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    counts = sql_snapshot(app)
    assert counts[("site:1", "w:word0")] == Counts(spam=50, ham=50)
    assert counts[("*", "@messages")] == Counts(spam=50, ham=50)
