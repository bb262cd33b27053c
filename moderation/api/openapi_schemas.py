"""The building blocks of the OpenAPI document: shared parameters, error answers, the
component schemas and the security schemes (``openapi.py`` puts them together into paths)."""

from __future__ import annotations

from typing import Any

from moderation.api.hooks import EVENT_TYPES as INBOUND_TYPES
from moderation.domain.comments import MAX_AUTHOR, MAX_COMMENT, MAX_EMAIL, MAX_URL
from moderation.domain.languages import LANGUAGE_CODES
from moderation.services.events import EVENT_TYPES as OUTBOUND_TYPES

JSON = "application/json"
PROBLEM = "application/problem+json"


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def problem(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM: {"schema": ref("Problem")}},
    }
    if headers:
        answer["headers"] = headers
    return answer


def ok(description: str, schema: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {JSON: {"schema": ref(schema)}},
    }
    if headers:
        answer["headers"] = headers
    return answer


#: No parameter may hold a NUL character (the service refuses them with a 400).
NO_NUL = "^[^\\u0000]*$"
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "string"}}}
SITE = {
    "name": "site",
    "in": "path",
    "required": True,
    "description": "The site's slug.",
    "schema": {"type": "string", "maxLength": 64, "pattern": "^[a-z0-9-]+$"},
}
THREAD = {
    "name": "thread",
    "in": "query",
    "required": True,
    "description": "The page's thread key.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": NO_NUL},
}
LANG = {
    "name": "lang",
    "in": "query",
    "required": False,
    "description": "Language of messages (else the Accept-Language header's, else English).",
    "schema": {"type": "string", "enum": list(LANGUAGE_CODES)},
}
ORIGIN = {
    "name": "Origin",
    "in": "header",
    "required": False,
    "description": "The calling page's origin; must be one of the site's origins to post.",
    "schema": {"type": "string"},
}
COMMON_ERRORS = {
    "400": problem("Malformed request."),
    "404": problem("Unknown site."),
    "413": problem("The body is too large."),
    "429": problem("Too many requests.", RETRY_AFTER),
    "503": problem("The database is briefly unavailable.", RETRY_AFTER),
}

SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "A message per invalid field.",
            },
            "rule": {"type": "string", "description": "The spam rule that refused the comment."},
        },
    },
    "PublicComment": {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "id",
            "parent",
            "author",
            "url",
            "avatar",
            "html",
            "created_at",
            "depth",
            "by_moderator",
        ],
        "properties": {
            "id": {"type": "integer"},
            "parent": {"type": ["integer", "null"]},
            "author": {"type": "string"},
            "url": {"type": ["string", "null"]},
            "avatar": {
                "type": "string",
                "description": "Keyed hash for an identicon (never an email hash).",
            },
            "html": {"type": "string", "description": "Sanitised HTML of the comment."},
            "created_at": {"type": "string", "format": "date-time"},
            "depth": {"type": "integer", "minimum": 1},
            "by_moderator": {"type": "boolean"},
        },
    },
    "CommentList": {
        "type": "object",
        "required": ["site", "thread", "open", "count", "page", "pages", "comments"],
        "properties": {
            "site": {"type": "string"},
            "thread": {"type": "string"},
            "open": {"type": "boolean"},
            "count": {"type": "integer"},
            "page": {"type": "integer"},
            "pages": {"type": "integer"},
            "comments": {"type": "array", "items": ref("PublicComment")},
        },
    },
    "Counts": {
        "type": "object",
        "required": ["counts"],
        "properties": {
            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
            "labels": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": 'With ?labels=1: "3 Comments" per thread, in the language asked for.',
            },
        },
    },
    "FormToken": {
        "type": "object",
        "required": ["form_token", "min_age", "expires_in"],
        "properties": {
            "form_token": {"type": "string"},
            "min_age": {"type": "number"},
            "expires_in": {"type": "number"},
        },
    },
    "CommentFields": {
        "type": "object",
        "required": ["comment", "author", "email"],
        "properties": {
            "comment": {"type": "string", "maxLength": MAX_COMMENT},
            "author": {"type": "string", "maxLength": MAX_AUTHOR},
            "email": {"type": "string", "maxLength": MAX_EMAIL, "description": "Never published."},
            "url": {"type": "string", "maxLength": MAX_URL},
            "comment_parent": {
                "type": ["integer", "string"],
                "description": "Id of the comment answered; 0 for none.",
            },
            "notify": {
                "type": "boolean",
                "default": False,
                "description": "Notify me of follow-up comments by email: the address gets one "
                "confirmation email, then (once confirmed) approval and reply notices.",
            },
        },
    },
    "ChallengeProblem": {
        "allOf": [
            ref("Problem"),
            {
                "type": "object",
                "required": ["challenge", "challenge_reasons", "challenge_field"],
                "properties": {
                    "challenge": {
                        "type": "object",
                        "description": "An ALTCHA PoW v2 challenge (PBKDF2/SHA-256): find the "
                        "counter whose derived key starts with parameters.keyPrefix.",
                        "required": ["parameters", "signature"],
                        "properties": {
                            "parameters": {"type": "object"},
                            "signature": {"type": "string"},
                        },
                    },
                    "challenge_reasons": {
                        "type": "array",
                        "items": {
                            "type": "string",
                            "enum": ["soft_limit", "grey_zone", "first_comment_links"],
                        },
                    },
                    "challenge_field": {"type": "string", "const": "altcha"},
                },
            },
        ],
    },
    "CommentSubmission": {
        "allOf": [
            ref("CommentFields"),
            {
                "type": "object",
                "required": ["form_token"],
                "properties": {
                    "form_token": {
                        "type": "string",
                        "description": "From the form-token endpoint.",
                    },
                    "altcha": {
                        "type": "string",
                        "description": "The solution of the ALTCHA challenge a 428 answer "
                        "carried (base64 JSON of the challenge and its solution), sent with "
                        "the same fields and form token.",
                    },
                },
            },
        ],
    },
    "SubmissionAnswer": {
        "type": "object",
        "required": ["id", "status", "thread", "author", "html", "created_at", "message"],
        "properties": {
            "id": {"type": "integer"},
            "status": {"type": "string", "enum": ["pending", "approved"]},
            "thread": {"type": "string"},
            "parent": {"type": ["integer", "null"]},
            "author": {"type": "string"},
            "url": {"type": ["string", "null"]},
            "html": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "message": {"type": "string"},
        },
    },
    "Health": {
        "type": "object",
        "required": ["status", "database"],
        "properties": {"status": {"type": "string"}, "database": {"type": "string"}},
    },
    "InboundEvent": {
        "type": "object",
        "required": ["type", "data"],
        "properties": {
            "type": {"type": "string", "enum": list(INBOUND_TYPES)},
            "data": {"oneOf": [ref("SubmitData"), ref("ModerateData"), ref("ThreadData")]},
        },
    },
    "SubmitData": {
        "type": "object",
        "description": "comment.submit: through the same pipeline, rules and limits as the form.",
        "required": ["site", "thread", "author", "email", "comment"],
        "properties": {
            "site": {"type": "string"},
            "thread": {"type": "string", "maxLength": 255},
            "author": {"type": "string"},
            "email": {"type": "string"},
            "url": {"type": "string"},
            "comment": {"type": "string"},
            "parent": {"type": ["integer", "null"]},
            "client_ip": {
                "type": "string",
                "description": "The commenter's address, for the limits.",
            },
        },
    },
    "ModerateData": {
        "type": "object",
        "description": "comment.moderate: the dashboard's status machine; the integration is the actor.",
        "required": ["comment", "action"],
        "properties": {
            "comment": {"type": "integer"},
            "action": {
                "type": "string",
                "enum": ["approve", "reject", "spam", "delete", "restore"],
            },
            "reason": {"type": "string", "maxLength": 500},
        },
    },
    "ThreadData": {
        "type": "object",
        "description": "thread.upsert: a closed thread takes no new comments.",
        "required": ["site", "thread"],
        "properties": {
            "site": {"type": "string"},
            "thread": {"type": "string"},
            "title": {"type": "string"},
            "url": {"type": "string"},
            "open": {"type": "boolean"},
        },
    },
    "InboundAnswer": {
        "type": "object",
        "description": "comment.submit: id and status; comment.moderate: id, from and status; "
        "thread.upsert: thread, open and created.",
        "properties": {
            "id": {"type": "integer"},
            "status": {"type": "string"},
            "from": {"type": "string"},
            "thread": {"type": "string"},
            "open": {"type": "boolean"},
            "created": {"type": "boolean"},
        },
    },
    "OutboundEvent": {
        "type": "object",
        "required": ["type", "timestamp", "data"],
        "properties": {
            "type": {"type": "string", "enum": list(OUTBOUND_TYPES)},
            "timestamp": {"type": "string", "format": "date-time"},
            "schema_version": {
                "type": "integer",
                "description": "The payload's version (2: data gained decision, thread_title "
                "and thread_url; every earlier field is kept).",
            },
            "data": {"oneOf": [ref("CommentEventData"), ref("PersonErasedData")]},
        },
    },
    "PersonErasedData": {
        "type": "object",
        "description": "person.erased: a person's comments on the site were anonymised or deleted.",
        "required": ["site", "subject", "mode", "comments"],
        "properties": {
            "site": {"type": "string"},
            "subject": {
                "type": "string",
                "description": "A keyed hash (HMAC-SHA256) of the address, never the address.",
            },
            "mode": {"type": "string", "enum": ["anonymise", "delete"]},
            "comments": {"type": "array", "items": {"type": "integer"}},
        },
    },
    "CommentEventData": {
        "type": "object",
        "required": ["id", "site", "thread", "author", "text", "html", "status", "created_at"],
        "properties": {
            "id": {"type": "integer"},
            "site": {"type": "string"},
            "thread": {"type": "string"},
            "parent": {"type": ["integer", "null"]},
            "author": {"type": "string"},
            "url": {"type": ["string", "null"]},
            "text": {"type": "string"},
            "html": {"type": "string"},
            "status": {
                "type": "string",
                "enum": ["pending", "approved", "rejected", "spam", "deleted"],
            },
            "created_at": {"type": "string", "format": "date-time"},
            "held_by_rule": {
                "type": ["string", "null"],
                "description": "The rule that placed the comment when it arrived.",
            },
            "reason": {
                "type": ["string", "null"],
                "description": "Why it was placed so when it arrived (the original hold).",
            },
            "email": {
                "type": "string",
                "description": "Only for integrations allowed to see emails.",
            },
            "decision": ref("Decision"),
            "thread_title": {"type": ["string", "null"]},
            "thread_url": {"type": ["string", "null"]},
        },
    },
    "ReadComment": {
        "description": "A comment as the read API returns it: the fields of an event's data "
        "(no decision: that belongs to an event), email only for integrations allowed it.",
        "allOf": [
            ref("CommentEventData"),
            {
                "type": "object",
                "required": ["updated_at"],
                "properties": {"updated_at": {"type": "string", "format": "date-time"}},
            },
        ],
    },
    "ReadCommentPage": {
        "type": "object",
        "required": ["comments", "next_cursor"],
        "properties": {
            "comments": {"type": "array", "items": ref("ReadComment")},
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Pass as cursor for the next page; null on the last page.",
            },
        },
    },
    "ReadThread": {
        "type": "object",
        "required": ["site", "key", "title", "url", "open", "created_at", "counts"],
        "properties": {
            "site": {"type": "string"},
            "key": {"type": "string"},
            "title": {"type": ["string", "null"]},
            "url": {"type": ["string", "null"]},
            "open": {"type": "boolean"},
            "created_at": {"type": "string", "format": "date-time"},
            "counts": {
                "type": "object",
                "description": "Comments of the thread per status.",
                "additionalProperties": {"type": "integer"},
            },
        },
    },
    "Decision": {
        "type": "object",
        "description": "Who made the transition this event reports, under which rule and why.",
        "required": ["actor", "rule", "reason"],
        "properties": {
            "actor": {
                "type": "object",
                "required": ["kind", "name"],
                "properties": {
                    "kind": {
                        "type": "string",
                        "enum": ["visitor", "rule", "moderator", "integration", "email_link"],
                    },
                    "name": {
                        "type": ["string", "null"],
                        "description": "The visitor's name as signed, the rule, the "
                        "moderator's username or the integration's name.",
                    },
                    "id": {"type": "string", "description": "An integration's id."},
                },
            },
            "rule": {"type": ["string", "null"]},
            "reason": {"type": ["string", "null"]},
        },
    },
}

SIGNATURE_HEADERS = [
    {
        "name": "webhook-id",
        "in": "header",
        "required": True,
        "description": "Unique message id; the idempotency key.",
        "schema": {"type": "string", "maxLength": 200},
    },
    {
        "name": "webhook-timestamp",
        "in": "header",
        "required": True,
        "description": "Unix seconds; 5 minutes tolerance.",
        "schema": {"type": "string"},
    },
    {
        "name": "webhook-signature",
        "in": "header",
        "required": True,
        "description": "v1,base64(HMAC-SHA256(secret, id.timestamp.body)); space-separated for several.",
        "schema": {"type": "string"},
    },
]


INTEGRATION = {
    "name": "integration",
    "in": "path",
    "required": True,
    "description": "The integration's id (int_...).",
    "schema": {"type": "string", "maxLength": 64, "pattern": NO_NUL},
}
READ_ERRORS = {
    "400": problem("A parameter is not valid (the detail says which)."),
    "401": problem("Missing or invalid signature."),
    "403": problem("The integration lacks the read scope, or is disabled."),
    "404": problem("Unknown integration, comment or thread."),
    "429": problem(
        "Too many requests: the integration's limit, or too many requests that do not "
        "verify from this address.",
        RETRY_AFTER,
    ),
    "503": problem(
        "The database is briefly unavailable, or the integration's secret cannot be read.",
        RETRY_AFTER,
    ),
}
READ_SECURITY: list[dict[str, list[str]]] = [{"StandardWebhooksRead": []}]


SECURITY_SCHEMES = {
    "StandardWebhooksRead": {
        "type": "apiKey",
        "in": "header",
        "name": "webhook-signature",
        "description": "Standard Webhooks headers (webhook-id, webhook-timestamp, "
        "webhook-signature) made with the integration's whsec_ secret over the text "
        "'GET <path>?<query>' (the request target exactly as sent, no '?' without a query) "
        "in place of a body: Webhook(secret).sign(id, now, 'GET ' + target).",
    }
}
