"""The app's command group (``app.cli``) with commands that are named at start and imported
when one is looked up: a web process imports none of them, and ``moderation sites list``
imports the module of ``sites`` alone (each module brings the services it drives)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import click
from flask.cli import AppGroup


class CommandsOnDemand(AppGroup):
    """Flask's ``AppGroup`` whose commands can be given as ``module:attribute``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deferred: dict[str, tuple[str, str | None]] = {}

    def add_on_demand(self, name: str, target: str, short_help: str | None = None) -> None:
        """``target`` (``module:attribute``) is the command ``name``, imported on first use.
        With ``short_help`` (the line the real command shows in the list of commands),
        listing the commands does not import it either."""
        self._deferred[name] = (target, short_help)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self._deferred})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in self._deferred:
            return super().get_command(ctx, cmd_name)
        short_help = self._deferred[cmd_name][1]
        if short_help is not None:
            return _Listed(cmd_name, short_help, lambda: self._load(cmd_name))
        return self._load(cmd_name)

    def _load(self, name: str) -> click.Command:
        """Import the command ``name`` and keep it (unless one was added under its name
        meanwhile: that one wins, as a later ``add_command`` would)."""
        target = self._deferred.pop(name, ("", None))[0]
        if name not in self.commands:
            module, attribute = target.split(":")
            self.add_command(getattr(importlib.import_module(module), attribute), name)
        return self.commands[name]


class _Listed(click.Command):
    """A command known by its name and line of help until it is used: parsing its
    arguments (running it, its ``--help``, completing it) hands over to the real one."""

    def __init__(self, name: str, short_help: str, load: Callable[[], click.Command]) -> None:
        super().__init__(name, short_help=short_help)
        self._load = load

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        return self._load().make_context(info_name, args, parent=parent, **extra)
