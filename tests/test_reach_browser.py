"""Comments the world can read, in Chromium: the fragment included by a real nginx (SSI) and
the feeds, read as a crawler reads them (no JavaScript) and as a reader does (embed.js keeps
the included comments and adds the form beside them); the Markdown preview is what gets
published. One service, one nginx, one browser for the module."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import pytest
from flask import Flask
from playwright.sync_api import expect

from tests.browsing import widget_frame
from tests.helpers import Actions, approve, seed_comments
from tests.host_sites import HostSite, NginxSite, embed_snippet, post_page, start_nginx

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SITE = "reach"
NOTES = "notes"  # a Markdown site that publishes at once

# The service, its application in this process, the plain host site and the pages are
# tests/browsing.py's fixtures.


@pytest.fixture(scope="module")
def nginx(workdir: Path, service: str) -> Iterator[NginxSite]:
    port = service.rsplit(":", 1)[1]
    site = start_nginx(workdir / "nginx", f"http://127.0.0.1:{port}")
    try:
        yield site
    finally:
        site.stop()


@pytest.fixture(scope="module")
def sites(service_app: Flask, host: HostSite, nginx: NginxSite) -> None:
    """Both embedded from the plain host and from the nginx site (created in this process:
    each command-line start costs seconds here; tests/test_markdown.py runs the command)."""
    actions = Actions(service_app)
    origins = [host.origin, nginx.origin]
    actions.create_site(SITE, origins, flood_seconds=0)
    actions.create_site(NOTES, origins, policy="open", comment_format="markdown", flood_seconds=0)


@pytest.fixture(scope="module")
def published(service_app: Flask, sites: None) -> list[int]:
    """post-1: Ann's comment and Ben's answer, published; Cy's, held."""
    (ann,) = seed_comments(
        service_app,
        1,
        site=SITE,
        text="Ann's published thoughts",
        author="Ann",
        email="ann@example.com",
    )
    approve(service_app, ann)
    (ben,) = seed_comments(
        service_app,
        1,
        site=SITE,
        text="Ben answers Ann",
        author="Ben",
        email="ben@example.com",
        parent_id=ann,
    )
    approve(service_app, ben)
    seed_comments(
        service_app, 1, site=SITE, text="Cy is still held", author="Cy", email="cy@example.com"
    )
    return [ann, ben]


@pytest.fixture(scope="module")
def ssi_post(nginx: NginxSite, service: str, published: list[int]) -> str:
    """A post on the nginx site: the README's include line and the embed.js line."""
    embed = (
        f'<!--# include virtual="/_comments/{SITE}/fragment?thread=post-1" -->\n'
        f'<script src="{service}/embed.js" async></script>'
    )
    return nginx.add("post-1.html", post_page("Hello, world", embed))


def test_a_crawler_reads_the_included_comments_and_their_json_ld(
    new_page: Any, ssi_post: str, published: list[int]
) -> None:
    page = new_page(java_script_enabled=False)
    page.goto(ssi_post)
    comments = page.locator("#comments li.comment")
    expect(comments).to_have_count(2)
    expect(comments.first).to_contain_text("Ann's published thoughts")
    expect(page.locator(f"#comment-{published[1]}")).to_contain_text("Ben answers Ann")
    assert page.locator("#comments iframe, form, textarea").count() == 0
    assert "Cy is still held" not in page.content()
    assert "@example.com" not in page.content()
    data = json.loads(page.locator('script[type="application/ld+json"]').text_content() or "")
    assert [item["author"]["name"] for item in data["comment"]] == ["Ann", "Ben"]
    assert data["comment"][1]["parentItem"] == {"@id": data["comment"][0]["@id"]}
    # a crawler follows the links to the feed and the comment form
    assert (
        page.get_by_role("link", name="Comments feed").get_attribute("type")
        == "application/atom+xml"
    )
    expect(page.get_by_role("link", name="Leave a Reply")).to_be_visible()


def test_a_reader_keeps_the_included_comments_and_gets_the_form_beside_them(
    new_page: Any, ssi_post: str, published: list[int]
) -> None:
    page = new_page()
    page.goto(ssi_post)
    frame = widget_frame(page)
    # the list is neither hidden nor repeated: the frame holds the form only
    expect(page.locator("#comments li.comment")).to_have_count(2)
    expect(page.locator("#comments li.comment").first).to_be_visible()
    assert frame.locator("li.comment").count() == 0
    assert page.evaluate(
        "() => document.querySelector('#comments ol').compareDocumentPosition("
        "document.querySelector('#comments iframe')) & Node.DOCUMENT_POSITION_FOLLOWING"
    )
    # "Reply" in the included list writes the reply in the frame's form
    page.locator(f"#comment-{published[0]} .comment-reply-link").click()
    expect(frame.locator("#reply-title-text")).to_have_text("Reply to Ann")
    assert frame.locator("#comment_parent").input_value() == str(published[0])
    expect(frame.locator("#cancel-comment-reply-link")).to_be_visible()
    assert page.url == ssi_post  # the page stayed where it was


def test_a_built_copy_is_brought_up_to_date_for_readers(
    new_page: Any,
    host: HostSite,
    service: str,
    service_app: Flask,
    sites: None,
) -> None:
    base = service
    (first,) = seed_comments(service_app, 1, site=SITE, thread="built", text="In the build")
    approve(service_app, first)
    with urllib.request.urlopen(f"{base}/w/{SITE}/fragment?thread=built") as answer:
        built = answer.read().decode()  # the build's curl
    (later,) = seed_comments(
        service_app,
        1,
        site=SITE,
        thread="built",
        text="Published after the build",
        email="later@example.com",
    )
    approve(service_app, later)
    url = host.add(
        "/built.html", post_page("Built", f'{built}\n<script src="{base}/embed.js" async></script>')
    )
    crawler = new_page(java_script_enabled=False)
    crawler.goto(url)
    expect(crawler.locator("#comments li.comment")).to_have_count(1)
    reader = new_page()
    reader.goto(url)
    expect(reader.locator("#comments li.comment")).to_have_count(2)
    expect(reader.locator(f"#comment-{later}")).to_contain_text("Published after the build")
    widget_frame(reader)
    expect(reader.locator("#comments iframe")).to_have_count(1)


def test_crawlers_and_readers_find_the_feeds(
    new_page: Any, host: HostSite, service: str, published: list[int]
) -> None:
    base = service
    crawler = new_page(java_script_enabled=False)
    crawler.goto(f"{base}/w/{SITE}?thread=post-1")
    feeds = crawler.locator('link[rel="alternate"][type="application/atom+xml"]')
    expect(feeds).to_have_count(2)
    thread_feed = crawler.request.get(f"{base}{feeds.first.get_attribute('href')}")
    assert thread_feed.ok and thread_feed.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(thread_feed.body())
    assert not parsed.bozo and parsed.version == "atom10"
    assert [entry.author for entry in parsed.entries] == ["Ben", "Ann"]
    assert "@example.com" not in thread_feed.text()
    site_feed = feedparser.parse(
        crawler.request.get(f"{base}{feeds.nth(1).get_attribute('href')}").body()
    )
    assert not site_feed.bozo and site_feed.feed.title == "Comments on Reach"
    # a reader of the embedded widget sees the link, which leaves the frame
    reader = new_page()
    reader.goto(host.add("/widget.html", post_page("Hello", embed_snippet(base, SITE, "post-1"))))
    link = widget_frame(reader).get_by_role("link", name="Comments feed")
    expect(link).to_be_visible()
    assert link.get_attribute("target") == "_blank"
    with reader.context.expect_page() as opened:
        link.click()
    assert opened.value.url == f"{base}/feeds/{SITE}.atom?thread=post-1"


def test_the_markdown_preview_is_what_gets_published(
    new_page: Any, host: HostSite, service: str, sites: None
) -> None:
    page = new_page()
    page.goto(host.add("/notes.html", post_page("Notes", embed_snippet(service, NOTES, "n-1"))))
    frame = widget_frame(page)
    expect(frame.get_by_text("You can use Markdown.")).to_be_visible()
    frame.fill("#comment", "Some **bold** words and [a link](https://x.example)\n\n- one\n- two")
    frame.fill("#author", "Dee")
    frame.fill("#email", "dee@example.com")
    frame.click("#preview-button")
    preview = frame.locator("#comment-preview-box .comment-content")
    expect(preview.locator("strong")).to_have_text("bold")
    expect(preview.locator("li")).to_have_count(2)
    previewed = preview.inner_html()
    frame.click("#submit")
    published = frame.locator("li.comment .comment-content")
    expect(published).to_have_count(1)
    expect(published.locator("strong")).to_have_text("bold")
    assert published.inner_html() == previewed
