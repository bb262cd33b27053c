"""The landing page (``/``) is written in the reader's language, chosen as the widget's is
(``?lang=``, else the browser's Accept-Language, else English), and reads well: in Chromium
at a phone's 390 px and a laptop's 1280 px it never scrolls sideways, its lines stay short
enough to read and it sits centred, in the dark colour scheme as in the light one; Arabic
runs right to left."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, Page

from moderation.domain.languages import LANGUAGE_CODES, LANGUAGES
from tests.servers import served_in_thread
from tests.test_dark_pages_browser import problems

ENGLISH_HEADING = "<h1>Comment moderation</h1>"
#: Sentences of the English page that no other language's page may show.
ENGLISH_SENTENCES = (
    "This service hosts moderated comments for websites.",
    "a page embedding the comment widget",
    "download or erase what is stored about the comments you wrote",
    "then paste the snippet from its page in the dashboard",
)


def html_tag(html: str) -> str:
    match = re.search(r"<html[^>]*>", html)
    assert match, html[:200]
    return match.group(0)


@pytest.mark.database_incidental
@pytest.mark.parametrize("code", LANGUAGE_CODES)
def test_the_home_page_speaks_the_readers_language(client: FlaskClient, code: str) -> None:
    html = client.get(f"/?lang={code}").get_data(as_text=True)
    tag = html_tag(html)
    assert f'lang="{LANGUAGES[code].tag}"' in tag
    assert ('dir="rtl"' in tag) == (code == "ar")
    # the links and the operator's command stay what they are in every language
    for target in ('href="/demo"', 'href="/dashboard/"', 'href="/api/openapi.json"', "README.md"):
        assert target in html, (code, target)
    assert (
        '<code dir="ltr">moderation sites create SLUG --name NAME --origin https://your.site</code>'
        in html
    )
    # the data-rights page opens in the language asked for
    assert f'href="/privacy?lang={code}"' in html
    if code == "en":
        assert ENGLISH_HEADING in html and all(line in html for line in ENGLISH_SENTENCES)
    else:
        assert ENGLISH_HEADING not in html
        assert not [line for line in ENGLISH_SENTENCES if line in html], code


@pytest.mark.database_incidental
def test_the_browser_language_chooses_the_home_page_language(client: FlaskClient) -> None:
    page = client.get("/", headers={"Accept-Language": "ja,en;q=0.5"})
    html = page.get_data(as_text=True)
    assert html_tag(html).startswith('<html lang="ja"') and ENGLISH_HEADING not in html
    # a shared cache keeps one copy per language the browsers ask for
    assert "Accept-Language" in page.headers["Vary"]
    assert page.headers["Cache-Control"] == "public, max-age=300"
    assert 'href="/privacy"' in html  # no ?lang= asked: the browser's language follows anyway
    unknown = client.get("/", headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert ENGLISH_HEADING in unknown


#: How the page lies in the window: sideways scrolling, the main column's box, and the
#: most characters on one rendered line of its text (each character's line told by the
#: top of its box).
LAYOUT_JS = """() => {
  const main = document.querySelector('main');
  const box = main.getBoundingClientRect();
  let longest = 0;
  for (const block of main.querySelectorAll('h1, p, li')) {
    const lines = new Map();
    const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (let index = 0; index < node.length; index++) {
        const range = document.createRange();
        range.setStart(node, index);
        range.setEnd(node, index + 1);
        const rect = range.getClientRects()[0];
        if (!rect) continue;
        const top = Math.round(rect.top);
        lines.set(top, (lines.get(top) || 0) + 1);
      }
    }
    for (const count of lines.values()) longest = Math.max(longest, count);
  }
  return {
    scrollWidth: document.documentElement.scrollWidth,
    viewport: window.innerWidth,
    left: box.left,
    right: window.innerWidth - box.right,
    width: box.width,
    longestLine: longest,
    direction: getComputedStyle(main).direction,
  };
}"""

#: The most characters a line may hold: comfortable reading is 45 to 75; a line of the
#: full 1280 px window held about 150.
MOST_CHARACTERS_PER_LINE = 80


@pytest.fixture
def service(app: Flask) -> Iterator[str]:
    with served_in_thread(app) as url:
        yield url


@pytest.mark.browser
@pytest.mark.database_incidental
@pytest.mark.parametrize("scheme", ["dark", "light"])
def test_the_home_page_reads_well_on_a_phone_and_a_laptop(
    browser: Browser, service: str, scheme: str
) -> None:
    wrong: dict[str, object] = {}
    context = browser.new_context(color_scheme=scheme)
    context.set_default_timeout(15_000)
    page: Page = context.new_page()  # one page for both widths: a context costs Chromium more
    try:
        for width in (390, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            for code in ("en", "de", "ja", "ar"):
                page.goto(f"{service}/?lang={code}")
                where = f"{width}px {code}"
                layout = page.evaluate(LAYOUT_JS)
                if layout["scrollWidth"] > layout["viewport"]:
                    wrong[f"{where}: scrolls sideways"] = layout
                if layout["longestLine"] > MOST_CHARACTERS_PER_LINE:
                    wrong[f"{where}: lines too long"] = layout
                if width == 1280 and abs(layout["left"] - layout["right"]) > 2:
                    wrong[f"{where}: not centred"] = layout
                if layout["direction"] != ("rtl" if code == "ar" else "ltr"):
                    wrong[f"{where}: direction"] = layout
                if colours := problems(page, scheme):
                    wrong[f"{where}: colours"] = colours
    finally:
        context.close()
    assert wrong == {}
