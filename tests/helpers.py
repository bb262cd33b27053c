"""Test helpers: set up scenarios through the service layer, as the product does."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from moderation.models import Moderator, Site

if TYPE_CHECKING:
    from tests.webhook_receiver import Receiver

PASSWORD = "correct horse battery staple"


class Actions:
    """Shortcuts that go through the services (never straight to the tables)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def create_site(
        self, slug: str = "blog", origins: list[str] | None = None, **settings: Any
    ) -> Site:
        """A site embedded from ``origins`` (default http://127.0.0.1:5000)."""
        from moderation.services import sites

        with self.app.app_context():
            site = sites.create_site(
                slug,
                slug.title(),
                origins or ["http://127.0.0.1:5000"],
                settings.pop("policy", "premoderate"),
            )
            if settings:
                site = sites.update_site(slug, sites.SiteSettings(**settings))
            return site

    def create_moderator(
        self,
        username: str = "mod",
        role: str = "moderator",
        password: str = PASSWORD,
        sites: list[str] | None = None,
    ) -> Moderator:
        """A moderator account (limited to ``sites`` when given)."""
        from moderation.services import moderators

        with self.app.app_context():
            return moderators.create_moderator(username, password, role, sites)


def aged_token(app: Flask, site: str, thread: str, age_seconds: float = 10) -> str:
    """A form token issued ``age_seconds`` ago, as if a person had filled in the form."""
    from datetime import timedelta

    from moderation.clock import utcnow
    from moderation.services import form_tokens

    issued = utcnow() - timedelta(seconds=age_seconds)
    return form_tokens.issue(app.config["SECRET_KEY"], site, thread, issued)


def comment_fields(**overrides: str) -> dict[str, str]:
    """A valid comment form, with ``overrides``."""
    fields = {
        "comment": "A thoughtful comment.",
        "author": "Ann Example",
        "email": "ann@example.com",
        "url": "",
    }
    fields.update(overrides)
    return fields


def approve(app: Flask, comment_id: int) -> None:
    """Approve a comment through the service layer, as a moderator would."""
    from moderation.domain.status import ModerationAction
    from moderation.services.decisions import moderate
    from moderation.services.events import Actor

    with app.app_context():
        moderate(comment_id, ModerationAction.APPROVE, Actor("moderator", "1", "tester"))


def approve_all(app: Flask, comment_ids: list[int]) -> None:
    """Approve several comments as a moderator's bulk action does: the same decision per
    comment (status, audit, events, counters) in one transaction, about half the CPU of
    approving them one by one. Fails when any of them could not be approved."""
    from moderation.domain.status import ModerationAction
    from moderation.services.decisions import moderate_many
    from moderation.services.events import Actor

    with app.app_context():
        results, skipped = moderate_many(
            comment_ids, ModerationAction.APPROVE, Actor("moderator", "1", "tester")
        )
    assert skipped == {} and len(results) == len(comment_ids), skipped


def stored_comments(app: Flask) -> list[dict[str, Any]]:
    """Every stored comment as a dict (what the database holds, email included)."""
    from sqlalchemy import select

    from moderation.extensions import db
    from moderation.models import Comment

    with app.app_context():
        rows = db.session.execute(select(Comment).order_by(Comment.id)).scalars()
        return [
            {
                "id": row.id,
                "author": row.author,
                "email": row.email,
                "url": row.url,
                "text": row.text,
                "status": row.status.value,
                "rule": row.held_by_rule,
                "reason": row.held_reason,
                "ip": row.ip_truncated,
                "parent_id": row.parent_id,
                "source": row.source,
            }
            for row in rows
        ]


def seed_comments(
    app: Flask,
    count: int,
    site: str = "blog",
    thread: str = "post-1",
    since: datetime | None = None,
    **draft: Any,
) -> list[int]:
    """Store ``count`` comments through the submission pipeline (no HTTP), return their ids:
    a second apart from ``since`` (default: an hour ago)."""
    from datetime import timedelta

    from moderation.clock import utcnow
    from moderation.domain.comments import CommentDraft
    from moderation.services.submissions import SubmissionContext, submit_comment

    ids = []
    base = since or utcnow() - timedelta(hours=1)
    with app.app_context():
        for number in range(count):
            fields = {
                "text": f"Seeded comment {number}",
                "author": f"Author {number}",
                "email": f"author{number}@example.com",
                **draft,
            }
            result = submit_comment(
                CommentDraft(**fields),
                SubmissionContext(
                    site_slug=site,
                    thread_key=thread,
                    client_ip=f"10.{number // 250}.{number % 250}.1",
                    now=base + timedelta(seconds=number),
                    source="test",
                ),
            )
            ids.append(result.comment.id)
    return ids


def csrf_token(client: FlaskClient, path: str = "/dashboard/sign-in") -> str:
    """The CSRF token a dashboard page carries (its meta tag or a form's hidden field)."""
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf-token" content="([^"]+)"', page) or re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', page
    )
    assert found, page[:2000]
    return found.group(1)


#: Where a signed-in session reads its new CSRF token (sign-in starts a fresh session): the
#: moderator's own account page, which every role may open and which reads nothing but the
#: account (4-5 ms of CPU; the queue, which tests open themselves when they look at it,
#: costs 20-25 ms). Every dashboard page carries the same session's token.
SIGNED_IN_TOKEN_PAGE = "/dashboard/me"


class Dashboard:
    """A moderator's browser over the test client: signs in, then posts with its CSRF token."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token = ""

    def sign_in(
        self, username: str, password: str = PASSWORD, path: str = "/dashboard/sign-in"
    ) -> TestResponse:
        data = {"csrf_token": csrf_token(self.client), "username": username, "password": password}
        response = self.client.post(path, data=data)
        if response.status_code == 303:
            self.token = csrf_token(self.client, SIGNED_IN_TOKEN_PAGE)
        return response

    def post(self, path: str, **data: Any) -> TestResponse:
        data.setdefault("csrf_token", self.token)
        return self.client.post(path, data=data)

    def moderate(self, comment_id: int, action: str, **extra: Any) -> TestResponse:
        return self.post(f"/dashboard/comments/{comment_id}/moderate", action=action, **extra)

    def page(self, path: str) -> str:
        response = self.client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return response.get_data(as_text=True)


def signed_in(
    app: Flask, actions: Actions, username: str = "mod", role: str = "admin"
) -> Dashboard:
    """A new account ``username`` with ``role``, signed in to the dashboard in its own browser."""
    actions.create_moderator(username, role)
    dashboard = Dashboard(app.test_client())
    response = dashboard.sign_in(username)
    assert response.status_code == 303, response.get_data(as_text=True)
    return dashboard


def dashboard_for(client: FlaskClient, username: str, password: str = PASSWORD) -> Dashboard:
    """``client`` signed in to the dashboard as an existing account ``username``."""
    dashboard = Dashboard(client)
    response = dashboard.sign_in(username, password)
    assert response.status_code == 303, response.get_data(as_text=True)
    return dashboard


class Integrator:
    """An integrator holding its id and secret, signing like the standardwebhooks package."""

    def __init__(self, client: FlaskClient, public_id: str, secret: str) -> None:
        self.client, self.public_id, self.secret = client, public_id, secret

    def send(
        self,
        event_type: str,
        data: dict[str, Any],
        webhook_id: str | None = None,
        *,
        secret: str | None = None,
        timestamp: datetime | None = None,
        body: bytes | None = None,
        tamper: bool = False,
        headers: dict[str, str] | None = None,
        environ_base: dict[str, str] | None = None,
    ) -> TestResponse:
        """A signed inbound webhook (``tamper`` changes the body after signing)."""
        raw = body if body is not None else json.dumps({"type": event_type, "data": data}).encode()
        signed = signed_headers(
            secret or self.secret, raw.decode(errors="replace"), webhook_id, timestamp
        )
        signed.update(headers or {})
        if tamper:
            raw = raw.replace(b"Hello", b"Jello")
        return self.client.post(
            f"/api/v1/hooks/{self.public_id}",
            data=raw,
            headers=signed,
            content_type="application/json",
            environ_base=environ_base or {},
        )

    def read(self, path: str, secret: str | None = None) -> TestResponse:
        """A signed read: the signed content is ``GET <path and query>``."""
        target = f"/api/v1/integrations/{self.public_id}{path}"
        return self.client.get(
            target, headers=signed_headers(secret or self.secret, f"GET {target}")
        )

    def submit(self, **data: Any) -> TestResponse:
        fields = {
            "site": "blog",
            "thread": "post-1",
            "author": "App User",
            "email": "app@example.com",
            "comment": "Hello from the app",
            "client_ip": "203.0.113.9",
            **data,
        }
        return self.send("comment.submit", fields)


def signed_headers(
    secret: str, content: str, message_id: str | None = None, moment: datetime | None = None
) -> dict[str, str]:
    """Standard Webhooks headers over ``content``, made with the standardwebhooks package."""
    from standardwebhooks import Webhook

    message_id = message_id or f"msg_{uuid.uuid4().hex}"
    moment = moment or datetime.now(UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, moment, content),
    }


def create_integration(
    app: Flask,
    site: str = "blog",
    url: str = "",
    events: tuple[str, ...] = (),
    scopes: tuple[str, ...] | None = None,
    allow_email: bool = False,
    name: str = "CMS",
) -> tuple[str, str]:
    """An integration of ``site`` made through the services; returns its public id and secret."""
    from moderation.services import integrations
    from moderation.services.events import SYSTEM

    settings = integrations.IntegrationSettings(
        events=events,
        target_url=url,
        scopes=integrations.SCOPES if scopes is None else scopes,
        allow_email=allow_email,
    )
    with app.app_context():
        integration, secret = integrations.create_integration(
            name, site, settings, allow_private=True, actor=SYSTEM
        )
        return integration.public_id, secret


def make_integration(
    app: Flask,
    name: str = "CMS",
    receiver: Receiver | None = None,
    *,
    site: str = "blog",
    scopes: tuple[str, ...] | None = None,
    allow_email: bool = False,
) -> tuple[str, str]:
    """An integration of ``site``: inbound only (no receiver) or subscribed to every event
    at ``receiver`` (which learns the secret). Returns its public id and secret."""
    from moderation.services.events import EVENT_TYPES

    public_id, secret = create_integration(
        app,
        site,
        url=receiver.url if receiver else "",
        events=EVENT_TYPES if receiver else (),
        scopes=scopes,
        allow_email=allow_email,
        name=name,
    )
    if receiver is not None:
        receiver.secret = secret
    return public_id, secret


#: The outbound worker's settings for tests: quick retries, loopback targets allowed.
FAST_DELIVERY = {
    "backoff_base": 0.01,
    "timeout": 5.0,
    "lease_seconds": 30.0,
    "allow_private_targets": True,
}


def deliver_all(app: Flask, rounds: int = 50, sender: Any = None, **settings: Any) -> None:
    """Run the outbound worker until nothing more is due (retries included)."""
    from sqlalchemy import select

    from moderation.extensions import db
    from moderation.models import DeliveryState, OutboxDelivery
    from moderation.services import webhooks

    options = {**FAST_DELIVERY, **settings}
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
    from sqlalchemy import select

    from moderation.extensions import db
    from moderation.models import AuditEvent

    with app.app_context():
        return [
            (row.action, row.reason)
            for row in db.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()
        ]


def assert_problem(response: TestResponse, status: int, fragment: str) -> dict[str, Any]:
    """An RFC 9457 problem answer with ``status`` whose detail says ``fragment``."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status, body
    assert fragment in body["detail"], body
    return body  # type: ignore[no-any-return]


#: The older name some tests use.
page_csrf_token = csrf_token


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD) -> str:
    """Sign ``client`` in to the dashboard; returns the session's CSRF token."""
    token = csrf_token(client)
    response = client.post(
        "/dashboard/sign-in",
        data={"csrf_token": token, "username": username, "password": password},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return csrf_token(client, SIGNED_IN_TOKEN_PAGE)


def metric_samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus scrape, by name and sorted labels."""
    from prometheus_client.parser import text_string_to_metric_families

    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def metric_value(found: dict[Any, float], name: str, **labels: str) -> float:
    """One sample of :func:`metric_samples` (0 when absent)."""
    return found.get((name, tuple(sorted(labels.items()))), 0.0)
