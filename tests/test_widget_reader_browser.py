"""What a reader does in the widget on another site's page, in Chromium: a closed thread
says so in the frame; the order the reader chose is remembered; keyboard-only posting with
focus on the result and its announcement; axe on the dashboard's pages.

One server, one host site and one browser for the module (tests/browsing.py's fixtures)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests import browsing
from tests.browsing import answered_in, axe_violations, widget_frame
from tests.helpers import PASSWORD, Actions
from tests.host_sites import HostSite, embed_snippet, post_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SITE = "reads"


@pytest.fixture(scope="module", autouse=True)
def registered(service_app: Flask, host: HostSite) -> None:
    """The site, embedded from the blog (every test here, run alone too, has it)."""
    Actions(service_app).create_site(SITE, [host.origin], flood_seconds=0)


def published(app: Flask, thread: str, text: str, **draft: str) -> int:
    """One approved comment with ``text`` on ``thread`` of this module's site."""
    return browsing.published(app, SITE, thread, text, **draft)


def close_thread(app: Flask, key: str) -> None:
    """A moderator closes thread ``key`` (through the service, as the dashboard does)."""
    from sqlalchemy import select

    from moderation.extensions import db
    from moderation.models import Thread
    from moderation.services import closing
    from moderation.services.events import Actor

    with app.app_context():
        thread_id = db.session.execute(select(Thread.id).where(Thread.key == key)).scalar_one()
        closing.set_open(thread_id, False, Actor("moderator", "1", "tester"))
        db.session.remove()


def open_thread(new_page: Any, host: Any, service: str, thread: str) -> tuple[Page, Any]:
    url = host.add(f"/{thread}", post_page(thread, embed_snippet(service, SITE, thread)))
    page: Page = new_page()
    page.goto(url)
    return page, url


def test_a_closed_thread_says_so_in_the_frame_without_a_form(
    service: str, host: Any, service_app: Flask, new_page: Any
) -> None:
    published(service_app, "closed-thread", "Said before it closed.", author="Gil Early")
    close_thread(service_app, "closed-thread")
    page, _url = open_thread(new_page, host, service, "closed-thread")
    frame = widget_frame(page, ready=".no-comments")
    expect(frame.get_by_text("Comments are closed.")).to_be_visible()
    expect(frame.get_by_text("Said before it closed.")).to_be_visible()
    assert frame.locator("#commentform").count() == 0
    assert frame.get_by_role("link", name="Reply to Gil Early").count() == 0
    assert axe_violations(frame) == []


def test_the_readers_order_is_remembered_on_the_next_visit(
    service: str, host: Any, service_app: Flask, stock_page: Any
) -> None:
    for number in range(3):
        published(service_app, "ordered", f"Ordered comment {number}.")
    page, url = open_thread(stock_page, host, service, "ordered")
    frame = widget_frame(page)
    texts = frame.locator(".comment-content")
    expect(texts.first).to_have_text("Ordered comment 0.")
    frame.get_by_role("link", name="Newest first").click()
    frame = widget_frame(page)
    expect(frame.locator(".comment-content").first).to_have_text("Ordered comment 2.")
    expect(frame.locator(".order-current")).to_have_text("Newest first")

    # the next visit (the host page's snippet says nothing of the order) keeps the choice
    page.goto(url)
    frame = widget_frame(page)
    expect(frame.locator(".comment-content").first).to_have_text("Ordered comment 2.")
    assert re.search(r"[?&]sort=newest", frame.url)
    # back to the site's order, remembered too
    frame.get_by_role("link", name="Oldest first").click()
    page.goto(url)
    frame = widget_frame(page)
    expect(frame.locator(".comment-content").first).to_have_text("Ordered comment 0.")


# --- keyboard only, and what screen readers hear ----------------------------------------


def test_keyboard_only_posting_moves_focus_to_the_result_and_announces_it(
    service: str, host: Any, new_page: Any
) -> None:
    page, _url = open_thread(new_page, host, service, "keyboard")
    frame = widget_frame(page)
    # a mistake first: Space on the button with nothing typed
    frame.locator("#submit").focus()
    with answered_in(frame):
        page.keyboard.press("Space")
    frame.wait_for_selector("#comment-error")
    expect(frame.locator("#comment")).to_be_focused()
    expect(frame.locator("#widget-announcer")).to_have_text(
        "Please correct the marked fields and post again."
    )
    # then the whole form by keyboard: type, Tab, type... Enter on the button
    page.keyboard.type("Typed with the keyboard only.")
    walked = []
    for value in ("Kim Keys", "kim@example.org", ""):
        page.keyboard.press("Tab")
        walked.append(frame.evaluate("() => document.activeElement.id"))
        page.keyboard.type(value)
    while walked[-1] != "submit" and len(walked) < 8:
        page.keyboard.press("Tab")
        walked.append(frame.evaluate("() => document.activeElement.id"))
    # the honeypot is never reached; the boxes the browser can keep are
    assert walked[:3] == ["author", "email", "url"] and walked[-1] == "submit", walked
    assert "contact_phone" not in walked
    with answered_in(frame):
        page.keyboard.press("Enter")
    frame = widget_frame(page, ready=".comment-awaiting-moderation")
    expect(frame.locator(".comment-preview .comment-awaiting-moderation")).to_be_focused()
    expect(frame.locator("#widget-announcer")).to_have_text("Your comment is awaiting moderation.")


def test_keyboard_only_replying_moves_the_form_under_the_comment_and_back(
    service: str, host: Any, service_app: Flask, new_page: Any
) -> None:
    parent = published(service_app, "keyboard-reply", "Answer me by keyboard.", author="Pat")
    page, _url = open_thread(new_page, host, service, "keyboard-reply")
    frame = widget_frame(page)
    form_is_under_parent = f"() => !!document.querySelector('#comment-{parent} #respond')"
    reply = frame.locator(f"#comment-{parent} .comment-reply-link").first
    reply.focus()
    page.keyboard.press("Enter")
    expect(frame.locator("#comment")).to_be_focused()
    assert frame.evaluate(form_is_under_parent)
    # "Cancel reply" by keyboard: the form goes home, focus returns to the Reply link
    frame.locator("#cancel-comment-reply-link").focus()
    page.keyboard.press("Enter")
    expect(reply).to_be_focused()
    assert not frame.evaluate(form_is_under_parent)
    # Enter on Reply again, then the whole reply by keyboard
    page.keyboard.press("Enter")
    expect(frame.locator("#comment")).to_be_focused()
    page.keyboard.type("A reply typed with the keyboard only.")
    walked = []
    for value in ("Kim Keys", "kim-reply@example.org"):
        page.keyboard.press("Tab")
        walked.append(frame.evaluate("() => document.activeElement.id"))
        page.keyboard.type(value)
    while walked[-1] != "submit" and len(walked) < 10:
        page.keyboard.press("Tab")
        walked.append(frame.evaluate("() => document.activeElement.id"))
    assert walked[:2] == ["author", "email"] and walked[-1] == "submit", walked
    with answered_in(frame):
        page.keyboard.press("Enter")
    frame = widget_frame(page, ready=".comment-awaiting-moderation")
    # the pending reply shows right under the comment it answers, and has the focus
    preview = frame.locator(f'li.comment-preview[data-parent="{parent}"]')
    waiting = preview.locator(".comment-awaiting-moderation")
    expect(waiting).to_be_visible()
    expect(waiting).to_be_focused()
    above = preview.evaluate("item => item.previousElementSibling.id")
    assert above == f"comment-{parent}", above


# --- the dashboard, page by page, through axe ------------------------------------------


def test_axe_finds_no_wcag_violation_on_the_dashboard_pages(
    service: str, service_app: Flask, new_page: Any
) -> None:
    from moderation.services import moderators

    comment_id = published(service_app, "dashboard-axe", "Checked by axe.")
    close_thread(service_app, "dashboard-axe")
    with service_app.app_context():
        moderators.create_moderator("axe-admin", PASSWORD, "admin")
    page: Page = new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{service}/dashboard/sign-in")
    found: dict[str, list[str]] = {"sign-in": axe_violations(page.main_frame)}
    page.get_by_label("Username").fill("axe-admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/dashboard/?$"))
    for path in (
        "/dashboard/",
        f"/dashboard/?site={SITE}&thread=dashboard-axe&status=all",
        f"/dashboard/comments/{comment_id}",
        "/dashboard/audit",
        "/dashboard/sites",
        f"/dashboard/sites/{SITE}",
        f"/dashboard/sites/{SITE}/try",
        "/dashboard/moderators",
        "/dashboard/integrations",
        "/dashboard/notifications",
        "/dashboard/data",
        "/dashboard/me",
    ):
        page.goto(f"{service}{path}")
        found[path] = axe_violations(page.main_frame)
    assert {path: issues for path, issues in found.items() if issues} == {}
