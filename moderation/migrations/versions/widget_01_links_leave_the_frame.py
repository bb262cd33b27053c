"""links inside stored comments open outside the comments frame

Revision ID: widget_01
Revises: notify_01
Create Date: 2026-11-29

Comments keep their rendered HTML beside their text. The renderer now gives every link
``target="_blank"`` (a link followed inside the widget's frame replaced the widget); this
revision gives the links of comments rendered before it the same attribute. The rewrite is
written out here (not imported from the renderer) so this revision never changes. The
downgrade leaves the attribute: it is harmless to the older renderer.
"""
import re

import sqlalchemy as sa
from alembic import context, op

# revision identifiers, used by Alembic.
revision = 'widget_01'
down_revision = 'notify_01'
branch_labels = None
depends_on = None

_ANCHOR = re.compile(r"<a (?![^>]*\btarget=)([^>]*)>")
BATCH = 500


def with_targets(html):
    """Every ``<a ...>`` without a target gains ``target="_blank"``."""
    return _ANCHOR.sub(lambda match: f'<a {match.group(1)} target="_blank">', html)


def upgrade():
    if context.is_offline_mode():
        return
    connection = op.get_bind()
    comments = sa.table("comments", sa.column("id", sa.Integer), sa.column("html", sa.Text))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(comments.c.id, comments.c.html)
            .where(comments.c.id > last, comments.c.html.like("%<a %"))
            .order_by(comments.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        for row in rows:
            changed = with_targets(row.html)
            if changed != row.html:
                connection.execute(
                    comments.update().where(comments.c.id == row.id).values(html=changed)
                )
        last = rows[-1].id


def downgrade():
    pass
