"""Outbound webhooks: deliver the outbox, signed, with retries, backoff and a dead state.

Several workers may share the outbox: a delivery is claimed with a lease (a conditional
update that only one worker can win; ``FOR UPDATE SKIP LOCKED`` on PostgreSQL keeps them
from queueing on each other). A worker killed mid-send loses nothing: the lease runs out
and another worker sends the delivery again (receivers de-duplicate on ``webhook-id``).
"""

from __future__ import annotations

import json
import logging
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update

from moderation.clock import utcnow
from moderation.domain.errors import N_, NotFound
from moderation.extensions import db, get_by_id
from moderation.logs import log_event
from moderation.metrics import count_delivery_attempt
from moderation.models import DeliveryAttempt, DeliveryState, Integration, OutboxDelivery
from moderation.services import outbound
from moderation.services.channels import notification_sender
from moderation.services.integrations import sign, signing_secrets
from moderation.services.secret_box import SecretUnreadable

log = logging.getLogger(__name__)

USER_AGENT = "moderation-webhooks/1"
#: How much of a receiver's answer the delivery log keeps.
EXCERPT_BYTES = 1000
#: Anything shaped like an email address (hidden from the log unless the integration may
#: see emails: a receiver could echo one back).
_EMAIL_LIKE = re.compile(r"[^\s@<>\"',;:()\[\]]+@[^\s@<>\"',;:()\[\]]+\.[^\s@<>\"',;:()\[\]]+")
HIDDEN_EMAIL = "[email hidden]"


def hide_emails(text: str) -> str:
    """``text`` with every email-like word replaced by a placeholder."""
    return _EMAIL_LIKE.sub(HIDDEN_EMAIL, text)


@dataclass(frozen=True)
class DeliverySettings:
    """How the worker sends: timeouts, attempts, backoff, lease and private targets."""

    timeout: float = 10.0
    max_attempts: int = 8
    backoff_base: float = 30.0
    backoff_cap: float = 6 * 3600.0
    lease_seconds: float = 60.0
    allow_private_targets: bool = False


@dataclass(frozen=True)
class AttemptResult:
    """The outcome of one HTTP attempt."""

    status_code: int | None
    error: str
    duration_ms: int
    #: The start of the receiver's answer (decoded, truncated), for the delivery log.
    response_excerpt: str = ""

    @property
    def delivered(self) -> bool:
        """2xx is a delivery; anything else is retried."""
        return self.status_code is not None and 200 <= self.status_code < 300


def backoff_seconds(
    attempts: int, settings: DeliverySettings, rng: Callable[[], float] = random.random
) -> float:
    """Exponential backoff with jitter: base * 2^(n-1), capped, then between half and all of it."""
    ceiling = min(settings.backoff_cap, settings.backoff_base * 2.0 ** max(0, attempts - 1))
    return float(ceiling * (0.5 + rng() / 2))


_ENABLED_INTEGRATIONS = select(Integration.id).where(Integration.disabled_at.is_(None))


def claim_due(now: datetime, settings: DeliverySettings, limit: int = 20) -> list[int]:
    """Claim up to ``limit`` due deliveries for this worker; returns their ids."""
    due = and_(
        OutboxDelivery.state == DeliveryState.PENDING,
        OutboxDelivery.next_attempt_at <= now,
        or_(OutboxDelivery.locked_until.is_(None), OutboxDelivery.locked_until < now),
        # a disabled integration's deliveries wait, untouched, until it is enabled again
        # (notifications belong to no integration)
        or_(
            OutboxDelivery.integration_id.is_(None),
            OutboxDelivery.integration_id.in_(_ENABLED_INTEGRATIONS),
        ),
    )
    query = (
        select(OutboxDelivery.id)
        .where(due)
        .order_by(OutboxDelivery.next_attempt_at, OutboxDelivery.id)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    candidates = list(db.session.execute(query).scalars())
    lease = now + timedelta(seconds=settings.lease_seconds)
    claimed = []
    for delivery_id in candidates:
        result = db.session.execute(
            update(OutboxDelivery)
            .where(OutboxDelivery.id == delivery_id, due)
            .values(locked_until=lease)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(delivery_id)
    db.session.commit()
    return claimed


def send(
    url: str, headers: dict[str, str], body: bytes, settings: DeliverySettings
) -> AttemptResult:
    """POST once, through the one outbound rule: the URL is checked and resolved again now
    and the connection goes to the address checked. Never raises for network trouble; the
    result says what happened in coarse words (see :mod:`moderation.services.outbound`)."""
    try:
        target = outbound.check_target(url, settings.allow_private_targets)
    except outbound.TargetRefused as refusal:
        return AttemptResult(None, refusal.log_text, 0)
    result = outbound.post(
        target,
        {**headers, "Content-Type": "application/json", "User-Agent": USER_AGENT},
        body,
        settings.timeout,
    )
    return AttemptResult(
        result.status_code,
        result.error,
        result.duration_ms,
        result.body[:EXCERPT_BYTES].decode("utf-8", errors="replace").replace("\x00", ""),
    )


def deliver_one(
    delivery_id: int, settings: DeliverySettings, sender: Callable[..., AttemptResult] = send
) -> AttemptResult | None:
    """Send one claimed delivery and record the attempt; ``None`` if it is no longer ours."""
    delivery = db.session.get(OutboxDelivery, delivery_id)
    if delivery is None or delivery.state is not DeliveryState.PENDING:
        return None
    integration = delivery.integration
    if integration is None:  # an email or a chat message
        result = notification_sender(delivery, settings)
        _record(delivery_id, result, settings)
        return result
    if integration.disabled_at is not None:  # disabled since it was claimed: let it wait
        delivery.locked_until = None
        db.session.commit()
        return None
    now = utcnow()
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False)
    try:
        secret: list[str] | None = signing_secrets(integration, now)
    except SecretUnreadable as error:
        log.error("webhook %s not sent: %s", delivery.message_id, error)
        secret = None
    headers = sign(secret, delivery.message_id, now, body) if secret is not None else {}
    target = integration.target_url
    db.session.commit()  # no transaction stays open while we wait on the network
    if secret is None:
        result = AttemptResult(None, "refused: secret unreadable (SECRET_KEY changed?)", 0)
    elif not target or not integration.is_active:
        result = AttemptResult(None, "the integration has no webhook URL any more", 0)
    else:
        result = sender(target, headers, body.encode(), settings)
    _record(delivery_id, result, settings)
    return result


def _record(delivery_id: int, result: AttemptResult, settings: DeliverySettings) -> None:
    """Store the attempt and move the delivery on: delivered, retried later, or dead."""
    delivery = db.session.get(OutboxDelivery, delivery_id)
    if delivery is None:
        return
    now = utcnow()
    db.session.add(
        DeliveryAttempt(
            delivery_id=delivery_id,
            attempted_at=now,
            status_code=result.status_code,
            error=result.error[:1000],
            duration_ms=result.duration_ms,
            response_excerpt=(
                result.response_excerpt
                if delivery.integration is not None and delivery.integration.allow_email
                else hide_emails(result.response_excerpt)
            )[:EXCERPT_BYTES],
        )
    )
    delivery.attempts += 1
    delivery.locked_until = None
    if result.delivered:
        delivery.state = DeliveryState.DELIVERED
        delivery.delivered_at = now
        delivery.last_error = ""
    else:
        delivery.last_error = (result.error or f"HTTP {result.status_code}")[:1000]
        if delivery.attempts >= settings.max_attempts:
            delivery.state = DeliveryState.DEAD
        else:
            delivery.next_attempt_at = now + timedelta(
                seconds=backoff_seconds(delivery.attempts, settings)
            )
    _log_attempt(delivery, result)
    db.session.commit()


def _log_attempt(delivery: OutboxDelivery, result: AttemptResult) -> None:
    """One line per attempt: which delivery, how it went; never a target URL (it may hold
    a token) nor an address (an SMTP error may quote the recipient)."""
    outcome = (
        "delivered"
        if result.delivered
        else ("dead" if delivery.state is DeliveryState.DEAD else "retry")
    )
    count_delivery_attempt(delivery.channel, outcome)
    log_event(
        log,
        "delivery",
        logging.WARNING if outcome == "dead" else logging.INFO,
        job_id=delivery.message_id,
        delivery=delivery.id,
        channel=delivery.channel,
        event_type=delivery.event_type,
        integration=delivery.integration.public_id if delivery.integration else None,
        outcome=outcome,
        attempt=delivery.attempts,
        status_code=result.status_code,
        duration_ms=result.duration_ms,
        error=hide_emails(result.error)[:200] or None,
    )


def deliver_due(
    settings: DeliverySettings, sender: Callable[..., AttemptResult] = send, limit: int = 20
) -> int:
    """Claim and send what is due now; returns how many attempts were made."""
    attempts = 0
    for delivery_id in claim_due(utcnow(), settings, limit):
        if deliver_one(delivery_id, settings, sender) is not None:
            attempts += 1
    return attempts


def redeliver(delivery_id: int, integration_id: int | None = None) -> OutboxDelivery:
    """Queue a delivery again, now, whatever state it ended in (by hand, from the dashboard or CLI)."""
    delivery = get_by_id(OutboxDelivery, delivery_id)
    if delivery is None or (
        integration_id is not None and delivery.integration_id != integration_id
    ):
        raise NotFound(N_("Delivery %(id)s does not exist."), id=delivery_id)
    delivery.state = DeliveryState.PENDING
    delivery.next_attempt_at = utcnow()
    delivery.locked_until = None
    delivery.attempts = 0
    db.session.commit()
    return delivery


def deliveries_of(integration_id: int, limit: int = 50) -> list[OutboxDelivery]:
    """The latest deliveries of an integration, for the delivery log."""
    return list(
        db.session.execute(
            select(OutboxDelivery)
            .where(OutboxDelivery.integration_id == integration_id)
            .order_by(OutboxDelivery.id.desc())
            .limit(limit)
        ).scalars()
    )


def attempts_of(delivery_ids: list[int]) -> dict[int, list[DeliveryAttempt]]:
    """Every attempt of each delivery, oldest first, in one query."""
    found: dict[int, list[DeliveryAttempt]] = {delivery_id: [] for delivery_id in delivery_ids}
    for attempt in db.session.execute(
        select(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id.in_(delivery_ids))
        .order_by(DeliveryAttempt.id)
    ).scalars():
        found[attempt.delivery_id].append(attempt)
    return found


#: How much of a payload the delivery log shows.
PAYLOAD_CHARS = 2000


def logged_payload(delivery: OutboxDelivery) -> str:
    """The delivery's payload as the log shows it: indented JSON, truncated, without the
    commenter's email unless the integration may see emails now."""
    payload = delivery.payload
    data = payload.get("data")
    may_see = delivery.integration is not None and delivery.integration.allow_email
    if not may_see and isinstance(data, dict) and "email" in data:
        payload = {**payload, "data": {**data, "email": HIDDEN_EMAIL}}
    text = json.dumps(payload, indent=2, ensure_ascii=False)
    return text if len(text) <= PAYLOAD_CHARS else text[:PAYLOAD_CHARS] + "\n…"


def logged_response(attempt: DeliveryAttempt, integration: Integration) -> str:
    """What the receiver answered, as the log shows it: email-like words hidden unless the
    integration may see emails now."""
    text = attempt.response_excerpt
    return text if integration.allow_email else hide_emails(text)
