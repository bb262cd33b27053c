"""``moderation blocks ...``: a site's block lists (emails, domains, IP prefixes)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from moderation.commands.errors import one_line_errors
from moderation.domain.blocklist import BlockKind
from moderation.services import blocklist
from moderation.services.events import SYSTEM

KINDS = click.Choice([kind.value for kind in BlockKind])


@click.group("blocks", cls=AppGroup)
def blocks_group() -> None:
    """Block emails, email domains, website domains and IP prefixes on a site."""


@blocks_group.command("add")
@click.argument("slug")
@click.argument("kind", type=KINDS)
@click.argument("value")
@click.option("--reason", default="", help="Why, as moderators will read it on blocked comments.")
@click.option("--days", type=float, help="Expire after this many days (default: never).")
@one_line_errors
def add_command(slug: str, kind: str, value: str, reason: str, days: float | None) -> None:
    """Mark a site's comments from VALUE as spam (ip_prefix: an address or its /24 or /64)."""
    entry = blocklist.add_block(slug, kind, value, reason, days, SYSTEM)
    until = f" until {entry.expires_at:%Y-%m-%d %H:%M} UTC" if entry.expires_at else ""
    click.echo(f"Blocked {entry.kind} {entry.value} on {slug!r}{until}.")


@blocks_group.command("remove")
@click.argument("slug")
@click.argument("kind", type=KINDS)
@click.argument("value")
@one_line_errors
def remove_command(slug: str, kind: str, value: str) -> None:
    """Take an entry off a site's block list."""
    blocklist.remove_block(slug, kind, value, SYSTEM)
    click.echo(f"Unblocked {kind} {value} on {slug!r}.")


@blocks_group.command("list")
@click.argument("slug")
@one_line_errors
def list_command(slug: str) -> None:
    """A site's block list: kind, value, expiry and reason."""
    entries = blocklist.list_blocks(slug)
    if not entries:
        click.echo(f"Nothing is blocked on {slug!r}.")
    for entry in entries:
        expiry = f"{entry.expires_at:%Y-%m-%d %H:%M}" if entry.expires_at else "never"
        state = " (expired)" if entry.expired else ""
        click.echo(f"{entry.kind}\t{entry.value}\t{expiry}{state}\t{entry.reason}")
