"""Inbound webhooks: each event type runs through the same services as the form and the
dashboard, and records its answer under the ``webhook-id`` in the same transaction, so a
replay gets the first answer back and changes nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from moderation.clock import utcnow
from moderation.domain.comments import clean_url, strip_controls, validate_draft
from moderation.domain.errors import N_, FieldError, InvalidFields
from moderation.domain.status import ModerationAction
from moderation.extensions import SUPPORTED_LANGUAGES, db
from moderation.models import Integration, Thread, WebhookReceipt
from moderation.services import decisions, submissions
from moderation.services.events import audit
from moderation.services.integrations import actor_of, require_scope, require_site
from moderation.services.submissions import SubmissionContext

#: Answers worth repeating to a replay: successes and refusals that will not change.
FINAL_STATUSES = frozenset({200, 201, 202, 400, 403, 404, 409, 413, 422})


@dataclass(frozen=True)
class Answer:
    """What the endpoint answers: a status and a JSON body."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


def body_hash(body: bytes) -> str:
    """What a receipt remembers of the body: its SHA-256, in hex."""
    return hashlib.sha256(body).hexdigest()


def find_answer(
    integration: Integration, webhook_id: str, body_sha256: str | None = None
) -> Answer | None:
    """The answer already given to this ``webhook-id``, if any; a 409 problem when the id
    was first used with another body (a replay repeats a message, it does not change it)."""
    receipt = db.session.execute(
        select(WebhookReceipt).where(
            WebhookReceipt.integration_id == integration.id, WebhookReceipt.webhook_id == webhook_id
        )
    ).scalar_one_or_none()
    if receipt is None:
        return None
    if body_sha256 and receipt.body_sha256 and receipt.body_sha256 != body_sha256:
        return Answer(
            409,
            {
                "type": "about:blank",
                "title": "Conflict",
                "status": 409,
                "detail": "This webhook-id was already used with another body. A webhook-id "
                "names one message: send a new id for a new message, or the same body to "
                "replay it (a replay gets the first answer back).",
            },
        )
    return Answer(receipt.status_code, receipt.response_body, replayed=True)


def _receipt(
    integration: Integration, webhook_id: str, answer: Answer, body_sha256: str | None
) -> WebhookReceipt:
    return WebhookReceipt(
        integration_id=integration.id,
        webhook_id=webhook_id,
        status_code=answer.status,
        response_body=answer.body,
        body_sha256=body_sha256,
    )


def remember_refusal(
    integration: Integration, webhook_id: str, answer: Answer, body_sha256: str | None = None
) -> Answer:
    """Store a final refusal so a replay is refused the same way (the first answer wins)."""
    if answer.status not in FINAL_STATUSES:
        return answer
    db.session.rollback()
    db.session.add(_receipt(integration, webhook_id, answer, body_sha256))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return find_answer(integration, webhook_id, body_sha256) or answer
    return answer


def _answer_once(
    integration: Integration,
    webhook_id: str,
    change: Callable[[Callable[[Answer], None]], object],
    body_sha256: str | None,
) -> Answer:
    """Run ``change``, giving it a hook that keeps its answer as the receipt of
    ``webhook_id`` inside the change's own transaction; a concurrent copy of the same
    webhook that committed first wins, and its answer is returned."""
    kept: list[Answer] = []

    def keep_answer(answer: Answer) -> None:
        kept.append(answer)
        db.session.add(_receipt(integration, webhook_id, answer, body_sha256))

    try:
        change(keep_answer)
    except IntegrityError:
        db.session.rollback()
        earlier = find_answer(integration, webhook_id, body_sha256)
        if earlier is None:
            raise
        return earlier
    return kept[0]


def submit(
    integration: Integration,
    webhook_id: str,
    data: dict[str, Any],
    body_sha256: str | None = None,
) -> Answer:
    """``comment.submit``: the form's pipeline, field rules and limits, for an app backend."""
    require_scope(integration, "submit")
    require_site(integration, data.get("site"))
    draft = validate_draft(
        {**data, "comment_parent": data.get("parent")},
        bool(current_app.config["EMAIL_CHECK_DELIVERABILITY"]),
    )
    thread = _text(data, "thread", 255, required=True)
    context = SubmissionContext(
        site_slug=integration.site.slug,
        thread_key=thread,
        client_ip=_text(data, "client_ip", 64) or f"integration:{integration.public_id}",
        user_agent=f"integration {integration.public_id}",
        source="webhook",
        actor=actor_of(integration),
        limit_namespace=f"integration:{integration.public_id}",
        notify=data.get("notify") is True,
        language=str(
            data["language"]
            if data.get("language") in SUPPORTED_LANGUAGES
            else current_app.config["DEFAULT_LANGUAGE"]
        ),
    )

    def change(keep_answer: Callable[[Answer], None]) -> submissions.SubmissionResult:
        def before_commit(result: submissions.SubmissionResult) -> None:
            keep_answer(
                Answer(
                    202 if result.public_status != "approved" else 201,
                    {
                        "id": result.comment.id,
                        "status": result.public_status,
                        "thread": thread,
                    },
                )
            )

        return submissions.submit_comment(draft, context, before_commit)

    return _answer_once(integration, webhook_id, change, body_sha256)


def moderate(
    integration: Integration,
    webhook_id: str,
    data: dict[str, Any],
    body_sha256: str | None = None,
) -> Answer:
    """``comment.moderate``: the dashboard's status machine, with the integration as actor."""
    require_scope(integration, "moderate")
    comment_id = data.get("comment")
    if isinstance(comment_id, bool) or not isinstance(comment_id, int) or comment_id <= 0:
        raise InvalidFields({"comment": N_("The id of a comment (a positive integer).")})
    try:
        action = ModerationAction(str(data.get("action", "")))
    except ValueError:
        raise InvalidFields(
            {"action": N_("One of approve, reject, spam, delete, restore.")}
        ) from None
    reason = _text(data, "reason", 500)

    def change(keep_answer: Callable[[Answer], None]) -> decisions.ModerationResult:
        def before_commit(result: decisions.ModerationResult) -> None:
            keep_answer(
                Answer(
                    200,
                    {
                        "id": result.comment.id,
                        "from": result.from_status.value,
                        "status": result.to_status.value,
                    },
                )
            )

        return decisions.moderate(
            comment_id,
            action,
            actor_of(integration),
            reason,
            site_ids={integration.site_id},
            before_commit=before_commit,
        )

    return _answer_once(integration, webhook_id, change, body_sha256)


def upsert_thread(
    integration: Integration,
    webhook_id: str,
    data: dict[str, Any],
    body_sha256: str | None = None,
) -> Answer:
    """``thread.upsert``: create or change a thread's title, address and open state."""
    require_scope(integration, "threads")
    require_site(integration, data.get("site"))
    key = _text(data, "thread", 255, required=True)
    is_open = data.get("open", True)
    if not isinstance(is_open, bool):
        raise InvalidFields({"open": N_("true or false.")})
    title = _text(data, "title", 300)
    try:
        url = clean_url(_text(data, "url", 2000), max_length=2000)
    except FieldError as error:
        raise InvalidFields({"url": error}) from None

    def change(keep_answer: Callable[[Answer], None]) -> Thread:
        thread = db.session.execute(
            select(Thread).where(Thread.site_id == integration.site_id, Thread.key == key)
        ).scalar_one_or_none()
        created = thread is None
        if thread is None:
            thread = Thread(
                site_id=integration.site_id,
                key=key,
                created_at=utcnow(),
                version=0,
                approved_count=0,
            )
            db.session.add(thread)
        thread.title = title if "title" in data else thread.title or ""
        thread.url = url if "url" in data else thread.url or ""
        thread.is_open = is_open
        db.session.flush()
        db.session.execute(
            update(Thread).where(Thread.id == thread.id).values(version=Thread.version + 1)
        )
        audit(
            actor_of(integration),
            "thread.upsert",
            site_id=integration.site_id,
            reason=f"thread {key!r}: {'created' if created else 'updated'}, open={is_open}",
        )
        keep_answer(
            Answer(201 if created else 200, {"thread": key, "open": is_open, "created": created})
        )
        db.session.commit()
        return thread

    return _answer_once(integration, webhook_id, change, body_sha256)


def _text(data: dict[str, Any], name: str, limit: int, required: bool = False) -> str:
    """A one-line text field of the event data."""
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidFields({name: N_("This field must be text.")})
    text = strip_controls(value or "", single_line=True)
    if len(text) > limit:
        raise InvalidFields({name: FieldError(N_("At most %(max)d characters."), max=limit)})
    if required and not text:
        raise InvalidFields({name: N_("Required.")})
    return text
