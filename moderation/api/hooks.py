"""``POST /api/v1/hooks/<integration>``: the inbound Standard Webhooks endpoint."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from moderation.api.json_body import parse_json_object
from moderation.clock import utcnow
from moderation.domain.errors import N_, DomainError, InvalidInput, NotFound
from moderation.extensions import csrf
from moderation.models import Integration
from moderation.ratelimit import gate
from moderation.services import hooks, integrations
from moderation.services.refusals import RateLimited
from moderation.services.secret_box import SecretUnreadable
from moderation.web.errors import Refusal, domain_problem, problem
from moderation.web.limits import client_key

log = logging.getLogger(__name__)

bp = Blueprint("hooks", __name__, url_prefix="/api/v1/hooks")
csrf.exempt(bp)

EVENT_TYPES = ("comment.submit", "comment.moderate", "thread.upsert")
MAX_WEBHOOK_ID = 200


@bp.errorhandler(DomainError)
def handle_domain_error(error: DomainError) -> Response:
    """Refusals before a webhook-id is known (unknown integration, bad signature)."""
    return domain_problem(error)


def answer(result: hooks.Answer) -> Response:
    """The JSON answer; a replay says so in a header."""
    response = jsonify(result.body)
    response.status_code = result.status
    if result.status >= 400:
        response.mimetype = "application/problem+json"
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.post("/<integration_id>")
def receive(integration_id: str) -> Response:
    """Verify, de-duplicate by ``webhook-id``, then run the event through the services.

    Only a verified request counts against the integration's limit: counting before the
    signature let anyone who knew the id spend it and lock the integrator out. Requests
    that do not verify count against the sender's address, on their own limit.
    """
    try:
        integration = integrations.get_integration(integration_id)
        body = request.get_data(cache=True)
        headers = {name.lower(): value for name, value in request.headers.items()}
        integrations.verify_signature(integration, body, headers, utcnow())
    except (NotFound, integrations.SignatureRefused) as unverified:
        return _unverified(unverified)
    except SecretUnreadable as error:
        log.error("inbound webhook for %s refused: %s", integration_id[:64], error)
        return problem(
            503,
            "This integration's signatures cannot be checked right now: the service cannot "
            "read its secret. The operator has been told in the service's log.",
        )
    integrations.require_enabled(integration)
    try:
        integrations.count_call(integration)
    except RateLimited as error:
        return domain_problem(error)
    webhook_id = request.headers["webhook-id"]
    if len(webhook_id) > MAX_WEBHOOK_ID:
        return problem(400, f"webhook-id is longer than {MAX_WEBHOOK_ID} characters.")
    body_sha256 = hooks.body_hash(body)
    earlier = hooks.find_answer(integration, webhook_id, body_sha256)
    if earlier is not None:
        return answer(earlier)
    try:
        return answer(dispatch(integration, webhook_id, body, body_sha256))
    except DomainError as error:
        refusal = Refusal.of(error)
        stored = hooks.remember_refusal(
            integration, webhook_id, hooks.Answer(refusal.status, refusal.body()), body_sha256
        )
        response = answer(stored)
        response.headers.update(refusal.headers)
        return response


def _unverified(refusal: DomainError) -> Response:
    """A request that is not the integration's: counted against the sender's address."""
    breach = gate().hit(
        [
            (
                "webhook-failures",
                str(current_app.config["LIMIT_WEBHOOK_FAILURES_PER_ADDRESS"]),
                (client_key(),),
            )
        ]
    )
    if breach is None:
        return domain_problem(refusal)
    return problem(
        429,
        f"Too many requests that do not verify from this address. Please try again in "
        f"{breach.retry_after} seconds.",
        headers={"Retry-After": str(breach.retry_after)},
    )


#: The refusal of a request that does not verify, counted against the sender's address (the
#: read API answers the same way).
count_unverified = _unverified


def dispatch(
    integration: Integration, webhook_id: str, body: bytes, body_sha256: str | None = None
) -> hooks.Answer:
    """Route the event by its ``type``."""
    payload = parse_json_object(body)
    event_type = payload.get("type")
    data: Any = payload.get("data")
    if event_type not in EVENT_TYPES:
        raise InvalidInput(
            N_("Unknown event type %(type)r: send one of %(types)s."),
            type=str(event_type)[:50],
            types=", ".join(EVENT_TYPES),
        )
    if not isinstance(data, dict):
        raise InvalidInput(N_("The event needs a 'data' object."))
    if event_type == "comment.submit":
        return hooks.submit(integration, webhook_id, data, body_sha256)
    if event_type == "comment.moderate":
        return hooks.moderate(integration, webhook_id, data, body_sha256)
    return hooks.upsert_thread(integration, webhook_id, data, body_sha256)
