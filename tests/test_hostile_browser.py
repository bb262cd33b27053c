"""The XSS corpus in real Chromium (Debian's, through Playwright): no dialog opens, no marker a
payload sets appears, and the DOM the browser built holds no script, event handler, frame or
script URL, on every page that shows a visitor's input: the author's preview, the form shown
again with the input kept, the widget, the public JSON, the dashboard's queue and detail pages.

The pages are exactly what the service answered, on this test's database, handed to Chromium
through request interception at ``http://moderation.test`` (static files too). Their
``Content-Security-Policy`` header is removed on the way: the CSP (``script-src 'self'``)
would block inline script anyway, and without it the test proves that the markup itself is
inert, not only that the CSP caught it.

A dozen pages load at once, each in a frame of its own in one document: a frame is a whole
page (its own window, parser, the page's own scripts, the dialog recorder) and is inspected
as a page loaded alone is, while Chromium's cost of a navigation, most of its work for pages
this small, is paid once a dozen. ``X-Frame-Options`` goes with the CSP (it keeps the
dashboard's pages out of any frame, and has nothing to do with what the markup runs); a page
that still did not load in its frame fails the test.
"""

from __future__ import annotations

import html
import json
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, Dialog, Page, Route

from tests.helpers import PASSWORD, Actions
from tests.hostile import XSS_PAYLOADS, Moderator, ShownPage, assert_no_failures, expose_xss_corpus

pytestmark = [pytest.mark.browser]

SERVICE = "http://moderation.test"
TIMEOUT_MS = 15_000
#: Pages side by side in one document (see the module's docstring).
PAGES_PER_LOAD = 12
#: Headers that would stop a page's script (the CSP) or keep it out of a frame.
REMOVED_HEADERS = ("content-security-policy", "x-frame-options", "content-length")

#: Before any page script: record every dialog call (the dialog event is checked as well).
RECORD_DIALOGS = """
window.__dialogs = [];
for (const name of ["alert", "confirm", "prompt", "print"]) {
  const original = window[name].bind(window);
  window[name] = (...args) => { window.__dialogs.push(name + ":" + String(args[0])); return original(...args); };
}
"""

#: After load: poke every element the way a reader would (hover, focus, pointer, animation
#: and toggle events fire any handler that slipped through), then list what could run script.
INSPECT_DOM = """
() => {
  const problems = [];
  const scriptUrl = /^(javascript|vbscript|data):/i;
  const followed = ["href", "src", "action", "formaction", "data", "poster", "xlink:href"];
  for (const element of document.querySelectorAll("*")) {
    for (const type of ["mouseover", "mouseenter", "focus", "pointerdown", "animationstart",
                        "toggle", "load", "error"]) {
      try { element.dispatchEvent(new Event(type)); } catch (error) {}
    }
    for (const attribute of element.attributes) {
      if (attribute.name.toLowerCase().startsWith("on")) {
        problems.push(`${element.tagName} ${attribute.name}=${attribute.value}`);
      }
      const value = attribute.value.replace(/[\\u0000-\\u0020]/g, "");
      if (followed.includes(attribute.name.toLowerCase()) && scriptUrl.test(value)) {
        problems.push(`${element.tagName} ${attribute.name}=${attribute.value}`);
      }
    }
    const tag = element.tagName.toLowerCase();
    if (tag === "script" && !(element.getAttribute("src") || "").startsWith("/static/")) {
      problems.push(`inline script ${element.textContent.slice(0, 60)}`);
    }
    if (["iframe", "frame", "object", "embed", "base", "applet"].includes(tag)) {
      problems.push(`a <${tag}> element`);
    }
  }
  return {problems, dialogs: window.__dialogs || [], marker: window.__xss === undefined ? null : String(window.__xss)};
}
"""


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {
        "LIMIT_SUBMIT_PER_ADDRESS": "100000/hour",
        "LIMIT_SUBMIT_PER_EMAIL": "100000/hour",
        "LIMIT_SUBMIT_PER_SITE": "100000/hour",
    }


class Interception:
    """Answers Chromium's requests to ``SERVICE`` from the app's test clients (the dashboard
    through a signed-in moderator's), or with a page the service answered to a POST."""

    def __init__(self, client: FlaskClient, moderator: FlaskClient) -> None:
        self.client, self.moderator = client, moderator
        self.saved: dict[str, ShownPage] = {}
        self.static: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.side_by_side: dict[str, str] = {}

    def save(self, page: ShownPage) -> str:
        """A GET path at which Chromium is given ``page`` as it was answered."""
        path = f"/__answered__/{len(self.saved)}"
        self.saved[path] = page
        return path

    def frames(self, paths: list[str]) -> str:
        """A GET path of a document showing each of ``paths`` in a frame of its own."""
        path = f"/__side_by_side__/{len(self.side_by_side)}"
        frames = "".join(f'<iframe src="{html.escape(each)}"></iframe>' for each in paths)
        self.side_by_side[path] = f"<!doctype html><title>Side by side</title>{frames}"
        return path

    def handle(self, route: Route) -> None:
        url = urlsplit(route.request.url)
        if f"{url.scheme}://{url.netloc}" != SERVICE:
            route.abort()  # a payload reaching out: never leave the machine
            return
        if route.request.resource_type in ("stylesheet", "image", "font"):
            route.abort()  # no script runs from these; skipping them keeps the test quick
            return
        path = url.path + (f"?{url.query}" if url.query else "")
        if url.path in self.side_by_side:
            route.fulfill(content_type="text/html", body=self.side_by_side[url.path])
            return
        if url.path in self.saved:
            page = self.saved[url.path]
            status, headers, body = 200, page.headers, page.body.encode()
        elif path in self.static:
            status, headers, body = self.static[path]
        else:
            client = self.moderator if url.path.startswith("/dashboard") else self.client
            response = client.open(path, method=route.request.method)
            status, headers, body = (
                response.status_code,
                dict(response.headers),
                response.get_data(),
            )
            response.close()
            if url.path.startswith("/static/"):
                self.static[path] = (status, headers, body)
        kept = {
            name: value for name, value in headers.items() if name.lower() not in REMOVED_HEADERS
        }
        route.fulfill(status=status, headers=kept, body=body)


#: What a payload that reached the frames' parent would have left there.
PARENT_TOUCHED = """
() => ({dialogs: window.__dialogs || [], marker: window.__xss === undefined ? null : String(window.__xss)})
"""


def problems_in(found: dict[str, Any]) -> list[str]:
    """What :data:`INSPECT_DOM` (or :data:`PARENT_TOUCHED`) found that ran or could run."""
    problems = list(found.get("problems", []))
    if found["marker"] is not None:
        problems.append(f"window.__xss was set to {found['marker']}")
    problems += [f"{name} called" for name in found["dialogs"]]
    return problems


def inspect_side_by_side(
    page: Page, interception: Interception, shown: list[tuple[str, str]], dialogs: list[str]
) -> dict[str, str]:
    """Load the ``(label, path)`` pages side by side and return, by label, what ran or could
    run script in each (a dialog that opened is the batch's: any of its pages opened it)."""
    dialogs.clear()
    page.goto(SERVICE + interception.frames([path for _, path in shown]), wait_until="load")
    # the document's load waited for every frame's; each frame holds its page, not an error
    frames = page.locator("iframe")
    assert frames.count() == len(shown)
    ran: dict[str, str] = {}
    for number, (label, path) in enumerate(shown):
        frame = frames.nth(number).element_handle().content_frame()
        assert frame is not None, label
        if frame.url.startswith("chrome-error:"):
            ran[label] = f"{path} did not load in its frame"
            continue
        found = problems_in(frame.evaluate(INSPECT_DOM))  # handlers run at the dispatch
        if found:
            ran[label] = "; ".join(sorted(set(found)))
    parent = problems_in(page.evaluate(PARENT_TOUCHED))
    parent += [f"a dialog opened: {message}" for message in dialogs]
    if parent:
        ran[" or ".join(label for label, _ in shown)] = "; ".join(sorted(set(parent)))
    return ran


def test_xss_corpus_runs_no_script_in_chromium(
    app: Flask, client: FlaskClient, actions: Actions, browser: Browser
) -> None:
    actions.create_site("blog", ["https://blog.example"], flood_seconds=0, page_size=500)
    actions.create_moderator("mo", "admin")
    moderator = Moderator(app.test_client())
    assert moderator.sign_in("mo", PASSWORD).status_code == 303
    exposure = expose_xss_corpus(app, client, moderator.client, XSS_PAYLOADS, thread="xss")
    assert exposure.server_errors == []

    interception = Interception(client, moderator.client)
    context = browser.new_context(java_script_enabled=True)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(RECORD_DIALOGS)
    context.route("**/*", interception.handle)
    page = context.new_page()
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    ran: dict[str, str] = {}
    started = time.monotonic()
    # answers to a script's POST are left out: their html fields are checked below
    pages = [
        (shown.label, shown.path or interception.save(shown))
        for shown in exposure.pages
        if not shown.is_json or shown.label == "public JSON"
    ]
    try:
        for start in range(0, len(pages), PAGES_PER_LOAD):
            batch = pages[start : start + PAGES_PER_LOAD]
            ran.update(inspect_side_by_side(page, interception, batch, dialogs))
        # the public JSON's html as a front end would insert it into its own page
        listing = json.loads(next(p for p in exposure.pages if p.label == "public JSON").body)
        fragments = "".join(f"<div class=c>{c['html']}</div>" for c in listing["comments"])
        page.set_content(f"<!doctype html><body>{fragments}</body>")
        found = page.evaluate(INSPECT_DOM)
        if found["problems"] or found["dialogs"] or found["marker"] or dialogs:
            ran["public JSON html inserted into a page"] = json.dumps(found)
    finally:
        context.close()
    print(f"{len(pages)} pages in {time.monotonic() - started:.1f} s")
    assert len(pages) > 4 * len(XSS_PAYLOADS) // 2
    assert_no_failures(ran)
