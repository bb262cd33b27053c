"""Admin pages for integrations: create, edit, rotate the secret (shown once), disable and
enable, delete, delivery log."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from wtforms import SelectChoice

from moderation.dashboard.auth import admin_required, fresh_sign_in_required
from moderation.dashboard.blueprint import (
    bp,
    found_or_404,
    message_page,
    moderator,
    show_once,
    shown_once,
    stale_confirmation,
)
from moderation.dashboard.forms import ConfirmForm, IntegrationForm, IntegrationSettingsForm
from moderation.domain.errors import DomainError, NotFound
from moderation.services import integrations, sites, webhooks
from moderation.services.moderators import actor_of
from moderation.web.origins import own_origin


def _form() -> IntegrationForm:
    """The creation form (blank after a creation: the redirect's page is a GET)."""
    form = IntegrationForm()
    form.site.choices = [SelectChoice(site.slug, site.name) for site in sites.list_sites()]
    return form


def _page(
    form: IntegrationForm, status: int = 200, secret: str = "", created: str = ""
) -> ResponseReturnValue:
    return render_template(
        "dashboard/integrations.html",
        integrations=integrations.list_integrations(),
        form=form,
        confirm=ConfirmForm(),
        secret=secret,
        created=created,
        base_url=own_origin(),
    ), status


@bp.get("/integrations")
@admin_required
def list_integrations() -> ResponseReturnValue:
    """Every integration, with a form to add one; after a creation or a rotation, the new
    secret, this once (a reload shows it no more; every dashboard page is ``no-store``)."""
    shown = shown_once("integration")
    return _page(_form(), secret=shown.get("secret", ""), created=shown.get("created", ""))


def _show_secret_once(public_id: str, secret: str) -> ResponseReturnValue:
    """To the integrations page, which shows the secret once (Post/Redirect/Get)."""
    shown = {"created": public_id, "secret": secret}
    return show_once(
        "integration",
        shown,
        "dashboard.list_integrations",
        lambda: _page(_form(), secret=secret, created=public_id),
    )


@bp.post("/integrations")
@admin_required
@fresh_sign_in_required("dashboard.list_integrations")
def create_integration() -> ResponseReturnValue:
    """Create an integration; its secret is shown once, on the page this redirects to."""
    form = _form()
    if form.validate():
        try:
            integration, secret = integrations.create_integration(
                form.name.data or "",
                form.site.data or "",
                integrations.IntegrationSettings(
                    events=tuple(form.events.data or ()),
                    target_url=form.target_url.data or "",
                    scopes=tuple(form.scopes.data or ()),
                    allow_email=bool(form.allow_email.data),
                ),
                bool(current_app.config["WEBHOOK_ALLOW_PRIVATE_TARGETS"]),
                actor_of(moderator()),
            )
        except DomainError as error:
            form.target_url.errors.append(str(error))
        else:
            return _show_secret_once(integration.public_id, secret)
    return _page(form, 400)


@bp.post("/integrations/<public_id>/rotate")
@admin_required
@fresh_sign_in_required("dashboard.list_integrations")
def rotate_integration_secret(public_id: str) -> ResponseReturnValue:
    """A new secret, shown once; the old one keeps working for the grace period, or stops
    at once when the admin asks (``revoke=now``: it may have been stolen)."""
    if not ConfirmForm().validate():
        return stale_confirmation()
    revoke_now = request.form.get("revoke") == "now"
    grace = timedelta(
        hours=0 if revoke_now else float(current_app.config["WEBHOOK_SECRET_GRACE_HOURS"])
    )
    try:
        secret = integrations.rotate_secret(public_id, grace, actor_of(moderator()))
    except DomainError as error:
        return message_page("Not found", str(error), 404)
    return _show_secret_once(public_id, secret)


@bp.post("/integrations/<public_id>/disable")
@admin_required
@fresh_sign_in_required("dashboard.list_integrations")
def disable_integration(public_id: str) -> ResponseReturnValue:
    """Refuse the integration's requests and hold its outbound events."""
    return _set_enabled(public_id, False)


@bp.post("/integrations/<public_id>/enable")
@admin_required
@fresh_sign_in_required("dashboard.list_integrations")
def enable_integration(public_id: str) -> ResponseReturnValue:
    """Accept the integration's requests again; its held events go out."""
    return _set_enabled(public_id, True)


def _set_enabled(public_id: str, enabled: bool) -> ResponseReturnValue:
    if not ConfirmForm().validate():
        return stale_confirmation()
    try:
        integrations.set_enabled(public_id, enabled, actor_of(moderator()))
    except DomainError as error:
        return message_page("Not found", str(error), 404)
    flash(
        f"{public_id} is enabled."
        if enabled
        else f"{public_id} is disabled: its requests are refused and its events wait."
    )
    return redirect(url_for("dashboard.list_integrations"), code=303)


@bp.get("/integrations/<public_id>")
@admin_required
def show_deliveries(public_id: str) -> ResponseReturnValue:
    """The delivery log: every outbound event and its attempts."""
    integration = found_or_404(lambda: integrations.get_integration(public_id))
    deliveries = webhooks.deliveries_of(integration.id)
    attempts = webhooks.attempts_of([delivery.id for delivery in deliveries])
    return render_template(
        "dashboard/deliveries.html",
        integration=integration,
        deliveries=deliveries,
        attempts=attempts,
        payloads={delivery.id: webhooks.logged_payload(delivery) for delivery in deliveries},
        responses={
            attempt.id: webhooks.logged_response(attempt, integration)
            for found in attempts.values()
            for attempt in found
        },
        confirm=ConfirmForm(),
    )


@bp.post("/integrations/<public_id>/deliveries/<int:delivery_id>/redeliver")
@admin_required
def redeliver(public_id: str, delivery_id: int) -> ResponseReturnValue:
    """Send a delivery again (after fixing the receiver)."""
    if not ConfirmForm().validate():
        return stale_confirmation()
    try:
        integration = integrations.get_integration(public_id)
        delivery = webhooks.redeliver(delivery_id, integration.id)
    except DomainError as error:
        return message_page("Not found", str(error), 404)
    flash(f"Delivery {delivery.id} queued again.")
    return redirect(url_for("dashboard.show_deliveries", public_id=public_id), code=303)


def _edit_page(
    public_id: str, form: IntegrationSettingsForm, status: int = 200
) -> ResponseReturnValue:
    integration = found_or_404(lambda: integrations.get_integration(public_id))
    return render_template(
        "dashboard/integration_edit.html", integration=integration, form=form
    ), status


@bp.get("/integrations/<public_id>/edit")
@admin_required
def edit_integration(public_id: str) -> ResponseReturnValue:
    """The integration's URL, events, scopes and email permission, to change."""
    integration = found_or_404(lambda: integrations.get_integration(public_id))
    form = IntegrationSettingsForm(
        formdata=None,
        target_url=integration.target_url,
        events=list(integration.events),
        scopes=list(integration.scopes),
        allow_email=integration.allow_email,
    )
    return _edit_page(public_id, form)


@bp.post("/integrations/<public_id>/edit")
@admin_required
def update_integration(public_id: str) -> ResponseReturnValue:
    """Save the changes (audited); refusals come back inline."""
    form = IntegrationSettingsForm()
    if not form.validate():
        return _edit_page(public_id, form, 400)
    try:
        integrations.update_integration(
            public_id,
            integrations.IntegrationChanges(
                target_url=form.target_url.data or "",
                events=tuple(form.events.data or ()),
                scopes=tuple(form.scopes.data or ()),
                allow_email=bool(form.allow_email.data),
            ),
            bool(current_app.config["WEBHOOK_ALLOW_PRIVATE_TARGETS"]),
            actor_of(moderator()),
        )
    except NotFound as error:
        return message_page("Not found", str(error), 404)
    except DomainError as error:
        form.target_url.errors.append(str(error))
        return _edit_page(public_id, form, 400)
    flash(f"{public_id} is updated.")
    return redirect(url_for("dashboard.list_integrations"), code=303)


@bp.post("/integrations/<public_id>/delete")
@admin_required
def delete_integration(public_id: str) -> ResponseReturnValue:
    """Delete the integration; its pending deliveries are dropped, and the page says how many."""
    if not ConfirmForm().validate():
        return stale_confirmation()
    try:
        dropped = integrations.delete_integration(public_id, actor_of(moderator()))
    except DomainError as error:
        return message_page("Not found", str(error), 404)
    flash(
        f"{public_id} is deleted; {dropped} pending "
        f"deliver{'y was' if dropped == 1 else 'ies were'} dropped (not sent)."
    )
    return redirect(url_for("dashboard.list_integrations"), code=303)
