"""``moderation moderators ...``: accounts for the dashboard."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from moderation.commands.errors import one_line_errors
from moderation.models import ModeratorRole
from moderation.services import dashboard_sessions, moderators
from moderation.services.events import SYSTEM


@click.group("moderators", cls=AppGroup)
def moderators_group() -> None:
    """Manage the people who moderate."""


@moderators_group.command("create")
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice([role.value for role in ModeratorRole]),
    default=ModeratorRole.MODERATOR.value,
    show_default=True,
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@one_line_errors
def create_command(username: str, role: str, password_stdin: bool) -> None:
    """Add a moderator; the password is asked for (hidden) unless read from stdin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(
            "Password", hide_input=True, confirmation_prompt=True, default="", show_default=False
        )
    moderator = moderators.create_moderator(username, password, role)
    click.echo(f"Created {moderator.role.value} {moderator.username!r}.")


@moderators_group.command("sign-out")
@click.argument("username")
@one_line_errors
def sign_out_command(username: str) -> None:
    """End every dashboard session of USERNAME (a lost laptop, a stolen cookie)."""
    ended = dashboard_sessions.sign_out_everywhere(username, SYSTEM)
    click.echo(f"Signed {username.strip()!r} out everywhere: {ended} session(s) ended.")
