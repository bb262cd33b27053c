"""``moderation webhooks ...``: the outbound delivery worker and manual redelivery."""

from __future__ import annotations

import logging
import os
import signal
import time
from types import FrameType

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from moderation.clock import utcnow
from moderation.commands.errors import one_line_errors
from moderation.commands.retention import run_retention
from moderation.extensions import db
from moderation.logs import job, log_event
from moderation.metrics import count_storage_error
from moderation.models import DeliveryState, OutboxDelivery
from moderation.services import digests, form_tokens, webhooks

log = logging.getLogger(__name__)

HOUSEKEEPING_SECONDS = 600
#: How often the worker looks for digests that are due.
DIGEST_CHECK_SECONDS = 30


def delivery_settings() -> webhooks.DeliverySettings:
    """The worker's settings from the app's configuration."""
    config = current_app.config
    return webhooks.DeliverySettings(
        timeout=float(config["WEBHOOK_TIMEOUT"]),
        max_attempts=int(config["WEBHOOK_MAX_ATTEMPTS"]),
        backoff_base=float(config["WEBHOOK_BACKOFF_BASE"]),
        lease_seconds=float(config["WEBHOOK_LEASE_SECONDS"]),
        allow_private_targets=bool(config["WEBHOOK_ALLOW_PRIVATE_TARGETS"]),
    )


@click.group("webhooks", cls=AppGroup)
def webhooks_group() -> None:
    """Deliver outbound webhooks."""


@webhooks_group.command("deliver")
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
@click.option(
    "--interval",
    type=click.FloatRange(0.05, 60),
    default=1.0,
    show_default=True,
    help="Seconds to wait when nothing is due.",
)
@click.option("--parent-pid", type=int, hidden=True, help="Exit when this process is gone.")
@one_line_errors
def deliver_command(once: bool, interval: float, parent_pid: int | None) -> None:
    """The delivery worker: runs until stopped (SIGTERM finishes the current send)."""
    settings = delivery_settings()
    if once:
        total = 0
        digests.send_digests(utcnow())
        while (sent := webhooks.deliver_due(settings)) > 0:
            total += sent
        click.echo(f"{total} attempt(s) made.")
        return
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("webhook delivery worker started (pid %d)", os.getpid())
    # -inf, not 0: time.monotonic() counts from boot, so on a machine up for less than
    # HOUSEKEEPING_SECONDS a zero start would put the first housekeeping off until then
    last_housekeeping = last_digests = float("-inf")
    while not stopping:
        if parent_pid is not None and os.getppid() != parent_pid:
            break
        try:
            if time.monotonic() - last_digests > DIGEST_CHECK_SECONDS:
                last_digests = time.monotonic()
                with job(log, "digests") as fields:
                    fields["queued"] = digests.send_digests(utcnow())
            sent = webhooks.deliver_due(settings)  # a line per attempt
            if time.monotonic() - last_housekeeping > HOUSEKEEPING_SECONDS:
                last_housekeeping = time.monotonic()
                with job(log, "housekeeping") as fields:
                    fields["form_tokens_purged"] = form_tokens.purge_expired(utcnow())
                    purged, addresses, emails = run_retention()
                    fields["comments_purged"] = purged
                    fields["retention"] = [addresses, emails]
        except SQLAlchemyError as error:
            db.session.rollback()
            count_storage_error("database", type(error).__name__)
            log_event(log, "database_unavailable", logging.WARNING, error_type=type(error).__name__)
            sent = 0
            time.sleep(min(5.0, interval * 5))
        if not sent:
            time.sleep(interval)
    log.info("webhook delivery worker stopped")


@webhooks_group.command("redeliver")
@click.argument("delivery_id", type=int)
@one_line_errors
def redeliver_command(delivery_id: int) -> None:
    """Queue a delivery again now (for example a dead one, after fixing the receiver)."""
    delivery = webhooks.redeliver(delivery_id)
    click.echo(f"Delivery {delivery.id} ({delivery.event_type}) queued again.")


@webhooks_group.command("list")
@click.option("--state", type=click.Choice([state.value for state in DeliveryState]))
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@one_line_errors
def list_command(state: str | None, limit: int) -> None:
    """The latest deliveries with their state, attempts and last error."""
    query = select(OutboxDelivery).order_by(OutboxDelivery.id.desc()).limit(limit)
    if state:
        query = query.where(OutboxDelivery.state == DeliveryState(state))
    for delivery in db.session.execute(query).scalars():
        click.echo(
            "\t".join(
                [
                    str(delivery.id),
                    delivery.message_id,
                    delivery.event_type,
                    delivery.state.value,
                    f"{delivery.attempts} attempt(s)",
                    delivery.last_error or "-",
                ]
            )
        )
