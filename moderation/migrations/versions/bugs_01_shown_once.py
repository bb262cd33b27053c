"""a secret shown once after a redirect: kept sealed on the dashboard session

Revision ID: bugs_01
Revises: data_02
Create Date: 2026-11-29

``dashboard_sessions.shown_once``: a new integration's (or a rotated) secret, sealed with
the service's key, waiting for the one page that shows it (Post/Redirect/Get); that page
empties it, and ending the session deletes it.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'bugs_01'
down_revision = 'data_02'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('dashboard_sessions') as batch_op:
        batch_op.add_column(
            sa.Column('shown_once', sa.String(length=600), nullable=False, server_default='')
        )


def downgrade():
    with op.batch_alter_table('dashboard_sessions') as batch_op:
        batch_op.drop_column('shown_once')
