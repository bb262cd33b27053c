"""Views of the notification links: parse, call :mod:`moderation.services.notify_links`,
render one small page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, make_response, render_template, request
from flask_babel import force_locale, gettext

from moderation.domain.languages import locale_of
from moderation.models import Site, ThreadSubscription
from moderation.services import notify_links
from moderation.services.notify_links import DecisionLink
from moderation.web.security import keep_private

bp = Blueprint("notify", __name__, url_prefix="/notify")
bp.after_request(keep_private)  # the URL holds a credential, the answer is personal

#: Past tense of each decision, for the pages that report it.
DONE = {"approve": "approved", "reject": "rejected", "spam": "marked as spam"}
REFUSALS = {
    notify_links.UNKNOWN: (
        404,
        "This link is not valid",
        "The link is incomplete or was never sent. Nothing changed.",
    ),
    notify_links.USED: (
        410,
        "This link was already used",
        "Each decision link works once. Nothing changed.",
    ),
    notify_links.EXPIRED: (
        410,
        "This link has expired",
        "Decision links work for a limited time. Open the comment in the dashboard to decide. Nothing changed.",
    ),
    notify_links.INACTIVE: (
        403,
        "This link no longer works",
        "The account it was sent to is deactivated. Nothing changed.",
    ),
}


def page(status: int = 200, **context: Any) -> tuple[str, int]:
    """The one page template: a title, a message, maybe a comment and buttons."""
    return render_template("notify/page.html", **context), status


def decision_page(opened: DecisionLink, done: bool = False) -> tuple[str, int]:
    """What a decision link shows: the comment and the button, the outcome, or why not."""
    comment = opened.comment
    dashboard = f"/dashboard/comments/{comment.id}" if comment is not None else ""
    if opened.refusal == notify_links.DECIDED and comment is not None:
        who = f" by {opened.decided_by}" if opened.decided_by else ""
        return page(
            409,
            english=True,
            title="Someone else already decided",
            message=f"This comment is already {comment.status.value}{who}. Nothing changed.",
            comment=comment,
            dashboard=dashboard,
        )
    if opened.refusal:
        status, title, message = REFUSALS[opened.refusal]
        return page(status, english=True, title=title, message=message, dashboard=dashboard)
    assert comment is not None
    if done:
        return page(
            english=True,
            title=f"Comment {DONE[opened.action]}",
            message=f"The comment is now {comment.status.value}. Thank you.",
            comment=comment,
            dashboard=dashboard,
        )
    return page(
        english=True,
        title=f"{opened.action.title()} this comment?",
        message="Nothing changes until you press the button.",
        comment=comment,
        button=f"{opened.action.title()} this comment",
        dashboard=dashboard,
    )


@bp.get("/m/<token>/<action>")
def show_decision(token: str, action: str) -> tuple[str, int]:
    """A moderator's decision link: shows the comment and a button, decides nothing."""
    return decision_page(notify_links.open_decision(token, action))


@bp.post("/m/<token>/<action>")
def decide(token: str, action: str) -> tuple[str, int]:
    """The decision, once, through the status machine and audit log."""
    opened = notify_links.decide(token, action)
    return decision_page(opened, done=not opened.refusal)


def in_their_language(subscription: ThreadSubscription) -> Any:
    """The commenter's pages speak the language their emails were written in."""
    return force_locale(locale_of(subscription.address.language))


def not_valid() -> tuple[str, int]:
    """A confirmation or unsubscribe link that was tampered with or cut short."""
    return page(
        404,
        title=gettext("This link is not valid"),
        message=gettext("The link is incomplete. Nothing changed."),
    )


def _subscription(
    lookup: Callable[[str], ThreadSubscription | None], signed: str
) -> ThreadSubscription:
    """The subscription a signed link names; a tampered or cut one ends the request with
    the not-valid page."""
    subscription = lookup(signed)
    if subscription is None:
        abort(make_response(not_valid()))
    return subscription


@bp.get("/confirm/<signed>")
def show_confirm(signed: str) -> tuple[str, int]:
    """The double opt-in page: a button, nothing confirmed by opening it."""
    subscription = _subscription(notify_links.subscription_for_confirm, signed)
    with in_their_language(subscription):
        return page(
            title=gettext("Confirm email notifications"),
            message=gettext("Press the button to receive emails about follow-up comments."),
            button=gettext("Yes, send me notifications"),
        )


@bp.post("/confirm/<signed>")
def confirm(signed: str) -> tuple[str, int]:
    """Confirm the address (double opt-in)."""
    subscription = _subscription(notify_links.subscription_for_confirm, signed)
    notify_links.confirm(subscription)
    with in_their_language(subscription):
        return page(
            title=gettext("Thank you"),
            message=gettext(
                "Your address is confirmed: you will be told about follow-up comments."
            ),
        )


@bp.get("/unsubscribe/<signed>")
def show_unsubscribe(signed: str) -> tuple[str, int]:
    """The unsubscribe landing page: this thread, or every thread of the site."""
    subscription = _subscription(notify_links.subscription_for_unsubscribe, signed)
    with in_their_language(subscription):
        return page(
            title=gettext("Unsubscribe"),
            message=gettext("Stop emails about follow-up comments?"),
            button=gettext("Unsubscribe from this thread"),
            site_button=gettext(
                "Unsubscribe from all threads of %(site)s", site=subscription.address.site.name
            ),
        )


@bp.post("/unsubscribe/<signed>")
def unsubscribe(signed: str) -> tuple[str, int]:
    """RFC 8058 one-click (``List-Unsubscribe=One-Click``): this thread; ``scope=site``
    (the landing page's second button): every thread of the site."""
    subscription = _subscription(notify_links.subscription_for_unsubscribe, signed)
    whole_site = request.form.get("scope") == "site"
    notify_links.unsubscribe(subscription, whole_site)
    with in_their_language(subscription):
        message = (
            gettext(
                "You will receive no more emails from %(site)s.",
                site=subscription.address.site.name,
            )
            if whole_site
            else gettext("You will receive no more emails about this thread.")
        )
        return page(title=gettext("Unsubscribed"), message=message)


@bp.get("/moderator-off/<signed>")
def show_moderator_off(signed: str) -> tuple[str, int]:
    """A moderator's unsubscribe page for one site."""
    target = notify_links.moderator_off_target(signed)
    if target is None:
        return page(404, english=True, title="This link is not valid", message="Nothing changed.")
    return page(
        english=True,
        title=f"Stop emails about {_site_name(target[1])}?",
        message="You can turn them on again in the dashboard (Notifications).",
        button="Stop these emails",
    )


@bp.post("/moderator-off/<signed>")
def moderator_off(signed: str) -> tuple[str, int]:
    """One click: no more emails about this site for this moderator."""
    target = notify_links.moderator_off_target(signed)
    if target is None:
        return page(404, english=True, title="This link is not valid", message="Nothing changed.")
    notify_links.moderator_off(*target)
    return page(
        english=True, title="Unsubscribed", message=f"No more emails about {_site_name(target[1])}."
    )


def _site_name(site: Site | None) -> str:
    return site.name if site is not None else "any site"
