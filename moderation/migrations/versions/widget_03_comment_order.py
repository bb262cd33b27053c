"""the widget's default order of comments, per site

Revision ID: widget_03
Revises: widget_02
Create Date: 2026-11-29

Adds ``sites.sort`` (``oldest`` first, as before, or ``newest``); readers may switch.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'widget_03'
down_revision = 'widget_02'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sites') as batch_op:
        batch_op.add_column(
            sa.Column('sort', sa.String(length=20), nullable=False, server_default='oldest')
        )


def downgrade():
    with op.batch_alter_table('sites') as batch_op:
        batch_op.drop_column('sort')
