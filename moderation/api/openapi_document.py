"""The OpenAPI 3.1 document of every JSON endpoint and the webhook payloads, served by
:mod:`moderation.api.openapi`."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from moderation.api.openapi_schemas import (
    COMMON_ERRORS,
    INTEGRATION,
    JSON,
    LANG,
    NO_NUL,
    ORIGIN,
    PROBLEM,
    READ_ERRORS,
    READ_SECURITY,
    RETRY_AFTER,
    SCHEMAS,
    SECURITY_SCHEMES,
    SIGNATURE_HEADERS,
    SITE,
    THREAD,
    ok,
    problem,
    ref,
)
from moderation.services.events import EVENT_TYPES as OUTBOUND_TYPES


def read_operation(
    summary: str, parameters: list[dict[str, Any]], answer: dict[str, Any]
) -> dict[str, Any]:
    """A signed GET of the read API."""
    return {
        "get": {
            "summary": summary,
            "security": READ_SECURITY,
            "parameters": [INTEGRATION, *parameters, *SIGNATURE_HEADERS],
            "responses": {"200": answer, **READ_ERRORS},
        }
    }


def read_paths() -> dict[str, Any]:
    """The read API for integrators."""
    base = "/api/v1/integrations/{integration}"
    return {
        f"{base}/comments": read_operation(
            "The site's comments, oldest first, a page at a time (keyset)",
            [
                {
                    "name": "status",
                    "in": "query",
                    "schema": {
                        "type": "string",
                        "enum": ["pending", "approved", "rejected", "spam", "deleted"],
                    },
                    "description": "Only comments in this status (pending: the queue).",
                },
                {
                    "name": "thread",
                    "in": "query",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                    "description": "Only comments of this thread.",
                },
                {
                    "name": "since",
                    "in": "query",
                    "schema": {"type": "string", "format": "date-time"},
                    "description": "Only comments created or changed at or after this time.",
                },
                {
                    "name": "cursor",
                    "in": "query",
                    "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
                    "description": "The next_cursor of the previous page.",
                },
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
                },
            ],
            ok("A page of comments.", "ReadCommentPage"),
        ),
        f"{base}/comments/{{comment}}": read_operation(
            "One comment of the site",
            [{"name": "comment", "in": "path", "required": True, "schema": {"type": "integer"}}],
            ok("The comment.", "ReadComment"),
        ),
        f"{base}/thread": read_operation(
            "One thread of the site, by key",
            [
                {
                    "name": "key",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                }
            ],
            ok("The thread, with its comments counted by status.", "ReadThread"),
        ),
    }


def outbound_webhook(event_type: str) -> dict[str, Any]:
    return {
        "post": {
            "summary": f"{event_type}, sent to the integration's URL",
            "description": "Signed with the Standard Webhooks scheme (webhook-id is the event's idempotency key); "
            "answer 2xx to acknowledge, anything else is retried with backoff.",
            "requestBody": {"content": {JSON: {"schema": ref("OutboundEvent")}}},
            "responses": {"200": {"description": "Acknowledged."}},
        }
    }


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    comments_path = "/api/v1/sites/{site}/comments"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Comment moderation service",
            "version": "1",
            "description": "Public API for websites, the signed inbound webhook for integrators, "
            "and the outbound event webhooks.",
        },
        "paths": {
            comments_path: {
                "get": {
                    "summary": "Approved comments of a thread (public fields only)",
                    "parameters": [
                        SITE,
                        THREAD,
                        LANG,
                        {
                            "name": "page",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1},
                        },
                        {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}},
                    ],
                    "responses": {
                        "200": ok(
                            "The page of comments.",
                            "CommentList",
                            {"ETag": {"schema": {"type": "string"}}},
                        ),
                        "304": {"description": "Unchanged since the ETag given."},
                        **COMMON_ERRORS,
                    },
                },
                "post": {
                    "summary": "Submit a comment (JSON; CORS for the site's origins only)",
                    "parameters": [SITE, THREAD, LANG, ORIGIN],
                    "requestBody": {
                        "required": True,
                        "content": {JSON: {"schema": ref("CommentSubmission")}},
                    },
                    "responses": {
                        "201": ok(
                            "Published at once (open policy or trusted author).", "SubmissionAnswer"
                        ),
                        "202": ok("Accepted, awaiting moderation.", "SubmissionAnswer"),
                        "403": problem("Origin not allowed, or the form token was refused."),
                        "409": problem("Refused as a duplicate."),
                        "415": problem("Not sent as application/json."),
                        "422": problem("Invalid fields (a message per field in errors)."),
                        "428": {
                            "description": "The site asks this (suspicious) submission to solve "
                            "a proof-of-work challenge first: solve `challenge` (ALTCHA PoW v2) "
                            "and send the same submission again with the solution in `altcha`.",
                            "content": {PROBLEM: {"schema": ref("ChallengeProblem")}},
                        },
                        **COMMON_ERRORS,
                    },
                },
                "options": {
                    "summary": "CORS preflight",
                    "parameters": [SITE, ORIGIN],
                    "responses": {
                        "204": {"description": "Allowed."},
                        "403": problem("Origin not allowed."),
                        **COMMON_ERRORS,
                    },
                },
            },
            "/api/v1/sites/{site}/counts": {
                "get": {
                    "summary": "Approved-comment counts for several threads",
                    "parameters": [
                        SITE,
                        LANG,
                        {
                            "name": "thread",
                            "in": "query",
                            "required": True,
                            "style": "form",
                            "explode": True,
                            "schema": {
                                "type": "array",
                                "maxItems": 100,
                                "items": {"type": "string", "maxLength": 255, "pattern": NO_NUL},
                            },
                        },
                        {
                            "name": "labels",
                            "in": "query",
                            "required": False,
                            "description": "Also answer each count as a translated label.",
                            "schema": {"type": "string", "enum": ["1"]},
                        },
                    ],
                    "responses": {"200": ok("Counts by thread key.", "Counts"), **COMMON_ERRORS},
                },
            },
            "/api/v1/sites/{site}/form-token": {
                "get": {
                    "summary": "A single-use form token for a custom comment form",
                    "parameters": [SITE, THREAD, LANG],
                    "responses": {"200": ok("A fresh token.", "FormToken"), **COMMON_ERRORS},
                },
            },
            "/api/v1/hooks/{integration}": {
                "post": {
                    "summary": "Inbound Standard Webhooks endpoint for integrators",
                    "description": "Replaying a webhook-id answers exactly as the first time and changes nothing.",
                    "parameters": [
                        {
                            "name": "integration",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "maxLength": 64, "pattern": NO_NUL},
                        },
                        *SIGNATURE_HEADERS,
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {JSON: {"schema": ref("InboundEvent")}},
                    },
                    "responses": {
                        "200": ok("Done.", "InboundAnswer"),
                        "201": ok("Created.", "InboundAnswer"),
                        "202": ok("Comment accepted (see status).", "InboundAnswer"),
                        "401": problem("Missing or invalid signature."),
                        "403": problem(
                            "Missing scope, another site, or the integration is disabled."
                        ),
                        "409": problem(
                            "Invalid status transition, a duplicate comment, or a webhook-id "
                            "already used with another body."
                        ),
                        "422": problem("Invalid fields."),
                        **COMMON_ERRORS,
                        "404": problem("Unknown integration or comment."),
                        "429": problem(
                            "Too many requests: the integration's limit (verified requests), "
                            "a submission limit, or too many requests that do not verify "
                            "from this address.",
                            RETRY_AFTER,
                        ),
                        "503": problem(
                            "The database is briefly unavailable, or the service cannot read "
                            "the integration's secret (its SECRET_KEY changed).",
                            RETRY_AFTER,
                        ),
                    },
                },
            },
            **read_paths(),
            "/healthz": {
                "get": {
                    "summary": "Liveness and database reachability",
                    "responses": {
                        "200": ok("Healthy.", "Health"),
                        "503": ok("Database unreachable.", "Health"),
                    },
                },
            },
        },
        "webhooks": {event: outbound_webhook(event) for event in OUTBOUND_TYPES},
        "components": {"schemas": SCHEMAS, "securitySchemes": SECURITY_SCHEMES},
    }
