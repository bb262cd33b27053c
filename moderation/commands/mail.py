"""``moderation mail ...``: check that email can be sent."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from moderation.commands.errors import one_line_errors
from moderation.domain.comments import clean_email
from moderation.services import mail


@click.group("mail", cls=AppGroup)
def mail_group() -> None:
    """Email notifications."""


@mail_group.command("test")
@click.argument("address")
@one_line_errors
def test_command(address: str) -> None:
    """Send a test message to ADDRESS now (not through the outbox) and report the outcome."""
    settings = mail.MailSettings.from_config(current_app.config)
    problem = settings.problem()
    if problem:
        raise click.ClickException(problem)
    result = mail.send_message(mail.test_message(clean_email(address), settings), settings)
    where = "console" if settings.backend == "console" else f"{settings.server}:{settings.port}"
    if not result.delivered:
        raise click.ClickException(f"{where} did not take the message: {result.error}")
    click.echo(f"{where} accepted the message ({result.code}, {result.duration_ms} ms).")
