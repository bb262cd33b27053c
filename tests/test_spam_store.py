"""The classifier's counts in the database: the same answers as the in-memory store,
never below zero, and nothing lost when several writers learn at once."""

from __future__ import annotations

import random
import threading

from flask import Flask

from moderation.clock import utcnow
from moderation.domain.comments import CommentDraft
from moderation.domain.spam import (
    Counts,
    InMemoryCountStore,
    Label,
    ReadAhead,
    SpamClassifier,
    counts_wanted,
    relabel_deltas,
)
from moderation.extensions import db
from moderation.services.first_look import first_look
from moderation.services.spam_store import SqlCountStore
from tests.helpers import Actions

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


def test_counts_read_ahead_by_a_submissions_first_read_are_the_stores(
    app: Flask, actions: Actions
) -> None:
    site = actions.create_site()
    chooser = random.Random(11)
    with app.app_context():
        sql = SqlCountStore(db.session)
        classifier = SpamClassifier(sql)
        for _ in range(30):
            for site_id in (site.id, site.id + 1):
                classifier.learn(site_id, chooser.sample(FEATURES, 8), chooser.choice(list(Label)))
        # a row un-learned to zero counts as none, in both reads
        classifier.learn(site.id, ["w:gone"], Label.SPAM)
        classifier.unlearn(site.id, ["w:gone"], Label.SPAM)
        db.session.commit()
        draft = CommentDraft("Hello there", "Ann", "ann@example.org")
        for features in ([*FEATURES[:12], "w:gone", "w:never-seen"], [], ["w:never-seen"]):
            scopes, wanted = counts_wanted(site.id, features)
            look = first_look(
                site.id, "/post", "203.0.113.9", utcnow(), draft, (), (scopes, wanted)
            )
            assert look.spam_counts == sql.counts(scopes, wanted)
        assert set(look.spam_counts) == {("*", "@messages"), (f"site:{site.id}", "@messages")}
        assert first_look(site.id, "/post", "203.0.113.9", utcnow(), draft, ()).spam_counts == {}
        scopes, wanted = counts_wanted(site.id, FEATURES)
        ahead = first_look(site.id, "/post", "203.0.113.9", utcnow(), draft, (), (scopes, wanted))
        assert ahead.spam_counts
        assert SpamClassifier(ReadAhead(sql, scopes, wanted, ahead.spam_counts)).score(
            site.id, FEATURES
        ) == classifier.score(site.id, FEATURES)


def test_a_read_ahead_answers_only_its_own_question() -> None:
    store = InMemoryCountStore()
    SpamClassifier(store).learn(1, ["w:a", "w:b"], Label.SPAM)
    ahead = ReadAhead(store, ("site:1", "*"), ("w:a",), {("*", "w:a"): Counts(7, 0)})
    assert ahead.counts(("site:1", "*"), ("w:a",)) == {("*", "w:a"): Counts(7, 0)}
    # another question goes to the store, and so does every write
    assert ahead.counts(("site:1",), ("w:a", "w:b")) == {
        ("site:1", "w:a"): Counts(1, 0),
        ("site:1", "w:b"): Counts(1, 0),
    }
    ahead.add({("site:1", "w:c"): Counts(0, 2)})
    assert store.counts(("site:1",), ("w:c",)) == {("site:1", "w:c"): Counts(0, 2)}
