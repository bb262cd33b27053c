"""The widget's migrations carry stored comments along."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import text

from moderation.extensions import MIGRATIONS_DIRECTORY, db
from tests.helpers import Actions, seed_comments

OLD_HTML = (
    '<p>see <a href="https://a.example" rel="nofollow ugc noopener noreferrer">a</a> and '
    '<a href="https://b.example" target="_blank" rel="nofollow">b</a></p>'
)


def test_links_of_comments_rendered_before_open_outside_the_frame(
    app: Flask, actions: Actions
) -> None:
    from flask_migrate import downgrade, upgrade

    actions.create_site("blog")
    (comment_id,) = seed_comments(app, 1)
    with app.app_context():
        db.session.execute(
            text("UPDATE comments SET html = :html WHERE id = :id"),
            {"html": OLD_HTML, "id": comment_id},
        )
        db.session.commit()
        downgrade(directory=str(MIGRATIONS_DIRECTORY), revision="sessions_01")
        upgrade(directory=str(MIGRATIONS_DIRECTORY))
        html = db.session.execute(
            text("SELECT html FROM comments WHERE id = :id"), {"id": comment_id}
        ).scalar_one()
    assert html == (
        '<p>see <a href="https://a.example" rel="nofollow ugc noopener noreferrer" '
        'target="_blank">a</a> and '
        '<a href="https://b.example" target="_blank" rel="nofollow">b</a></p>'
    )
