"""moderators' display names

Revision ID: teams_02
Revises: teams_01
Create Date: 2026-11-29

Adds ``moderators.display_name``: the name a moderator's published replies carry (empty:
the username, as before).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'teams_02'
down_revision = 'teams_01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('moderators') as batch_op:
        batch_op.add_column(
            sa.Column('display_name', sa.String(length=245), nullable=False, server_default='')
        )


def downgrade():
    with op.batch_alter_table('moderators') as batch_op:
        batch_op.drop_column('display_name')
