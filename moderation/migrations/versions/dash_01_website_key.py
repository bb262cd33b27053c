"""the website filter searches an index: comments.website_key

Revision ID: dash_01
Revises: teams_03
Create Date: 2026-11-29

Adds ``comments.website_key``, the author's website host with its labels reversed
(``com.example.www.``, see ``moderation/domain/websites.py``), with a b-tree index: the
queue's website filter becomes a key range instead of a scan of every URL. Byte order
("C" collation) on PostgreSQL so the range is the same as on SQLite. Existing comments are
filled in by the migration. The column is added in place (no batch copy on SQLite: that
would drop the search table's triggers on ``comments``).
"""
from alembic import op
import sqlalchemy as sa

from moderation.domain.websites import website_key


# revision identifiers, used by Alembic.
revision = 'dash_01'
down_revision = 'teams_03'
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade():
    key_type = sa.String(200).with_variant(sa.String(200, collation="C"), "postgresql")
    op.add_column(
        "comments", sa.Column("website_key", key_type, nullable=False, server_default="")
    )
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.text(
                "SELECT id, url FROM comments WHERE id > :last AND url != '' "
                "ORDER BY id LIMIT :batch"
            ),
            {"last": last, "batch": BATCH},
        ).all()
        if not rows:
            break
        connection.execute(
            sa.text("UPDATE comments SET website_key = :key WHERE id = :id"),
            [{"id": row.id, "key": website_key(row.url)} for row in rows],
        )
        last = rows[-1].id
    op.create_index("ix_comments_website_key", "comments", ["website_key"], unique=False)


def downgrade():
    op.drop_index("ix_comments_website_key", table_name="comments")
    op.execute("ALTER TABLE comments DROP COLUMN website_key")
