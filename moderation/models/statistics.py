"""Submissions counted per site, day, outcome and rule as they happen, and the queue's depth
at the end of each day: the statistics page reads a few hundred rows whatever the number of
comments."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from moderation.models.base import Base


class DailyOutcome(Base):
    """How many submissions to a site on a day (UTC) the rules published, held, stored as
    spam or refused, and by which rule."""

    __tablename__ = "daily_outcomes"

    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    outcome: Mapped[str] = mapped_column(String(10), primary_key=True)
    rule: Mapped[str] = mapped_column(String(40), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class DailyQueueDepth(Base):
    """How many comments of a site were pending at the end of a day (UTC): written with
    every change of the site's pending count, so the day's last change stays. A day without
    a row had no change: its depth is the previous row's."""

    __tablename__ = "daily_queue_depth"

    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    pending: Mapped[int] = mapped_column(Integer, default=0)
