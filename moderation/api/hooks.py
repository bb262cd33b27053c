"""``POST /api/v1/hooks/<integration>``: the inbound Standard Webhooks endpoint."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from moderation.api.json_body import parse_json_object
from moderation.clock import utcnow
from moderation.domain.errors import N_, DomainError, InvalidInput
from moderation.extensions import csrf
from moderation.models import Integration
from moderation.services import hooks, integrations
from moderation.web.errors import Refusal, domain_problem, problem
from moderation.web.limits import limiter

bp = Blueprint("hooks", __name__, url_prefix="/api/v1/hooks")
csrf.exempt(bp)

EVENT_TYPES = ("comment.submit", "comment.moderate", "thread.upsert")
MAX_WEBHOOK_ID = 200


def _integration_key() -> str:
    return "integration:" + str((request.view_args or {}).get("integration_id", ""))[:64]


def _webhook_limit() -> str:
    return str(current_app.config["LIMIT_WEBHOOK_PER_INTEGRATION"])


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
@limiter.limit(_webhook_limit, key_func=_integration_key, scope="webhook-integration")
def receive(integration_id: str) -> Response:
    """Verify, de-duplicate by ``webhook-id``, then run the event through the services."""
    integration = integrations.get_integration(integration_id)
    body = request.get_data(cache=True)
    headers = {name.lower(): value for name, value in request.headers.items()}
    integrations.verify_signature(integration, body, headers, utcnow())
    webhook_id = request.headers["webhook-id"]
    if len(webhook_id) > MAX_WEBHOOK_ID:
        return problem(400, f"webhook-id is longer than {MAX_WEBHOOK_ID} characters.")
    earlier = hooks.find_answer(integration, webhook_id)
    if earlier is not None:
        return answer(earlier)
    try:
        return answer(dispatch(integration, webhook_id, body))
    except DomainError as error:
        refusal = Refusal.of(error)
        stored = hooks.remember_refusal(
            integration, webhook_id, hooks.Answer(refusal.status, refusal.body())
        )
        response = answer(stored)
        response.headers.update(refusal.headers)
        return response


def dispatch(integration: Integration, webhook_id: str, body: bytes) -> hooks.Answer:
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
        return hooks.submit(integration, webhook_id, data)
    if event_type == "comment.moderate":
        return hooks.moderate(integration, webhook_id, data)
    return hooks.upsert_thread(integration, webhook_id, data)
