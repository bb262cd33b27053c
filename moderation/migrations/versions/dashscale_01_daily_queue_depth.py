"""the queue's depth at the end of each day (the statistics page's "queue depth over time")

Revision ID: dashscale_01
Revises: bugs_01
Create Date: 2026-11-29

Adds ``daily_queue_depth``, written with every change of a site's pending count. The days
before this revision are worked out backwards from today's count and the audit log
(comments that came in pending, and decisions that took them out); each site also gets
today's row from its counter.
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'dashscale_01'
down_revision = 'bugs_01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "daily_queue_depth",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("pending", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name="fk_daily_queue_depth_site_id_sites", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("site_id", "day", name="pk_daily_queue_depth"),
    )
    # depth at the end of day D = pending now - what came in after D + what left after D
    op.execute(
        """
        INSERT INTO daily_queue_depth (site_id, day, pending)
        WITH moves AS (
            SELECT site_id, date(created_at) AS day,
                   SUM(CASE WHEN to_status = 'pending' AND COALESCE(from_status, '') <> 'pending'
                            THEN 1
                            WHEN from_status = 'pending' AND to_status <> 'pending' THEN -1
                            ELSE 0 END) AS net
            FROM audit_events
            WHERE site_id IS NOT NULL
            GROUP BY site_id, date(created_at)
        ), later AS (
            SELECT site_id, day,
                   SUM(net) OVER (PARTITION BY site_id ORDER BY day DESC) - net AS net_after
            FROM moves
        )
        SELECT later.site_id, later.day,
               CASE WHEN s.count > later.net_after THEN s.count - later.net_after ELSE 0 END
        FROM later JOIN status_counts s ON s.site_id = later.site_id AND s.status = 'pending'
        """
    )
    today = sa.literal(datetime.now(UTC).date(), sa.Date())
    depth = sa.table(
        "daily_queue_depth", sa.column("site_id"), sa.column("day"), sa.column("pending")
    )
    counts = sa.table("status_counts", sa.column("site_id"), sa.column("status"), sa.column("count"))
    op.execute(
        depth.insert().from_select(
            ["site_id", "day", "pending"],
            sa.select(counts.c.site_id, today, counts.c.count).where(
                counts.c.status == "pending",
                ~sa.exists().where(depth.c.site_id == counts.c.site_id, depth.c.day == today),
            ),
        )
    )


def downgrade():
    op.drop_table("daily_queue_depth")
