"""The embeddable widget in a real browser (Debian's Chromium through Playwright).

A host page on one origin (``http://127.0.0.1:A``, a tiny ``http.server``) embeds the widget
served by a real ``moderation serve`` process reached as ``http://localhost:B``: two different
sites to the browser, so this is a genuine cross-site embed with the browser's own rules
(CSP ``frame-ancestors``, ``postMessage`` origins, partitioned storage) applied.

Set ``SCREENSHOT_DIR`` to also save the README's screenshots of the widget (English and
Indonesian).
"""

from __future__ import annotations

import os
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Browser, Frame, Page, expect

from tests.browsing import FRAME, TIMEOUT_MS, answered_in, widget_frame
from tests.helpers import Actions, approve
from tests.host_sites import HostSite, embed_snippet, post_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: A person takes a moment to write; the spam rule holds forms sent faster than 3 s.
FILL_SECONDS = 3.5
SITE = "blog"

EMAIL_ERROR = "Please enter a valid email address."
AWAITING = "Your comment is awaiting moderation."
REMEMBER = "Save my name, email, and website in this browser for the next time I comment."

#: The host page reaching into the widget's storage: the browser must refuse.
READ_FRAME_STORAGE = """() => {
    try {
        return document.querySelector('#comments iframe').contentWindow.localStorage.length;
    } catch (error) {
        return error.name;
    }
}"""

#: The blog's own look around the widget.
HOST_STYLE = (
    "<style>body { font-family: sans-serif; margin: 0 auto; max-width: 680px; padding: 16px; }"
    "</style>"
)


# --- the service and the host sites: tests/browsing.py's fixtures ----------------------


@pytest.fixture(scope="module")
def serve_settings() -> dict[str, str]:
    """The spam rules' own timing (a person posts as fast as this test does); room for many
    posts from 127.0.0.1, and a decision made in this process shows at the next request."""
    return {
        "LIMIT_SUBMIT_PER_ADDRESS": "1000/minute",
        "LIMIT_SUBMIT_PER_EMAIL": "1000/minute",
        "PUBLIC_READ_STALENESS": "0",
    }


@pytest.fixture(scope="module")
def site(service_app: Flask, host: HostSite) -> str:
    """The blog registered with its origin (premoderated), flood interval off."""
    Actions(service_app).create_site(SITE, [host.origin], flood_seconds=0)
    return SITE


def blog_post(site: HostSite, service: str, thread: str, lang: str = "") -> str:
    """The address of a post on ``site`` embedding the widget for ``thread``."""
    attributes = f' data-lang="{lang}"' if lang else ""
    embed = embed_snippet(service, SITE, thread, attributes)
    return site.add(f"/{thread}-{lang}", post_page(f"Post {thread}", embed, HOST_STYLE))


# --- helpers ---------------------------------------------------------------------------


def assert_sized_to_content(page: Page, frame: Frame) -> int:
    """The iframe's height, set from the widget's postMessage, is its content's height."""
    content = 0
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        content = frame.evaluate(
            "() => Math.ceil(document.documentElement.getBoundingClientRect().height)"
        )
        styled = page.locator(FRAME).evaluate("frame => frame.style.height")
        if styled == f"{max(100, content)}px":
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"iframe height {styled!r} never matched its content ({content}px)")
    assert content > 300, "the widget with its form is taller than the 300px minimum"
    box = page.locator(FRAME).bounding_box()
    assert box is not None and abs(box["height"] - content) <= 1
    return content


def wait_for_fill_time(since: float) -> None:
    """Let the realistic time to write a comment pass, counted from the form's load."""
    remaining = since + FILL_SECONDS - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode())


def stored(app: Flask, text: str) -> Any:
    """The one comment whose text is ``text`` (as the database holds it)."""
    from sqlalchemy import select

    from moderation.extensions import db
    from moderation.models import Comment

    with app.app_context():
        comments = db.session.execute(select(Comment).where(Comment.text == text)).scalars()
        found = list(comments)
        db.session.expunge_all()
        db.session.remove()
    assert len(found) == 1, found
    return found[0]


def save_screenshots(new_page: Any, host: HostSite, service: str, thread: str) -> None:
    """The README's pictures: the widget with an approved comment, English and Indonesian."""
    directory = os.environ.get("SCREENSHOT_DIR")
    if not directory:
        return
    Path(directory).mkdir(parents=True, exist_ok=True)
    for lang, title, name in (
        ("en", "Leave a Reply", "widget-en.png"),
        ("id", "Tinggalkan Balasan", "widget-id.png"),
    ):
        page = new_page(locale="en-US")
        page.goto(blog_post(host, service, thread, lang))
        frame = widget_frame(page)
        expect(page.frame_locator(FRAME).locator("#reply-title")).to_have_text(title)
        assert_sized_to_content(page, frame)
        page.locator("#comments").screenshot(path=str(Path(directory) / name))


# --- the tests -------------------------------------------------------------------------


def test_embedded_widget_across_sites(
    site: str,
    host: HostSite,
    stranger: HostSite,
    service: str,
    service_app: Flask,
    new_page: Any,
) -> None:
    thread = "post-1"
    text = "Cross-site comments work in a real browser."
    email = "ann.visitor@example.org"

    # 1-2. the blog embeds the widget from the other origin; the frame sizes itself
    page = new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(blog_post(host, service, thread))
    frame = widget_frame(page)
    loaded = time.monotonic()
    assert frame.url.startswith(f"{service}/w/{site}?")
    assert parse_qs(urlsplit(frame.url).query)["origin"] == [host.origin]
    assert_sized_to_content(page, frame)
    assert page.locator(FRAME).evaluate("frame => frame.style.minHeight") == "0px"
    widget = page.frame_locator(FRAME)
    expect(widget.locator("#reply-title")).to_have_text("Leave a Reply")
    expect(widget.get_by_text("No comments yet. Be the first to reply!")).to_be_visible()

    # 3. an invalid email: the inline error, every other input kept
    widget.get_by_role("textbox", name="Comment", exact=True).fill(text)
    widget.get_by_role("textbox", name="Name", exact=True).fill("Ann Visitor")
    widget.get_by_role("textbox", name="Email", exact=True).fill("ann.visitor-at-example.org")
    widget.get_by_role("textbox", name="Website", exact=True).fill("https://ann.example")
    # Playwright's Chromium gives cross-site frames no storage: nothing could be
    # remembered, so the widget does not offer to (see the storage test below)
    expect(widget.locator(".comment-form-cookies-consent")).to_be_hidden()
    with answered_in(frame):
        widget.get_by_role("button", name="Post Comment").click()
    expect(widget.locator("#email-error")).to_have_text(EMAIL_ERROR)
    expect(widget.locator("#email")).to_have_attribute("aria-invalid", "true")
    expect(widget.locator("#email")).to_have_attribute(
        "aria-describedby", "email-error email-notes"
    )
    expect(widget.locator("#email")).to_be_focused()
    expect(widget.locator("#comment")).to_have_value(text)
    expect(widget.locator("#author")).to_have_value("Ann Visitor")
    expect(widget.locator("#email")).to_have_value("ann.visitor-at-example.org")
    expect(widget.locator("#url")).to_have_value("https://ann.example")

    # ... fixed and posted: the author alone sees the pending preview
    widget.get_by_role("textbox", name="Email", exact=True).fill(email)
    wait_for_fill_time(loaded)
    with answered_in(frame):
        widget.get_by_role("button", name="Post Comment").click()
    preview = widget.locator(".comment-preview")
    expect(preview.locator(".comment-awaiting-moderation")).to_have_text(AWAITING)
    expect(preview.locator(".comment-content")).to_have_text(text)
    expect(preview.locator(".fn")).to_have_text("Ann Visitor")
    assert "unapproved=" in frame.url
    assert_sized_to_content(page, frame)

    comment = stored(service_app, text)
    assert comment.status.value == "pending", (comment.status, comment.held_reason)
    assert comment.email == email

    other = new_page()
    other.goto(blog_post(host, service, thread))
    widget_frame(other)
    expect(other.frame_locator(FRAME).get_by_text("No comments yet.")).to_be_visible()
    expect(other.frame_locator(FRAME).get_by_text(text)).to_have_count(0)

    # 4. approved through the service layer: the comment is there for everyone
    approve(service_app, comment.id)
    # (approved in another process: the server looks again at once, PUBLIC_READ_STALENESS=0)
    page.reload()
    frame = widget_frame(page)
    entry = page.frame_locator(FRAME).locator(f"#comment-{comment.id}")
    expect(entry.locator(".comment-content")).to_have_text(text)
    expect(page.frame_locator(FRAME).locator(".comment-awaiting-moderation")).to_have_count(0)
    # Playwright's Chromium denies this third-party frame any storage (reading
    # localStorage throws): the widget must not break on it
    assert errors == []

    visitor = new_page()
    visitor.goto(blog_post(host, service, thread))
    visitor_frame = widget_frame(visitor)
    assert_sized_to_content(visitor, visitor_frame)
    seen = visitor.frame_locator(FRAME)
    expect(seen.locator(".comments-title")).to_have_text("1 comment")
    expect(seen.locator(f"#comment-{comment.id} .comment-content")).to_have_text(text)
    expect(seen.locator(f"#comment-{comment.id} .fn a")).to_have_attribute(
        "href", "https://ann.example"
    )
    expect(seen.locator("#author")).to_have_value("")
    expect(seen.locator("#email")).to_have_value("")
    for rendered in (visitor_frame.content(), frame.content(), fetch(visitor_frame.url)):
        assert email not in rendered
        assert "ann.visitor@" not in rendered

    # 5. a page on an origin the site does not allow gets no widget
    blocked = new_page()
    refused: list[str] = []
    blocked.on("console", lambda message: refused.append(message.text))
    blocked.goto(blog_post(stranger, service, thread))
    handle = blocked.locator(FRAME).element_handle()
    deadline = time.monotonic() + 5
    stranger_frame = handle.content_frame()
    while time.monotonic() < deadline:
        stranger_frame = handle.content_frame()
        if stranger_frame is not None and stranger_frame.url.startswith("chrome-error://"):
            break
        time.sleep(0.1)
    assert stranger_frame is not None
    assert stranger_frame.url.startswith("chrome-error://"), stranger_frame.url
    assert stranger_frame.locator("#commentform").count() == 0
    assert "Leave a Reply" not in stranger_frame.content()
    assert blocked.locator(FRAME).evaluate("frame => frame.style.height") == ""
    assert any("frame-ancestors" in line for line in refused), refused

    save_screenshots(new_page, host, service, thread)


def test_widget_page_without_javascript(site: str, service: str, new_page: Any) -> None:
    page = new_page(java_script_enabled=False)
    text = "Posted with JavaScript turned off."
    url = f"{service}/w/{site}?thread=no-js"
    page.goto(url)
    loaded = time.monotonic()
    expect(page.locator("#reply-title")).to_have_text("Leave a Reply")

    # a validation round-trip: the server's inline error, the input kept
    page.get_by_role("textbox", name="Comment", exact=True).fill(text)
    page.get_by_role("textbox", name="Email", exact=True).fill("bo@example.net")
    page.get_by_role("button", name="Post Comment").click()
    expect(page.locator("#author-error")).to_have_text("Please enter your name.")
    expect(page.locator("#form-notice")).to_have_text(
        "Please correct the marked fields and post again."
    )
    expect(page.locator("#comment")).to_have_value(text)
    expect(page.locator("#email")).to_have_value("bo@example.net")

    page.get_by_role("textbox", name="Name", exact=True).fill("Bo No-Script")
    wait_for_fill_time(loaded)
    page.get_by_role("button", name="Post Comment").click()
    expect(page.locator(".comment-awaiting-moderation")).to_have_text(AWAITING)
    expect(page.locator(".comment-preview .comment-content")).to_have_text(text)
    parts = urlsplit(page.url)
    assert parts.path == f"/w/{site}"
    assert parts.fragment.startswith("comment-")
    assert "unapproved" in parse_qs(parts.query)
    # a new form to post again, and the email never shown back
    expect(page.locator("#comment")).to_have_value("")
    assert "bo@example.net" not in page.content()


def test_widget_remembers_the_author_in_its_own_storage(
    site: str, host: HostSite, service: str, stock_page: Any
) -> None:
    thread = "remember-me"
    key = f"moderation:{site}:author"
    page = stock_page()
    page.goto(blog_post(host, service, thread))
    widget_frame(page)
    widget = page.frame_locator(FRAME)
    # the visitor ticks the box, forgets the comment itself and posts
    widget.get_by_role("textbox", name="Name", exact=True).fill("Cy Returning")
    widget.get_by_role("textbox", name="Email", exact=True).fill("cy@example.com")
    widget.get_by_role("textbox", name="Website", exact=True).fill("https://cy.example")
    widget.get_by_label(REMEMBER).check()
    widget.get_by_role("button", name="Post Comment").click()
    expect(widget.locator("#comment-error")).to_be_visible()

    # the next visit: name, email and website filled in, the box still ticked
    page.goto(blog_post(host, service, thread))
    frame = widget_frame(page)
    widget = page.frame_locator(FRAME)
    expect(widget.locator("#author")).to_have_value("Cy Returning")
    expect(widget.locator("#email")).to_have_value("cy@example.com")
    expect(widget.locator("#url")).to_have_value("https://cy.example")
    expect(widget.locator("#wp-comment-cookies-consent")).to_be_checked()
    expect(widget.locator("#comment")).to_have_value("")
    # the author's name, and (new sites give 15 minutes) the edit key of their comment
    stored = sorted(frame.evaluate("() => Object.keys(localStorage)"))
    assert stored == sorted([key, f"moderation:{site}:edits:{thread}"])
    # the host page cannot read what the widget remembered
    host_view = page.evaluate("(key) => [localStorage.length, localStorage.getItem(key)]", key)
    assert host_view == [0, None]
    assert page.evaluate(READ_FRAME_STORAGE) == "SecurityError"
    # another visitor's widget knows nothing of it
    other = stock_page()
    other.goto(blog_post(host, service, thread))
    widget_frame(other)
    expect(other.frame_locator(FRAME).locator("#author")).to_have_value("")
    expect(other.frame_locator(FRAME).locator("#email")).to_have_value("")


def test_widget_is_usable_at_320_pixels_and_by_keyboard(
    site: str, service: str, browser: Browser
) -> None:
    """Nothing overflows a 320 px phone, and Tab walks the form in order, skipping the
    hidden honeypot."""
    context = browser.new_context(viewport={"width": 320, "height": 640})
    try:
        page = context.new_page()
        page.goto(f"{service}/w/{site}?thread=narrow")
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        for name in ("comment", "author", "email", "url"):
            box = page.locator(f"#{name}").bounding_box()
            assert box is not None
            assert box["x"] >= 0
            assert box["x"] + box["width"] <= 320
        page.locator("#comment").focus()
        order = []
        for _ in range(6):
            page.keyboard.press("Tab")
            order.append(page.evaluate("document.activeElement.id"))
        assert order == [
            "author",
            "email",
            "url",
            "wp-comment-cookies-consent",
            "subscribe_comments",
            "submit",
        ]
        # every field has a label the browser announces
        for name in (
            "comment",
            "author",
            "email",
            "url",
            "wp-comment-cookies-consent",
            "subscribe_comments",
        ):
            assert page.locator(f"label[for='{name}']").count() == 1
    finally:
        context.close()
