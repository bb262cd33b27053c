"""Admin pages for moving data and people's data rights: site exports, and a person's
export or erasure (issue 18). Every action is a POST with a CSRF token and a fresh sign-in
(they hand over or destroy personal data)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from flask import Response, flash, redirect, render_template, stream_with_context, url_for
from flask.typing import ResponseReturnValue

from moderation.dashboard.auth import admin_required, fresh_sign_in_required
from moderation.dashboard.blueprint import bp, moderator
from moderation.dashboard.forms import ExportForm, PersonForm
from moderation.domain.errors import DomainError
from moderation.services import sites
from moderation.services.events import Actor
from moderation.services.people import erase_person, export_person

_MEDIA_TYPES = {"jsonl": "application/x-ndjson", "wxr": "application/rss+xml"}
_SUFFIXES = {"jsonl": "jsonl", "wxr": "xml"}


def _actor() -> Actor:
    account = moderator()
    return Actor("moderator", str(account.id), account.username)


def _forms() -> tuple[ExportForm, PersonForm]:
    export_form = ExportForm()
    export_form.site.choices = [(site.slug, site.name) for site in sites.list_sites()]
    return export_form, PersonForm()


def _page(
    status: int = 200, export_form: ExportForm | None = None, person_form: PersonForm | None = None
) -> ResponseReturnValue:
    """The data page, with the forms as posted when they were refused."""
    fresh_export, fresh_person = _forms()
    export_form, person_form = export_form or fresh_export, person_form or fresh_person
    return (
        render_template("dashboard/data.html", export_form=export_form, person_form=person_form),
        status,
    )


def _download(body: Iterable[str] | str, mimetype: str, filename: str) -> Response:
    """A file to save, never kept by a cache (it holds personal data)."""
    return Response(
        body,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


@bp.get("/data")
@admin_required
def show_data() -> ResponseReturnValue:
    """Site exports and people's data requests."""
    return _page()


@bp.post("/data/export")
@admin_required
@fresh_sign_in_required("dashboard.show_data")
def download_export() -> ResponseReturnValue:
    """A site's export, streamed as a download (the same as ``moderation export``)."""
    form, _ = _forms()
    if not form.validate():
        return _page(400, export_form=form)
    fmt = form.format.data or "jsonl"
    # the exporters (and the import formats beside them) load for this download only
    from moderation.services.exporting import export_chunks

    chunks = export_chunks(
        form.site.data, fmt, include_emails=bool(form.include_emails.data), actor=_actor()
    )
    filename = f"{form.site.data}-comments.{_SUFFIXES[fmt]}"
    return _download(stream_with_context(chunks), _MEDIA_TYPES[fmt], filename)


@bp.post("/data/people/export")
@admin_required
@fresh_sign_in_required("dashboard.show_data")
def download_person() -> ResponseReturnValue:
    """Everything stored about one address, as a JSON download."""
    _, form = _forms()
    if not form.validate():
        return _page(400, person_form=form)
    try:
        data = export_person(form.email.data or "")
    except DomainError as error:
        form.email.errors.append(str(error))
        return _page(400, person_form=form)
    return _download(
        json.dumps(data, ensure_ascii=False, indent=2), "application/json", "person-export.json"
    )


@bp.post("/data/people/erase")
@admin_required
@fresh_sign_in_required("dashboard.show_data")
def erase() -> ResponseReturnValue:
    """Erase one address from every comment (anonymise or delete)."""
    _, form = _forms()
    if not form.validate():
        return _page(400, person_form=form)
    if not form.confirm_erase.data:
        form.confirm_erase.errors.append("Nothing was erased: tick the confirmation first.")
        return _page(400, person_form=form)
    try:
        erasure = erase_person(form.email.data or "", form.mode.data or "anonymise", _actor())
    except DomainError as error:
        form.email.errors.append(str(error))
        return _page(400, person_form=form)
    done = "deleted" if erasure.mode.value == "delete" else "anonymised"
    flash(f"{erasure.comments} comment(s) {done}; person {erasure.subject[:16]}.")
    return redirect(url_for("dashboard.show_data"), code=303)
