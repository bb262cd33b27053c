"""Inbound webhooks: each event type runs through the same services as the form and the
dashboard, and records its answer under the ``webhook-id`` in the same transaction, so a
replay gets the first answer back and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from moderation.domain.comments import CommentDraft, FieldError, clean_url, strip_controls
from moderation.domain.errors import N_, InvalidInput
from moderation.domain.status import ModerationAction
from moderation.extensions import db
from moderation.models import Integration, Thread, WebhookReceipt, utcnow
from moderation.services import moderation, submissions
from moderation.services.events import audit
from moderation.services.integrations import actor_of, require_scope, require_site
from moderation.services.submissions import SubmissionContext

#: Answers worth repeating to a replay: successes and refusals that will not change.
FINAL_STATUSES = frozenset({200, 201, 202, 400, 403, 404, 409, 413, 422})

T = TypeVar("T")


@dataclass(frozen=True)
class Answer:
    """What the endpoint answers: a status and a JSON body."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


def find_answer(integration: Integration, webhook_id: str) -> Answer | None:
    """The answer already given to this ``webhook-id``, if any."""
    receipt = db.session.execute(
        select(WebhookReceipt).where(
            WebhookReceipt.integration_id == integration.id, WebhookReceipt.webhook_id == webhook_id
        )
    ).scalar_one_or_none()
    if receipt is None:
        return None
    return Answer(receipt.status_code, receipt.response_body, replayed=True)


def _receipt(integration: Integration, webhook_id: str, answer: Answer) -> WebhookReceipt:
    return WebhookReceipt(
        integration_id=integration.id,
        webhook_id=webhook_id,
        status_code=answer.status,
        response_body=answer.body,
    )


def remember_refusal(integration: Integration, webhook_id: str, answer: Answer) -> Answer:
    """Store a final refusal so a replay is refused the same way (the first answer wins)."""
    if answer.status not in FINAL_STATUSES:
        return answer
    db.session.rollback()
    db.session.add(_receipt(integration, webhook_id, answer))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return find_answer(integration, webhook_id) or answer
    return answer


def _once(
    integration: Integration,
    webhook_id: str,
    work: Callable[[Callable[[Answer], None]], T],
    answer_of: Callable[[T], Answer],
) -> Answer:
    """Run ``work`` with a hook that records the answer inside its transaction."""
    recorded: list[Answer] = []

    def record(answer: Answer) -> None:
        recorded.append(answer)
        db.session.add(_receipt(integration, webhook_id, answer))

    try:
        result = work(record)
    except IntegrityError:
        # the same webhook-id was processed concurrently and committed first
        db.session.rollback()
        earlier = find_answer(integration, webhook_id)
        if earlier is None:
            raise
        return earlier
    return recorded[0] if recorded else answer_of(result)


def submit(
    integration: Integration, webhook_id: str, draft: CommentDraft, data: dict[str, Any]
) -> Answer:
    """``comment.submit``: the form's pipeline, rules and limits, for an app backend."""
    require_scope(integration, "submit")
    require_site(integration, data.get("site"))
    thread = _text(data, "thread", 255, required=True)
    context = SubmissionContext(
        site_slug=integration.site.slug,
        thread_key=thread,
        client_ip=_text(data, "client_ip", 64) or f"integration:{integration.public_id}",
        user_agent=f"integration {integration.public_id}",
        source="webhook",
        actor=actor_of(integration),
        limit_namespace=f"integration:{integration.public_id}",
    )

    def work(record: Callable[[Answer], None]) -> submissions.SubmissionResult:
        def before_commit(result: submissions.SubmissionResult) -> None:
            record(
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

    return _once(
        integration, webhook_id, work, lambda result: Answer(202, {"id": result.comment.id})
    )


def moderate(integration: Integration, webhook_id: str, data: dict[str, Any]) -> Answer:
    """``comment.moderate``: the dashboard's status machine, with the integration as actor."""
    require_scope(integration, "moderate")
    comment_id = data.get("comment")
    if isinstance(comment_id, bool) or not isinstance(comment_id, int) or comment_id <= 0:
        raise InvalidInput(
            N_("Some fields need your attention."),
            field_errors={"comment": N_("The id of a comment (a positive integer).")},
        )
    try:
        action = ModerationAction(str(data.get("action", "")))
    except ValueError:
        raise InvalidInput(
            N_("Some fields need your attention."),
            field_errors={"action": N_("One of approve, reject, spam, delete, restore.")},
        ) from None
    reason = _text(data, "reason", 500)

    def work(record: Callable[[Answer], None]) -> moderation.ModerationResult:
        def before_commit(result: moderation.ModerationResult) -> None:
            record(
                Answer(
                    200,
                    {
                        "id": result.comment.id,
                        "from": result.from_status.value,
                        "status": result.to_status.value,
                    },
                )
            )

        return moderation.moderate(
            comment_id,
            action,
            actor_of(integration),
            reason,
            site_ids={integration.site_id},
            before_commit=before_commit,
        )

    return _once(
        integration, webhook_id, work, lambda result: Answer(200, {"id": result.comment.id})
    )


def upsert_thread(integration: Integration, webhook_id: str, data: dict[str, Any]) -> Answer:
    """``thread.upsert``: create or change a thread's title, address and open state."""
    require_scope(integration, "threads")
    require_site(integration, data.get("site"))
    key = _text(data, "thread", 255, required=True)
    is_open = data.get("open", True)
    if not isinstance(is_open, bool):
        raise InvalidInput(
            N_("Some fields need your attention."), field_errors={"open": N_("true or false.")}
        )
    title = _text(data, "title", 300)
    try:
        url = clean_url(_text(data, "url", 2000), max_length=2000)
    except FieldError as error:
        raise InvalidInput(
            N_("Some fields need your attention."), field_errors={"url": error.message}
        ) from None

    def work(record: Callable[[Answer], None]) -> Thread:
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
        record(
            Answer(201 if created else 200, {"thread": key, "open": is_open, "created": created})
        )
        db.session.commit()
        return thread

    return _once(integration, webhook_id, work, lambda thread: Answer(200, {"thread": thread.key}))


def _text(data: dict[str, Any], name: str, limit: int, required: bool = False) -> str:
    """A one-line text field of the event data."""
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise InvalidInput(
                N_("Some fields need your attention."), field_errors={name: N_("Required.")}
            )
        return ""
    if not isinstance(value, str):
        raise InvalidInput(
            N_("Some fields need your attention."),
            field_errors={name: N_("This field must be text.")},
        )
    text = strip_controls(value, single_line=True)
    if len(text) > limit:
        raise InvalidInput(
            N_("Some fields need your attention."),
            field_errors={name: f"At most {limit} characters."},
        )
    if required and not text:
        raise InvalidInput(
            N_("Some fields need your attention."), field_errors={name: N_("Required.")}
        )
    return text
