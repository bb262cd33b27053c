"""submissions counted per site, day, outcome and rule (the statistics page)

Revision ID: dash_02
Revises: dash_01
Create Date: 2026-11-29

Adds ``daily_outcomes``, kept by every submission (refusals included, which store no
comment). Filled from the audit log's "submitted" events for what came before (refusals
before this revision were never recorded: they start at zero).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'dash_02'
down_revision = 'dash_01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "daily_outcomes",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name="fk_daily_outcomes_site_id_sites", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("site_id", "day", "outcome", "rule", name="pk_daily_outcomes"),
    )
    # the outcome of a stored submission is the status it was stored with
    op.execute(
        """
        INSERT INTO daily_outcomes (site_id, day, outcome, rule, count)
        SELECT a.site_id, date(a.created_at),
               CASE a.to_status WHEN 'approved' THEN 'publish' WHEN 'spam' THEN 'spam'
                                ELSE 'hold' END,
               COALESCE(c.held_by_rule, ''), count(*)
        FROM audit_events a LEFT JOIN comments c ON c.id = a.comment_id
        WHERE a.action = 'submitted' AND a.site_id IS NOT NULL
        GROUP BY a.site_id, date(a.created_at),
                 CASE a.to_status WHEN 'approved' THEN 'publish' WHEN 'spam' THEN 'spam'
                                  ELSE 'hold' END,
                 COALESCE(c.held_by_rule, '')
        """
    )


def downgrade():
    op.drop_table("daily_outcomes")
