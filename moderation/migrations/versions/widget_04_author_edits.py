"""author edits: a window per site, "edited" on the comment, the text before each edit

Revision ID: widget_04
Revises: widget_03
Create Date: 2026-11-29

Adds ``sites.edit_minutes`` (0: authors cannot edit), ``comments.edited_at`` (readers see
"edited") and ``comment_revisions`` (the text before each edit, for moderators).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'widget_04'
down_revision = 'widget_03'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sites') as batch_op:
        batch_op.add_column(
            sa.Column('edit_minutes', sa.Integer(), nullable=False, server_default='0')
        )
    with op.batch_alter_table('comments') as batch_op:
        batch_op.add_column(sa.Column('edited_at', sa.DateTime(), nullable=True))
    op.create_table(
        'comment_revisions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('comment_id', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('edited_by', sa.String(length=245), nullable=False),
        sa.Column('edited_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['comment_id'], ['comments.id'],
            name=op.f('fk_comment_revisions_comment_id_comments'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_comment_revisions')),
    )
    with op.batch_alter_table('comment_revisions') as batch_op:
        batch_op.create_index(
            batch_op.f('ix_comment_revisions_comment_id'), ['comment_id'], unique=False
        )


def downgrade():
    with op.batch_alter_table('comment_revisions') as batch_op:
        batch_op.drop_index(batch_op.f('ix_comment_revisions_comment_id'))
    op.drop_table('comment_revisions')
    with op.batch_alter_table('comments') as batch_op:
        batch_op.drop_column('edited_at')
    with op.batch_alter_table('sites') as batch_op:
        batch_op.drop_column('edit_minutes')
