"""Re-authentication in a real browser (Debian's Chromium through Playwright): an admin whose
sign-in is no longer fresh tries to create an integration, is asked for the password, gives
it, comes back to the page and creates it; a wrong password changes nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from tests.browsing import served
from tests.helpers import Actions
from tests.servers import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "a long passphrase 123"
FRESH_SECONDS = 3


@pytest.fixture
def server(tmp_path: Path, migrated_database: str) -> Iterator[ServerProcess]:
    """``moderation serve`` where a sign-in stays fresh for a few seconds only."""

    def setup(app: Flask) -> None:
        Actions(app).create_site("blog", ["https://blog.example"])
        Actions(app).create_moderator("root", "admin", PASSWORD)

    with served(
        tmp_path, setup, template=migrated_database, SESSION_FRESH_LIFETIME=str(FRESH_SECONDS)
    ) as process:
        yield process


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_a_stale_sign_in_confirms_the_password_before_creating_an_integration(
    server: ServerProcess, page: Page
) -> None:
    page.goto(f"{server.url}/dashboard/sign-in")
    page.fill("#username", "root")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{server.url}/dashboard/")
    signed_in = time.monotonic()

    page.goto(f"{server.url}/dashboard/integrations")
    # the sign-in is no longer fresh
    time.sleep(max(0.0, signed_in + FRESH_SECONDS + 0.5 - time.monotonic()))
    page.fill("#name", "crm")
    page.get_by_role("button", name="Create").click()

    expect(page).to_have_url(
        f"{server.url}/dashboard/confirm-password?next=/dashboard/integrations"
    )
    expect(page.get_by_role("heading", name="Confirm your password")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("this action needs a recent sign-in")

    page.fill("#password", "not the password")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Wrong password.")).to_be_visible()

    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(f"{server.url}/dashboard/integrations")
    expect(page.get_by_role("status")).to_contain_text("Password confirmed.")
    expect(page.get_by_text("No integrations yet.")).to_be_visible()  # nothing was created

    page.fill("#name", "crm")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_text("it is shown only this once")).to_be_visible()
    expect(page.locator("table.list")).to_contain_text("crm")
