"""Chromium solves a real ALTCHA challenge in the widget: the vendored widget and its worker
come from the service itself, under the widget's unchanged Content-Security-Policy, and the
comment it was asked for is stored once the browser has done the work."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page

from moderation.services import sites
from tests.browsing import TIMEOUT_MS

pytestmark = [pytest.mark.browser]

SITE = "puzzle"

# The server (``service``) and its application in this process are tests/browsing.py's.


@pytest.fixture(scope="module")
def serve_settings() -> dict[str, str]:
    """The spam rules' timing, a second for a form (the challenge is asked for a link)."""
    return {"SPAM_MIN_FILL_SECONDS": "1"}


@pytest.fixture(scope="module", autouse=True)
def puzzle_site(service_app: Flask) -> None:
    """A site that asks suspicious submissions for an ALTCHA proof of work."""
    with service_app.app_context():
        sites.create_site(SITE, "Puzzle", ["https://blog.example"])
        sites.update_site(SITE, sites.SiteSettings(challenge_suspicious=True, flood_seconds=0))


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 720, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def fill(page: Page, text: str, email: str) -> None:
    page.fill("#comment", text)
    page.fill("#author", "Ann Reader")
    page.fill("#email", email)
    time.sleep(1.1)  # the form token's minimum age, as a person takes to type


def test_chromium_solves_the_challenge_and_the_comment_is_stored(service: str, page: Page) -> None:
    problems: list[str] = []
    elsewhere: list[str] = []
    missing: list[str] = []

    def console(message: Any) -> None:
        if "Content Security Policy" in message.text or "Refused" in message.text:
            problems.append(message.text)

    def request(request: Any) -> None:
        if urlsplit(request.url).hostname not in ("localhost", None):
            elsewhere.append(request.url)

    def response(response: Any) -> None:
        if response.status == 404 and not response.url.endswith("/favicon.ico"):
            missing.append(response.url)

    page.on("console", console)
    page.on("request", request)
    page.on("response", response)
    page.goto(f"{service}/w/{SITE}?thread=links")
    fill(page, "My notes are at https://notes.example/x, have a look.", "ann@example.com")
    page.click("#submit")

    # asked: the page says why and shows the widget, which solves the puzzle by itself
    page.wait_for_selector("#form-challenge altcha-widget")
    assert "solves a small puzzle" in page.inner_text("#form-notice")
    assert page.input_value("#comment").startswith("My notes are at")
    started = time.monotonic()
    page.wait_for_function(
        "() => { const f = document.querySelector('input[name=altcha]'); return f && f.value; }",
        timeout=60_000,
    )
    solved_in = time.monotonic() - started
    page.click("#submit")
    page.wait_for_selector(".comment-awaiting-moderation, [id^=comment-]")
    assert "Your comment is awaiting moderation." in page.content()
    assert page.url.startswith(f"{service}/w/{SITE}?thread=links")
    assert not problems, problems
    assert not elsewhere, elsewhere
    assert not missing, missing
    # the default work (CHALLENGE_COST, CHALLENGE_COUNTER_MAX), as a reader's browser does it
    print(f"\nALTCHA solved by Chromium in {solved_in:.2f} s")


def test_without_javascript_the_page_says_what_to_do(browser: Browser, service: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(f"{service}/w/{SITE}?thread=noscript")
        fill(page, "See https://notes.example/y for more.", "bo@example.com")
        page.click("#submit")
        page.wait_for_selector("#form-challenge")
        text: Any = page.inner_text("#respond")
        assert "needs JavaScript" in text
        assert "what you wrote is kept" in text
        assert page.input_value("#comment").startswith("See https://notes.example/y")
    finally:
        context.close()
