"""sites choose how comments are written: WordPress's text and tags, or Markdown

Revision ID: reach_01
Revises: widget_04
Create Date: 2026-11-29

Adds ``sites.comment_format`` (``wordpress``, the behaviour so far, or ``markdown``).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'reach_01'
down_revision = 'widget_04'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sites') as batch_op:
        batch_op.add_column(
            sa.Column(
                'comment_format', sa.String(length=20), nullable=False, server_default='wordpress'
            )
        )


def downgrade():
    with op.batch_alter_table('sites') as batch_op:
        batch_op.drop_column('comment_format')
