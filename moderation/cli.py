"""The ``moderation`` command: ``moderation X`` is the same as ``flask --app moderation X``."""

from __future__ import annotations

import sys

from flask.cli import FlaskGroup


def main() -> None:
    """Console-script entry point."""
    from moderation import create_app

    group = FlaskGroup(create_app=lambda: create_app(), add_default_commands=True)
    group.main(args=sys.argv[1:], prog_name="moderation")
