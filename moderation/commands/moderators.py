"""``moderation moderators ...``: accounts for the dashboard."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from moderation.commands.errors import one_line_errors
from moderation.models import ModeratorRole
from moderation.services import dashboard_sessions, moderators, notify_settings
from moderation.services.events import SYSTEM, Actor
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
@click.option(
    "--site",
    "site_slugs",
    multiple=True,
    help="A site the moderator may see (repeat for several; none: every site).",
)
@click.option("--email", default="", help="Where notifications go (held comments, by default).")
@one_line_errors
def create_command(
    username: str, role: str, password_stdin: bool, site_slugs: tuple[str, ...], email: str
) -> None:
    """Add a moderator; the password is asked for (hidden) unless read from stdin."""
    password = _read_password(password_stdin)
    moderator = moderators.create_moderator(username, password, role, list(site_slugs))
    if email:
        notify_settings.set_email(moderator, email, SYSTEM)
    click.echo(f"Created {moderator.role.value} {moderator.username!r} ({_scope(site_slugs)}).")


@moderators_group.command("update")
@click.argument("username")
@click.option("--email", default=None, help="Where notifications go ('' removes it).")
@click.option(
    "--notify",
    type=click.Choice(NOTIFY_MODES),
    help="Each held comment, a digest, or nothing (with --site: on those sites only).",
)
@click.option(
    "--site",
    "site_slugs",
    multiple=True,
    help="With --notify: the sites that choice applies to. Alone: limit the account to "
    "these sites (repeat for several).",
)
@click.option("--all-sites", is_flag=True, help="Let the account see every site again.")
@click.option("--display-name", help="The name its published replies carry ('' for the username).")
@click.option("--password-stdin", is_flag=True, help="Set a new password read from standard input.")
@one_line_errors
def update_command(
    username: str,
    email: str | None,
    notify: str | None,
    site_slugs: tuple[str, ...],
    all_sites: bool,
    display_name: str | None,
    password_stdin: bool,
) -> None:
    """Change an account's notifications, sites, reply name or password (a new password
    ends its sessions).

    Without ``--site`` or ``--all-sites`` the account's sites stay as they are, so a
    password reset never widens what an account may see.
    """
    if site_slugs and all_sites:
        raise click.UsageError("Give --site or --all-sites, not both.")
    given = (email, notify, display_name)
    if not (site_slugs or all_sites or password_stdin or any(v is not None for v in given)):
        raise click.UsageError(
            "Nothing to change: give --email, --notify, --site, --all-sites, --display-name "
            "or --password-stdin."
        )
    moderator = moderators.get_by_username(username)
    if email is not None:
        notify_settings.set_email(moderator, email, SYSTEM)
        click.echo(f"Email of {moderator.username!r} {'set' if moderator.email else 'removed'}.")
    if notify is not None:
        notify_settings.set_notify(moderator, notify, list(site_slugs), SYSTEM)
        where = ", ".join(site_slugs) or "all sites"
        click.echo(f"{moderator.username!r} is notified: {notify} on {where}.")
    if display_name is not None:
        moderators.set_display_name(moderator.id, display_name, CLI_ACTOR)
        click.echo(f"Replies of {moderator.username!r} are signed {moderator.public_name!r}.")
    if password_stdin:
        moderators.set_password(moderator.id, _read_password(True), CLI_ACTOR)
        click.echo(f"Password of {moderator.username!r} changed; its sessions have ended.")
    if (site_slugs and notify is None) or all_sites:
        moderators.set_sites(moderator.id, list(site_slugs), CLI_ACTOR)
        click.echo(f"{moderator.username!r} now sees {_scope(site_slugs)}.")


#: Who the audit log names for changes made on the command line.
CLI_ACTOR = Actor("system", "", "command line")


def _scope(site_slugs: tuple[str, ...]) -> str:
    return "sites: " + ", ".join(sorted(set(site_slugs))) if site_slugs else "every site"


def _read_password(from_stdin: bool) -> str:
    """One line of standard input, or a hidden prompt asked twice."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = click.prompt(
        "Password", hide_input=True, confirmation_prompt=True, default="", show_default=False
    )
    return password


@moderators_group.command("sign-out")
@click.argument("username")
@one_line_errors
def sign_out_command(username: str) -> None:
    """End every dashboard session of USERNAME (a lost laptop, a stolen cookie)."""
    ended = dashboard_sessions.sign_out_everywhere(username, SYSTEM)
    click.echo(f"Signed {username.strip()!r} out everywhere: {ended} session(s) ended.")
