"""The standalone public pages (home, the data-rights pages, the pages the links in emails
open, error pages) follow the reader's prefers-color-scheme as the widget does: in
Chromium with a dark colour scheme each page has a dark background and every text on it
reads at WCAG AA contrast (4.5:1); with a light scheme, the reverse. The app runs in a
thread of the test (a real HTTP server) so the test can make the email and link tokens."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page

from tests.helpers import Actions, seed_comments
from tests.mail_servers import SmtpSink, deliver, mail_config
from tests.servers import served_in_thread

pytestmark = [pytest.mark.browser]

EMAIL = "ann@example.com"

#: For every element holding text of its own: its colour and the first background
#: behind it (its own or an ancestor's) that is not transparent, else the canvas's.
COLOURS_JS = """() => {
  const parse = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const behind = (element) => {
    for (let node = element; node; node = node.parentElement) {
      const [r, g, b, a = 1] = parse(getComputedStyle(node).backgroundColor);
      if (a >= 0.5) return [r, g, b];
    }
    return null;
  };
  const found = [];
  for (const element of document.body.querySelectorAll('*')) {
    const own = [...element.childNodes].some(
      (node) => node.nodeType === Node.TEXT_NODE && node.textContent.trim());
    const box = element.getBoundingClientRect();
    if (!own || box.width === 0 || box.height === 0) continue;
    if (getComputedStyle(element).visibility === 'hidden') continue;
    found.push({tag: element.tagName, text: element.textContent.trim().slice(0, 40),
                colour: parse(getComputedStyle(element).color).slice(0, 3),
                background: behind(element)});
  }
  return {page: behind(document.body), texts: found};
}"""


def luminance(rgb: list[float]) -> float:
    """WCAG relative luminance of an sRGB colour."""

    def channel(value: float) -> float:
        value /= 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(value) for value in rgb)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: list[float], second: list[float]) -> float:
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def problems(page: Page, scheme: str) -> list[str]:
    """What is wrong with the page's colours in ``scheme``; an empty list if nothing."""
    found: dict[str, Any] = page.evaluate(COLOURS_JS)
    # a page that sets no background shows the browser's canvas: white, unless the page
    # declared it follows a dark colour scheme (then Chromium paints it dark itself)
    canvas = found["page"] or [255, 255, 255]
    wrong = []
    if (luminance(canvas) < 0.2) != (scheme == "dark"):
        wrong.append(f"page background {canvas} is not {scheme}")
    for text in found["texts"]:
        background = text["background"] or canvas
        ratio = contrast(text["colour"], background)
        if ratio < 4.5:
            wrong.append(f"{text['tag']} {text['text']!r}: {ratio:.2f}:1")
    return wrong


@pytest.fixture
def config_overrides(smtp: SmtpSink) -> dict[str, Any]:
    return mail_config(smtp)


@pytest.fixture
def service(app: Flask) -> Iterator[str]:
    with served_in_thread(app) as url:
        yield url


def decision_link(app: Flask, actions: Actions) -> str:
    """A moderator's approve link for a held comment, as the held-comment email carries."""
    from moderation.clock import utcnow
    from moderation.extensions import db
    from moderation.models import EmailLink, Moderator
    from moderation.services.mail_queue import hash_token

    actions.create_moderator("mo")
    (comment_id,) = seed_comments(app, 1, site="blog")
    token = secrets.token_urlsafe(24)
    with app.app_context():
        moderator = db.session.query(Moderator).filter_by(username="mo").one()
        db.session.add(
            EmailLink(
                token_hash=hash_token(token),
                comment_id=comment_id,
                moderator_id=moderator.id,
                created_at=utcnow(),
                expires_at=utcnow() + timedelta(days=1),
            )
        )
        db.session.commit()
    return f"/notify/m/{token}/approve"


@pytest.mark.parametrize("scheme", ["dark", "light"])
def test_standalone_pages_follow_the_readers_colour_scheme(
    app: Flask, actions: Actions, browser: Browser, service: str, smtp: SmtpSink, scheme: str
) -> None:
    actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
    seed_comments(app, 1, site="blog", email=EMAIL)
    approve_path = decision_link(app, actions)
    context = browser.new_context(color_scheme=scheme)
    context.set_default_timeout(15_000)
    page = context.new_page()
    wrong: dict[str, list[str]] = {}

    def check(name: str) -> None:
        wrong[name] = problems(page, scheme)

    try:
        for path in (
            "/",
            "/privacy",
            "/privacy/link/not-a-token",
            "/notify/confirm/forged",
            "/notify/unsubscribe/forged",
            "/notify/moderator-off/forged",
            approve_path,
            "/no-such-page",
        ):
            page.goto(service + path)
            check(path)
        # the data-rights flow, through the emailed link
        page.goto(service + "/privacy")
        page.fill("#email", EMAIL)
        page.get_by_role("button").click()
        page.wait_for_url(re.compile(r"/privacy/sent"))
        check("/privacy/sent")
        deliver(app)
        link = next(url for url in smtp.to(EMAIL)[-1].links() if "/privacy/link/" in url)
        parts = urlsplit(link)
        page.goto(f"{service}{parts.path}?{parts.query}")
        check("/privacy/link/<token>")
        page.goto(f"{service}{parts.path}/erase?{parts.query}")
        check("/privacy/link/<token>/erase")
        with page.expect_navigation():  # without ticking the box: the error shows
            page.get_by_role("button").click()
        check("/privacy/link/<token>/erase (error)")
        page.check("#confirm")
        with page.expect_navigation():
            page.get_by_role("button").click()
        check("erased")
    finally:
        context.close()
    assert {name: issues for name, issues in wrong.items() if issues} == {}
    assert len(wrong) >= 13
