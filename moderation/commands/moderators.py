"""``moderation moderators ...``: accounts for the dashboard."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from moderation.commands.errors import one_line_errors
from moderation.models import ModeratorRole
from moderation.services import dashboard_sessions, moderators, notify_settings
from moderation.services.events import SYSTEM
from moderation.services.mail_queue import NOTIFY_MODES


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
@click.option("--email", default="", help="Where notifications go (held comments, by default).")
@one_line_errors
def create_command(username: str, role: str, password_stdin: bool, email: str) -> None:
    """Add a moderator; the password is asked for (hidden) unless read from stdin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(
            "Password", hide_input=True, confirmation_prompt=True, default="", show_default=False
        )
    moderator = moderators.create_moderator(username, password, role)
    if email:
        notify_settings.set_email(moderator, email, SYSTEM)
    click.echo(f"Created {moderator.role.value} {moderator.username!r}.")


@moderators_group.command("update")
@click.argument("username")
@click.option("--email", default=None, help="Where notifications go ('' removes it).")
@click.option(
    "--notify",
    type=click.Choice(NOTIFY_MODES),
    help="Each held comment, a digest, or nothing (with --site: on those sites only).",
)
@click.option("--site", "sites", multiple=True, help="The site(s) --notify applies to.")
@one_line_errors
def update_command(
    username: str, email: str | None, notify: str | None, sites: tuple[str, ...]
) -> None:
    """Change a moderator's address and what they are notified of."""
    moderator = notify_settings.find_moderator(username)
    if sites and notify is None:
        raise click.UsageError("--site needs --notify (which sites the choice applies to).")
    if email is not None:
        notify_settings.set_email(moderator, email, SYSTEM)
    if notify is not None:
        notify_settings.set_notify(moderator, notify, list(sites), SYSTEM)
    where = ", ".join(sites) or "all sites"
    click.echo(
        f"Updated {moderator.username!r}: email {'set' if moderator.email else 'none'}"
        + (f", {notify} on {where}" if notify else "")
        + "."
    )


@moderators_group.command("sign-out")
@click.argument("username")
@one_line_errors
def sign_out_command(username: str) -> None:
    """End every dashboard session of USERNAME (a lost laptop, a stolen cookie)."""
    ended = dashboard_sessions.sign_out_everywhere(username, SYSTEM)
    click.echo(f"Signed {username.strip()!r} out everywhere: {ended} session(s) ended.")
