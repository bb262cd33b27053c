"""Click commands of the ``moderation`` CLI, one module per group."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register every command group on the app's CLI."""
    from moderation.commands import (
        blocks,
        comments,
        integrations,
        moderators,
        rules,
        serve,
        sites,
        webhooks,
    )

    app.cli.add_command(serve.serve_command)
    from moderation.commands import doctor

    app.cli.add_command(doctor.doctor_command)
    app.cli.add_command(sites.sites_group)
    app.cli.add_command(moderators.moderators_group)
    app.cli.add_command(integrations.integrations_group)
    app.cli.add_command(webhooks.webhooks_group)
    app.cli.add_command(comments.comments_group)
    app.cli.add_command(blocks.blocks_group)
    app.cli.add_command(rules.rules_group)
    from moderation.commands import spam

    app.cli.add_command(spam.spam_group)
    from moderation.commands import chat, mail

    app.cli.add_command(mail.mail_group)
    app.cli.add_command(chat.chat_group)

    from moderation.commands import people, porting, retention

    app.cli.add_command(porting.import_command)
    app.cli.add_command(porting.export_command)
    app.cli.add_command(people.people_group)
    app.cli.add_command(retention.retention_group)
    app.cli.add_command(retention.backup_command)
