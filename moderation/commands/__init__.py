"""Click commands of the ``moderation`` CLI, one module per group."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from moderation.commands.on_demand import CommandsOnDemand

#: Each command and where it is defined, imported when it is looked up (see
#: :mod:`moderation.commands.on_demand`).
COMMANDS = {
    "serve": "moderation.commands.serve:serve_command",
    "doctor": "moderation.commands.doctor:doctor_command",
    "sites": "moderation.commands.sites:sites_group",
    "moderators": "moderation.commands.moderators:moderators_group",
    "integrations": "moderation.commands.integrations:integrations_group",
    "webhooks": "moderation.commands.webhooks:webhooks_group",
    "comments": "moderation.commands.comments:comments_group",
    "blocks": "moderation.commands.blocks:blocks_group",
    "rules": "moderation.commands.rules:rules_group",
    "spam": "moderation.commands.spam:spam_group",
    "mail": "moderation.commands.mail:mail_group",
    "chat": "moderation.commands.chat:chat_group",
    "import": "moderation.commands.porting:import_command",
    "export": "moderation.commands.porting:export_command",
    "people": "moderation.commands.people:people_group",
    "retention": "moderation.commands.retention:retention_group",
    "backup": "moderation.commands.retention:backup_command",
}
#: Flask-Migrate's group, with the line it shows in ``moderation --help``: listing the
#: commands does not import Alembic for it.
MIGRATIONS = ("db", "flask_migrate.cli:db", "Perform database migrations.")


def init_app(app: Flask) -> None:
    """Name every command on the app's CLI (``app.cli`` imports one when used)."""
    from moderation.commands.on_demand import CommandsOnDemand

    assert isinstance(app.cli, CommandsOnDemand)
    name_all(app.cli)


def name_all(group: CommandsOnDemand) -> None:
    """Name every command on ``group``, to be imported when used."""
    for name, target in COMMANDS.items():
        group.add_on_demand(name, target)
    group.add_on_demand(*MIGRATIONS)
