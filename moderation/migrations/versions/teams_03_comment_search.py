"""search that stays fast: trigram indexes (PostgreSQL) or an FTS5 trigram table (SQLite)

Revision ID: teams_03
Revises: teams_02
Create Date: 2026-11-29

Chosen per database (see ``moderation/models/search.py``): PostgreSQL gets the ``pg_trgm``
extension and GIN trigram indexes on comments' text, author and email; SQLite gets
``comments_search``, an external-content FTS5 table with the trigram tokenizer, filled from
the comments and kept in step by triggers. The queue's free-text search gives the same
results either way. On both, b-tree indexes serve the "All" tab, date ranges and exact
emails.
"""
from alembic import op

from moderation.models.search import SEARCH_TABLE, SQLITE_TRIGGERS, TRIGRAM_INDEXES


# revision identifiers, used by Alembic.
revision = 'teams_03'
down_revision = 'teams_02'
branch_labels = None
depends_on = None

COLUMNS = ("text", "author", "email")


#: B-tree indexes for the "All" tab (every status, by time), date ranges and exact emails.
BTREE_INDEXES = {
    "ix_comments_created": ["created_at", "id"],
    "ix_comments_site_created": ["site_id", "created_at", "id"],
    "ix_comments_email_created": ["email", "created_at"],
}


def upgrade():
    for name, columns in BTREE_INDEXES.items():
        op.create_index(name, "comments", columns, unique=False)
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for index, column in zip(TRIGRAM_INDEXES, COLUMNS):
            op.execute(
                f"CREATE INDEX IF NOT EXISTS {index} ON comments USING gin ({column} gin_trgm_ops)"
            )
    elif dialect == "sqlite":
        op.execute(
            f"CREATE VIRTUAL TABLE {SEARCH_TABLE} USING fts5(text, author, email, "
            "content='comments', content_rowid='id', tokenize='trigram')"
        )
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
        op.execute(f"INSERT INTO {SEARCH_TABLE}({SEARCH_TABLE}) VALUES ('rebuild')")


def downgrade():
    for name in BTREE_INDEXES:
        op.drop_index(name, table_name="comments")
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for index in TRIGRAM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {index}")
    elif dialect == "sqlite":
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS {SEARCH_TABLE}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {SEARCH_TABLE}")
