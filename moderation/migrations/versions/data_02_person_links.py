"""the public data-rights page's emailed links (download or erase one's data, once)

Revision ID: data_02
Revises: reach_01
Create Date: 2026-11-29

``person_links``: one row per request made on ``/privacy``; the link's secret is stored
as a hash, the address only until the link expires or the person is erased.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'data_02'
down_revision = 'reach_01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'person_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('secret_hash', sa.String(length=64), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.Column('used_action', sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_person_links')),
    )
    op.create_index(
        op.f('ix_person_links_expires_at'), 'person_links', ['expires_at'], unique=False
    )


def downgrade():
    op.drop_index(op.f('ix_person_links_expires_at'), table_name='person_links')
    op.drop_table('person_links')
