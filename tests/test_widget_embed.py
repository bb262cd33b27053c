"""The widget on other people's pages, in Chromium across two sites: links leave the frame;
themes (light, dark, auto, the site's own properties) keep text readable; replies are written
in place; the reader's own comments awaiting moderation stay in view; a wrong snippet says
what is wrong; threads know their post; Arabic lays out right to left."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Frame, Page, Request, expect

from tests import browsing
from tests.browsing import FRAME, axe_violations, post_through_the_form, widget_frame
from tests.helpers import Actions, approve
from tests.host_sites import HostSite, embed_snippet, post_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SITE = "looks"

#: WCAG's contrast ratio of two ``rgb(...)`` colours (text on background).
CONTRAST = """([fg, bg]) => {
    const parse = (value) => value.match(/[\\d.]+/g).slice(0, 3).map(Number);
    const lum = (rgb) => {
        const [r, g, b] = rgb.map((c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const [a, b] = [lum(parse(fg)), lum(parse(bg))].sort((x, y) => y - x);
    return (a + 0.05) / (b + 0.05);
}"""


# The server, its application in this process, the host sites and the pages are
# tests/browsing.py's fixtures.


@pytest.fixture(scope="module", autouse=True)
def registered(service_app: Flask, host: HostSite) -> None:
    """The site, embedded from the blog (its one origin)."""
    Actions(service_app).create_site(SITE, [host.origin], flood_seconds=0)


#: True once the page has scrolled and stayed put for three animation frames.
SCROLLED_AND_STILL = """() => new Promise((resolve) => {
    let last = window.scrollY, still = 0;
    const look = () => {
        still = window.scrollY === last ? still + 1 : 0;
        last = window.scrollY;
        if (last > 0 && still >= 3) { resolve(true); } else { requestAnimationFrame(look); }
    };
    requestAnimationFrame(look);
})"""


def tap(frame: Frame, name: str) -> None:
    """Click the link ``name`` without scrolling the page to it first."""
    frame.get_by_role("link", name=name).evaluate("link => link.click()")


def published(app: Flask, thread: str, text: str, **draft: Any) -> int:
    """One approved comment with ``text`` on ``thread`` of this module's site."""
    return browsing.published(app, SITE, thread, text, **draft)


def decide(app: Flask, comment_id: int, action: str) -> None:
    """A moderator's decision through the service layer."""
    from moderation.domain.status import ModerationAction
    from moderation.services.decisions import moderate
    from moderation.services.events import Actor

    with app.app_context():
        moderate(comment_id, ModerationAction(action), Actor("moderator", "1", "tester"))


def thread_post(app: Flask, key: str) -> tuple[str, str]:
    """The title and address stored with thread ``key``."""
    from sqlalchemy import select

    from moderation.extensions import db
    from moderation.models import Thread

    with app.app_context():
        row = db.session.execute(select(Thread.title, Thread.url).where(Thread.key == key)).one()
        db.session.remove()
    return (row.title, row.url)


def stored_id(app: Flask, text: str) -> int:
    """The id of the one stored comment whose text is ``text``."""
    from sqlalchemy import select

    from moderation.extensions import db
    from moderation.models import Comment

    with app.app_context():
        found = db.session.execute(select(Comment.id).where(Comment.text == text)).scalar_one()
        db.session.remove()
    return int(found)


def open_post(
    new_page: Any,
    host: HostSite,
    service: str,
    thread: str,
    attributes: str = "",
    head: str = "",
    **options: Any,
) -> tuple[Page, Frame]:
    url = host.add(
        f"/{thread}", post_page(thread, embed_snippet(service, SITE, thread, attributes), head)
    )
    page: Page = new_page(**options)
    page.goto(url)
    return page, widget_frame(page)


def colours(frame: Frame, selector: str) -> tuple[str, str]:
    """The text colour of ``selector`` and the widget's own background colour."""
    return (
        frame.locator(selector).first.evaluate("node => getComputedStyle(node).color"),
        frame.evaluate("() => getComputedStyle(document.documentElement).backgroundColor"),
    )


# --- links -----------------------------------------------------------------------------


def test_links_in_a_comment_open_in_a_new_tab_and_the_widget_stays(
    service: str, host: HostSite, service_app: Flask, new_page: Any
) -> None:
    elsewhere = host.add("/elsewhere", post_page("Elsewhere", "<p>Another page.</p>"))
    text = f'Read <a href="{elsewhere}">this post</a> and {elsewhere}?bare too.'
    page, frame = open_post(new_page, host, service, "links")
    post_through_the_form(frame, text)
    approve(service_app, stored_id(service_app, text))
    page.reload()
    frame = widget_frame(page)
    for name in ("this post", f"{elsewhere}?bare"):
        link = frame.get_by_role("link", name=name)
        assert link.get_attribute("target") == "_blank"
        assert link.get_attribute("rel") == "nofollow ugc noopener noreferrer"
        with page.context.expect_page() as opened:
            link.click()
        assert opened.value.url.startswith(elsewhere)
        opened.value.close()
    # the frame still holds the widget, not the linked page
    assert page.locator(FRAME).element_handle().content_frame().url.startswith(f"{service}/w/")
    frame.wait_for_selector("#commentform")


# --- themes ----------------------------------------------------------------------------


def test_dark_host_page_gets_light_text_on_its_own_background(
    service: str, host: HostSite, service_app: Flask, same_reader: Any
) -> None:
    published(service_app, "dark-host", "Readable on a dark page.")
    _page, frame = open_post(
        same_reader,
        host,
        service,
        "dark-host",
        head="<style>body { background: #111318; color: #eee; }</style>",
    )
    assert frame.evaluate("() => document.documentElement.dataset.theme") == "dark"
    text, background = colours(frame, ".comment-content p")
    assert background == "rgb(17, 19, 24)"
    assert frame.evaluate(CONTRAST, [text, background]) >= 7
    muted, _ = colours(frame, ".comment-notes")
    assert frame.evaluate(CONTRAST, [muted, background]) >= 4.5
    field = frame.locator("#comment").evaluate(
        "node => [getComputedStyle(node).color, getComputedStyle(node).backgroundColor]"
    )
    assert frame.evaluate(CONTRAST, field) >= 7


@pytest.mark.parametrize(
    ("attributes", "head", "scheme", "expected"),
    [
        (' data-theme="dark"', "", "light", "dark"),
        (' data-theme="light"', "", "dark", "light"),
        (' data-theme="auto"', '<meta name="color-scheme" content="light dark">', "dark", "dark"),
        (' data-theme="auto"', '<meta name="color-scheme" content="light dark">', "light", "light"),
        ("", "", "dark", "light"),  # a page that does not follow the reader stays light
    ],
)
def test_theme_follows_the_snippet_the_host_page_and_the_reader(
    service: str,
    host: HostSite,
    same_reader: Any,
    attributes: str,
    head: str,
    scheme: str,
    expected: str,
) -> None:
    thread = f"theme-{expected}-{scheme}-{len(attributes)}-{len(head)}"
    page, frame = open_post(
        same_reader, host, service, thread, attributes, head, color_scheme=scheme
    )
    text, _ = colours(frame, ".comment-reply-title")
    luminance = frame.evaluate(
        "(value) => value.match(/[\\d.]+/g).slice(0, 3).reduce((sum, c) => sum + Number(c), 0) / 765",
        text,
    )
    assert (luminance > 0.6) == (expected == "dark"), (text, expected)
    # the frame is transparent over the page: no opaque canvas from a scheme mismatch
    assert page.locator(FRAME).evaluate("frame => getComputedStyle(frame).colorScheme") in (
        expected,
        "light dark",
    )


def test_site_properties_reach_the_frame_without_weakening_the_csp(
    service: str, host: HostSite, same_reader: Any
) -> None:
    style = (
        ' style="--comments-accent: #c0392b; --comments-radius: 0px;'
        " --comments-font: Georgia, serif; --comments-text: rgb(10, 20, 30);"
        ' --comments-background: url(https://evil.example/x.png)"'
    )
    page, frame = open_post(same_reader, host, service, "properties", style)
    button = frame.locator("#submit").evaluate(
        "node => [getComputedStyle(node).backgroundColor, getComputedStyle(node).borderTopLeftRadius]"
    )
    assert button == ["rgb(192, 57, 43)", "0px"]
    assert "Georgia" in frame.evaluate("() => getComputedStyle(document.body).fontFamily")
    assert colours(frame, ".comment-reply-title")[0] == "rgb(10, 20, 30)"
    # the value that is no colour never reaches the page
    assert "evil.example" not in frame.content()
    response = page.request.get(frame.url)
    csp = response.headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "style-src 'self'" in csp


# --- replying in place, and the reader's pending comments -----------------------------


def test_reply_form_moves_under_the_comment_and_back_without_moving_the_host_page(
    service: str, host: HostSite, service_app: Flask, new_page: Any
) -> None:
    first = published(service_app, "replies", "The first comment.", author="Bea First")
    second = published(service_app, "replies", "The second comment.", author="Cy Second")
    tall = '<div style="height: 1200px">The post itself.</div>'
    url = host.add(
        "/replies",
        post_page("Replies", tall + embed_snippet(service, SITE, "replies")),
    )
    page: Page = new_page(viewport={"width": 390, "height": 844})
    page.goto(url)
    frame = widget_frame(page)
    page.locator(FRAME).scroll_into_view_if_needed()
    page.mouse.wheel(0, 300)
    # the wheel scrolls after it returns: wait for the page to come to rest
    page.wait_for_function(SCROLLED_AND_STILL)
    before = page.evaluate("() => window.scrollY")
    frame_url = frame.url
    # clicked as a reader does where it is (Playwright's own click would scroll to it first)
    tap(frame, "Reply to Bea First")
    # the form is under the answered comment, titled for it, the frame did not reload
    expect(frame.locator(f"#comment-{first} #respond")).to_be_visible()
    expect(frame.locator("#reply-title")).to_contain_text("Reply to Bea First")
    expect(frame.locator("#comment")).to_be_focused()
    assert frame.locator("#comment_parent").input_value() == str(first)
    assert frame.url == frame_url
    assert abs(page.evaluate("() => window.scrollY") - before) < 2
    # answering the other comment moves it there; cancel puts it back
    tap(frame, "Reply to Cy Second")
    expect(frame.locator(f"#comment-{second} #respond")).to_be_visible()
    tap(frame, "Cancel reply")
    expect(frame.locator("#respond + #respond-home")).to_be_attached()
    expect(frame.locator("#reply-title")).to_have_text("Leave a Reply")
    assert frame.locator("#comment_parent").input_value() == "0"
    assert abs(page.evaluate("() => window.scrollY") - before) < 2

    # the reply posted from there shows under its parent, awaiting moderation
    frame.get_by_role("link", name="Reply to Bea First").click()
    post_through_the_form(frame, "A reply in place.")
    reply = frame.locator("li.comment-preview")
    expect(reply).to_contain_text("A reply in place.")
    assert frame.evaluate(
        f"() => document.getElementById('comment-{first}').nextElementSibling.classList.contains('comment-preview')"
    )
    expect(reply).to_have_class(re.compile(r"\bdepth-2\b"))
    reply_without_javascript(service, service_app, new_page)


def reply_without_javascript(service: str, service_app: Flask, new_page: Any) -> None:
    """The reply link's own page still answers the comment when scripts are off."""
    first = published(service_app, "no-script", "Answer me.", author="Dee Asked")
    page: Page = new_page(java_script_enabled=False)
    page.goto(f"{service}/w/{SITE}?thread=no-script")
    page.get_by_role("link", name="Reply to Dee Asked").click()
    expect(page.locator("#reply-title")).to_contain_text("Reply to Dee Asked")
    assert page.locator("#comment_parent").input_value() == str(first)
    page.get_by_role("textbox", name="Comment", exact=True).fill("Answered without scripts.")
    page.get_by_role("textbox", name="Name", exact=True).fill("Eve")
    page.get_by_role("textbox", name="Email", exact=True).fill("eve@example.org")
    page.get_by_role("button", name="Post Comment").click()
    expect(page.locator("li.comment-preview")).to_contain_text("Answered without scripts.")
    reply_id = stored_id(service_app, "Answered without scripts.")
    from tests.helpers import stored_comments

    assert {row["id"]: row["parent_id"] for row in stored_comments(service_app)}[reply_id] == first


@pytest.mark.parametrize("storage", ["partitioned", "none"])
def test_own_pending_comment_stays_in_view_under_the_right_heading(
    service: str,
    host: HostSite,
    service_app: Flask,
    new_page: Any,
    stock_page: Any,
    storage: str,
) -> None:
    thread = f"pending-{storage}"
    make = stock_page if storage == "partitioned" else new_page
    url = host.add(f"/{thread}", post_page(thread, embed_snippet(service, SITE, thread)))
    page: Page = make()
    page.goto(url)
    frame = widget_frame(page)
    expect(frame.get_by_text("No comments yet. Be the first to reply!")).to_be_visible()
    post_through_the_form(frame, f"My own words ({storage}).")
    expect(frame.locator(".comments-title")).to_have_text("Your comment")
    expect(frame.get_by_text("No comments yet. Be the first to reply!")).to_have_count(0)
    # a second comment of the same reader: both stay in view
    post_through_the_form(frame, f"More of my words ({storage}).")
    expect(frame.locator("li.comment-preview")).to_have_count(2)

    if storage == "none":
        # no storage: kept while the reader stays on the page (reply links, pages...)
        frame.goto(f"{service}/w/{SITE}?thread={thread}&origin={host.origin}")
        expect(frame.locator("li.comment-preview")).to_have_count(2)
        return
    # partitioned storage: a later visit still shows them, even after a refusal
    decide(service_app, stored_id(service_app, f"My own words ({storage})."), "reject")
    page.reload()
    frame = widget_frame(page)
    expect(frame.locator("li.comment-preview")).to_have_count(2)
    expect(frame.locator(".comments-title")).to_have_text("Your comment" + "s")
    expect(frame.get_by_text("No comments yet. Be the first to reply!")).to_have_count(0)
    # once published it is in the list like any other, once deleted it is gone
    approve(service_app, stored_id(service_app, f"More of my words ({storage})."))
    decide(service_app, stored_id(service_app, f"My own words ({storage})."), "delete")
    # (decided by another process: the server looks again at once, PUBLIC_READ_STALENESS=0)
    page.reload()
    frame = widget_frame(page)
    expect(frame.locator("li.comment-preview")).to_have_count(0)
    expect(frame.locator(".comments-title")).to_have_text("1 comment")


# --- a wrong snippet, and the post behind a thread -------------------------------------


@pytest.mark.parametrize(
    ("where", "site", "lang", "says"),
    [
        ("stranger", SITE, "", 'is not an allowed origin of site "looks"'),
        ("host", "lookz", "", 'no site "lookz" is registered'),
        ("stranger", SITE, "id", 'bukan asal yang diizinkan untuk situs "looks"'),
    ],
)
def test_wrong_origin_or_site_is_explained_on_the_host_page(
    service: str,
    host: HostSite,
    stranger: HostSite,
    same_reader: Any,
    where: str,
    site: str,
    lang: str,
    says: str,
) -> None:
    page_site = stranger if where == "stranger" else host
    attributes = f' data-lang="{lang}"' if lang else ""
    url = page_site.add(
        f"/wrong-{site}-{lang}", post_page("Wrong", embed_snippet(service, site, "w", attributes))
    )
    page: Page = same_reader()
    page.goto(url)
    notice = page.locator("#comments .moderation-embed-notice")
    expect(notice).to_contain_text(says, timeout=15_000)
    if where == "stranger":
        expect(notice).to_contain_text(stranger.origin)
        if not lang:
            expect(notice).to_contain_text(
                f"moderation sites update looks --origin {stranger.origin}"
            )
    else:
        expect(notice).to_contain_text("Check data-site")
    expect(page.locator(FRAME)).to_be_hidden()
    # the frame itself stays refused: nothing of the widget is shown to that page
    assert page.locator(FRAME).element_handle().content_frame().locator("#commentform").count() == 0


def test_thread_follows_its_post_and_the_standalone_page_links_back(
    service: str, host: HostSite, service_app: Flask, new_page: Any
) -> None:
    thread = "follow-the-post"
    snippet = embed_snippet(service, SITE, thread)
    url = host.add(f"/{thread}", post_page("Hello, post", snippet))
    page: Page = new_page()
    page.goto(url)
    post_through_the_form(widget_frame(page), "About the post.")
    # an allowed page gets no notice, only the widget
    expect(page.locator(".moderation-embed-notice")).to_have_count(0)
    assert thread_post(service_app, thread) == ("Hello, post", url)
    # the post is renamed: the next comment's page names it anew
    host.add(f"/{thread}", post_page("Hello again, post", snippet))
    page.reload()
    post_through_the_form(widget_frame(page), "About the renamed post.")
    assert thread_post(service_app, thread) == ("Hello again, post", url)

    # without JavaScript: the snippet's link opens the standalone page, which names the post
    reader: Page = new_page(java_script_enabled=False)
    reader.goto(url)
    reader.get_by_role("link", name="Read and post comments").click()
    heading = reader.get_by_role("heading", level=1)
    expect(heading).to_have_text("Hello again, post")
    assert heading.get_by_role("link").get_attribute("href") == url
    reader.get_by_role("link", name="Back to the post").click()
    expect(reader.get_by_role("heading", name="Hello again, post")).to_be_visible()
    assert reader.url == url


# --- comment counts on an index page ---------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "three", "one", "none"),
    [
        ("en", "3 Comments", "1 Comment", "0 Comments"),
        ("id", "3 Komentar", "1 Komentar", "0 Komentar"),
    ],
)
def test_count_placeholders_are_filled_with_one_request(
    service: str,
    host: HostSite,
    service_app: Flask,
    same_reader: Any,
    lang: str,
    three: str,
    one: str,
    none: str,
) -> None:
    if lang == "en":
        for number in range(3):
            published(service_app, "counted-three", f"Counted {number}.")
        published(service_app, "counted-one", "Counted alone.")
    spans = "".join(
        f'<p><a href="/{key}">{key}</a> <span data-comments-count data-site="{SITE}"'
        f' data-thread="{key}">…</span></p>'
        for key in ("counted-three", "counted-one", "counted-none", "counted-three")
    )
    url = host.add(
        f"/index-{lang}",
        post_page("Index", spans + f'<script src="{service}/embed.js" async></script>', lang=lang),
    )
    page: Page = same_reader()
    requests: list[str] = []

    def sent(request: Request) -> None:
        requests.append(request.url)

    page.on("request", sent)
    try:
        page.goto(url)
        counts = page.locator("[data-comments-count]")
        expect(counts.nth(0)).to_have_text(three)
        expect(counts.nth(1)).to_have_text(one)
        expect(counts.nth(2)).to_have_text(none)
        expect(counts.nth(3)).to_have_text(three)
    finally:
        page.remove_listener("request", sent)  # the page goes on to the module's next test
    assert len([seen for seen in requests if "/counts?" in seen]) == 1


# --- right to left ---------------------------------------------------------------------


def box(frame: Frame, selector: str) -> dict[str, float]:
    """Where ``selector`` lies in the frame: left, right, top."""
    found = frame.locator(selector).first.evaluate(
        "node => { const r = node.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top}; }"
    )
    return {name: float(value) for name, value in found.items()}


def test_arabic_widget_lays_out_right_to_left(
    service: str, host: HostSite, service_app: Flask, same_reader: Any
) -> None:
    """The host page's ``lang="ar"`` reaches the frame (embed.js passes it): the widget is
    written right to left, mirrored (avatar right of the name, replies indented from the
    right, Reply at the right), while an English comment in it still reads left to right.
    With ``SCREENSHOT_DIR`` set, the 390 px picture of it."""
    thread = "arabic"
    parent = published(service_app, thread, "مقال رائع، شكرًا جزيلًا!", author="سارة")
    reply = published(
        service_app,
        thread,
        "Thanks from Sam.",
        author="Sam",
        email="sam@example.org",
        parent_id=parent,
    )
    url = host.add(
        "/arabic",
        post_page(
            "مقال عن التعليقات",
            embed_snippet(service, SITE, thread),
            head="<style>body { direction: rtl; }</style>",
            lang="ar",
        ),
    )
    page: Page = same_reader(viewport={"width": 390, "height": 844})
    page.goto(url)
    frame = widget_frame(page)
    root = frame.evaluate("() => [document.documentElement.lang, document.documentElement.dir]")
    assert root == ["ar", "rtl"]
    expect(frame.locator("#reply-title")).to_have_text("اترك تعليقاً")
    expect(frame.locator(".comments-title")).to_have_text("تعليقان")

    first, second = f"#comment-{parent}", f"#comment-{reply}"
    avatar, name = box(frame, f"{first} .avatar"), box(frame, f"{first} .fn")
    assert avatar["left"] > name["right"], "the avatar sits right of the name"
    outer, inner = box(frame, f"{first} > .comment-body"), box(frame, f"{second} > .comment-body")
    assert inner["right"] < outer["right"] - 8, "a reply is indented from the right"
    assert abs(inner["left"] - outer["left"]) < 2
    link = box(frame, f"{first} .comment-reply-link")
    assert outer["right"] - link["right"] < 2, "Reply sits at the start (right) edge"
    english, content = (
        box(frame, f"{second} .comment-content p"),
        box(frame, f"{second} .comment-content"),
    )
    english_line = frame.locator(f"{second} .comment-content p").evaluate(
        "node => { const range = document.createRange(); range.selectNodeContents(node);"
        " return range.getClientRects()[0].left; }"
    )
    assert abs(english_line - content["left"]) < 2 and english["left"] >= content["left"], (
        "an English reply starts at the left"
    )
    assert frame.evaluate("() => document.documentElement.scrollWidth") <= 390, "no sideways scroll"

    directory = os.environ.get("SCREENSHOT_DIR")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(directory) / "widget-ar-390.png"), full_page=True)

    tap(frame, "الرد على سارة")
    expect(frame.locator(f"{first} #respond")).to_be_visible()
    expect(frame.locator("#reply-title")).to_contain_text("الرد على سارة")
    tap(frame, "إلغاء الرد")
    expect(frame.locator("#reply-title")).to_have_text("اترك تعليقاً")


# --- the README's pictures -------------------------------------------------------------


@pytest.mark.parametrize("width", [390, 1280])
def test_readable_on_light_and_dark_pages_at_phone_and_desktop_widths(
    service: str, host: HostSite, service_app: Flask, same_reader: Any, width: int
) -> None:
    """Text against the page behind it, light and dark, at 390 and 1280 px. With
    ``SCREENSHOT_DIR`` set, also the README's screenshots of each."""
    thread = "pictures"
    if width == 390:
        first = published(
            service_app,
            thread,
            "Loved this post. The part about *moderation* rules was **exactly** what I needed.",
            author="Ann Reader",
            url="https://ann.example",
        )
        published(
            service_app,
            thread,
            "Thank you! More on that next week.",
            author="The Author",
            email="author@example.org",
            parent_id=first,
        )
    for scheme, head in (
        ("light", "<style>body { background: #ffffff; color: #1e1e1e; }</style>"),
        ("dark", "<style>body { background: #16181d; color: #e8e8e8; }</style>"),
    ):
        url = host.add(
            f"/pictures-{scheme}",
            post_page("A post about comments", embed_snippet(service, SITE, thread), head),
        )
        page: Page = same_reader(viewport={"width": width, "height": 900})
        page.goto(url)
        frame = widget_frame(page)
        assert frame.evaluate("() => document.documentElement.dataset.theme") == scheme
        # the frame grows to its content: nothing of the form is cut off at the bottom
        inner = frame.evaluate("() => document.documentElement.scrollHeight")
        page.wait_for_function(
            "inner => document.querySelector('#comments iframe').clientHeight >= inner", arg=inner
        )
        for selector in (".comment-content p", ".comment-notes", "label[for=comment]", "#submit"):
            text, background = frame.locator(selector).first.evaluate(
                """node => {
                    const style = getComputedStyle(node);
                    let back = style.backgroundColor;
                    for (let at = node; back === 'rgba(0, 0, 0, 0)' && at; at = at.parentElement) {
                        back = getComputedStyle(at).backgroundColor;
                    }
                    return [style.color, back];
                }"""
            )
            assert frame.evaluate(CONTRAST, [text, background]) >= 4.5, (scheme, selector)
        directory = os.environ.get("SCREENSHOT_DIR")
        if directory:
            Path(directory).mkdir(parents=True, exist_ok=True)
            # the viewport as tall as the page: Chromium's full-page capture may leave the
            # bottom of a cross-site frame unpainted
            tall = page.evaluate("() => document.documentElement.scrollHeight")
            page.set_viewport_size({"width": width, "height": tall})
            page.wait_for_timeout(300)
            page.screenshot(path=str(Path(directory) / f"widget-{scheme}-{width}.png"))


# --- accessibility ---------------------------------------------------------------------


def test_axe_finds_no_wcag_violation_in_the_widgets_states(
    service: str, host: HostSite, service_app: Flask, new_page: Any
) -> None:
    published(service_app, "accessible", "A comment to answer.", author="Fay Asked")
    found: dict[str, list[str]] = {}
    page, frame = open_post(new_page, host, service, "accessible-empty")
    found["empty"] = axe_violations(frame)
    page, frame = open_post(new_page, host, service, "accessible")
    found["with comments"] = axe_violations(frame)
    tap(frame, "Reply to Fay Asked")
    found["reply"] = axe_violations(frame)
    frame.get_by_role("textbox", name="Email", exact=True).fill("not-an-address")
    frame.get_by_role("button", name="Post Comment").click()
    frame.wait_for_selector("#email-error")
    found["errors"] = axe_violations(frame)
    post_through_the_form(frame, "Accessible and pending.")
    found["pending"] = axe_violations(frame)
    _page, frame = open_post(
        new_page, host, service, "accessible", head="<style>body { background: #16181d; }</style>"
    )
    found["dark"] = axe_violations(frame)
    url = host.add(
        "/accessible-id",
        post_page("Indonesia", embed_snippet(service, SITE, "accessible"), lang="id"),
    )
    page = new_page()
    page.goto(url)
    found["Indonesian"] = axe_violations(widget_frame(page))
    url = host.add(
        "/accessible-ar",
        post_page("عربي", embed_snippet(service, SITE, "accessible"), lang="ar"),
    )
    page = new_page()
    page.goto(url)
    found["Arabic"] = axe_violations(widget_frame(page))
    assert {state: issues for state, issues in found.items() if issues} == {}
