"""The dashboard's migrations carry stored comments along."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import text

from moderation.extensions import MIGRATIONS_DIRECTORY, db
from moderation.services import queue
from tests.helpers import Actions, seed_comments


def test_websites_of_comments_stored_before_are_searchable(app: Flask, actions: Actions) -> None:
    from flask_migrate import downgrade, upgrade

    actions.create_site("blog", flood_seconds=0)
    (with_site,) = seed_comments(app, 1, url="https://www.Old.example/post")
    (without,) = seed_comments(app, 1, thread="post-2", email="b@example.com")
    with app.app_context():
        downgrade(directory=str(MIGRATIONS_DIRECTORY), revision="teams_03")
        upgrade(directory=str(MIGRATIONS_DIRECTORY))
        keys = dict(db.session.execute(text("SELECT id, website_key FROM comments")).all())
        page = queue.queue_page(queue.QueueFilter(status=None, website="old.example"))
        # the FTS triggers of teams_03 survive the column (no batch copy of comments)
        (comment,) = queue.queue_page(queue.QueueFilter(status=None, search="Seeded")).comments[:1]
    assert keys == {with_site: "example.old.www.", without: ""}
    assert [c.id for c in page.comments] == [with_site]
    assert comment.id in (with_site, without)
