"""``GET /api/v1/integrations/<integration>/...``: the read API for integrators.

Signed like the inbound endpoint, with the Standard Webhooks headers and the integration's
secret, over the text ``GET <path>?<query>`` (exactly as sent; no ``?`` without a query)
in place of a body: the secret never travels, a signature is good for one URL for five
minutes, and an integrator reuses the signing code (and library) it already has. A read
changes nothing, so a repeated ``webhook-id`` is simply answered again.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, request

from moderation.api.hooks import count_unverified
from moderation.clock import utcnow
from moderation.domain.errors import N_, DomainError, InvalidInput, NotFound
from moderation.models import Integration
from moderation.services import integrations, reads
from moderation.services.refusals import RateLimited
from moderation.services.secret_box import SecretUnreadable
from moderation.web.errors import domain_problem, problem

log = logging.getLogger(__name__)

bp = Blueprint("reads", __name__, url_prefix="/api/v1/integrations/<integration_id>")

MAX_KEY = 255


class _Refused(Exception):
    """A ready answer that ends the request before the read (signature, limit, secret)."""

    def __init__(self, response: Response) -> None:
        super().__init__()
        self.response = response


@bp.errorhandler(_Refused)
def handle_refused(refused: _Refused) -> Response:
    """The answer the authentication prepared."""
    return refused.response


@bp.errorhandler(DomainError)
def handle_domain_error(error: DomainError) -> Response:
    """Unknown comment or thread, bad parameters, missing scope: problem+json."""
    return domain_problem(error)


def signed_content() -> bytes:
    """What the caller signed: the method and the request target as sent (behind a proxy
    that serves the app under a prefix, the prefix is part of it)."""
    query = request.query_string.decode("latin-1")
    return f"GET {request.script_root}{request.path}{'?' + query if query else ''}".encode()


def reader(integration_id: str) -> Integration:
    """The integration that signed this read, enabled, within its limit, with ``read``."""
    try:
        integration = integrations.get_integration(integration_id)
        headers = {name.lower(): value for name, value in request.headers.items()}
        integrations.verify_signature(integration, signed_content(), headers, utcnow())
    except (NotFound, integrations.SignatureRefused) as unverified:
        raise _Refused(count_unverified(unverified)) from None
    except SecretUnreadable as error:
        log.error("read for %s refused: %s", integration_id[:64], error)
        raise _Refused(
            problem(
                503,
                "This integration's signatures cannot be checked right now: the service "
                "cannot read its secret. The operator has been told in the service's log.",
            )
        ) from None
    integrations.require_enabled(integration)
    try:
        integrations.count_call(integration)
    except RateLimited as error:
        raise _Refused(domain_problem(error)) from None
    integrations.require_scope(integration, "read")
    return integration


@bp.get("/comments")
def list_comments(integration_id: str) -> Response:
    """The site's comments, oldest first, filtered by status, thread and change time."""
    integration = reader(integration_id)
    query = reads.parse_query(request.args.to_dict())
    page = reads.list_comments(integration, query)
    return jsonify({"comments": page.comments, "next_cursor": page.next_cursor})


@bp.get("/comments/<comment_id>")
def get_comment(integration_id: str, comment_id: str) -> Response:
    """One comment of the site."""
    integration = reader(integration_id)
    if not (comment_id.isascii() and comment_id.isdigit() and len(comment_id) <= 18):
        raise NotFound(N_("Comment %(id)s does not exist."), id=comment_id[:40])
    return jsonify(reads.get_comment(integration, int(comment_id)))


@bp.get("/thread")
def get_thread(integration_id: str) -> Response:
    """One thread of the site, by its key."""
    integration = reader(integration_id)
    key = request.args.get("key", "")
    if not key or len(key) > MAX_KEY or "\x00" in key:
        raise InvalidInput(
            N_("'key' must be a thread key of 1 to %(max)d characters."), max=MAX_KEY
        )
    return jsonify(reads.get_thread(integration, key))
