"""dashboard sessions kept on the server

Revision ID: sessions_01
Revises: 0002_integration_secrets
Create Date: 2026-11-29

Adds ``dashboard_sessions`` (one row per sign-in; the cookie names it by a random key whose
SHA-256 is stored) and drops ``moderators.session_token``, which it replaces. Every
existing sign-in ends: the old cookies name no record.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'sessions_01'
down_revision = '0002_integration_secrets'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('dashboard_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('moderator_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('authenticated_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['moderator_id'], ['moderators.id'], name=op.f('fk_dashboard_sessions_moderator_id_moderators'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dashboard_sessions')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_dashboard_sessions_key_hash'))
    )
    with op.batch_alter_table('dashboard_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dashboard_sessions_moderator_id'), ['moderator_id'], unique=False)
    with op.batch_alter_table('moderators', schema=None) as batch_op:
        batch_op.drop_column('session_token')


def downgrade():
    with op.batch_alter_table('moderators', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=False, server_default=''))
    with op.batch_alter_table('dashboard_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dashboard_sessions_moderator_id'))
    op.drop_table('dashboard_sessions')
