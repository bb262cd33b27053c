"""Rotating an integration's secret without downtime, outbound too: during the grace period
every event carries a signature made with each secret, so a receiver still holding the old
one and a receiver already holding the new one both verify it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from tests.helpers import Actions, create_integration, deliver_all, seed_comments
from tests.webhook_receiver import Receiver


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"WEBHOOK_ALLOW_PRIVATE_TARGETS": True}


@pytest.fixture
def receivers() -> Iterator[tuple[Receiver, Receiver]]:
    old, new = Receiver(secret="").start(), Receiver(secret="").start()
    yield old, new
    old.stop()
    new.stop()


def fan_out(receivers: tuple[Receiver, ...]) -> Any:
    """A sender that POSTs the very request the worker signed to every receiver (over real
    HTTP, through the worker's own ``send``), answering with the last one's result."""
    from moderation.services import webhooks

    def send(url: str, headers: dict[str, str], body: bytes, settings: Any) -> Any:
        results = [webhooks.send(each.url, headers, body, settings) for each in receivers]
        return results[-1]

    return send


def rotate(app: Flask, public_id: str, grace: timedelta) -> str:
    from moderation.services import integrations
    from moderation.services.events import SYSTEM

    with app.app_context():
        return integrations.rotate_secret(public_id, grace, SYSTEM)


def test_during_the_grace_period_receivers_with_either_secret_verify_every_event(
    app: Flask, actions: Actions, receivers: tuple[Receiver, Receiver]
) -> None:
    old, new = receivers
    actions.create_site("blog", ["https://blog.example"])
    public_id, first_secret = create_integration(app, url=old.url, events=("comment.created",))
    old.secret = first_secret
    new.secret = rotate(app, public_id, timedelta(hours=24))
    seed_comments(app, 2)
    deliver_all(app, sender=fan_out(receivers))
    for receiver in receivers:
        assert receiver.refused_signatures == 0
        assert len(receiver.accepted) == 2
    assert old.accepted_ids() == new.accepted_ids()


def test_after_the_grace_period_only_the_new_secret_signs(
    app: Flask, actions: Actions, receivers: tuple[Receiver, Receiver]
) -> None:
    old, new = receivers
    actions.create_site("blog", ["https://blog.example"])
    public_id, old.secret = create_integration(app, url=old.url, events=("comment.created",))
    new.secret = rotate(app, public_id, timedelta(0))
    seed_comments(app, 1)
    deliver_all(app, sender=fan_out(receivers), max_attempts=1)
    assert (old.refused_signatures, len(old.accepted)) == (1, 0)
    assert (new.refused_signatures, len(new.accepted)) == (0, 1)


def test_one_signature_when_no_rotation_is_under_way(
    app: Flask, actions: Actions, receivers: tuple[Receiver, Receiver]
) -> None:
    from moderation.clock import utcnow
    from moderation.extensions import db
    from moderation.models import OutboxDelivery
    from moderation.services import integrations

    old, _ = receivers
    actions.create_site("blog", ["https://blog.example"])
    public_id, old.secret = create_integration(app, url=old.url, events=("comment.created",))
    seed_comments(app, 1)
    with app.app_context():
        integration = integrations.get_integration(public_id)
        delivery = db.session.query(OutboxDelivery).one()
        headers = integrations.sign(
            integrations.signing_secrets(integration, utcnow()), delivery.message_id, utcnow(), "{}"
        )
    assert headers["webhook-signature"].count("v1,") == 1
    new_secret = rotate(app, public_id, timedelta(hours=1))
    with app.app_context():
        integration = integrations.get_integration(public_id)
        both = integrations.signing_secrets(integration, utcnow())
    assert both[0] == new_secret and len(both) == 2
