"""Admin pages: sites (settings, embed snippet) and moderators."""

from __future__ import annotations

from typing import TypeVar

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from wtforms import SelectChoice

from moderation.dashboard.auth import admin_required, fresh_sign_in_required, session_policy
from moderation.dashboard.blueprint import (
    bp,
    found_or_404,
    message_page,
    moderator,
    show_once,
    shown_once,
    stale_confirmation,
)
from moderation.dashboard.forms import ConfirmForm, ModeratorForm, ModeratorSitesForm, SiteForm
from moderation.domain.errors import DomainError
from moderation.domain.sites import clean_origins, clean_slug
from moderation.services import dashboard_sessions, moderators, sites
from moderation.services.moderators import actor_of
from moderation.web.origins import own_origin

F = TypeVar("F", ModeratorForm, ModeratorSitesForm)


def _origins(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


@bp.get("/sites")
@admin_required
def list_sites() -> ResponseReturnValue:
    """Every site, with a form to add one."""
    return render_template("dashboard/sites.html", sites=sites.list_sites(), form=SiteForm())


@bp.post("/sites")
@admin_required
def create_site() -> ResponseReturnValue:
    """Register a site from the dashboard."""
    form = SiteForm()
    valid = form.validate()  # then the slug and origins too: every mistake at once
    if _fields_pass(form) and valid:
        try:
            site = sites.create_site(
                form.slug.data or "",
                form.name.data or "",
                _origins(form.origins.data or ""),
                form.policy.data or "premoderate",
            )
        except DomainError as error:
            form.slug.errors.append(str(error))
        else:
            flash(f"Site {site.slug!r} created.")
            return redirect(url_for("dashboard.edit_site", slug=site.slug), code=303)
    return render_template("dashboard/sites.html", sites=sites.list_sites(), form=form), 400


def _fields_pass(form: SiteForm) -> bool:
    """Check the slug and the origins on their own, so a mistake shows beside its field."""
    for field, check in ((form.slug, clean_slug), (form.origins, _checked_origins)):
        try:
            check(field.data or "")
        except DomainError as error:
            field.errors = [*field.errors, str(error)]
    return not (form.slug.errors or form.origins.errors)


def _checked_origins(text: str) -> list[str]:
    return clean_origins(_origins(text))


@bp.route("/sites/<slug>", methods=["GET", "POST"])
@admin_required
def edit_site(slug: str) -> ResponseReturnValue:
    """A site's origins, policy, limits and word lists, and its embed snippet."""
    site = found_or_404(lambda: sites.get_site(slug))
    form = SiteForm(obj=site) if request.method == "GET" else SiteForm()
    if request.method == "GET":
        form.origins.data = "\n".join(site.origins)
        form.policy.data = site.policy.value
        form.comment_format.data = site.comment_format.value
        form.submit_limit.data = site.submit_limit or ""
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                sites.update_site(
                    slug,
                    sites.SiteSettings(
                        name=form.name.data,
                        origins=_origins(form.origins.data or ""),
                        policy=form.policy.data,
                        comment_format=form.comment_format.data or None,
                        max_links=form.max_links.data,
                        flood_seconds=form.flood_seconds.data,
                        max_depth=form.max_depth.data,
                        page_size=form.page_size.data,
                        submit_limit=form.submit_limit.data or "",
                        moderation_words=form.moderation_words.data or "",
                        blocked_words=form.blocked_words.data or "",
                        spam_hold_threshold=form.spam_hold_threshold.data,
                        spam_threshold=form.spam_threshold.data,
                        hold_first_comments=form.hold_first_comments.data,
                        challenge_suspicious=bool(form.challenge_suspicious.data),
                    ),
                )
            except DomainError as error:
                form.origins.errors.append(str(error))
            else:
                flash("Settings saved.")
                return redirect(url_for("dashboard.edit_site", slug=slug), code=303)
        status = 400
    snippet = (
        f'<div id="comments" data-site="{site.slug}" data-thread="UNIQUE-PAGE-KEY"></div>\n'
        f'<script src="{own_origin()}/embed.js" async></script>\n'
        f'<noscript><a href="{own_origin()}/w/{site.slug}?thread=UNIQUE-PAGE-KEY">'
        "Read and post comments</a></noscript>"
    )
    return render_template("dashboard/site.html", site=site, form=form, snippet=snippet), status


def _with_site_choices(form: F) -> F:
    """Offer every site, by name, in the form's ``sites`` checkboxes."""
    form.sites.choices = [SelectChoice(site.slug, site.name) for site in sites.list_sites()]
    return form


def _moderators_page(form: ModeratorForm, status: int = 200) -> ResponseReturnValue:
    accounts = moderators.list_moderators()
    return render_template(
        "dashboard/moderators.html",
        accounts=accounts,
        account_sites=moderators.site_slugs_of(accounts),
        sessions=dashboard_sessions.count_live(session_policy()),
        form=form,
        confirm=ConfirmForm(),
        me=moderator(),
    ), status


@bp.get("/moderators")
@admin_required
def list_moderators() -> ResponseReturnValue:
    """Every account and the sites it sees, with a form to add one."""
    return _moderators_page(_with_site_choices(ModeratorForm()))


@bp.post("/moderators")
@admin_required
@fresh_sign_in_required("dashboard.list_moderators")
def create_moderator() -> ResponseReturnValue:
    """Add an account (limited to the ticked sites; none ticked: every site)."""
    form = _with_site_choices(ModeratorForm())
    if form.validate():
        try:
            account = moderators.create_moderator(
                form.username.data or "",
                form.password.data or "",
                form.role.data or "moderator",
                list(form.sites.data or ()),
            )
        except DomainError as error:
            chose_sites = isinstance(error, moderators.SiteChoiceError)
            target = form.sites if chose_sites else form.password
            target.errors.append(str(error))
        else:
            flash(f"Account {account.username!r} created.")
            return redirect(url_for("dashboard.list_moderators"), code=303)
    return _moderators_page(form, 400)


@bp.get("/moderators/<int:account_id>/sites")
@admin_required
def edit_moderator_sites(account_id: int) -> ResponseReturnValue:
    """The sites one account may see, as ticked boxes."""
    account = found_or_404(lambda: moderators.get_moderator(account_id))
    form = _with_site_choices(ModeratorSitesForm())
    form.sites.data = moderators.site_slugs_of([account]).get(account.id, [])
    return render_template("dashboard/moderator_sites.html", account=account, form=form)


@bp.post("/moderators/<int:account_id>/sites")
@admin_required
@fresh_sign_in_required()
def save_moderator_sites(account_id: int) -> ResponseReturnValue:
    """Choose the sites one account may see (none ticked: every site). Widening what an
    account sees is as sensitive as creating one: it needs a recent password."""
    account = found_or_404(lambda: moderators.get_moderator(account_id))
    form = _with_site_choices(ModeratorSitesForm())
    if form.validate():
        try:
            moderators.set_sites(account_id, list(form.sites.data or ()), actor_of(moderator()))
        except DomainError as error:
            form.sites.errors.append(str(error))
        else:
            flash(f"Sites of {account.username!r} saved.")
            return redirect(url_for("dashboard.list_moderators"), code=303)
    return render_template("dashboard/moderator_sites.html", account=account, form=form), 400


@bp.post("/moderators/<int:account_id>/<any(activate, deactivate):change>")
@admin_required
@fresh_sign_in_required("dashboard.list_moderators")
def set_moderator_active(account_id: int, change: str) -> ResponseReturnValue:
    """Deactivate (ending its sessions) or reactivate an account."""
    if not ConfirmForm().validate():
        return stale_confirmation()
    try:
        account = moderators.set_active(account_id, change == "activate", moderator())
    except DomainError as error:
        return message_page("Not possible", str(error), 409)
    flash(f"Account {account.username!r} {change}d.")
    return redirect(url_for("dashboard.list_moderators"), code=303)


@bp.post("/moderators/<int:account_id>/reset-password")
@admin_required
@fresh_sign_in_required("dashboard.list_moderators")
def reset_moderator_password(account_id: int) -> ResponseReturnValue:
    """A new random password, shown once on the page this redirects to."""
    if not ConfirmForm().validate():
        return stale_confirmation()
    try:
        password = moderators.reset_password(account_id, moderator())
        account = moderators.get_moderator(account_id)
    except DomainError as error:
        return message_page("Not found", str(error), 404)
    shown = {"username": account.username, "password": password}
    return show_once(
        "password",
        shown,
        "dashboard.show_new_password",
        lambda: render_template("dashboard/password.html", **shown),
    )


@bp.get("/moderators/new-password")
@admin_required
def show_new_password() -> ResponseReturnValue:
    """The password just reset, this once; a reload finds it gone (and resets nothing)."""
    shown = shown_once("password")
    if not shown:
        return redirect(url_for("dashboard.list_moderators"), code=303)
    return render_template(
        "dashboard/password.html", username=shown["username"], password=shown["password"]
    )


@bp.post("/moderators/<int:account_id>/sign-out")
@admin_required
def sign_out_moderator(account_id: int) -> ResponseReturnValue:
    """End every session of an account (a lost laptop, a stolen cookie)."""
    if not ConfirmForm().validate():
        return stale_confirmation()
    try:
        account = moderators.get_moderator(account_id)
        ended = dashboard_sessions.sign_out_everywhere(account.username, actor_of(moderator()))
    except DomainError as error:
        return message_page("Not found", str(error), 404)
    flash(f"Account {account.username!r} signed out everywhere ({ended} session(s) ended).")
    return redirect(url_for("dashboard.list_moderators"), code=303)
