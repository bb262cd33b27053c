"""The XSS corpus in real Chromium (Debian's, through Playwright): no dialog opens, no marker a
payload sets appears, and the DOM the browser built holds no script, event handler, frame or
script URL, on every page that shows a visitor's input: the author's preview, the form shown
again with the input kept, the widget, the public JSON, the dashboard's queue and detail pages.

The pages are exactly what the service answered, on this test's database, handed to Chromium
through request interception at ``http://moderation.test`` (static files too). Their
``Content-Security-Policy`` header is removed on the way: the CSP (``script-src 'self'``)
would block inline script anyway, and without it the test proves that the markup itself is
inert, not only that the CSP caught it.
"""

from __future__ import annotations

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

    def save(self, page: ShownPage) -> str:
        """A GET path at which Chromium is given ``page`` as it was answered."""
        path = f"/__answered__/{len(self.saved)}"
        self.saved[path] = page
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
            name: value
            for name, value in headers.items()
            if name.lower() not in ("content-security-policy", "content-length")
        }
        route.fulfill(status=status, headers=kept, body=body)


def inspect(page: Page, path: str, dialogs: list[str]) -> list[str]:
    """Load ``path`` and return what ran or could run script there."""
    dialogs.clear()
    page.goto(SERVICE + path, wait_until="load")
    found = page.evaluate(INSPECT_DOM)  # dispatched events run their handlers at once
    problems = list(found["problems"])
    if found["marker"] is not None:
        problems.append(f"window.__xss was set to {found['marker']}")
    problems += [f"{name} called" for name in found["dialogs"]]
    problems += [f"a dialog opened: {message}" for message in dialogs]
    return sorted(set(problems))


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
    ran = {}
    loaded = 0
    started = time.monotonic()
    try:
        for shown in exposure.pages:
            if shown.is_json and shown.label != "public JSON":
                continue  # answers to a script's POST; their html fields are checked below
            path = shown.path or interception.save(shown)
            found = inspect(page, path, dialogs)
            loaded += 1
            if found:
                ran[shown.label] = "; ".join(found)
        # the public JSON's html as a front end would insert it into its own page
        listing = json.loads(next(p for p in exposure.pages if p.label == "public JSON").body)
        fragments = "".join(f"<div class=c>{c['html']}</div>" for c in listing["comments"])
        page.set_content(f"<!doctype html><body>{fragments}</body>")
        found = page.evaluate(INSPECT_DOM)
        if found["problems"] or found["dialogs"] or found["marker"] or dialogs:
            ran["public JSON html inserted into a page"] = json.dumps(found)
    finally:
        context.close()
    print(f"{loaded} pages in {time.monotonic() - started:.1f} s")
    assert loaded > 4 * len(XSS_PAYLOADS) // 2
    assert_no_failures(ran)
