"""imported comments removed for good: their source ids, so that imports leave them out

Revision ID: data_03
Revises: growth_01
Create Date: 2026-11-29

``removed_imports``: one row per imported comment erased (``people erase --mode delete``)
or purged once deleted: the site, the source and the comment's id there (nothing
personal). An import skips them as it skips the comments it finds stored.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "data_03"
down_revision = "growth_01"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "removed_imports",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.String(length=255), nullable=False),
        sa.Column("removed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_removed_imports_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("site_id", "source", "source_id", name=op.f("pk_removed_imports")),
    )


def downgrade():
    op.drop_table("removed_imports")
