"""Notifications in the dashboard: the mail set-up, a moderator's own choices, who gets
what (admins), chat hooks, and the log of emails and chat messages beside webhooks'."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from wtforms import SelectChoice

from moderation.dashboard.auth import admin_required
from moderation.dashboard.blueprint import bp, message_page, moderator, stale_confirmation
from moderation.dashboard.forms import ChatHookForm, ConfirmForm, NotifyForm
from moderation.domain.errors import DomainError
from moderation.services import channels, notify_settings, sites, webhooks
from moderation.services.mail import MailSettings
from moderation.services.moderators import actor_of


def _chat_form() -> ChatHookForm:
    form = ChatHookForm()
    form.site.choices = [SelectChoice(site.slug, site.name) for site in sites.list_sites()]
    return form


def _page(
    form: NotifyForm | None = None, chat_form: ChatHookForm | None = None, status: int = 200
) -> ResponseReturnValue:
    me = moderator()
    if form is None:
        form = NotifyForm(data={"email": me.email, "mode": me.notify_mode})
    recipients = notify_settings.who_gets_what()
    context: dict[str, object] = {
        "mail_problem": MailSettings.from_config(current_app.config).problem(),
        "mail": MailSettings.from_config(current_app.config),
        "form": form,
        "mine": next(r for r in recipients if r.moderator.id == me.id),
        "confirm": ConfirmForm(),
    }
    if me.is_admin:
        deliveries = channels.notification_deliveries()
        context.update(
            recipients=recipients,
            chat_form=chat_form or _chat_form(),
            hooks=notify_settings.list_chat_hooks(),
            masked=notify_settings.masked,
            deliveries=deliveries,
            attempts=webhooks.attempts_of([delivery.id for delivery in deliveries]),
        )
    return render_template("dashboard/notifications.html", **context), status


@bp.get("/notifications")
def show_notifications() -> ResponseReturnValue:
    """Mail status and my choices; for admins also who gets what, chat and the log."""
    return _page()


@bp.post("/notifications/me")
def update_my_notifications() -> ResponseReturnValue:
    """Save the signed-in moderator's address and choices (default, then per site)."""
    form = NotifyForm()
    if not form.validate():
        return _page(form, status=400)
    me, actor = moderator(), actor_of(moderator())
    try:
        notify_settings.set_email(me, form.email.data or "", actor)
        notify_settings.set_notify(me, form.mode.data or "each", [], actor)
        for site in sites.list_sites():
            chosen = request.form.get(f"mode-{site.slug}", "")
            if chosen and chosen != me.notify_mode:
                notify_settings.set_notify(me, chosen, [site.slug], actor)
    except DomainError as error:
        form.email.errors.append(str(error))
        return _page(form, status=400)
    flash("Notification settings saved.")
    return redirect(url_for("dashboard.show_notifications"), code=303)


@bp.post("/notifications/chat")
@admin_required
def add_chat_hook() -> ResponseReturnValue:
    """Post a site's held comments to a Slack-compatible incoming webhook."""
    form = _chat_form()
    if form.validate():
        try:
            notify_settings.add_chat_hook(
                form.site.data or "",
                form.url.data or "",
                bool(current_app.config["WEBHOOK_ALLOW_PRIVATE_TARGETS"]),
                actor_of(moderator()),
            )
        except DomainError as error:
            form.url.errors.append(str(error))
        else:
            flash("Chat hook added.")
            return redirect(url_for("dashboard.show_notifications"), code=303)
    return _page(chat_form=form, status=400)


@bp.post("/notifications/chat/<int:hook_id>/remove")
@admin_required
def remove_chat_hook(hook_id: int) -> ResponseReturnValue:
    """Stop posting to a chat hook."""
    if not ConfirmForm().validate():
        return stale_confirmation()
    try:
        notify_settings.remove_chat_hook(hook_id, actor_of(moderator()))
    except DomainError as error:
        return message_page("Not found", str(error), 404)
    flash("Chat hook removed.")
    return redirect(url_for("dashboard.show_notifications"), code=303)


@bp.post("/notifications/<int:delivery_id>/redeliver")
@admin_required
def redeliver_notification(delivery_id: int) -> ResponseReturnValue:
    """Send an email or chat message again (after fixing the server or the hook)."""
    if not ConfirmForm().validate():
        return stale_confirmation()
    try:
        delivery = channels.redeliver_notification(delivery_id)
    except DomainError as error:
        return message_page("Not found", str(error), 404)
    flash(f"Notification {delivery.id} queued again.")
    return redirect(url_for("dashboard.show_notifications"), code=303)
