"""``moderation spam ...``: upkeep of the spam classifier's memory."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from moderation.commands.errors import one_line_errors
from moderation.services import spam_upkeep


@click.group("spam", cls=AppGroup)
def spam_group() -> None:
    """The spam classifier's memory: check it against SECRET_KEY, rebuild it."""


@spam_group.command("check")
@one_line_errors
def check_command() -> None:
    """Say whether the classifier's counts were learned with this SECRET_KEY."""
    check = spam_upkeep.check_key()
    if check.matches:
        click.echo(
            f"The spam classifier matches this SECRET_KEY ({check.learned} comments learned)."
        )
        return
    raise click.ClickException(
        "the spam classifier was learned with another SECRET_KEY: run 'moderation spam rebuild'"
    )


@spam_group.command("rebuild")
@one_line_errors
def rebuild_command() -> None:
    """Learn the classifier again from every comment as it is now (after SECRET_KEY changed,
    or to start clean): approved comments are ham, spam comments spam."""
    rebuilt = spam_upkeep.rebuild_model()
    click.echo(
        f"Rebuilt the spam classifier from {rebuilt.ham} approved (ham) and "
        f"{rebuilt.spam} spam comment(s) with this SECRET_KEY."
    )
