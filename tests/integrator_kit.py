"""What an integrator holds and does, for the integrator tests: an integration created through
the services, signed calls in (webhooks and reads) and the outbound worker run to the end."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from standardwebhooks import Webhook
from werkzeug.test import TestResponse

from tests.helpers import PASSWORD

FAST = {"backoff_base": 0.01, "timeout": 5.0, "lease_seconds": 30.0, "allow_private_targets": True}


def create_integration(
    app: Flask,
    site: str = "blog",
    url: str = "",
    events: tuple[str, ...] = (),
    scopes: tuple[str, ...] | None = None,
    allow_email: bool = False,
    name: str = "CMS",
) -> tuple[str, str]:
    """An integration of ``site``; returns its public id and secret."""
    from moderation.services import integrations
    from moderation.services.events import SYSTEM

    with app.app_context():
        integration, secret = integrations.create_integration(
            name,
            site,
            integrations.IntegrationSettings(
                events=events,
                target_url=url,
                scopes=integrations.SCOPES if scopes is None else scopes,
                allow_email=allow_email,
            ),
            allow_private=True,
            actor=SYSTEM,
        )
        return integration.public_id, secret


def signed_headers(secret: str, content: str, message_id: str | None = None) -> dict[str, str]:
    """Standard Webhooks headers over ``content``, made with the standardwebhooks package."""
    message_id = message_id or f"msg_{uuid.uuid4().hex}"
    moment = datetime.now(UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, moment, content),
    }


class Integrator:
    """An integrator holding its id and secret, calling in over HTTP."""

    def __init__(self, client: FlaskClient, public_id: str, secret: str) -> None:
        self.client, self.public_id, self.secret = client, public_id, secret

    def send(
        self, event_type: str, data: dict[str, Any], webhook_id: str | None = None
    ) -> TestResponse:
        """A signed inbound webhook."""
        raw = json.dumps({"type": event_type, "data": data})
        return self.client.post(
            f"/api/v1/hooks/{self.public_id}",
            data=raw.encode(),
            headers=signed_headers(self.secret, raw, webhook_id),
            content_type="application/json",
        )

    def read(self, path: str, secret: str | None = None) -> TestResponse:
        """A signed read: the signed content is ``GET <path and query>``."""
        target = f"/api/v1/integrations/{self.public_id}{path}"
        return self.client.get(
            target, headers=signed_headers(secret or self.secret, f"GET {target}")
        )


def deliver_all(app: Flask, rounds: int = 50, sender: Any = None, **settings: Any) -> None:
    """Run the outbound worker until nothing more is due (retries included)."""
    from moderation.extensions import db
    from moderation.models import DeliveryState, OutboxDelivery
    from moderation.services import webhooks

    options = {**FAST, **settings}
    with app.app_context():
        for _ in range(rounds):
            delivery_settings = webhooks.DeliverySettings(**options)
            made = (
                webhooks.deliver_due(delivery_settings)
                if sender is None
                else webhooks.deliver_due(delivery_settings, sender)
            )
            if made == 0:
                pending = db.session.execute(
                    select(OutboxDelivery.id).where(OutboxDelivery.state == DeliveryState.PENDING)
                ).first()
                if pending is None:
                    return
                time.sleep(0.05)


def audit_rows(app: Flask) -> list[tuple[str, str]]:
    """(action, reason) of every audit event, oldest first."""
    from moderation.extensions import db
    from moderation.models import AuditEvent

    with app.app_context():
        return [
            (row.action, row.reason)
            for row in db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()
        ]


def csrf_token(html: str) -> str:
    """The CSRF token of a dashboard page."""
    found = re.search(r'name="csrf-token" content="([^"]+)"', html) or re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', html
    )
    assert found, html
    return found.group(1)


class Dashboard:
    """A signed-in moderator's browser on the dashboard, over the test client."""

    def __init__(self, client: FlaskClient, username: str, password: str = PASSWORD) -> None:
        self.client = client
        page = client.get("/dashboard/sign-in").get_data(as_text=True)
        signed_in = client.post(
            "/dashboard/sign-in",
            data={"csrf_token": csrf_token(page), "username": username, "password": password},
        )
        assert signed_in.status_code == 303, signed_in.get_data(as_text=True)
        self.token = csrf_token(client.get("/dashboard/").get_data(as_text=True))

    def post(self, path: str, **data: Any) -> TestResponse:
        """A form post with the session's CSRF token."""
        data.setdefault("csrf_token", self.token)
        return self.client.post(path, data=data)

    def page(self, path: str) -> str:
        """A page's HTML (it must answer 200)."""
        response = self.client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return response.get_data(as_text=True)
