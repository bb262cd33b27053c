"""The ``moderation`` command: ``moderation X`` is the same as ``flask --app moderation X``."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from flask import Flask
from flask.cli import FlaskGroup
from sqlalchemy.exc import OperationalError

from moderation.domain.errors import DomainError

F = TypeVar("F", bound=Callable[..., Any])


def one_line_errors(command: F) -> F:
    """Turn refusals and an unreachable database into ``Error: ...`` and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except DomainError as error:
            raise click.ClickException(str(error)) from None
        except OperationalError as error:
            reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
            raise click.ClickException(f"cannot reach the database: {reason}") from None

    return wrapper  # type: ignore[return-value]


def init_app(app: Flask) -> None:
    """Register every command group on the app's CLI."""
    from moderation.commands import comments, integrations, moderators, serve, sites, webhooks

    app.cli.add_command(serve.serve_command)
    app.cli.add_command(sites.sites_group)
    app.cli.add_command(moderators.moderators_group)
    app.cli.add_command(integrations.integrations_group)
    app.cli.add_command(webhooks.webhooks_group)
    app.cli.add_command(comments.comments_group)


def main() -> None:
    """Console-script entry point."""
    from moderation import create_app

    group = FlaskGroup(create_app=lambda: create_app(), add_default_commands=True)
    group.main(args=sys.argv[1:], prog_name="moderation")
