"""``moderation comments ...``: maintenance of stored comments."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from moderation.commands.errors import one_line_errors
from moderation.services.decisions import purge_deleted
from moderation.services.events import SYSTEM


@click.group("comments", cls=AppGroup)
def comments_group() -> None:
    """Maintain stored comments."""


@comments_group.command("purge")
@click.option(
    "--older-than-days",
    type=click.FloatRange(0, 3650),
    default=None,
    help="Purge comments deleted this long ago (default: PURGE_DELETED_AFTER_DAYS).",
)
@one_line_errors
def purge_command(older_than_days: float | None) -> None:
    """Remove deleted comments for good (the delivery worker also does it every few minutes)."""
    days = (
        older_than_days
        if older_than_days is not None
        else float(current_app.config["PURGE_DELETED_AFTER_DAYS"])
    )
    purged = purge_deleted(timedelta(days=days), SYSTEM)
    click.echo(f"{purged} deleted comment(s) purged (deleted more than {days:g} day(s) ago).")
