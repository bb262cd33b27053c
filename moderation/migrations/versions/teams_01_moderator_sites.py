"""moderators per site

Revision ID: teams_01
Revises: integrators_01
Create Date: 2026-11-29

Adds ``moderators.all_sites`` (true for every existing account: nobody loses access on
upgrade) and ``moderator_sites``, the sites a moderator without ``all_sites`` may see.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'teams_01'
down_revision = 'integrators_01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('moderators') as batch_op:
        batch_op.add_column(
            sa.Column('all_sites', sa.Boolean(), nullable=False, server_default=sa.true())
        )
    op.create_table(
        'moderator_sites',
        sa.Column('moderator_id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['moderator_id'], ['moderators.id'],
            name=op.f('fk_moderator_sites_moderator_id_moderators'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['site_id'], ['sites.id'],
            name=op.f('fk_moderator_sites_site_id_sites'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('moderator_id', 'site_id', name=op.f('pk_moderator_sites')),
    )
    op.create_index(
        op.f('ix_moderator_sites_site_id'), 'moderator_sites', ['site_id'], unique=False
    )


def downgrade():
    op.drop_index(op.f('ix_moderator_sites_site_id'), table_name='moderator_sites')
    op.drop_table('moderator_sites')
    with op.batch_alter_table('moderators') as batch_op:
        batch_op.drop_column('all_sites')
