"""webhook receipts remember a hash of the first body; delivery attempts keep the answer

Revision ID: integrators_01
Revises: widget_01
Create Date: 2026-11-29

``webhook_receipts.body_sha256``: a reused ``webhook-id`` with another body is refused
(409) instead of getting the first answer back; receipts written before have none and
keep answering as before. ``delivery_attempts.response_excerpt``: the start of what the
receiver answered, for the delivery log.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'integrators_01'
down_revision = 'widget_01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('webhook_receipts') as batch_op:
        batch_op.add_column(sa.Column('body_sha256', sa.String(length=64), nullable=True))
    with op.batch_alter_table('delivery_attempts') as batch_op:
        batch_op.add_column(
            sa.Column('response_excerpt', sa.String(length=2000), nullable=False, server_default='')
        )


def downgrade():
    with op.batch_alter_table('delivery_attempts') as batch_op:
        batch_op.drop_column('response_excerpt')
    with op.batch_alter_table('webhook_receipts') as batch_op:
        batch_op.drop_column('body_sha256')
