"""The one submission pipeline: the form, the JSON API and the inbound webhook all post
comments through :func:`submit_comment`, with the same limits, rules and outcome."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from flask import current_app

from moderation.clock import utcnow
from moderation.domain.challenge import Suspicion, solved_note, suspicions
from moderation.domain.closing import ThreadClosed
from moderation.domain.comments import CommentDraft
from moderation.domain.errors import N_, DomainError, FieldError, InvalidFields
from moderation.domain.privacy import rate_limit_address, truncate_ip
from moderation.domain.reading import read_html
from moderation.domain.rendering import render_text
from moderation.domain.rules import Decision, Outcome, Signals, decide
from moderation.domain.sites import SitePolicy
from moderation.domain.spam import counts_wanted
from moderation.domain.status import CommentStatus
from moderation.domain.websites import website_key
from moderation.extensions import db, get_by_id
from moderation.metrics import count_submission
from moderation.models import Comment
from moderation.ratelimit import gate, private_key
from moderation.services import challenges, events, form_tokens, notifications, spam, statistics
from moderation.services.events import VISITOR, Actor
from moderation.services.first_look import FirstLook, first_look
from moderation.services.form_tokens import FormToken
from moderation.services.judging import (
    author_and_content_signals,
    classifier,
    has_approved_comment,
    site_rules,
)
from moderation.services.refusals import Flooded, RateLimited, Refused
from moderation.services.sites import SiteInfo, site_info
from moderation.services.submission_writes import (
    SubmissionRows,
    create_thread,
    follow_the_post,
    write_rows,
)
from moderation.services.threads import ThreadState, is_closed

#: The scope of the soft per-address limit (counted only where challenges are on).
SOFT_LIMIT_SCOPE = "soft_address"

OUTCOME_STATUS = {
    Outcome.PUBLISH: CommentStatus.APPROVED,
    Outcome.HOLD: CommentStatus.PENDING,
    Outcome.SPAM: CommentStatus.SPAM,
}


@dataclass(frozen=True)
class SubmissionContext:
    """Where a comment is posted, by whom, and what the door observed."""

    site_slug: str
    thread_key: str
    client_ip: str
    now: datetime = field(default_factory=utcnow)
    user_agent: str = ""
    source: str = "form"
    form_token: FormToken | None = None
    honeypot_filled: bool = False
    thread_title: str = ""
    thread_url: str = ""
    actor: Actor = VISITOR
    #: Counts the address and email limits in a namespace of their own (an integration's):
    #: an address or email a caller merely *says* must not spend a real visitor's allowance.
    limit_namespace: str = ""
    #: The author ticked "Notify me of follow-up comments by email." (double opt-in follows),
    #: in this language.
    notify: bool = False
    language: str = "en"
    #: The door can show a proof-of-work challenge (the widget form and the JSON API; never
    #: the webhook, whose integrators are trusted by signature), and the sender's answer
    #: to one (the ``altcha`` field), if any.
    can_challenge: bool = False
    challenge_answer: str = ""


@dataclass(frozen=True)
class SubmissionResult:
    """The stored comment and the decision that placed it."""

    comment: Comment
    decision: Decision

    @property
    def public_status(self) -> str:
        """What the sender is told: spam is answered as if it were waiting for review."""
        if self.comment.status is CommentStatus.SPAM:
            return CommentStatus.PENDING.value
        return self.comment.status.value


#: How an outcome is counted in the metrics.
OUTCOME_NAMES = {
    Outcome.PUBLISH: "published",
    Outcome.HOLD: "held",
    Outcome.SPAM: "spam",
    Outcome.REFUSE: "refused",
}


def submit_comment(
    draft: CommentDraft,
    context: SubmissionContext,
    before_commit: Callable[[SubmissionResult], None] | None = None,
) -> SubmissionResult:
    """Check, decide and store one comment; raise a :class:`DomainError` to refuse it.

    ``before_commit`` runs inside the transaction that stores the comment (the inbound
    webhook records its idempotency receipt there, so both happen or neither does).
    Every outcome is counted by door and rule (:mod:`moderation.metrics`).
    """
    try:
        result = _submit(draft, context, before_commit)
    except Refused as refusal:
        count_submission(context.source, "refused", refusal.decision.rule.value)
        raise
    except RateLimited:
        count_submission(context.source, "refused", "rate_limit")
        raise
    except DomainError:
        count_submission(context.source, "refused", "invalid")
        raise
    count_submission(
        context.source, OUTCOME_NAMES[result.decision.outcome], result.decision.rule.value
    )
    return result


def _submit(
    draft: CommentDraft,
    context: SubmissionContext,
    before_commit: Callable[[SubmissionResult], None] | None,
) -> SubmissionResult:
    """:func:`submit_comment` without the counting."""
    config = current_app.config
    site = site_info(context.site_slug)
    html = render_text(draft.text, site.comment_format)
    reading = read_html(html)
    features = spam.draft_features(draft, context.client_ip)
    look = first_look(
        site.id,
        context.thread_key,
        context.client_ip,
        context.now,
        draft,
        reading.links,
        counts_wanted(site.id, features),
    )
    thread, is_duplicate = look.thread, look.is_duplicate
    if is_closed(site, thread, context.now):
        raise ThreadClosed()
    parent = _check_parent(site, thread, draft.parent_id)

    address = rate_limit_address(context.client_ip)
    email_key = private_key(draft.email)
    if context.limit_namespace:
        address = f"{context.limit_namespace}:{address}"
        email_key = f"{context.limit_namespace}:{email_key}"
    challenging = (
        site.challenge_suspicious and context.can_challenge and context.form_token is not None
    )
    bound_to, waived = "", frozenset[Suspicion]()
    if challenging:
        assert context.form_token is not None
        bound_to = challenges.binding(
            site.slug, context.thread_key, context.form_token.nonce, draft
        )
        waived = challenges.waived(context.challenge_answer, bound_to) or frozenset()
    checks = [
        ("address", config["LIMIT_SUBMIT_PER_ADDRESS"], (address,)),
        ("email", config["LIMIT_SUBMIT_PER_EMAIL"], (email_key,)),
        ("site", site.submit_limit or config["LIMIT_SUBMIT_PER_SITE"], (site.slug,)),
    ]
    if challenging and Suspicion.SOFT_LIMIT not in waived:
        # counted after the hard limits: past it, a sender is asked, not refused
        checks.append((SOFT_LIMIT_SCOPE, config["LIMIT_SUBMIT_SOFT_PER_ADDRESS"], (address,)))
    # a duplicate is refused anyway; anything else starts this person's flood interval
    flood_keys = (
        [] if is_duplicate else [(site.slug, "address", address), (site.slug, "email", email_key)]
    )
    admission = gate().admit(checks, flood_keys, site.flood_seconds)
    soft_limited = admission.breach is not None and admission.breach.scope == SOFT_LIMIT_SCOPE
    if admission.breach is not None and not soft_limited:
        raise RateLimited(admission.breach.retry_after)
    has_approved = (
        has_approved_comment(site.id, draft.email)
        if site.policy is SitePolicy.TRUSTED or challenging
        else False
    )
    signals = Signals(
        honeypot_filled=context.honeypot_filled,
        fill_seconds=context.form_token.age_seconds(context.now) if context.form_token else None,
        is_duplicate=is_duplicate,
        flood_wait_seconds=admission.flood_wait,
        **author_and_content_signals(
            site,
            draft,
            context.client_ip,
            context.now,
            reading.links,
            has_approved,
            maybe_blocked=look.maybe_blocked,
        ),
    )
    assessed: list[spam.Assessment] = []
    rules = site_rules(site, config["SPAM_MIN_FILL_SECONDS"])
    decision = decide(
        draft,
        rules,
        signals,
        classifier(site, draft, context.client_ip, assessed, features, look.spam_counts),
        pass_grey_zone=Suspicion.GREY_ZONE in waived,
        reading=reading,
    )
    if decision.outcome is Outcome.REFUSE:
        # nothing is stored, but the statistics page counts what the rules turned away
        statistics.count_submission(site.id, decision.outcome, decision.rule.value, context.now)
        db.session.commit()
        if decision.retry_after:
            raise Flooded(decision, decision.retry_after)
        raise Refused(decision)
    if challenging:
        found = suspicions(
            decision,
            soft_limited=soft_limited,
            first_comment=not has_approved,
            link_count=reading.link_count,
        )
        if found - waived:
            if not soft_limited:
                # nothing is stored: this attempt must not start the flood interval
                gate().forget([], flood_keys, site.flood_seconds)
            asked = found - waived
            raise challenges.ChallengeRequired(
                challenges.issue(bound_to, asked), asked, again=bool(context.challenge_answer)
            )
        if found:
            decision = replace(decision, reason=f"{decision.reason} ({solved_note(found)})")

    comment = _store(site, look, parent, draft, html, context, decision, assessed)
    result = SubmissionResult(comment, decision)
    if before_commit is not None:
        before_commit(result)
    db.session.commit()
    return result


def _store(
    site: SiteInfo,
    look: FirstLook,
    parent: Comment | None,
    draft: CommentDraft,
    html: str,
    context: SubmissionContext,
    decision: Decision,
    assessed: list[spam.Assessment],
) -> Comment:
    """Write the comment (``html``: its text rendered), its spent token, its audit event,
    its counts, the classifier's assessment and its outbound events (the caller commits).
    Plain statements on the session's connection (on PostgreSQL one for all the rows): this
    is the hottest write path, and none of it needs the ORM's bookkeeping."""
    thread = look.thread
    if thread is None:
        thread_id = create_thread(
            site.id, context.thread_key, context.thread_title, context.thread_url, context.now
        )
    else:
        thread_id = thread.id
        if context.thread_url:
            follow_the_post(thread_id, context.thread_title, context.thread_url)
    status = OUTCOME_STATUS[decision.outcome]
    values = {
        "site_id": site.id,
        "thread_id": thread_id,
        "parent_id": parent.id if parent else None,
        "root_id": (parent.root_id or parent.id) if parent else None,
        "author": draft.author,
        "email": draft.email,
        "url": draft.url,
        "website_key": website_key(draft.url),
        "text": draft.text,
        "html": html,
        "status": status,
        "created_at": context.now,
        "updated_at": context.now,
        "ip_truncated": truncate_ip(context.client_ip),
        "user_agent": context.user_agent[:500],
        "held_by_rule": decision.rule.value,
        "held_reason": decision.reason[:500],
        "source": context.source,
        "moderator_id": None,
        # spelled out: no column default is applied inside PostgreSQL's one statement
        "email_flagged": False,
    }
    token = context.form_token
    rows = SubmissionRows(
        comment=values,
        audit=events.audit_values(
            context.actor,
            "submitted",
            site.id,
            to_status=status.value,
            reason=f"{decision.rule.value}: {decision.reason}",
        ),
        outcome=statistics.outcome_values(
            site.id, decision.outcome, decision.rule.value, context.now
        ),
        spent_token=(
            form_tokens.spent_values(token, float(current_app.config["FORM_TOKEN_MAX_AGE"]))
            if token is not None
            else None
        ),
        assessment=spam.assessment_values(assessed[0]) if assessed else None,
    )
    comment = Comment(id=write_rows(rows), **values)
    if look.has_integrations:
        submitted = events.EventDecision(context.actor, decision.rule.value, decision.reason)
        events.emit("comment.created", comment, site.slug, context.thread_key, submitted)
        if status is CommentStatus.APPROVED:
            events.emit(
                "comment.approved",
                comment,
                site.slug,
                context.thread_key,
                events.decided_by_rule(decision.rule.value, decision.reason),
            )
    if status is CommentStatus.APPROVED:
        events.touch_thread(thread_id, approved_delta=1)
    notifications.after_submit(
        comment, context.notify, context.language, chat_hooks=look.has_chat_hooks
    )
    return comment


def _check_parent(
    site: SiteInfo, thread: ThreadState | None, parent_id: int | None
) -> Comment | None:
    """A reply must answer an approved comment of the same thread, not too deep."""
    if parent_id is None:
        return None
    parent = get_by_id(Comment, parent_id)
    if (
        parent is None
        or thread is None
        or parent.thread_id != thread.id
        or parent.status is not CommentStatus.APPROVED
    ):
        raise InvalidFields(
            {"comment_parent": N_("The comment you are replying to does not exist.")}
        )
    if comment_depth(parent) >= site.max_depth:
        raise InvalidFields(
            {
                "comment_parent": FieldError(
                    N_("Replies cannot nest deeper than %(depth)d levels here."),
                    depth=site.max_depth,
                )
            }
        )
    return parent


def comment_depth(comment: Comment) -> int:
    """1 for a top-level comment, 2 for a reply to it, and so on."""
    depth, current = 1, comment
    while current.parent_id is not None and depth < 100:
        parent = db.session.get(Comment, current.parent_id)
        if parent is None:
            break
        depth, current = depth + 1, parent
    return depth
