"""sites.challenge_suspicious: ask suspicious submissions for an ALTCHA proof-of-work

Revision ID: spam_02
Revises: dash_02
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "spam_02"
down_revision = "dash_02"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sites") as batch_op:
        batch_op.add_column(
            sa.Column(
                "challenge_suspicious", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade():
    with op.batch_alter_table("sites") as batch_op:
        batch_op.drop_column("challenge_suspicious")
