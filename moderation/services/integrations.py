"""Integrations: credentials, scopes, subscriptions, secret rotation and signatures."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from moderation.clock import utcnow
from moderation.domain.errors import N_, DomainError, InvalidInput, NotFound
from moderation.extensions import db
from moderation.models import DeliveryState, Integration, OutboxDelivery
from moderation.ratelimit import gate
from moderation.services import outbound, secret_box
from moderation.services.events import EVENT_TYPES, Actor, audit
from moderation.services.refusals import RateLimited
from moderation.services.sites import get_site

SCOPES = ("submit", "moderate", "threads", "read")


class SignatureRefused(DomainError):
    """The request is not signed by this integration (401)."""


class ScopeRefused(DomainError):
    """The integration may not do this, or not on this site (403)."""


class IntegrationDisabled(ScopeRefused):
    """An admin disabled the integration (403): nothing it sends is acted on."""


@dataclass(frozen=True)
class IntegrationSettings:
    """What an integration subscribes to and may do."""

    events: tuple[str, ...] = ()
    target_url: str = ""
    scopes: tuple[str, ...] = SCOPES
    allow_email: bool = False


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def actor_of(integration: Integration) -> Actor:
    """An integration as the actor of audit events."""
    return Actor("integration", integration.public_id, integration.name)


def check_target_url(url: str, allow_private: bool) -> str:
    """The canonical form of a webhook URL, or "" for none; refused by the one outbound rule
    (:func:`moderation.services.outbound.check_target`) unless it may be sent to."""
    if not url.strip():
        return ""
    return outbound.check_target(url, allow_private).parsed.url


def _refuse_unknown(given: tuple[str, ...], known: tuple[str, ...], message: str) -> None:
    """Refuse names outside ``known``, saying which and what may be chosen."""
    unknown = set(given) - set(known)
    if unknown:
        raise InvalidInput(message, unknown=", ".join(sorted(unknown)), known=", ".join(known))


def _clean_settings(settings: IntegrationSettings, allow_private: bool) -> IntegrationSettings:
    _refuse_unknown(
        settings.events, EVENT_TYPES, N_("Unknown event %(unknown)s: choose from %(known)s.")
    )
    _refuse_unknown(
        settings.scopes, SCOPES, N_("Unknown scope %(unknown)s: choose from %(known)s.")
    )
    target = check_target_url(settings.target_url, allow_private)
    if settings.events and not target:
        raise InvalidInput(N_("Events need a webhook URL to be sent to."))
    return IntegrationSettings(
        events=tuple(dict.fromkeys(settings.events)),
        target_url=target,
        scopes=tuple(dict.fromkeys(settings.scopes)),
        allow_email=settings.allow_email,
    )


def create_integration(
    name: str, site_slug: str, settings: IntegrationSettings, allow_private: bool, actor: Actor
) -> tuple[Integration, str]:
    """Create an integration; returns it and its secret (shown once)."""
    if not name.strip():
        raise InvalidInput(N_("An integration needs a name."))
    site = get_site(site_slug)
    clean = _clean_settings(settings, allow_private)
    secret = new_secret()
    public_id = f"int_{secrets.token_hex(8)}"
    integration = Integration(
        public_id=public_id,
        name=name.strip()[:200],
        site_id=site.id,
        secret=_seal(secret, public_id),
        scopes=list(clean.scopes),
        events=list(clean.events),
        target_url=clean.target_url,
        allow_email=clean.allow_email,
    )
    integration.site = site
    db.session.add(integration)
    audit(
        actor, "integration.create", site_id=site.id, reason=f"integration {integration.public_id}"
    )
    db.session.commit()
    return integration, secret


def get_integration(public_id: str) -> Integration:
    """The integration, or :class:`NotFound`."""
    integration = db.session.execute(
        select(Integration).where(Integration.public_id == public_id)
    ).scalar_one_or_none()
    if integration is None or not integration.is_active:
        raise NotFound(N_("Unknown integration %(id)r."), id=public_id)
    return integration


def list_integrations() -> list[Integration]:
    """Every active integration, newest first."""
    return list(
        db.session.execute(
            select(Integration)
            .where(Integration.is_active.is_(True))
            .order_by(Integration.id.desc())
            .options(joinedload(Integration.site))
        ).scalars()
    )


def rotate_secret(
    public_id: str, grace: timedelta, actor: Actor, now: datetime | None = None
) -> str:
    """A new secret; the old one stays valid for ``grace`` so senders can switch over (a
    grace of zero revokes it at once). An old secret that no longer opens (SECRET_KEY
    changed) is dropped."""
    integration = get_integration(public_id)
    moment = now or utcnow()
    secret = new_secret()
    try:
        old = current_secret(integration)
    except secret_box.SecretUnreadable:
        old = None
    revoked = old is None or grace <= timedelta(0)
    integration.previous_secret = None if revoked else integration.secret
    integration.previous_secret_expires_at = None if revoked else moment + grace
    integration.secret = _seal(secret, public_id)
    audit(
        actor,
        "integration.rotate",
        site_id=integration.site_id,
        reason=f"integration {public_id}"
        + (
            ", old secret revoked now"
            if revoked
            else f", old secret valid until {moment + grace:%Y-%m-%d %H:%M} UTC"
        ),
    )
    db.session.commit()
    return secret


@dataclass(frozen=True)
class IntegrationChanges:
    """What an update changes; ``None`` keeps the current value."""

    target_url: str | None = None
    events: tuple[str, ...] | None = None
    scopes: tuple[str, ...] | None = None
    allow_email: bool | None = None


def update_integration(
    public_id: str, changes: IntegrationChanges, allow_private: bool, actor: Actor
) -> Integration:
    """Change an integration's URL, events, scopes or email permission, under the same rules
    as at creation; audited with what changed (nothing changed: nothing written)."""
    integration = get_integration(public_id)
    current = IntegrationSettings(
        events=tuple(integration.events),
        target_url=integration.target_url,
        scopes=tuple(integration.scopes),
        allow_email=integration.allow_email,
    )
    wanted = IntegrationSettings(
        events=current.events if changes.events is None else changes.events,
        target_url=current.target_url if changes.target_url is None else changes.target_url,
        scopes=current.scopes if changes.scopes is None else changes.scopes,
        allow_email=current.allow_email if changes.allow_email is None else changes.allow_email,
    )
    clean = _clean_settings(wanted, allow_private)
    changed = [
        name
        for name in ("target_url", "events", "scopes", "allow_email")
        if getattr(clean, name) != getattr(current, name)
    ]
    if not changed:
        return integration
    integration.target_url = clean.target_url
    integration.events = list(clean.events)
    integration.scopes = list(clean.scopes)
    integration.allow_email = clean.allow_email
    audit(
        actor,
        "integration.update",
        site_id=integration.site_id,
        reason=f"integration {public_id}: "
        + "; ".join(f"{name} = {_shown(getattr(clean, name))}" for name in changed),
    )
    db.session.commit()
    return integration


def _shown(value: object) -> str:
    """A setting as the audit log shows it."""
    if isinstance(value, tuple):
        return ", ".join(value) or "none"
    return str(value) if value != "" else "none"


def delete_integration(public_id: str, actor: Actor) -> int:
    """Delete an integration: its requests answer 404 from now on, its secrets are dropped
    and its pending deliveries with them; returns how many deliveries were dropped. Its
    delivered and dead deliveries stay, for the record."""
    integration = get_integration(public_id)
    dropped = db.session.execute(
        delete(OutboxDelivery).where(
            OutboxDelivery.integration_id == integration.id,
            OutboxDelivery.state == DeliveryState.PENDING,
        )
    ).rowcount  # type: ignore[attr-defined]
    integration.is_active = False
    integration.previous_secret = None
    integration.previous_secret_expires_at = None
    audit(
        actor,
        "integration.delete",
        site_id=integration.site_id,
        reason=f"integration {public_id} ({integration.name}): "
        f"{dropped} pending deliver{'y' if dropped == 1 else 'ies'} dropped",
    )
    db.session.commit()
    return int(dropped)


def set_enabled(public_id: str, enabled: bool, actor: Actor) -> Integration:
    """Disable an integration (its requests are refused with 403, its outbound deliveries
    wait) or enable it again (the waiting deliveries go out)."""
    integration = get_integration(public_id)
    if enabled == (integration.disabled_at is None):
        return integration
    integration.disabled_at = None if enabled else utcnow()
    audit(
        actor,
        "integration.enable" if enabled else "integration.disable",
        site_id=integration.site_id,
        reason=f"integration {public_id}",
    )
    db.session.commit()
    return integration


def require_enabled(integration: Integration) -> None:
    """Refuse (403) everything a disabled integration sends."""
    if integration.disabled_at is not None:
        raise IntegrationDisabled(
            N_(
                "This integration is disabled: its requests are refused and its events wait "
                "until an admin enables it again."
            )
        )


def _seal(secret: str, public_id: str) -> str:
    return secret_box.seal(str(current_app.config["SECRET_KEY"]), secret, public_id)


def current_secret(integration: Integration) -> str:
    """The integration's signing secret, opened; :class:`secret_box.SecretUnreadable` if
    SECRET_KEY changed since it was stored."""
    return secret_box.unseal(
        str(current_app.config["SECRET_KEY"]), integration.secret, integration.public_id
    )


def valid_secrets(integration: Integration, now: datetime) -> list[str]:
    """The current secret, and the previous one while its grace period lasts."""
    found = [current_secret(integration)]
    if (
        integration.previous_secret
        and integration.previous_secret_expires_at is not None
        and integration.previous_secret_expires_at > now
    ):
        found.append(
            secret_box.unseal(
                str(current_app.config["SECRET_KEY"]),
                integration.previous_secret,
                integration.public_id,
            )
        )
    return found


def verify_signature(
    integration: Integration, body: bytes, headers: Mapping[str, str], now: datetime
) -> None:
    """Check the Standard Webhooks signature over the raw body; raise :class:`SignatureRefused`."""
    wanted = {
        name: headers.get(name, "")
        for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
    }
    missing = [name for name, value in wanted.items() if not value]
    if missing:
        raise SignatureRefused(
            N_("Missing signature header(s): %(names)s."), names=", ".join(missing)
        )
    last_error = "No matching signature found"
    for secret in valid_secrets(integration, now):
        try:
            Webhook(secret).verify(body, wanted, json_parse=False)
            return
        except WebhookVerificationError as error:
            last_error = str(error)
            if "timestamp" in last_error.lower() or "Invalid Signature Headers" in last_error:
                break
        except (ValueError, UnicodeDecodeError):
            last_error = "Malformed webhook-signature header"
            break
    raise SignatureRefused(
        N_(
            "The signature does not verify (%(reason)s). Sign 'id.timestamp.body' with HMAC-SHA256 "
            "and the integration's whsec_ secret; timestamps may be 5 minutes off at most."
        ),
        reason=last_error,
    )


def sign(
    secret: str | Sequence[str], message_id: str, timestamp: datetime, body: str
) -> dict[str, str]:
    """Standard Webhooks headers for an outbound message; given several secrets (the new one
    and, during a rotation's grace period, the old one) the header carries one signature per
    secret, space-separated, so a receiver holding either verifies it."""
    held = [secret] if isinstance(secret, str) else list(secret)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": " ".join(
            Webhook(each).sign(message_id, timestamp, body) for each in held
        ),
    }


def signing_secrets(integration: Integration, now: datetime) -> list[str]:
    """The secrets outbound events are signed with: the current one, and the previous one
    while its grace period lasts (dropped, not fatal, if it no longer opens);
    :class:`secret_box.SecretUnreadable` when the current one does not open."""
    try:
        return valid_secrets(integration, now)
    except secret_box.SecretUnreadable:
        return [current_secret(integration)]


def require_scope(integration: Integration, scope: str) -> None:
    """Refuse (403) an integration without ``scope``."""
    if scope not in integration.scopes:
        raise ScopeRefused(
            N_("This integration lacks the %(scope)r scope (it has: %(scopes)s)."),
            scope=scope,
            scopes=", ".join(integration.scopes) or "none",
        )


def require_site(integration: Integration, site_slug: object) -> None:
    """Refuse (403) acting on a site other than the integration's own."""
    if site_slug != integration.site.slug:
        raise ScopeRefused(
            N_("This integration acts on site %(own)r only, not %(site)r."),
            own=integration.site.slug,
            site=str(site_slug),
        )


def count_call(integration: Integration) -> None:
    """Count one verified call against the integration's limit (inbound webhooks and reads
    share it); :class:`RateLimited` when it is spent."""
    breach = gate().hit(
        [
            (
                "webhook-integration",
                str(current_app.config["LIMIT_WEBHOOK_PER_INTEGRATION"]),
                (integration.public_id,),
            )
        ]
    )
    if breach is not None:
        raise RateLimited(breach.retry_after)
