"""The widget on other people's pages, in Chromium across two sites: links leave the frame,
and themes (light, dark, auto, the site's own properties) keep text readable."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Frame, Page, Playwright, sync_playwright

from moderation import create_app
from tests.browsing import (
    CHROMIUM,
    CHROMIUM_ARGS,
    FRAME,
    HostSite,
    cli,
    embed_snippet,
    page_maker,
    post_page,
    private_database,
    start_host,
    widget_frame,
)
from tests.conftest import SERVER_DATABASE_URL
from tests.helpers import approve, seed_comments
from tests.servers import start_server

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


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("widget-looks")


@pytest.fixture(scope="module")
def database_url(workdir: Path) -> Iterator[str]:
    yield from private_database(workdir, SERVER_DATABASE_URL, "widget_looks")


@pytest.fixture(scope="module")
def serve_env(workdir: Path, database_url: str) -> dict[str, str]:
    return {
        "MODERATION_INSTANCE_PATH": str(workdir / "instance"),
        "MODERATION_DATABASE_URL": database_url,
        # a browser fills the form in a moment here; the spam timing is not under test
        "MODERATION_SPAM_MIN_FILL_SECONDS": "1",
    }


@pytest.fixture(scope="module")
def service(workdir: Path, serve_env: dict[str, str]) -> Iterator[str]:
    """The service as the browser reaches it: ``localhost``, another site than the host."""
    server = start_server(workdir, serve_env)
    try:
        yield f"http://localhost:{server.port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def host(service: str, workdir: Path, serve_env: dict[str, str]) -> Iterator[HostSite]:
    """The blog, registered as the site's one origin."""
    site = start_host()
    cli(workdir, serve_env, "sites", "create", SITE, "--name", "Looks", "--origin", site.origin)
    cli(workdir, serve_env, "sites", "update", SITE, "--flood-seconds", "0")
    try:
        yield site
    finally:
        site.stop()


@pytest.fixture(scope="module")
def service_app(workdir: Path, database_url: str, service: str) -> Iterator[Flask]:
    """The application in this process on the server's database (same secret key)."""
    app = create_app({"DATABASE_URL": database_url}, instance_path=str(workdir / "instance"))
    yield app
    from moderation.extensions import db

    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is not installed: apt-get install chromium")
    driver: Playwright
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Any]:
    yield from page_maker(browser)


def published(app: Flask, thread: str, text: str, **draft: str) -> int:
    """One approved comment with ``text`` on ``thread``."""
    (comment_id,) = seed_comments(app, 1, site=SITE, thread=thread, text=text, **draft)
    approve(app, comment_id)
    return comment_id


def stored_id(app: Flask, text: str) -> int:
    """The id of the one stored comment whose text is ``text``."""
    from sqlalchemy import select

    from moderation.extensions import db
    from moderation.models import Comment

    with app.app_context():
        found = db.session.execute(select(Comment.id).where(Comment.text == text)).scalar_one()
        db.session.remove()
    return int(found)


def post_through_the_form(frame: Frame, text: str, author: str = "Ann Reader") -> None:
    """Write and post a comment in the widget as a reader does."""
    loaded = time.monotonic()
    frame.get_by_role("textbox", name="Comment", exact=True).fill(text)
    frame.get_by_role("textbox", name="Name", exact=True).fill(author)
    frame.get_by_role("textbox", name="Email", exact=True).fill("ann.reader@example.org")
    time.sleep(max(0.0, loaded + 1.2 - time.monotonic()))
    frame.get_by_role("button", name="Post Comment").click()
    frame.wait_for_selector(".comment-awaiting-moderation")


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
    service: str, host: HostSite, service_app: Flask, new_page: Any
) -> None:
    published(service_app, "dark-host", "Readable on a dark page.")
    _page, frame = open_post(
        new_page,
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
    new_page: Any,
    attributes: str,
    head: str,
    scheme: str,
    expected: str,
) -> None:
    thread = f"theme-{expected}-{scheme}-{len(attributes)}-{len(head)}"
    page, frame = open_post(new_page, host, service, thread, attributes, head, color_scheme=scheme)
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
    service: str, host: HostSite, new_page: Any
) -> None:
    style = (
        ' style="--comments-accent: #c0392b; --comments-radius: 0px;'
        " --comments-font: Georgia, serif; --comments-text: rgb(10, 20, 30);"
        ' --comments-background: url(https://evil.example/x.png)"'
    )
    page, frame = open_post(new_page, host, service, "properties", style)
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
