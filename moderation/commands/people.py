"""``moderation people ...``: a person's data, exported or erased (GDPR Art. 15 and 17)."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from moderation.commands.errors import one_line_errors
from moderation.services.events import Actor
from moderation.services.people import ErasureMode, erase_person, export_person

#: Who the audit log says erased someone from the command line.
COMMAND_LINE = Actor("system", "cli", "command line")


@click.group("people", cls=AppGroup)
def people_group() -> None:
    """Export or erase what is stored about a person (found by email address)."""


@people_group.command("export")
@click.argument("email")
@one_line_errors
def export_command(email: str) -> None:
    """Print, as JSON, every comment written with EMAIL (on every site)."""
    click.echo(json.dumps(export_person(email), ensure_ascii=False, indent=2))


@people_group.command("erase")
@click.argument("email")
@click.option(
    "--mode",
    type=click.Choice([mode.value for mode in ErasureMode]),
    default=ErasureMode.ANONYMISE.value,
    show_default=True,
    help="anonymise: keep the words, remove the person; delete: remove the comments.",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@one_line_errors
def erase_command(email: str, mode: str, yes: bool) -> None:
    """Erase EMAIL from every comment, and its rate-limit traces; integrations that
    subscribe receive person.erased with a keyed hash (never the address)."""
    if not yes:
        click.confirm(f"Erase ({mode}) every comment written with this address?", abort=True)
    erasure = erase_person(email, mode, COMMAND_LINE)
    sites = ", ".join(erasure.sites) or "no site"
    click.echo(
        f"{erasure.comments} comment(s) {'deleted' if mode == 'delete' else 'anonymised'} "
        f"({sites}); person {erasure.subject[:16]}."
    )
