"""a thread page reads only its own comments: comments.root_id and two indexes

Revision ID: growth_01
Revises: dashscale_01
Create Date: 2026-11-29

Adds ``comments.root_id`` (a reply's top-level ancestor, ``NULL`` for a top-level comment),
an index of each thread's top-level comments in order and one of replies by their root. The
comments stored before get their root here, one level of replies per pass (a pass sets the
replies whose parent already has its root), so any depth is reached without a recursive
query. A plain ``ADD COLUMN``: no batch copy of ``comments`` on SQLite, whose search
triggers (``teams_03``) stay as they are.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "growth_01"
down_revision = "dashscale_01"
branch_labels = None
depends_on = None

#: Replies whose parent is top-level or already has its root take the parent's root.
_ONE_LEVEL = """
UPDATE comments SET root_id = (
    SELECT coalesce(parent.root_id, parent.id) FROM comments AS parent
    WHERE parent.id = comments.parent_id
)
WHERE root_id IS NULL AND parent_id IS NOT NULL AND EXISTS (
    SELECT 1 FROM comments AS parent
    WHERE parent.id = comments.parent_id
      AND (parent.parent_id IS NULL OR parent.root_id IS NOT NULL)
)
"""


def upgrade():
    op.add_column("comments", sa.Column("root_id", sa.Integer(), nullable=True))
    connection = op.get_bind()
    while connection.execute(sa.text(_ONE_LEVEL)).rowcount:
        pass
    op.create_index(
        "ix_comments_thread_top_level",
        "comments",
        ["thread_id", "status", "created_at", "id"],
        unique=False,
        sqlite_where=sa.text("parent_id IS NULL"),
        postgresql_where=sa.text("parent_id IS NULL"),
    )
    op.create_index(
        "ix_comments_root_id",
        "comments",
        ["root_id"],
        unique=False,
        sqlite_where=sa.text("root_id IS NOT NULL"),
        postgresql_where=sa.text("root_id IS NOT NULL"),
    )


def downgrade():
    op.drop_index("ix_comments_root_id", table_name="comments")
    op.drop_index("ix_comments_thread_top_level", table_name="comments")
    # (SQLite drops a column in place: no batch copy, the search triggers stay)
    op.execute("ALTER TABLE comments DROP COLUMN root_id")
