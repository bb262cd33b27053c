"""Secrets the dashboard shows once (a new integration's secret, a rotated secret, a reset
password) come by Post/Redirect/Get: the POST changes and redirects, the page it leads to
shows the secret from the server-side session once, and a reload shows it no more and
changes nothing again. The secret is in no URL, cookie, log line or cacheable answer, and
the database holds it only sealed, until it is shown."""

from __future__ import annotations

import logging
import re

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from tests.browsing import sign_in_to_dashboard
from tests.helpers import PASSWORD, Actions, Dashboard, Integrator, audit_rows, signed_in
from tests.servers import served_in_thread

SECRET = re.compile(r'<code class="secret">([^<]+)</code>')


@pytest.fixture
def admin(app: Flask, actions: Actions) -> Dashboard:
    actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
    return signed_in(app, actions, "alice")


def cookie_contents(app: Flask, admin: Dashboard) -> str:
    """The dashboard's session cookie, opened (it is signed, not encrypted)."""
    cookie = admin.client.get_cookie(app.config["SESSION_COOKIE_NAME"], path="/dashboard")
    assert cookie is not None
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert serializer is not None
    return repr(serializer.loads(cookie.value))


def account_id(app: Flask, username: str) -> int:
    from moderation.services.moderators import get_by_username

    with app.app_context():
        return get_by_username(username).id


def stored_shown_once(app: Flask) -> list[str]:
    from moderation.extensions import db
    from moderation.models import DashboardSession

    with app.app_context():
        return list(db.session.execute(select(DashboardSession.shown_once)).scalars())


def test_a_new_integration_secret_is_shown_once_after_a_redirect(
    app: Flask, admin: Dashboard, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    created = admin.post("/dashboard/integrations", name="CMS", site="blog", scopes=["submit"])
    assert created.status_code == 303
    assert created.headers["Location"] == "/dashboard/integrations"
    assert "whsec_" not in created.get_data(as_text=True)
    assert all(not sealed or sealed.startswith("v1:") for sealed in stored_shown_once(app))

    shown = admin.client.get("/dashboard/integrations")
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"] == "no-store"
    html = shown.get_data(as_text=True)
    secret = SECRET.search(html).group(1)  # type: ignore[union-attr]
    public_id = re.search(r"Secret of (int_[0-9a-f]+)", html).group(1)  # type: ignore[union-attr]
    assert secret.startswith("whsec_")
    assert stored_shown_once(app) == [""]  # shown: gone from the server too

    again = admin.page("/dashboard/integrations")  # a reload
    assert "whsec_" not in again and "shown only this once" not in again
    assert again.count(f">{public_id}</a>") == 1  # nothing created twice
    assert secret not in cookie_contents(app, admin)
    assert secret not in caplog.text
    # the secret shown is the integration's
    upsert = Integrator(app.test_client(), public_id, secret).send(
        "thread.upsert", {"site": "blog", "thread": "t"}
    )
    assert upsert.status_code == 403  # signed right; this integration may only submit


def test_a_rotated_secret_is_shown_once_and_a_reload_rotates_nothing(
    app: Flask, admin: Dashboard
) -> None:
    admin.post("/dashboard/integrations", name="CMS", site="blog", scopes=["threads"])
    first = admin.page("/dashboard/integrations")
    public_id = re.search(r"Secret of (int_[0-9a-f]+)", first).group(1)  # type: ignore[union-attr]
    rotated = admin.post(f"/dashboard/integrations/{public_id}/rotate")
    assert rotated.status_code == 303
    assert "whsec_" not in rotated.get_data(as_text=True)
    new = SECRET.search(admin.page(rotated.headers["Location"])).group(1)  # type: ignore[union-attr]
    assert SECRET.search(first).group(1) != new  # type: ignore[union-attr]
    assert "whsec_" not in admin.page("/dashboard/integrations")
    assert [action for action, _ in audit_rows(app)].count("integration.rotate") == 1
    answer = Integrator(app.test_client(), public_id, new).send(
        "thread.upsert", {"site": "blog", "thread": "t"}
    )
    assert answer.status_code in (200, 201)


def test_a_reset_password_is_shown_once_after_a_redirect(
    app: Flask, actions: Actions, admin: Dashboard
) -> None:
    actions.create_moderator("bob")
    bob = account_id(app, "bob")
    reset = admin.post(f"/dashboard/moderators/{bob}/reset-password")
    assert reset.status_code == 303
    assert reset.headers["Location"] == "/dashboard/moderators/new-password"
    page = admin.client.get(reset.headers["Location"])
    assert page.headers["Cache-Control"] == "no-store"
    password = SECRET.search(page.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    assert "New password for bob" in page.get_data(as_text=True)
    assert password not in cookie_contents(app, admin)
    reload = admin.client.get(reset.headers["Location"])
    assert reload.status_code == 303 and reload.headers["Location"] == "/dashboard/moderators"
    assert Dashboard(app.test_client()).sign_in("bob", password).status_code == 303


def test_a_secret_waits_for_its_own_page_and_for_its_own_session(
    app: Flask, actions: Actions, admin: Dashboard
) -> None:
    other = signed_in(app, actions, "carol")
    admin.post("/dashboard/integrations", name="CMS", site="blog", scopes=["submit"])
    assert "whsec_" not in other.page("/dashboard/integrations")  # another session
    assert admin.client.get("/dashboard/moderators/new-password").status_code == 303
    assert "whsec_" in admin.page("/dashboard/integrations")  # still waiting for its page


def test_an_admin_resetting_their_own_password_sees_it_on_the_answer(
    app: Flask, admin: Dashboard
) -> None:
    reset = admin.post(f"/dashboard/moderators/{account_id(app, 'alice')}/reset-password")
    assert reset.status_code == 200  # the reset ended this session: nowhere to keep it
    password = SECRET.search(reset.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    again = admin.post(f"/dashboard/moderators/{account_id(app, 'alice')}/reset-password")
    assert again.status_code == 401  # a re-post is refused: signed out
    assert Dashboard(app.test_client()).sign_in("alice", password).status_code == 303


# --- in a real browser -----------------------------------------------------------------


@pytest.mark.browser
def test_reloading_the_secret_page_in_chromium_posts_nothing_again(
    app: Flask, actions: Actions, browser: Browser
) -> None:
    actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
    actions.create_moderator("root", "admin")
    context = browser.new_context()
    context.set_default_timeout(15_000)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    posts: list[str] = []
    page.on(
        "request", lambda request: posts.append(request.url) if request.method == "POST" else None
    )
    with served_in_thread(app) as service:
        sign_in_to_dashboard(page, service, "root", PASSWORD)
        page.goto(f"{service}/dashboard/integrations")
        page.fill("#name", "crm")
        page.get_by_role("button", name="Create").click()
        expect(page).to_have_url(f"{service}/dashboard/integrations")
        expect(page.locator("code.secret")).to_contain_text("whsec_")
        count = len(posts)

        page.reload()
        expect(page.locator("table.list")).to_contain_text("crm")
        expect(page.locator("code.secret")).to_have_count(0)
        assert len(posts) == count  # the reload was a GET
        assert page.locator("table.list tbody tr").count() == 1
        assert dialogs == []
    context.close()
