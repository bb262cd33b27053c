"""The dashboard blueprint and what every one of its pages does before and after a view."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from moderation.domain.errors import DomainError
from moderation.domain.status import available_actions
from moderation.models import Moderator
from moderation.services import dashboard_sessions
from moderation.services.moderators import visible_site_ids
from moderation.web.errors import error_answer, localized, problem, wants_json

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard", template_folder="templates")

T = TypeVar("T")

#: Pages a signed-out visitor may open.
PUBLIC_ENDPOINTS = frozenset({"dashboard.sign_in", "dashboard.static"})


@bp.before_request
def require_sign_in() -> ResponseReturnValue | None:
    """Signed-out visitors see nothing but the sign-in page (not even counts)."""
    if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
        return None
    if request.method == "GET" and not wants_json():
        return redirect(url_for("dashboard.sign_in", next=request.full_path.rstrip("?")))
    return problem(401, "Sign in to the dashboard first.")


@bp.context_processor
def inject_user() -> dict[str, object]:
    """Dashboard templates know who is signed in (public pages never load a session)."""
    return {"current_user": current_user, "actions_for": available_actions}


@bp.after_request
def never_cache(response: Response) -> Response:
    """Dashboard pages hold personal data: no cache may keep them."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(CSRFError)
def stale_form(error: CSRFError) -> Response:
    """A missing or stale CSRF token changes nothing and says so."""
    detail = "The form was stale or incomplete (CSRF check failed); nothing was changed. Reload the page and try again."
    return error_answer(400, detail)


def too_many_sign_ins(wait: int) -> Response:
    """Failed sign-ins are the dashboard's one limit: say so, and for how long."""
    detail = localized(
        "Too many failed sign-ins. Please try again in %(wait)s.", {"wait": timedelta(seconds=wait)}
    )
    return error_answer(429, detail, headers={"Retry-After": str(wait)})


def message_page(
    title: str, message: str, status: int, back: str | None = None
) -> ResponseReturnValue:
    """A page that says why an action did not happen (``back`` defaults to the queue)."""
    return render_template(
        "dashboard/message.html", title=title, message=message, back=back
    ), status


def found_or_404(lookup: Callable[[], T]) -> T:
    """What ``lookup()`` finds; a domain error (an unknown site, account or integration)
    ends the request with the "Not found" page."""
    try:
        return lookup()
    except DomainError as error:
        abort(make_response(message_page("Not found", str(error), 404)))


def stale_confirmation() -> ResponseReturnValue:
    """A confirmation form (a button) whose token has gone stale: nothing changed."""
    return message_page("Nothing changed", "The form was stale; try again.", 400)


def moderator() -> Moderator:
    """The signed-in moderator."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def show_once(
    kind: str,
    shown: dict[str, str],
    endpoint: str,
    without_session: Callable[[], ResponseReturnValue],
) -> ResponseReturnValue:
    """Post/Redirect/Get for a secret shown once (a new integration's or a rotated secret,
    a reset password): it waits, sealed, on the server-side session for the page
    ``endpoint``, which shows it and forgets it. Reloading that page posts nothing again,
    and the secret travels in no URL, cookie or log line. When the action ended this very
    session, ``without_session`` answers instead (a reload of it is refused: no session)."""
    if not dashboard_sessions.keep_to_show_once(
        moderator().session_key, _secret_key(), {**shown, "kind": kind}
    ):
        return without_session()
    return redirect(url_for(endpoint), code=303)


def shown_once(kind: str) -> dict[str, str]:
    """What :func:`show_once` kept for a page of ``kind``, this once; else ``{}``."""
    return dashboard_sessions.take_shown_once(moderator().session_key, _secret_key(), kind) or {}


def _secret_key() -> str:
    return str(current_app.config["SECRET_KEY"])


def site_scope() -> frozenset[int] | None:
    """The ids of the sites the signed-in moderator may see (``None``: every site), read
    once per request. Every view that shows or changes comments passes it to the service:
    anything outside answers as if it did not exist."""
    if "site_scope" not in g:
        g.site_scope = visible_site_ids(moderator())
    scope: frozenset[int] | None = g.site_scope
    return scope


def safe_next(target: str | None, default: str) -> str:
    """Only same-site dashboard paths are followed after an action (no open redirects)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/dashboard") or "\\" in target:
        return default
    if any(ord(character) < 32 for character in target):
        return default
    return target
