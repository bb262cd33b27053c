"""Sending the outbox's notifications: emails over SMTP, chat messages to Slack-compatible
incoming webhooks (through the same outbound rule as webhooks)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import func, select

from moderation.domain.errors import N_, NotFound
from moderation.extensions import db, get_by_id
from moderation.models import ChatHook, DeliveryState, OutboxDelivery
from moderation.services import mail, outbound

if TYPE_CHECKING:
    from moderation.services.webhooks import AttemptResult, DeliverySettings

USER_AGENT = "moderation-notifications/1"


def notification_sender(delivery: OutboxDelivery, settings: DeliverySettings) -> AttemptResult:
    """Send one email or chat message; the result is recorded like a webhook attempt.
    No transaction stays open while the network is waited on."""
    from moderation.services.webhooks import AttemptResult

    payload = dict(delivery.payload)
    channel = delivery.channel
    hook = db.session.get(ChatHook, delivery.chat_hook_id) if delivery.chat_hook_id else None
    url = hook.url if hook is not None else ""
    db.session.commit()
    if channel == "email":
        sent = mail.send_stored(payload, mail.MailSettings.from_config(current_app.config))
        return AttemptResult(sent.code, sent.error, sent.duration_ms)
    if channel == "chat":
        if not url:
            return AttemptResult(None, "the chat hook was removed", 0)
        try:
            target = outbound.check_target(url, settings.allow_private_targets)
        except outbound.TargetRefused as refusal:
            return AttemptResult(None, refusal.log_text, 0)
        body = json.dumps(payload, ensure_ascii=False).encode()
        result = outbound.post(
            target,
            {"Content-Type": "application/json", "User-Agent": USER_AGENT},
            body,
            settings.timeout,
        )
        return AttemptResult(result.status_code, result.error, result.duration_ms)
    return AttemptResult(None, f"unknown channel {channel!r}", 0)


def notification_deliveries(limit: int = 50) -> list[OutboxDelivery]:
    """The latest emails and chat messages, for the dashboard's delivery log."""
    return list(
        db.session.execute(
            select(OutboxDelivery)
            .where(OutboxDelivery.channel != "webhook")
            .order_by(OutboxDelivery.id.desc())
            .limit(limit)
        ).scalars()
    )


def dead_notifications() -> int:
    """How many emails and chat messages ended dead (the front page warns admins)."""
    return int(
        db.session.execute(
            select(func.count(OutboxDelivery.id)).where(
                OutboxDelivery.channel != "webhook",
                OutboxDelivery.state == DeliveryState.DEAD,
            )
        ).scalar_one()
    )


def redeliver_notification(delivery_id: int) -> OutboxDelivery:
    """Queue an email or chat message again now (after fixing the server or the hook)."""
    from moderation.services.webhooks import redeliver

    delivery = get_by_id(OutboxDelivery, delivery_id)
    if delivery is None or delivery.channel == "webhook":
        raise NotFound(N_("Delivery %(id)s does not exist."), id=delivery_id)
    return redeliver(delivery_id)
