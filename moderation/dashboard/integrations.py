"""Admin pages for integrations: create, rotate the secret (shown once), disable and
enable, delivery log."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from wtforms import SelectChoice

from moderation.dashboard.auth import admin_required, fresh_sign_in_required
from moderation.dashboard.blueprint import bp, message_page, moderator, stale_confirmation
from moderation.dashboard.forms import ConfirmForm, IntegrationForm
from moderation.domain.errors import DomainError
from moderation.services import integrations, sites, webhooks
from moderation.services.moderators import actor_of
from moderation.web.origins import own_origin


def _form() -> IntegrationForm:
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
    """Every integration, with a form to add one."""
    return _page(_form())


@bp.post("/integrations")
@admin_required
@fresh_sign_in_required("dashboard.list_integrations")
def create_integration() -> ResponseReturnValue:
    """Create an integration; its secret is shown on this answer only."""
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
            return _page(_form(), 201, secret=secret, created=integration.public_id)
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
    return _page(_form(), secret=secret, created=public_id)


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
    try:
        integration = integrations.get_integration(public_id)
    except DomainError as error:
        return message_page("Not found", str(error), 404)
    deliveries = webhooks.deliveries_of(integration.id)
    attempts = webhooks.attempts_of([delivery.id for delivery in deliveries])
    return render_template(
        "dashboard/deliveries.html",
        integration=integration,
        deliveries=deliveries,
        attempts=attempts,
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
