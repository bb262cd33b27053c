"""``moderation integrations ...``: credentials and subscriptions for integrators."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from moderation.commands.errors import one_line_errors
from moderation.services import integrations
from moderation.services.events import EVENT_TYPES, SYSTEM


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    """Options may repeat or hold comma-separated lists."""
    return tuple(item.strip() for value in values for item in value.split(",") if item.strip())


@click.group("integrations", cls=AppGroup)
def integrations_group() -> None:
    """Manage integrations (signed webhooks in and out)."""


@integrations_group.command("create")
@click.argument("name")
@click.option("--site", "site_slug", required=True, help="The site the integration acts on.")
@click.option(
    "--events",
    multiple=True,
    help=f"Outbound events to receive (repeat or comma-separate): {', '.join(EVENT_TYPES)}.",
)
@click.option("--url", default="", help="Where outbound events are POSTed.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    help="What it may do inbound: submit, moderate, threads (default: all).",
)
@click.option(
    "--allow-email", is_flag=True, help="Include commenters' emails in outbound payloads."
)
@one_line_errors
def create_command(
    name: str,
    site_slug: str,
    events: tuple[str, ...],
    url: str,
    scopes: tuple[str, ...],
    allow_email: bool,
) -> None:
    """Create an integration; prints its id and its secret (shown only this once)."""
    integration, secret = integrations.create_integration(
        name,
        site_slug,
        integrations.IntegrationSettings(
            events=_split(events),
            target_url=url,
            scopes=_split(scopes) or integrations.SCOPES,
            allow_email=allow_email,
        ),
        bool(current_app.config["WEBHOOK_ALLOW_PRIVATE_TARGETS"]),
        SYSTEM,
    )
    click.echo(f"id: {integration.public_id}")
    click.echo(f"secret: {secret}")
    click.echo(f"endpoint: /api/v1/hooks/{integration.public_id}")
    click.echo("The secret is shown only this once; store it with the integration.")


@integrations_group.command("list")
@one_line_errors
def list_command() -> None:
    """List integrations with their site, scopes, events and target."""
    found = integrations.list_integrations()
    if not found:
        click.echo("No integrations yet: add one with 'moderation integrations create'.")
    for integration in found:
        click.echo(
            "\t".join(
                [
                    integration.public_id,
                    integration.name,
                    integration.site.slug,
                    ",".join(integration.scopes) or "-",
                    ",".join(integration.events) or "-",
                    integration.target_url or "-",
                    "enabled" if integration.disabled_at is None else "disabled",
                ]
            )
        )


@integrations_group.command("rotate")
@click.argument("integration_id")
@click.option(
    "--grace-hours",
    type=click.FloatRange(0, 24 * 30),
    default=None,
    help="How long the old secret stays valid (default: WEBHOOK_SECRET_GRACE_HOURS).",
)
@click.option(
    "--revoke-now",
    is_flag=True,
    help="The old secret stops working at once (when it may have been stolen).",
)
@one_line_errors
def rotate_command(integration_id: str, grace_hours: float | None, revoke_now: bool) -> None:
    """Issue a new secret; the old one keeps working for a grace period, or not at all."""
    if revoke_now and grace_hours:
        raise click.UsageError("--revoke-now and --grace-hours contradict each other.")
    hours = (
        0.0
        if revoke_now
        else grace_hours
        if grace_hours is not None
        else float(current_app.config["WEBHOOK_SECRET_GRACE_HOURS"])
    )
    secret = integrations.rotate_secret(integration_id, timedelta(hours=hours), SYSTEM)
    click.echo(f"secret: {secret}")
    if hours > 0:
        click.echo(f"The previous secret stays valid for {hours:g} hour(s).")
    else:
        click.echo("The previous secret no longer works.")


@integrations_group.command("disable")
@click.argument("integration_id")
@one_line_errors
def disable_command(integration_id: str) -> None:
    """Refuse the integration's requests (403) and hold its outbound events."""
    integrations.set_enabled(integration_id, False, SYSTEM)
    click.echo(
        f"{integration_id} is disabled: its requests get 403 and its events wait "
        "until 'moderation integrations enable'."
    )


@integrations_group.command("enable")
@click.argument("integration_id")
@one_line_errors
def enable_command(integration_id: str) -> None:
    """Accept the integration's requests again and send the events that waited."""
    integrations.set_enabled(integration_id, True, SYSTEM)
    click.echo(f"{integration_id} is enabled.")


@integrations_group.command("update")
@click.argument("integration_id")
@click.option("--url", default=None, help="Where outbound events are POSTed ('' for none).")
@click.option(
    "--events",
    multiple=True,
    help=f"Outbound events, replacing the current ones ('' for none): {', '.join(EVENT_TYPES)}.",
)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    help="What it may do, replacing the current scopes ('' for none): "
    f"{', '.join(integrations.SCOPES)}.",
)
@click.option(
    "--allow-email/--no-allow-email",
    default=None,
    help="Whether payloads and reads include commenters' emails.",
)
@one_line_errors
def update_command(
    integration_id: str,
    url: str | None,
    events: tuple[str, ...],
    scopes: tuple[str, ...],
    allow_email: bool | None,
) -> None:
    """Change an integration's URL, events, scopes or email permission (what is not given
    stays as it is)."""
    integration = integrations.update_integration(
        integration_id,
        integrations.IntegrationChanges(
            target_url=url,
            events=_split(events) if events else None,
            scopes=_split(scopes) if scopes else None,
            allow_email=allow_email,
        ),
        bool(current_app.config["WEBHOOK_ALLOW_PRIVATE_TARGETS"]),
        SYSTEM,
    )
    click.echo(f"{integration.public_id} updated:")
    click.echo(f"url: {integration.target_url or '-'}")
    click.echo(f"events: {','.join(integration.events) or '-'}")
    click.echo(f"scopes: {','.join(integration.scopes) or '-'}")
    click.echo(f"emails: {'shown' if integration.allow_email else 'hidden'}")


@integrations_group.command("delete")
@click.argument("integration_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@one_line_errors
def delete_command(integration_id: str, yes: bool) -> None:
    """Delete an integration: its requests are refused (404), its secret is gone and its
    pending deliveries are dropped."""
    integrations.get_integration(integration_id)  # an unknown id is said before asking
    if not yes:
        click.confirm(f"Delete {integration_id}? Its pending deliveries are dropped.", abort=True)
    dropped = integrations.delete_integration(integration_id, SYSTEM)
    click.echo(
        f"{integration_id} is deleted; {dropped} pending "
        f"deliver{'y was' if dropped == 1 else 'ies were'} dropped (not sent)."
    )
