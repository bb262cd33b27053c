"""comments remember where they were imported from; invalid imported emails are flagged

Revision ID: data_01
Revises: sessions_01
Create Date: 2026-11-29

``comments.source_id``: the comment's id in the system it was imported from (``source``
names that system: ``wordpress``, ``disqus``, ...; NULL for comments posted here). Unique
per site and source, so re-running an import adds nothing. ``comments.email_flagged``: the
email was imported as found because it is not a valid address (never dropped).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'data_01'
down_revision = 'sessions_01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comments') as batch_op:
        batch_op.add_column(sa.Column('source_id', sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column('email_flagged', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index(
            'uq_comments_site_source', ['site_id', 'source', 'source_id'], unique=True
        )


def downgrade():
    with op.batch_alter_table('comments') as batch_op:
        batch_op.drop_index('uq_comments_site_source')
        batch_op.drop_column('email_flagged')
        batch_op.drop_column('source_id')
