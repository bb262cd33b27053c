"""The one submission pipeline: the form, the JSON API and the inbound webhook all post
comments through :func:`submit_comment`, with the same limits, rules and outcome."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from flask import current_app
from sqlalchemy import and_, bindparam, exists, func, or_, select

from moderation.clock import utcnow
from moderation.domain.blocklist import candidates as block_candidates
from moderation.domain.challenge import Suspicion, solved_note, suspicions
from moderation.domain.closing import ThreadClosed
from moderation.domain.comments import CommentDraft
from moderation.domain.errors import N_, DomainError, FieldError, InvalidFields
from moderation.domain.privacy import rate_limit_address, truncate_ip
from moderation.domain.reading import read_html
from moderation.domain.rendering import render_text
from moderation.domain.rules import Decision, Outcome, Signals, SiteRules, decide
from moderation.domain.sites import SitePolicy
from moderation.domain.spam import SpamScore, Thresholds
from moderation.domain.status import CommentStatus
from moderation.domain.websites import website_key
from moderation.extensions import db, get_by_id
from moderation.metrics import count_submission
from moderation.models import BlockEntry, ChatHook, Comment, Integration, Site, Thread
from moderation.ratelimit import gate, private_key
from moderation.services import (
    blocklist,
    challenges,
    events,
    form_tokens,
    notifications,
    spam,
    statistics,
    subscriptions,
)
from moderation.services.events import VISITOR, Actor
from moderation.services.form_tokens import FormToken
from moderation.services.list_parameters import list_value, one_of
from moderation.services.prepared import prepared
from moderation.services.sites import SiteInfo, site_info
from moderation.services.submission_writes import (
    SubmissionRows,
    create_thread,
    follow_the_post,
    write_rows,
)
from moderation.services.threads import (
    THREAD_STATE_COLUMNS,
    ThreadState,
    is_closed,
    state_of,
)

#: The scope of the soft per-address limit (counted only where challenges are on).
SOFT_LIMIT_SCOPE = "soft_address"

OUTCOME_STATUS = {
    Outcome.PUBLISH: CommentStatus.APPROVED,
    Outcome.HOLD: CommentStatus.PENDING,
    Outcome.SPAM: CommentStatus.SPAM,
}


#: The one wording of a rate-limit refusal (the wait is written out in the reader's language).
RATE_LIMIT_MESSAGE = N_("You have posted too many comments. Please try again in %(wait)s.")


class RateLimited(DomainError):
    """A submission limit is exhausted; ``retry_after`` says for how long."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(RATE_LIMIT_MESSAGE, wait=timedelta(seconds=retry_after))
        self.retry_after = retry_after


class Refused(DomainError):
    """A rule refused the comment (a duplicate); nothing was stored."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.reason, **decision.params)
        self.decision = decision


class Flooded(Refused):
    """The flood rule refused the comment: the same person posted too soon before.
    ``retry_after`` says how long until they may post again."""

    def __init__(self, decision: Decision, retry_after: int) -> None:
        super().__init__(decision)
        self.retry_after = retry_after


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
    look = _first_look(site.id, context, draft, reading.links)
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
        _has_approved_comment(site.id, draft.email)
        if site.policy is SitePolicy.TRUSTED or challenging
        else False
    )
    signals = Signals(
        honeypot_filled=context.honeypot_filled,
        fill_seconds=context.form_token.age_seconds(context.now) if context.form_token else None,
        is_duplicate=is_duplicate,
        flood_wait_seconds=admission.flood_wait,
        **_author_and_content_signals(
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
        _classifier(site, draft, context.client_ip, assessed),
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


def judge_edit(site: SiteInfo, draft: CommentDraft, client_ip: str, now: datetime) -> Decision:
    """The rules' decision on an author's edited text: as on a new comment's, without the
    rules of the door (timing, duplicates, floods: the comment is already there)."""
    signals = Signals(**_author_and_content_signals(site, draft, client_ip, now))
    rules = site_rules(site, current_app.config["SPAM_MIN_FILL_SECONDS"])
    return decide(draft, rules, signals, _classifier(site, draft, client_ip, []))


def _author_and_content_signals(
    site: SiteInfo,
    draft: CommentDraft,
    client_ip: str,
    now: datetime,
    links: tuple[str, ...] | None = None,
    has_approved: bool | None = None,
    maybe_blocked: bool = True,
) -> dict[str, Any]:
    """What the rules need to know of the author and the text (the door's own signals aside);
    the text's ``links`` and whether the author ``has_approved`` comments, where the caller
    already knows them, and whether a block list entry ``maybe_blocked`` it (when the caller
    knows none does, the list is not read)."""
    if links is None:
        links = read_html(render_text(draft.text, site.comment_format)).links
    return {
        "author_has_approved_comment": (
            site.policy is SitePolicy.TRUSTED
            and (
                _has_approved_comment(site.id, draft.email)
                if has_approved is None
                else has_approved
            )
            # anyone can type a trusted author's address: optionally trust only confirmed ones
            and (
                not current_app.config["TRUSTED_REQUIRES_CONFIRMED_EMAIL"]
                or subscriptions.is_confirmed(site.id, draft.email)
            )
        ),
        "blocked_by": (
            blocklist.blocked_by(site.id, draft.email, draft.url, links, client_ip, now)
            if maybe_blocked
            else None
        ),
        "author_comment_count": (
            _approved_count(site.id, draft.email) if site.hold_first_comments else None
        ),
    }


def _classifier(
    site: SiteInfo, draft: CommentDraft, client_ip: str, assessed: list[spam.Assessment]
) -> Callable[[], SpamScore]:
    """The classifier rule's question, asked only if the rules get that far (its full
    assessment is kept in ``assessed``)."""

    def classify() -> SpamScore:
        assessment = spam.assess(
            site.id,
            draft.text,
            draft.author,
            draft.email,
            draft.url,
            draft.parent_id is not None,
            client_ip,
        )
        assessed.append(assessment)
        return assessment.result

    return classify


def site_rules(site: SiteInfo, min_fill_seconds: float) -> SiteRules:
    """The rule settings of ``site``."""
    return SiteRules(
        policy=site.policy,
        max_links=site.max_links,
        moderation_words=site.moderation_words,
        blocked_words=site.blocked_words,
        flood_seconds=site.flood_seconds,
        min_fill_seconds=float(min_fill_seconds),
        spam_thresholds=Thresholds(site.spam_hold_threshold, site.spam_threshold),
        hold_first_comments=site.hold_first_comments,
        comment_format=site.comment_format,
    )


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


@dataclass(frozen=True)
class FirstLook:
    """What a submission reads before anything else, in one round trip."""

    #: the thread's state (``None`` before its first comment)
    thread: ThreadState | None
    #: the same person already said exactly this on this thread (WordPress's check)
    is_duplicate: bool
    #: a current block list entry names one of the submission's values (its kind is
    #: checked by :func:`blocklist.blocked_by`, read only then)
    maybe_blocked: bool
    #: the site has an active integration with a webhook target (events to queue)
    has_integrations: bool
    #: the site has chat hooks (held comments are posted there)
    has_chat_hooks: bool


@cache
def _first_look_statement(dialect: str) -> Any:
    """Everything a submission needs to know before it is judged, in one round trip: the
    thread, the duplicate check, and whether the site's block list, integrations and chat
    hooks can concern it at all (on most sites they cannot, and then they are not read).
    One row whether or not the thread exists yet (the site's row, the thread joined to it).
    Built once per dialect (the block list's candidates are one parameter)."""
    return (
        select(
            *THREAD_STATE_COLUMNS,
            exists()
            .where(
                Comment.thread_id == Thread.id,
                Comment.email == bindparam("email"),
                Comment.text == bindparam("text"),
                Comment.status != CommentStatus.DELETED,
            )
            .label("is_duplicate"),
            exists()
            .where(
                BlockEntry.site_id == Site.id,
                one_of(BlockEntry.value, "block_values", dialect),
                or_(BlockEntry.expires_at.is_(None), BlockEntry.expires_at > bindparam("now")),
            )
            .label("maybe_blocked"),
            exists()
            .where(
                Integration.site_id == Site.id,
                Integration.is_active.is_(True),
                Integration.target_url != "",
            )
            .label("has_integrations"),
            exists().where(ChatHook.site_id == Site.id).label("has_chat_hooks"),
        )
        .select_from(Site)
        .outerjoin(Thread, and_(Thread.site_id == Site.id, Thread.key == bindparam("key")))
        .where(Site.id == bindparam("site_id"))
    )


def _first_look(
    site_id: int, context: SubmissionContext, draft: CommentDraft, links: tuple[str, ...]
) -> FirstLook:
    """:class:`FirstLook` for ``draft`` (whose text links to ``links``)."""
    wanted = block_candidates(draft.email, draft.url, links, context.client_ip)
    connection = db.session.connection()
    dialect = connection.dialect.name
    params = {
        "site_id": site_id,
        "key": context.thread_key,
        "email": draft.email,
        "text": draft.text,
        "block_values": list_value((value for _, value in wanted), dialect),
        "now": context.now,
    }
    row = prepared(_first_look_statement(dialect), connection.dialect).first(connection, params)
    if row is None:  # the site is gone: let every later read find out the usual way
        return FirstLook(None, False, True, True, True)
    return FirstLook(
        state_of(row) if row.id is not None else None,
        bool(row.is_duplicate),
        bool(row.maybe_blocked),
        bool(row.has_integrations),
        bool(row.has_chat_hooks),
    )


def _approved_count(site_id: int, email: str) -> int:
    """How many approved comments this author (by email) has on the site."""
    return int(
        db.session.execute(
            select(func.count()).where(
                Comment.site_id == site_id,
                Comment.email == email,
                Comment.status == CommentStatus.APPROVED,
            )
        ).scalar_one()
    )


def _has_approved_comment(site_id: int, email: str) -> bool:
    return bool(
        db.session.execute(
            select(
                exists().where(
                    Comment.site_id == site_id,
                    Comment.email == email,
                    Comment.status == CommentStatus.APPROVED,
                )
            )
        ).scalar()
    )
