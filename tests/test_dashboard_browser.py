"""The moderation dashboard in a real browser (Debian's Chromium through Playwright).

A real ``moderation serve`` process on ``http://127.0.0.1:PORT`` with its default settings
for the session cookie (``Secure``): a moderator signs in, approves a comment with the
keyboard, rejects two in bulk, finds the three decisions in the audit log and sees the
result on the public widget page.

Set ``SCREENSHOT_DIR`` to also save the README's screenshots of the dashboard (the queue and
a comment's detail page, 1280x900).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browsing import QUICK_SETTINGS, post_through_the_api, served
from tests.helpers import Actions
from tests.servers import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIMEOUT_MS = 15_000
VIEWPORT = {"width": 1280, "height": 900}
#: The blog's page, as comments posted through the JSON API name it (never contacted).
ORIGIN = "https://blog.example"
SITE = "blog"
USERNAME = "mo"
PASSWORD = "a long passphrase 123"


# --- the service -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, migrated_database: str
) -> Iterator[ServerProcess]:
    """``moderation serve`` as a real process, with the blog and a moderator account; form
    tokens usable at once and room for many posts, so seeding through the JSON API is
    quick. The session cookie keeps its default (Secure)."""

    def setup(app: Flask) -> None:
        Actions(app).create_site(SITE, [ORIGIN], flood_seconds=0)
        Actions(app).create_moderator(USERNAME, "moderator", PASSWORD)

    with served(
        tmp_path_factory.mktemp("dashboard-browser"),
        setup,
        template=migrated_database,
        **QUICK_SETTINGS,
    ) as process:
        yield process


def post_comment(
    server: ServerProcess,
    thread: str,
    text: str,
    author: str,
    url: str = "",
    parent: int | None = None,
) -> int:
    """A comment sent through the public JSON API, as a custom front end does: its id."""
    fields = {
        "comment": text,
        "author": author,
        "email": f"{author.split()[0].lower()}@example.org",
    }
    if url:
        fields["url"] = url
    if parent is not None:
        fields["comment_parent"] = str(parent)
    answer = post_through_the_api(server.url, SITE, ORIGIN, thread, dict(fields))
    assert answer["status"] == "pending", answer
    return int(answer["id"])


# --- the browser -----------------------------------------------------------------------


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (a new moderator's browser) that must see no script errors."""
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    tab = context.new_page()
    tab.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield tab
    finally:
        context.close()
    assert errors == [], errors


def sign_in(page: Page, server: ServerProcess) -> None:
    """Sign in through the form; the queue follows."""
    page.goto(f"{server.url}/dashboard/")
    expect(page).to_have_url(re.compile(r"/dashboard/sign-in"))
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.url}/dashboard/")
    expect(page.locator(".topbar .who")).to_have_text(f"{USERNAME} (moderator)")
    # the URL changes when the answer starts; keys only work once dashboard.js has run
    page.wait_for_load_state("load")


def entry(page: Page, comment_id: int) -> Locator:
    return page.locator(f'article.entry[data-comment-id="{comment_id}"]')


def count(page: Page, status: str) -> Locator:
    return page.locator(f'.count[data-status="{status}"]')


def has_class(name: str) -> re.Pattern[str]:
    return re.compile(rf"(^|\s){re.escape(name)}(\s|$)")


def audit_rows(page: Page) -> list[list[str]]:
    """The audit log's rows as the moderator reads them, cell by cell."""
    rows: list[list[str]] = page.locator("table.events tbody tr").evaluate_all(
        "rows => rows.map(row => Array.from(row.cells, cell => cell.innerText.trim()))"
    )
    return rows


def entries_order(page: Page, ids: list[int]) -> list[int]:
    """``ids`` in the order the queue shows them."""
    shown = [
        int(value)
        for value in page.locator("article.entry").evaluate_all(
            "entries => entries.map(entry => entry.dataset.commentId)"
        )
    ]
    return sorted(ids, key=shown.index)


# --- tests -----------------------------------------------------------------------------


def test_keyboard_and_bulk_moderation_reach_the_audit_log_and_the_widget(
    server: ServerProcess, page: Page
) -> None:
    thread = "post-1"
    rejected_texts = {
        "Buy cheap watches, best prices in town!": "Bo Seller",
        "First!!!1 nothing else to say": "Cy Hurry",
    }
    rejected = [post_comment(server, thread, text, a) for text, a in rejected_texts.items()]
    kept_text = "Keyboard moderation works: a thoughtful comment worth publishing."
    # the newest comment is the first entry of the queue (newest first by default)
    kept = post_comment(server, thread, kept_text, "Ann Reader", url="https://ann.example")

    sign_in(page, server)
    # the default session cookie is Secure, and Chromium keeps it on http://127.0.0.1
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    assert cookies["moderation_session"]["secure"] is True
    assert cookies["moderation_session"]["httpOnly"] is True

    entries = page.locator("article.entry")
    expect(entries).to_have_count(3)
    assert entries.first.get_attribute("data-comment-id") == str(kept)
    expect(count(page, "pending")).to_have_text("3")
    expect(count(page, "approved")).to_have_text("0")

    # ? opens the keyboard help; Escape closes it again
    help_dialog = page.locator("dialog#keyboard-help")
    expect(help_dialog).to_be_hidden()
    page.keyboard.press("?")
    expect(help_dialog).to_be_visible()
    expect(help_dialog.get_by_role("heading", name="Keyboard")).to_be_visible()
    expect(help_dialog.locator("dl.keys")).to_contain_text("approve")
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()
    # keys typed on a button are the button's; the browser moves the focus out of the
    # closed dialog at its next frame, so wait for that before typing on
    page.wait_for_function("() => !document.activeElement.closest('dialog')")

    # j focuses the first entry, a approves it in place; the focus moves on
    page.keyboard.press("j")
    expect(entry(page, kept)).to_have_class(has_class("focused"))
    page.keyboard.press("a")
    expect(entry(page, kept)).to_have_class(has_class("status-approved"))
    expect(entry(page, kept).locator(".badge")).to_have_text("approved")
    expect(entry(page, kept).get_by_role("status")).to_have_text(f"Comment {kept} approved.")
    expect(count(page, "pending")).to_have_text("2")
    expect(count(page, "approved")).to_have_text("1")
    expect(entry(page, kept)).not_to_have_class(has_class("focused"))
    first, second = (entry(page, cid) for cid in entries_order(page, rejected))
    expect(first).to_have_class(has_class("focused"))

    # x selects the focused entry, j moves on, x selects the next one
    page.keyboard.press("x")
    page.keyboard.press("j")
    expect(second).to_have_class(has_class("focused"))
    page.keyboard.press("x")
    for cid in rejected:
        expect(page.locator(f'input[name="ids"][value="{cid}"]')).to_be_checked()
    expect(page.locator(f'input[name="ids"][value="{kept}"]')).not_to_be_checked()

    # ... and both rejected at once with the bulk form
    bulk = page.locator("#bulk-form")
    bulk.locator('select[name="action"]').select_option("reject")
    bulk.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("status").filter(has_text="comments rejected")).to_have_text(
        "2 comments rejected."
    )
    expect(count(page, "pending")).to_have_text("0")
    expect(count(page, "approved")).to_have_text("1")
    expect(count(page, "rejected")).to_have_text("2")
    expect(page.locator("article.entry")).to_have_count(0)
    expect(page.locator(".entries .empty")).to_contain_text("The queue is clear.")

    # the audit log names the moderator, the action and the comment of every decision
    page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    decisions = {
        (row[3], row[2]): row
        for row in audit_rows(page)
        if row[2] in {"approve", "reject"} and row[1] == f"moderator: {USERNAME}"
    }
    assert decisions.keys() == {
        (str(kept), "approve"),
        (str(rejected[0]), "reject"),
        (str(rejected[1]), "reject"),
    }, audit_rows(page)
    assert decisions[(str(kept), "approve")][4] == "pending → approved"
    for cid in rejected:
        assert decisions[(str(cid), "reject")][4] == "pending → rejected"
    # the comment column links to the comment's page
    page.locator("table.events tbody tr").filter(
        has=page.get_by_role("link", name="approve", exact=True)
    ).get_by_role("link", name=str(kept), exact=True).click()
    expect(page).to_have_url(f"{server.url}/dashboard/comments/{kept}")
    expect(page.get_by_role("heading", name=f"Comment {kept}")).to_be_visible()

    # the public widget page: the approved comment, and neither rejected one
    page.goto(f"{server.url}/w/{SITE}?thread={thread}")
    expect(page.locator(".comments-title")).to_have_text("1 comment")
    expect(page.locator(f"#comment-{kept} .comment-content")).to_have_text(kept_text)
    expect(page.locator(f"#comment-{kept} .fn a")).to_have_attribute("href", "https://ann.example")
    for cid, text in zip(rejected, rejected_texts, strict=True):
        expect(page.locator(f"#comment-{cid}")).to_have_count(0)
        expect(page.get_by_text(text)).to_have_count(0)


def test_queue_shows_replies_links_and_rules(server: ServerProcess, page: Page) -> None:
    """A varied queue: websites, a reply to a published comment, a comment the link rule
    held; saved as the README's screenshots when ``SCREENSHOT_DIR`` is set."""
    thread = "release-notes"
    parent = post_comment(
        server,
        thread,
        "The new release notes are much easier to read. Thanks for splitting them up!",
        "Dana Whitfield",
        url="https://dana.example",
    )
    sign_in(page, server)
    # the parent approved with its button (the form that works without JavaScript)
    entry(page, parent).get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status").filter(has_text=f"Comment {parent}")).to_have_text(
        f"Comment {parent} approved."
    )

    farah = post_comment(
        server,
        thread,
        "Is the upgrade from 2.3 safe to run on a live site, or should I schedule downtime?",
        "Farah Okafor",
        url="https://farah.example",
    )
    links = post_comment(
        server,
        thread,
        "Related reading: https://one.example/notes, https://two.example/guide "
        "and https://three.example/faq",
        "Gus Linkman",
    )
    reply = post_comment(
        server,
        thread,
        "Agreed, the <em>Breaking changes</em> section alone saved me an hour.",
        "Eli Moreau",
        parent=parent,
    )
    hana = post_comment(
        server,
        thread,
        "Small typo in the second paragraph: <q>recieve</q> should be <q>receive</q>.",
        "Hana Sato",
        url="https://hana.example/blog",
    )
    ivan = post_comment(server, thread, "Any plans for a dark mode in the widget?", "Ivan Petrov")
    seeded = [farah, links, reply, hana, ivan]

    page.goto(f"{server.url}/dashboard/")
    entries = page.locator("article.entry")
    shown = [int(cid) for cid in entries.evaluate_all("es => es.map(e => e.dataset.commentId)")]
    # pending, newest first (after anything another test left pending, if it failed)
    assert shown[: len(seeded)] == sorted(seeded, reverse=True), shown

    expect(entry(page, reply).locator(".in-reply-to")).to_contain_text("In reply to Dana Whitfield")
    expect(entry(page, reply).locator(".in-reply-to a")).to_have_attribute(
        "href", f"/dashboard/comments/{parent}"
    )
    expect(entry(page, reply).locator(".comment-html em")).to_have_text("Breaking changes")
    expect(entry(page, links).locator(".rule-name")).to_have_text("too_many_links")
    expect(entry(page, links).locator(".rule")).to_contain_text("Contains 3 links")
    expect(entry(page, links).locator(".comment-html a")).to_have_count(3)
    for cid, website in ((farah, "https://farah.example"), (hana, "https://hana.example/blog")):
        expect(entry(page, cid).locator("a.website")).to_have_attribute("href", website)
    expect(entry(page, ivan).locator("a.website")).to_have_count(0)
    expect(entry(page, ivan).locator(".rule-name")).to_have_text("premoderation")

    screenshots = os.environ.get("SCREENSHOT_DIR")
    if screenshots:
        Path(screenshots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(screenshots) / "queue.png"))

    # the detail page: the entry with its context, the edit and reply forms, its history
    entry(page, reply).get_by_role("link", name="Details, edit, reply").click()
    expect(page).to_have_url(f"{server.url}/dashboard/comments/{reply}")
    expect(page.get_by_role("heading", name=f"Comment {reply}")).to_be_visible()
    expect(page.locator(".in-reply-to")).to_contain_text("In reply to Dana Whitfield")
    expect(page.get_by_role("textbox", name="Text")).to_have_value(
        "Agreed, the <em>Breaking changes</em> section alone saved me an hour."
    )
    expect(page.get_by_role("button", name="Publish reply")).to_be_visible()
    history = page.locator("table.events tbody tr")
    expect(history).to_have_count(1)
    expect(history.first).to_contain_text("submitted")
    if screenshots:
        # the whole page, down to the history
        page.screenshot(path=str(Path(screenshots) / "comment.png"), full_page=True)


@pytest.mark.parametrize("clicked", ["help button", "checkbox"])
def test_keys_work_after_clicking_a_button_or_a_checkbox(
    server: ServerProcess, page: Page, clicked: str
) -> None:
    post_comment(server, "keys-after-clicks", f"Waiting for j after the {clicked}.", "Kim Lee")
    sign_in(page, server)
    if clicked == "help button":
        page.get_by_role("button", name="Keyboard: press ?").click()
        help_dialog = page.locator("dialog#keyboard-help")
        expect(help_dialog).to_be_visible()
        help_dialog.get_by_role("button", name="Close").click()
        expect(help_dialog).to_be_hidden()
    else:
        page.locator('input[name="ids"]').first.click()
        expect(page.locator('input[name="ids"]').first).to_be_checked()
    page.keyboard.press("j")
    expect(page.locator("article.entry").first).to_have_class(has_class("focused"), timeout=2_000)
