"""embed.js explains a refused frame as soon as the refusal is known, in Chromium across two
sites: the frame's load event with no word from the widget before it is the signal, and the
explanation follows it with the page's clock standing still (no timer in between). A frame
the site accepts speaks before its load event, so the loader asks the service nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask import Flask
from playwright.sync_api import Page, Request, expect

from tests.browsing import FRAME, widget_frame
from tests.helpers import Actions
from tests.host_sites import HostSite, embed_snippet, post_page

pytestmark = [pytest.mark.browser]

SITE = "refusals"
#: The page's clock: installed at one moment, stopped at the next minute.
INSTALLED = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
STOPPED = datetime(2026, 11, 29, 12, 1, tzinfo=UTC)

#: Recorded in the host page (not in frames) from before its own scripts run: the frames'
#: load events, the widget's first message and the notice's arrival, in the order they come.
RECORD_EVENTS = """
if (window.top === window) {
  window.embedEvents = [];
  const note = (name) => { if (!window.embedEvents.includes(name)) window.embedEvents.push(name); };
  document.addEventListener('load', (event) => {
    if (event.target.tagName === 'IFRAME') note('frame loaded');
  }, true);
  window.addEventListener('message', (event) => {
    if (event.data && event.data.type === 'moderation:height') note('widget spoke');
  }, true);
  new MutationObserver(() => {
    if (document.querySelector('.moderation-embed-notice')) note('notice shown');
  }).observe(document, { childList: true, subtree: true });
}
"""


@pytest.fixture(scope="module", autouse=True)
def registered(service_app: Flask, host: HostSite) -> None:
    """The site, embedded from the blog (its one origin)."""
    Actions(service_app).create_site(SITE, [host.origin], flood_seconds=0)


def standing_still(new_page: Callable[..., Page]) -> Page:
    """A page whose clock stands still: no timer of its own or of its frames ever fires."""
    page = new_page()
    page.clock.install(time=INSTALLED)
    page.clock.pause_at(STOPPED)
    page.add_init_script(RECORD_EVENTS)
    return page


@pytest.mark.parametrize(
    ("where", "site", "says"),
    [
        ("stranger", SITE, 'is not an allowed origin of site "refusals"'),
        ("host", "refusalz", 'no site "refusalz" is registered'),
    ],
)
def test_a_refused_frame_is_explained_as_soon_as_it_loads(
    service: str,
    host: HostSite,
    stranger: HostSite,
    new_page: Callable[..., Page],
    where: str,
    site: str,
    says: str,
) -> None:
    page_site = stranger if where == "stranger" else host
    url = page_site.add(
        f"/refused-{where}", post_page("Refused", embed_snippet(service, site, "refused"))
    )
    page = standing_still(new_page)
    page.goto(url)
    notice = page.locator("#comments .moderation-embed-notice")
    expect(notice).to_contain_text(says, timeout=15_000)
    expect(page.locator(FRAME)).to_be_hidden()
    # the refusal (a load without a word) came first, the explanation right after it,
    # while no time passed on the page's clock: no timer stood between them
    assert page.evaluate("window.embedEvents") == ["frame loaded", "notice shown"]
    assert page.evaluate("Date.now()") == STOPPED.timestamp() * 1000


def test_an_accepted_frame_shows_no_notice_and_asks_only_if_it_spoke_late(
    service: str, host: HostSite, new_page: Callable[..., Page]
) -> None:
    """The widget speaks while its page runs, which is nearly always before the frame's
    load event reaches the host page; but the frame runs in another process and the two
    are not ordered. embed.js asks the service only when the load came first, and the
    answer (accepted) shows nothing."""
    url = host.add("/accepted", post_page("Accepted", embed_snippet(service, SITE, "accepted")))
    page = new_page()
    page.add_init_script(RECORD_EVENTS)
    checks: list[str] = []

    def note_check(request: Request) -> None:
        if "/embed-check" in request.url:
            checks.append(request.url)

    page.on("request", note_check)
    page.goto(url)
    frame = widget_frame(page)
    page.wait_for_function(
        "['frame loaded', 'widget spoke'].every(e => window.embedEvents.includes(e))"
    )
    events = page.evaluate("window.embedEvents")
    spoke_first = events.index("widget spoke") < events.index("frame loaded")
    page.wait_for_load_state("networkidle")  # the check's answer, when there was one
    assert len(checks) == (0 if spoke_first else 1), (events, checks)
    expect(page.locator(".moderation-embed-notice")).to_have_count(0)
    expect(page.locator(FRAME)).to_be_visible()
    assert frame.locator("#commentform").count() == 1
