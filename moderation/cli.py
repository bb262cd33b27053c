"""The ``moderation`` command: ``moderation X`` is the same as ``flask --app moderation X``,
without Flask's development commands (``run``, ``shell``, ``routes``) and extension internals
(``limiter``) in its help; ``flask --app moderation`` still has them."""

from __future__ import annotations

import gc
import os
import sys
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup, ScriptInfo

#: Commands Flask and its extensions add that an operator of this service never needs.
HIDDEN_COMMANDS = frozenset({"run", "shell", "routes", "limiter"})
#: Commands that work on an empty database (they create or migrate it, or say what is wrong
#: with it).
BUILDS_THE_DATABASE = frozenset({"serve", "db", "doctor"})


class ModerationGroup(FlaskGroup):
    """Flask's group with the operator's commands only, and a clear word about the instance
    a command works on when that is not ``./instance`` or its database is still empty.

    It knows the commands itself (:data:`moderation.commands.COMMANDS`): listing them, or
    a command's ``--help``, builds no app; running one builds it, as Flask's group does."""

    def __init__(self, settle_startup: bool = False, **kwargs: Any) -> None:
        from moderation.commands import name_all
        from moderation.commands.on_demand import CommandsOnDemand

        super().__init__(**kwargs)
        self._settle_startup = settle_startup
        self._ours = CommandsOnDemand()
        name_all(self._ours)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugin_commands()  # the commands of Flask extensions, as Flask lists them
        names = {*click.Group.list_commands(self, ctx), *self._ours.list_commands(ctx)}
        return sorted(name for name in names if name not in HIDDEN_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._ours.get_command(ctx, cmd_name) or super().get_command(ctx, cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """The subcommand about to run; before it runs, the word about the instance.
        (Here, not in ``invoke``: there the subcommand's name is in ``protected_args``,
        which Click 8.2 deprecated.)"""
        name, command, rest = super().resolve_command(ctx, args)
        wants_help = any(arg in ("--help", "-h") for arg in rest)
        if name and name not in HIDDEN_COMMANDS and not wants_help:
            app = ctx.ensure_object(ScriptInfo).load_app()
            if name not in BUILDS_THE_DATABASE:
                explain_instance(app)
        if self._settle_startup:
            settle_startup()
        return name, command, rest


def explain_instance(app: Flask) -> None:
    """Say which instance is used when it is not ``./instance``; refuse, saying why, when
    its database has no tables yet (instead of "no such table: sites")."""
    from sqlalchemy import inspect

    from moderation.extensions import db

    local = os.path.join(os.getcwd(), "instance")
    if os.path.abspath(app.instance_path) != local:
        click.echo(f"Using the instance at {app.instance_path}", err=True)
    with app.app_context():
        url = db.engine.url.render_as_string(hide_password=True)
        empty = not inspect(db.engine).has_table("sites")
    if empty:
        click.echo(
            f"The instance at {app.instance_path} has an empty database ({url}).\n"
            "Run `moderation serve` (or `moderation db upgrade`) with this instance first, or "
            "run this command where your served instance is: in the folder holding its "
            "`instance/`, or with MODERATION_INSTANCE_PATH naming it.",
            err=True,
        )
        sys.exit(1)


def command(settle_startup: bool = False) -> ModerationGroup:
    """The ``moderation`` command (tests invoke it in their own process); ``settle_startup``
    in a process of its own (:func:`main`)."""
    from moderation import create_app

    return ModerationGroup(
        settle_startup=settle_startup,
        name="moderation",
        create_app=lambda: create_app(),
        add_default_commands=False,
        add_version_option=False,
        help=(
            "The comment moderation service. `moderation serve` runs it (migrating and, on "
            "first start, creating the admin and the demo site); the other commands manage "
            "it. They use ./instance, or MODERATION_INSTANCE_PATH."
        ),
    )


def settle_startup() -> None:
    """The start-up is over: what it built (modules, classes, the app: some 180,000
    objects) lives as long as the process, so it leaves the collector's sight
    (``gc.freeze``), whose passes then walk only what the command makes; and the collector,
    off while they were built (:func:`main`), is on again."""
    gc.freeze()
    gc.enable()


def main() -> None:
    """Console-script entry point.

    The collector is off until the command is about to run (:func:`settle_startup`): its
    automatic passes over the objects a start-up builds, all of them alive, found next to
    nothing (a few hundred objects) and were a fifth of the CPU a ``moderation`` process
    spent before its command ran (0.18 of 0.9 s in ``moderation serve``)."""
    gc.disable()
    try:
        command(settle_startup=True).main(args=sys.argv[1:], prog_name="moderation")
    finally:
        gc.enable()
