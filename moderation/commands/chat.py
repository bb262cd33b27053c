"""``moderation chat ...``: Slack-compatible incoming webhooks that hear of held comments."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from moderation.commands.errors import one_line_errors
from moderation.services import notify_settings
from moderation.services.events import SYSTEM


@click.group("chat", cls=AppGroup)
def chat_group() -> None:
    """Chat notifications (Slack, Mattermost, Rocket.Chat, Discord's /slack endpoint)."""


@chat_group.command("add")
@click.argument("site")
@click.argument("url")
@one_line_errors
def add_command(site: str, url: str) -> None:
    """Post the SITE's held comments to the incoming-webhook URL."""
    hook = notify_settings.add_chat_hook(
        site, url, bool(current_app.config["WEBHOOK_ALLOW_PRIVATE_TARGETS"]), SYSTEM
    )
    click.echo(f"Chat hook {hook.id} added to {site}.")


@chat_group.command("list")
@one_line_errors
def list_command() -> None:
    """Every chat hook (the URL's path is a credential: only its host is shown)."""
    for hook in notify_settings.list_chat_hooks():
        click.echo(f"{hook.id}\t{hook.site.slug}\t{notify_settings.masked(hook.url)}")


@chat_group.command("remove")
@click.argument("hook_id", type=int)
@one_line_errors
def remove_command(hook_id: int) -> None:
    """Stop posting to a chat hook."""
    notify_settings.remove_chat_hook(hook_id, SYSTEM)
    click.echo(f"Chat hook {hook_id} removed.")
