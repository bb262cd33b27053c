"""closing comments: per site after N days, and a thread a moderator reopened

Revision ID: widget_02
Revises: spam_02
Create Date: 2026-11-29

Adds ``sites.close_after_days`` (0: threads never close by age) and ``threads.keep_open``
(a moderator reopened the thread: the age rule no longer closes it).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'widget_02'
down_revision = 'spam_02'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sites') as batch_op:
        batch_op.add_column(
            sa.Column('close_after_days', sa.Integer(), nullable=False, server_default='0')
        )
    with op.batch_alter_table('threads') as batch_op:
        batch_op.add_column(
            sa.Column('keep_open', sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade():
    with op.batch_alter_table('threads') as batch_op:
        batch_op.drop_column('keep_open')
    with op.batch_alter_table('sites') as batch_op:
        batch_op.drop_column('close_after_days')
