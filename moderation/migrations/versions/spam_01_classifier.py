"""spam classifier counts, per-comment scores, thresholds, block lists, first comments held

Revision ID: spam_01
Revises: data_01
Create Date: 2026-11-29

Adds ``spam_counts`` (the classifier's additive counts, shared by every process),
``comment_spam`` (each comment's score, clues and what it taught), ``block_entries``
(blocked emails, email domains, website domains and IP prefixes, with an optional expiry)
and three site settings: the classifier's hold and spam thresholds and how many first
comments of a new author are held.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "spam_01"
down_revision = "data_01"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "spam_counts",
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("feature", sa.String(length=64), nullable=False),
        sa.Column("spam", sa.Integer(), nullable=False),
        sa.Column("ham", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "feature", name=op.f("pk_spam_counts")),
    )
    op.create_table(
        "comment_spam",
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("clues", sa.JSON(), nullable=False),
        sa.Column("features", sa.Text(), nullable=False),
        sa.Column("feature_version", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_comment_spam_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("comment_id", name=op.f("pk_comment_spam")),
    )
    op.create_table(
        "block_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_block_entries_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_block_entries")),
        sa.UniqueConstraint("site_id", "kind", "value", name="uq_block_entries_site_kind_value"),
    )
    op.create_index("ix_block_entries_expires_at", "block_entries", ["expires_at"])
    with op.batch_alter_table("sites") as batch_op:
        batch_op.add_column(
            sa.Column("spam_hold_threshold", sa.Float(), nullable=False, server_default="0.4")
        )
        batch_op.add_column(
            sa.Column("spam_threshold", sa.Float(), nullable=False, server_default="0.8")
        )
        batch_op.add_column(
            sa.Column("hold_first_comments", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table("sites") as batch_op:
        batch_op.drop_column("hold_first_comments")
        batch_op.drop_column("spam_threshold")
        batch_op.drop_column("spam_hold_threshold")
    op.drop_index("ix_block_entries_expires_at", table_name="block_entries")
    op.drop_table("block_entries")
    op.drop_table("comment_spam")
    op.drop_table("spam_counts")
