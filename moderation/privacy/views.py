"""Views of the data-rights pages: parse, call :mod:`moderation.services.person_links`,
render. A GET only shows; every change is a POST with a CSRF token, so mail scanners that
fetch the emailed link download and erase nothing."""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, gettext

from moderation.privacy.forms import EraseForm, LinkActionForm, PersonRequestForm
from moderation.ratelimit import private_key
from moderation.services import person_links
from moderation.services.person_links import MailUnavailable, OpenedLink
from moderation.web.limits import limiter
from moderation.web.security import keep_private

bp = Blueprint("privacy", __name__, url_prefix="/privacy")
bp.after_request(keep_private)  # the URL holds a credential, the answer is personal


def _email_key() -> str:
    """The per-address limit's key: a keyed hash, never the address, in the storage."""
    return private_key((request.form.get("email") or "").strip().lower())


def _language() -> str:
    return str(get_locale() or "en")


def _page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(f"privacy/{template}.html", lang=_language(), **context), status


@bp.get("")
def show_request() -> ResponseReturnValue:
    """The page: one field, the address to send the link to."""
    return _page("request", form=PersonRequestForm())


@bp.post("")
@limiter.limit(lambda: str(current_app.config["LIMIT_PRIVACY_PER_ADDRESS"]))
@limiter.limit(lambda: str(current_app.config["LIMIT_PRIVACY_PER_EMAIL"]), key_func=_email_key)
def send_link() -> ResponseReturnValue:
    """Email a link to the address, with or without comments: the answer is the same."""
    form = PersonRequestForm()
    if not form.validate():
        return _page("request", 400, form=form)
    try:
        person_links.request_link(form.email.data, _language())
    except MailUnavailable:
        return _page("request", 503, form=form, unavailable=True)
    return redirect(url_for("privacy.sent", lang=_language()), code=303)


@bp.get("/sent")
def sent() -> ResponseReturnValue:
    """What every request gets: look in your inbox."""
    minutes = int(current_app.config["PERSON_LINK_MINUTES"])
    return _page("sent", minutes=minutes)


def _refused(opened: OpenedLink) -> tuple[str, int]:
    """A link that is forged, spent or expired: why, and how to get another."""
    status = 404 if opened.refusal == person_links.UNKNOWN else 410
    return _page("refused", status, refusal=opened.refusal)


def _open(token: str) -> OpenedLink:
    """The link ``token`` opens; a forged, spent or expired one ends the request with
    the refused page."""
    opened = person_links.open_link(token)
    if opened.refusal:
        abort(make_response(_refused(opened)))
    return opened


@bp.get("/link/<token>")
def show_link(token: str) -> ResponseReturnValue:
    """What the emailed link opens: how many comments, and the two buttons."""
    opened = _open(token)
    return _page(
        "link",
        token=token,
        count=person_links.comment_count(opened),
        form=LinkActionForm(),
    )


@bp.post("/link/<token>/download")
def download(token: str) -> ResponseReturnValue:
    """The person's data as a JSON file; the link is spent."""
    if not LinkActionForm().validate():
        return _page("refused", 400, refusal="form")
    opened, data = person_links.download(token)
    if data is None:
        return _refused(opened)
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="my-comments.json"'},
    )


@bp.get("/link/<token>/erase")
def show_erase(token: str) -> ResponseReturnValue:
    """The confirmation step before erasing (nothing is erased by opening it)."""
    opened = _open(token)
    return _page(
        "erase", token=token, count=person_links.comment_count(opened), form=EraseForm(), **_mode()
    )


@bp.post("/link/<token>/erase")
def erase(token: str) -> ResponseReturnValue:
    """Erase, once the box is ticked; the link is spent."""
    form = EraseForm()
    opened = _open(token)
    if not form.validate():
        return _page("refused", 400, refusal="form")
    if not form.confirm.data:
        form.confirm.errors = [gettext("Nothing was erased: tick the box to confirm.")]
        count = person_links.comment_count(opened)
        return _page("erase", 400, token=token, count=count, form=form, **_mode())
    opened, erasure = person_links.erase(token)
    if erasure is None:
        return _refused(opened)
    return _page("erased", count=erasure.comments, **_mode())


def _mode() -> dict[str, bool]:
    """Whether erasing deletes the comments or keeps their words without the person."""
    return {"deletes": str(current_app.config["PERSON_ERASURE_MODE"]) == "delete"}
