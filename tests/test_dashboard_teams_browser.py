"""Moderators per site and the rough edges a new moderator hit, in a real browser (Debian's
Chromium through Playwright) at a 390 px phone and a 1280 px desktop: pages that fit the
screen, the queue's first comment on the first screen, one Restore that stays right after a
keyboard decision, confirmations that say what will happen, mistakes beside their field,
local times with UTC on hover, and a moderator who sees only their own site. Then two
signed-in moderators at once (one's decision shows in the other's open queue), and the
statistics page's charts.

Set ``SCREENSHOT_DIR`` to also save the README's screenshot of the statistics page (1280 px,
with a few weeks of submissions stored first)."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from moderation import create_app
from tests.browsing import QUICK_SETTINGS, post_through_the_api, served
from tests.helpers import Actions
from tests.servers import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIMEOUT_MS = 15_000
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SITES = {"blog": "https://blog.example", "gazette": "https://gazette.example"}
PASSWORD = "a long passphrase 123"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """``moderation serve``: a blog and a gazette, an admin, and a moderator of the blog."""

    def setup(app: Flask) -> None:
        actions = Actions(app)
        for slug, origin in SITES.items():
            actions.create_site(slug, [origin], flood_seconds=0)
        actions.create_moderator("ad", "admin", PASSWORD)
        actions.create_moderator("mo", "moderator", PASSWORD, sites=["blog"])

    with served(
        tmp_path_factory.mktemp("teams-browser"),
        setup,
        **QUICK_SETTINGS,
        QUEUE_POLL_SECONDS="1",  # the open queue's poll, quick enough to watch
    ) as process:
        yield process


def post_comment(server: ServerProcess, site: str, thread: str, text: str, author: str) -> int:
    """A comment through the public JSON API: its id."""
    email = f"{author.split()[0].lower()}@example.org"
    fields: dict[str, object] = {"comment": text, "author": author, "email": email}
    return int(post_through_the_api(server.url, site, SITES[site], thread, fields)["id"])


@pytest.fixture(params=[PHONE, DESKTOP], ids=["390px", "1280px"])
def viewport(request: pytest.FixtureRequest) -> dict[str, int]:
    return dict(request.param)


def open_page(browser: Browser, viewport: dict[str, int]) -> tuple[Page, list[str]]:
    """A new browser (in Jakarta's time zone) and the script errors it meets."""
    context = browser.new_context(viewport=viewport, timezone_id="Asia/Jakarta")  # type: ignore[arg-type]
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, errors


def sign_in(page: Page, server: ServerProcess, username: str) -> None:
    page.goto(f"{server.url}/dashboard/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.url}/dashboard/")
    page.wait_for_load_state()  # its stylesheet applied: what is measured is what is seen


def assert_fits(page: Page, what: str) -> None:
    """Nothing wider than the screen: no sideways scrolling. (Measured once the page has
    loaded: the text a test waits for is there before the stylesheet has come, and the
    page is wider without it.)"""
    page.wait_for_load_state()
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], (what, widths)


def test_admin_pages_fit_and_ask_before_what_cannot_be_undone(
    server: ServerProcess, browser: Browser, viewport: dict[str, int]
) -> None:
    post_comment(
        server, "blog", "fit", f"A comment for a {viewport['width']} px screen.", "Ann Reader"
    )
    page, errors = open_page(browser, viewport)
    sign_in(page, server, "ad")
    # the first comment is on the first screen, whatever the screen
    first = page.locator("article.entry").first
    box = first.bounding_box()
    assert box is not None and box["y"] < viewport["height"] - 100, box
    for path in (
        "/dashboard/",
        "/dashboard/audit",
        "/dashboard/sites",
        "/dashboard/moderators",
        "/dashboard/integrations",
        "/dashboard/me",
    ):
        page.goto(server.url + path)
        assert_fits(page, path)

    # times: the browser's own zone (Jakarta, UTC+7), UTC on hover
    page.goto(f"{server.url}/dashboard/?status=all")
    stamp = page.locator("article.entry time").first
    expect(stamp).to_have_attribute("title", re.compile(r"UTC$"))
    assert "UTC" not in stamp.inner_text()

    # resetting a password asks first, saying what happens; "Cancel" changes nothing
    page.goto(f"{server.url}/dashboard/moderators")
    questions: list[str] = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    row = page.locator("tr").filter(has_text="mo")
    row.get_by_role("button", name="Reset password").click()
    assert questions and "Reset the password of mo?" in questions[0], questions
    expect(page).to_have_url(f"{server.url}/dashboard/moderators")
    expect(page.locator("code.secret")).to_have_count(0)
    # deactivating asks too
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    row.get_by_role("button", name="Deactivate").click()
    assert "Deactivate mo?" in questions[-1]
    expect(row).to_contain_text("active")
    assert errors == [], errors
    page.context.close()


def test_a_moderator_works_their_site_with_mistakes_in_words_and_one_restore(
    server: ServerProcess, browser: Browser, viewport: dict[str, int]
) -> None:
    width = viewport["width"]
    mine = post_comment(server, "blog", f"keys-{width}", "Mine to judge, on the blog.", "Bo Blog")
    theirs = post_comment(server, "gazette", "scoop", f"Gazette secret {width}", "Cy Gazette")
    page, errors = open_page(browser, viewport)
    sign_in(page, server, "mo")
    expect(page.locator(f'article.entry[data-comment-id="{mine}"]')).to_be_visible()
    expect(page.get_by_text(f"Gazette secret {width}")).to_have_count(0)
    expect(page.locator('select[name="site"] option')).to_have_text(["All sites", "Blog"])
    answer = page.goto(f"{server.url}/dashboard/comments/{theirs}")
    assert answer is not None and answer.status == 404

    # Apply with nothing selected: the reason beside the bulk form, on the queue itself
    page.goto(f"{server.url}/dashboard/")
    if width < 600:
        page.get_by_text("Filters, search and bulk actions").click()
    page.locator("#bulk-form").get_by_role("button", name="Apply").click()
    expect(page.locator("#bulk-error")).to_have_text(
        "Select at least one comment, or tick “everything matching this filter”."
    )
    expect(page.locator("#bulk-error")).to_be_visible()
    assert_fits(page, "queue with a mistake")

    # a keyboard decision: the card then offers Restore (not Approve as well) and Delete
    page.goto(f"{server.url}/dashboard/")
    card = page.locator(f'article.entry[data-comment-id="{mine}"]')
    for _ in range(page.locator("article.entry").count()):
        page.keyboard.press("j")
        if "focused" in (card.get_attribute("class") or ""):
            break
    page.keyboard.press("r")
    expect(card.locator(".badge")).to_have_text("rejected")
    expect(card.locator(".entry-actions button")).to_have_text(["Restore", "Delete"])
    expect(card.get_by_role("status")).to_have_text(f"Comment {mine} rejected.")
    # the same after a reload, from the server
    page.goto(f"{server.url}/dashboard/comments/{mine}")
    expect(page.locator(".entry-actions button")).to_have_text(["Restore", "Delete"])
    page.get_by_role("button", name="Restore").click()
    expect(page.get_by_role("status").filter(has_text="restored")).to_have_text(
        f"Comment {mine} restored."
    )
    assert_fits(page, "comment page")
    assert errors == [], errors
    page.context.close()


def test_a_decision_in_one_browser_shows_in_the_other_open_queue(
    server: ServerProcess, browser: Browser
) -> None:
    decided = post_comment(server, "blog", "live", "Decide me in the other browser.", "Di Live")
    kept = post_comment(server, "blog", "live", "Keep me selected meanwhile.", "Ke Live")
    watcher, watcher_errors = open_page(browser, DESKTOP)
    sign_in(watcher, server, "mo")
    deciding, deciding_errors = open_page(browser, DESKTOP)
    sign_in(deciding, server, "ad")
    pending = int(watcher.locator('.count[data-status="pending"]').inner_text())
    approved = int(watcher.locator('.count[data-status="approved"]').inner_text())
    watcher.locator(f'input[name="ids"][value="{kept}"]').check()
    watcher.evaluate("() => { window.sameDocument = true; }")  # gone if the page reloads

    deciding.locator(f'article.entry[data-comment-id="{decided}"]').get_by_role(
        "button", name="Approve"
    ).click()
    expect(deciding.get_by_role("status").filter(has_text=f"Comment {decided}")).to_have_text(
        f"Comment {decided} approved."
    )

    card = watcher.locator(f'article.entry[data-comment-id="{decided}"]')
    expect(card.locator(".badge")).to_have_text("approved")
    expect(card.get_by_role("status")).to_have_text(
        f"Comment {decided} is now approved (decided elsewhere)."
    )
    expect(card.locator(".entry-actions button")).to_have_text(["Reject", "Spam", "Delete"])
    expect(watcher.locator('.count[data-status="pending"]')).to_have_text(str(pending - 1))
    expect(watcher.locator('.count[data-status="approved"]')).to_have_text(str(approved + 1))
    expect(watcher).to_have_title(re.compile(rf"^\({pending - 1}\) Queue"))
    # the moderator's place: the same page, the selection untouched
    assert watcher.evaluate("() => window.sameDocument") is True
    expect(watcher.locator(f'input[name="ids"][value="{kept}"]')).to_be_checked()
    # a new comment is announced politely, without moving the list
    post_comment(server, "blog", "live", "A newcomer while the queue is open.", "Ne Live")
    expect(watcher.locator("#live-note")).to_have_text("1 new comment waits: show")
    expect(watcher.locator("#live-note")).to_have_attribute("aria-live", "polite")
    assert watcher_errors == [] and deciding_errors == [], (watcher_errors, deciding_errors)
    watcher.context.close()
    deciding.context.close()


def store_history(server: ServerProcess, days: int) -> None:
    """Submissions of the last ``days`` days on the blog (a few of each outcome a day) and
    some decisions, stored in the server's database as the pipeline stores them."""
    from datetime import timedelta

    from moderation.clock import utcnow
    from moderation.domain.comments import CommentDraft
    from moderation.domain.errors import DomainError
    from moderation.domain.status import ModerationAction
    from moderation.extensions import db
    from moderation.services import sites
    from moderation.services.decisions import moderate
    from moderation.services.events import Actor
    from moderation.services.submissions import SubmissionContext, submit_comment

    url = server.env.get("MODERATION_DATABASE_URL")
    app = create_app(
        {"DATABASE_URL": url} if url else {}, instance_path=server.env["MODERATION_INSTANCE_PATH"]
    )
    words = [
        "Thanks for this.",
        "Cheap pills here",
        "Buy followers now",
        "Good point.",
        "I disagree with the second part.",
    ]
    with app.app_context():
        # open for the history (so some are published at once), premoderated again after
        sites.update_site(
            "blog",
            sites.SiteSettings(policy="open", moderation_words="pills", blocked_words="followers"),
        )
        now = utcnow()
        # each day's submissions between 05:50 and noon of that day, whatever the time
        # now: counted back from now, those of a run just after midnight fell on the
        # day before
        noon = now.replace(hour=12, minute=0, second=0, microsecond=0)
        held = []
        for day in range(days, 0, -1):
            for number in range(3 + (day * 7) % 9):
                text = words[(day + number) % len(words)]
                moment = noon - timedelta(days=day, minutes=number * 37)
                context = SubmissionContext(
                    site_slug="blog",
                    thread_key=f"history-{day % 5}",
                    client_ip=f"10.9.{day}.{number}",
                    now=moment,
                    source="test",
                )
                draft = CommentDraft(
                    text=f"{text} ({day}.{number})",
                    author=f"Reader {number}",
                    email=f"reader{number}@example.org",
                )
                try:
                    result = submit_comment(draft, context)
                except DomainError:
                    continue
                if result.comment.status.value == "pending":
                    held.append(result.comment.id)
                if number == 0:  # the same again: refused as a duplicate
                    with contextlib.suppress(DomainError):
                        submit_comment(draft, context)
        for comment_id in held[: len(held) * 2 // 3]:
            moderate(comment_id, ModerationAction.APPROVE, Actor("moderator", "1", "ad"))
        sites.update_site("blog", sites.SiteSettings(policy="premoderate"))
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def history(server: ServerProcess) -> ServerProcess:
    store_history(server, 21)
    return server


@pytest.fixture(params=[PHONE, DESKTOP], ids=["390px", "1280px"])
def stats_viewport(request: pytest.FixtureRequest) -> dict[str, int]:
    return dict(request.param)


def test_statistics_draw_their_charts_without_script_and_fit_the_screen(
    history: ServerProcess, browser: Browser, stats_viewport: dict[str, int]
) -> None:
    server = history
    page, errors = open_page(browser, stats_viewport)
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text))
    sign_in(page, server, "ad")
    page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Statistics").click()
    expect(page.get_by_role("heading", name=re.compile("^Statistics"))).to_be_visible()
    charts = page.get_by_role("img")
    expect(charts).to_have_count(4)
    expect(page.get_by_role("img", name="Submissions per day, by outcome")).to_be_visible()
    expect(page.get_by_role("img", name="Comments waiting at the end of each day")).to_be_visible()
    expect(page.get_by_role("img", name="Waiting comments by age")).to_be_visible()
    per_day = page.locator("svg#per-day rect")
    assert per_day.count() > 21, per_day.count()  # several outcomes a day, for three weeks
    # the numbers as a table, for anyone who would rather read
    page.get_by_text("The same numbers as a table").first.click()
    expect(page.locator("#per-day-table tbody tr")).to_have_count(30)
    # the queue grew over three weeks of held comments (most of them are decided today)
    page.get_by_text("The same numbers as a table").nth(1).click()
    depth = [int(n) for n in page.locator("#queue-depth-table td").all_inner_texts()]
    assert len(depth) == 30 and depth[:8] == [0] * 8, depth
    assert depth[-2] == max(depth[:-1]) > depth[8] > 0, depth
    assert page.locator("svg#queue-depth rect").count() == sum(1 for n in depth if n)
    assert_fits(page, "statistics")
    assert not [text for text in refused if "Content Security Policy" in text], refused
    screenshots = os.environ.get("SCREENSHOT_DIR")
    if screenshots and stats_viewport == DESKTOP:
        page.get_by_text("The same numbers as a table").first.click()  # folded again
        Path(screenshots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(screenshots) / "statistics.png"), full_page=True)
    # a moderator of the blog only: the gazette is no choice, and no page of theirs
    page.context.close()
    page, errors = open_page(browser, stats_viewport)
    sign_in(page, server, "mo")
    page.goto(f"{server.url}/dashboard/statistics")
    expect(page.locator('select[name="site"] option')).to_have_text(["All of mine", "Blog"])
    answer = page.goto(f"{server.url}/dashboard/statistics?site=gazette")
    assert answer is not None and answer.status == 404
    assert errors == [], errors
    page.context.close()
