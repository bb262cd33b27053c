"""``moderation retention run`` and ``moderation backup PATH``: keeping data no longer than
needed, and a consistent copy of it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from moderation.commands.errors import one_line_errors
from moderation.services.backup import BackupRefused, backup_database
from moderation.services.decisions import purge_deleted
from moderation.services.events import SYSTEM
from moderation.services.retention import apply_retention


@click.group("retention", cls=AppGroup)
def retention_group() -> None:
    """Clear personal data older than the retention settings."""


def run_retention() -> tuple[int, int, int]:
    """Apply every retention period (the delivery worker calls this too): deleted comments
    purged after PURGE_DELETED_AFTER_DAYS, then addresses and emails cleared; how many
    comments were purged, lost their address, lost their email."""
    config = current_app.config
    purged = purge_deleted(timedelta(days=float(config["PURGE_DELETED_AFTER_DAYS"])), SYSTEM)
    result = apply_retention(
        float(config["RETENTION_ADDRESS_DAYS"]),
        float(config["RETENTION_REJECTED_EMAIL_DAYS"]),
        SYSTEM,
    )
    return purged, result.addresses, result.emails


@retention_group.command("run")
@one_line_errors
def run_command() -> None:
    """Purge comments deleted more than PURGE_DELETED_AFTER_DAYS ago, clear addresses and
    user agents after RETENTION_ADDRESS_DAYS, and the emails of rejected and spam comments
    after RETENTION_REJECTED_EMAIL_DAYS."""
    purged, addresses, emails = run_retention()
    click.echo(
        f"{purged} deleted comment(s) purged; "
        f"{addresses} comment(s) lost their IP address and user agent; "
        f"{emails} rejected or spam comment(s) lost their email."
    )


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
@one_line_errors
def backup_command(path: Path) -> None:
    """Copy the SQLite database to PATH while the service runs (SQLite's online backup)."""
    try:
        pages = backup_database(path)
    except BackupRefused as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backed up {pages} page(s) to {path}.")
