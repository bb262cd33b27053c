"""Leak scan: commenters' email addresses (and raw IP addresses) reach moderators and
integrations allowed to see them, and nobody else.

Addresses go in through every door (the widget form, the JSON API, the signed webhook), in
mixed case and with an internationalised domain; comments are approved, answered by a
moderator, left pending, marked spam, rejected and deleted. Then every public surface is
crawled and each body and header is searched for every address:

* case-insensitively, as typed, lower-cased and normalised (the unique local part alone too);
* after URL-decoding, HTML-entity decoding and JSON ``\\uXXXX`` decoding (nested, so a
  double-encoded address is found as well);
* as unkeyed MD5, SHA-1 and SHA-256 hex digests of each of those forms (Gravatar-style
  hashes are reversible by dictionary); the first 16 hex digits are searched, so a
  truncated digest is found too.

The echo rule (what may repeat an address the sender typed): only the widget form
re-rendered to the sender of that very POST, so they can correct their input, and only with
``Cache-Control: no-store``. JSON, webhook and error answers never repeat an address: an
API client already holds its input, and an error page may be logged, cached or shown to
someone else. Nothing an address was typed into is readable by anyone else afterwards.

The scan proves it can see: a synthetic test feeds it every encoding, and an integration
that *is* allowed emails receives them all, found by the same scanner.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import logging
import re
import urllib.parse
import urllib.request
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from email_validator import EmailNotValidError, validate_email
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from werkzeug.test import TestResponse

from tests.helpers import Actions, Dashboard, Integrator, aged_token, make_integration, signed_in
from tests.servers import fresh_server_env, http_json, start_server
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.database_incidental

RUN = uuid.uuid4().hex[:10]
ORIGIN = "https://blog.example"
SITE = "blog"
THREAD = "post-1"
#: A thread whose comments are all held: nothing of it may be public.
HELD_THREAD = "post-2"
PAGE_SIZE = 5


# --------------------------------------------------------------------------- the scanner


@dataclass(frozen=True)
class Secret:
    """Something private and every form it could leak in."""

    label: str
    #: (what it is, the lower-cased text to look for)
    needles: tuple[tuple[str, str], ...]

    def finds(self, reading: str) -> list[str]:
        return [kind for kind, needle in self.needles if needle in reading]


def hexdigest(algorithm: str, text: str) -> str:
    """An unkeyed digest, as a careless implementation would publish it."""
    return hashlib.new(algorithm, text.encode(), usedforsecurity=False).hexdigest()


def email_secret(typed: str) -> Secret:
    """An address: as typed, lower-cased, normalised, ASCII (punycode), local part, digests."""
    forms = [typed, typed.strip(), typed.lower()]
    try:
        checked = validate_email(typed, check_deliverability=False)
    except EmailNotValidError:  # an invalid address a sender typed is private all the same
        pass
    else:
        ascii_form = checked.ascii_email or checked.normalized
        forms += [checked.normalized, checked.normalized.lower(), ascii_form, ascii_form.lower()]
    unique = list(dict.fromkeys(forms))
    needles: list[tuple[str, str]] = [(f"address {form!r}", form.lower()) for form in unique]
    needles.append(("local part", typed.split("@")[0].lower()))
    for form in unique:
        for algorithm in ("md5", "sha1", "sha256"):
            needles.append((f"{algorithm}({form!r})", hexdigest(algorithm, form)[:16]))
    return Secret(typed, tuple(dict.fromkeys(needles)))


def ip_secret(address: str) -> Secret:
    """A raw client address (stored truncated; raw only in expiring rate-limit keys)."""
    return Secret(address, ((f"raw address {address}", address.lower()),))


_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def readings(text: str) -> set[str]:
    """``text`` and everything a browser or client could decode it to, lower-cased."""
    found = {text}
    frontier = {text}
    for _ in range(3):
        decoded_now: set[str] = set()
        for value in frontier:
            for decoded in (
                urllib.parse.unquote(value),
                urllib.parse.unquote_plus(value),
                html.unescape(value),
                _JSON_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), value),
            ):
                if decoded not in found:
                    found.add(decoded)
                    decoded_now.add(decoded)
        frontier = decoded_now
    return {value.lower() for value in found}


@dataclass(frozen=True)
class Leak:
    surface: str
    part: str
    secret: str
    kinds: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.surface} [{self.part}]: {self.secret} as {', '.join(self.kinds)}"


def response_parts(response: TestResponse) -> dict[str, str]:
    """Every header (ETag, Location, Set-Cookie, ...) and the body of an answer."""
    parts = {
        f"header {name} #{index}": value for index, (name, value) in enumerate(response.headers)
    }
    parts["body"] = response.get_data(as_text=True)
    return parts


@functools.lru_cache(maxsize=4096)
def kinds_found(text: str, secrets: tuple[Secret, ...]) -> tuple[frozenset[str], ...]:
    """Each secret's kinds found in any reading of ``text``. Most of an answer's headers
    (its policies, types, caching) come back alike in every answer: each distinct text
    is read once for the same secrets, not once per answer."""
    texts = readings(text)
    return tuple(
        frozenset(kind for reading in texts for kind in secret.finds(reading)) for secret in secrets
    )


def find_leaks(
    surface: str,
    parts: dict[str, str],
    secrets: Iterable[Secret],
    echo_allowed: Secret | None = None,
) -> list[Leak]:
    """Where any secret appears in ``parts``. ``echo_allowed``: the sender's own address,
    which may appear as an address (never as a digest) in the body only."""
    leaks = []
    secrets = tuple(secrets)
    for part, text in parts.items():
        for secret, found in zip(secrets, kinds_found(text, secrets), strict=True):
            kinds = set(found)
            if secret is echo_allowed and part == "body":
                kinds = {kind for kind in kinds if not kind.startswith(("address", "local part"))}
            if kinds:
                leaks.append(Leak(surface, part, secret.label, tuple(sorted(kinds))))
    return leaks


@dataclass
class Scan:
    """Everything looked at, and every leak found."""

    secrets: list[Secret]
    surfaces: list[str] = field(default_factory=list)
    leaks: list[Leak] = field(default_factory=list)

    def response(
        self, surface: str, response: TestResponse, echo_allowed: Secret | None = None
    ) -> TestResponse:
        self.surfaces.append(f"{surface} -> {response.status_code}")
        self.leaks += find_leaks(surface, response_parts(response), self.secrets, echo_allowed)
        response.close()  # the body stays readable: get_data() buffered it
        return response

    def text(self, surface: str, text: str) -> None:
        self.surfaces.append(surface)
        self.leaks += find_leaks(surface, {"text": text}, self.secrets)

    def assert_clean(self) -> None:
        assert not self.leaks, "private data leaked:\n" + "\n".join(map(str, self.leaks))


# --------------------------------------------------------------------------- the world


STYLES = (
    lambda local, domain: f"{local}@{domain}",
    lambda local, domain: f"{local.upper()}@{domain.upper()}",
    lambda local, domain: f"{local.title()}@{domain.title()}",
)


@dataclass
class Posted:
    """A comment sent through a door, and what its sender was answered."""

    door: str
    email: str
    address: str
    text: str
    answer: TestResponse
    comment_id: int | None

    @property
    def status(self) -> int:
        return self.answer.status_code

    @property
    def preview(self) -> str:
        """The author's preview link the form redirected to (held comments only)."""
        location = self.answer.headers.get("Location", "")
        return location.split("#")[0] if "unapproved=" in location else ""


class World:
    """A site whose comments came in by every door, with every outcome; it remembers
    every address and client address it used, so the scan knows what to look for."""

    def __init__(
        self, app: Flask, client: FlaskClient, integrator: Integrator, moderator: Dashboard
    ):
        self.app, self.client = app, client
        self.integrator, self.moderator = integrator, moderator
        self.posted: list[Posted] = []
        self.emails: list[str] = []
        self.addresses: list[str] = []

    # what is private ------------------------------------------------------------------
    def new_email(self, door: str, domain: str = "example.com") -> str:
        """A unique address in one of three letter cases."""
        number = len(self.emails)
        # a fixed-width number right after the run: no address contains another's local part
        email = STYLES[number % len(STYLES)](f"leak-{RUN}-{number:04d}-{door}", domain)
        self.emails.append(email)
        return email

    def new_address(self) -> str:
        address = f"203.0.113.{100 + len(self.addresses)}"
        self.addresses.append(address)
        return address

    @property
    def email_secrets(self) -> list[Secret]:
        return [email_secret(email) for email in self.emails]

    @property
    def secrets(self) -> list[Secret]:
        return [*self.email_secrets, *(ip_secret(ip) for ip in dict.fromkeys(self.addresses))]

    # doors ------------------------------------------------------------------------------
    def via_form(
        self,
        thread: str = THREAD,
        email: str | None = None,
        parent: int | None = None,
        lang: str = "",
        **fields: str,
    ) -> Posted:
        email = email or self.new_email("form")
        address = self.new_address()
        text = fields.pop("comment", f"Words number {len(self.posted)} by a reader.")
        data = {
            "comment": text,
            "author": f"Reader {len(self.posted)}",
            "email": email,
            "url": "",
            "form_token": aged_token(self.app, SITE, thread),
            "comment_parent": str(parent or 0),
            **fields,
        }
        query = f"thread={thread}" + (f"&lang={lang}" if lang else "")
        answer = self.client.post(
            f"/w/{SITE}?{query}",
            data=data,
            headers={"Origin": ORIGIN},
            environ_base={"REMOTE_ADDR": address},
        )
        match = re.search(r"#comment-(\d+)", answer.headers.get("Location", ""))
        return self._remember("form", email, address, text, answer, match and int(match[1]))

    def via_json(
        self,
        thread: str = THREAD,
        email: str | None = None,
        parent: int | None = None,
        **extra: Any,
    ) -> Posted:
        email = email or self.new_email("json")
        address = self.new_address()
        text = extra.pop("comment", f"Words number {len(self.posted)} from an app.")
        body = {
            "comment": text,
            "author": f"Reader {len(self.posted)}",
            "email": email,
            "form_token": aged_token(self.app, SITE, thread),
            "comment_parent": parent or 0,
            **extra,
        }
        answer = self.client.post(
            f"/api/v1/sites/{SITE}/comments?thread={thread}",
            json=body,
            headers={"Origin": ORIGIN},
            environ_base={"REMOTE_ADDR": address},
        )
        comment_id = (answer.get_json(silent=True) or {}).get("id")
        return self._remember("json", email, address, text, answer, comment_id)

    def via_webhook(
        self, thread: str = THREAD, email: str | None = None, client_ip: str | None = None
    ) -> Posted:
        email = email or self.new_email("hook")
        address = client_ip or self.new_address()
        if address not in self.addresses:
            self.addresses.append(address)
        text = f"Words number {len(self.posted)} from a CMS."
        answer = self.integrator.submit(
            site=SITE,
            thread=thread,
            author=f"Reader {len(self.posted)}",
            email=email,
            comment=text,
            client_ip=address,
        )
        comment_id = (answer.get_json(silent=True) or {}).get("id")
        return self._remember("webhook", email, address, text, answer, comment_id)

    def _remember(
        self,
        door: str,
        email: str,
        address: str,
        text: str,
        answer: TestResponse,
        comment_id: int | None,
    ) -> Posted:
        posted = Posted(door, email, address, text, answer, comment_id or None)
        self.posted.append(posted)
        return posted

    # moderation through the dashboard ------------------------------------------------------
    def moderate(self, posted: Posted, action: str) -> None:
        assert posted.comment_id is not None, posted
        response = self.moderator.moderate(posted.comment_id, action)
        assert response.status_code == 303, (action, response.get_data(as_text=True))

    def reply_as_moderator(self, posted: Posted) -> None:
        assert posted.comment_id is not None, posted
        response = self.moderator.post(
            f"/dashboard/comments/{posted.comment_id}/reply",
            text=f"Thanks, reader {posted.comment_id}; a moderator answers.",
        )
        assert response.status_code == 303, response.get_data(as_text=True)


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"WEBHOOK_ALLOW_PRIVATE_TARGETS": True}


@pytest.fixture
def receivers() -> Iterator[dict[str, Receiver]]:
    started = {"quiet": Receiver(secret="").start(), "allowed": Receiver(secret="").start()}
    yield started
    for receiver in started.values():
        receiver.stop()


def new_world(app: Flask, client: FlaskClient, actions: Actions) -> World:
    """The site, a signed-in moderator and an integrator that submits comments."""
    actions.create_site(
        SITE, [ORIGIN], flood_seconds=0, page_size=PAGE_SIZE, blocked_words="casino"
    )
    moderator = signed_in(app, actions, "alice", "admin")
    return World(
        app, client, Integrator(client, *make_integration(app, "CMS", site=SITE)), moderator
    )


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every record the service and its libraries log, at DEBUG, from the first request."""
    for name in ("moderation", "flask-limiter", "werkzeug", "gunicorn"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def logged_text(caplog: pytest.LogCaptureFixture) -> str:
    """Every captured record (set-up and test), formatted with its traceback."""
    records = [*caplog.get_records("setup"), *caplog.get_records("call")]
    return "\n".join(caplog.handler.format(record) for record in records)


@pytest.fixture
def world(
    app: Flask,
    client: FlaskClient,
    actions: Actions,
    receivers: dict[str, Receiver],
    all_logs: pytest.LogCaptureFixture,
) -> World:
    """Comments by every door with every outcome; two integrations listening."""
    world = new_world(app, client, actions)
    make_integration(app, "Listener", receivers["quiet"], site=SITE)
    make_integration(app, "CRM", receivers["allowed"], site=SITE, allow_email=True)

    top = [world.via_form() for _ in range(4)]
    top.append(world.via_form(lang="id"))
    top.append(world.via_form(email=world.new_email("form", "Bücher.Example.com")))
    top += [world.via_json() for _ in range(3)]
    top += [world.via_webhook() for _ in range(2)]
    top.append(world.via_webhook(client_ip="2001:db8:1234:5678::42"))
    assert all(posted.status in (201, 202, 303) for posted in top), [p.status for p in top]
    for posted in top[:-2]:
        world.moderate(posted, "approve")
    world.reply_as_moderator(top[-2])  # answering a held comment approves it
    # replies by readers, one approved, one left waiting
    world.moderate(world.via_form(parent=top[0].comment_id), "approve")
    world.via_json(parent=top[1].comment_id)
    # held, spam, rejected and deleted comments; a thread with nothing public at all
    world.via_form(thread=HELD_THREAD)
    world.via_form(thread=HELD_THREAD, contact_phone="555-0100")  # honeypot: spam, silently
    world.via_json(comment="Visit my casino tonight")  # blocked word: spam
    world.moderate(world.via_webhook(), "reject")
    world.moderate(world.via_webhook(), "spam")
    world.moderate(world.via_form(), "delete")
    later = world.via_json()
    world.moderate(later, "approve")
    world.moderate(later, "reject")
    assert all(posted.status in (201, 202, 303) for posted in world.posted)
    return world


# --------------------------------------------------------------------------- the crawl

LINK = re.compile(r"""(?:href|src|action)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
MAX_PAGES = 250


def crawl(client: FlaskClient, starts: list[str], scan: Scan) -> dict[str, TestResponse]:
    """Fetch ``starts`` and every same-origin public link they lead to."""
    seen: dict[str, TestResponse] = {}
    queue = deque(starts)
    while queue and len(seen) < MAX_PAGES:
        url = queue.popleft()
        if url in seen:
            continue
        headers = {"Origin": ORIGIN} if url.startswith("/api/") else {}
        response = scan.response(f"GET {url}", client.get(url, headers=headers))
        seen[url] = response
        if response.mimetype != "text/html":
            continue
        for raw in LINK.findall(response.get_data(as_text=True)):
            target = html.unescape(raw).split("#")[0]
            if target.startswith("http://localhost/"):
                target = target.removeprefix("http://localhost")
            if not target.startswith("/") or target.startswith("//"):
                continue
            if target.startswith("/dashboard") or target in seen:
                continue
            queue.append(target)
    return seen


def test_scanner_finds_every_encoding_it_claims_to() -> None:
    """Positive control of the scanner itself, on synthetic text."""
    typed = f"Leak-{RUN}-Probe@Example.COM"
    secret = email_secret(typed)
    lowered = typed.lower()
    normalised = f"Leak-{RUN}-Probe@example.com"
    samples = {
        "plain": f"<p>{typed}</p>",
        "upper": typed.upper(),
        "url-encoded": urllib.parse.quote(typed, safe=""),
        "double url-encoded": urllib.parse.quote(urllib.parse.quote(typed, safe=""), safe=""),
        "form-encoded": urllib.parse.urlencode({"e": typed}),
        "decimal entities": "".join(f"&#{ord(c)};" for c in typed),
        "hex entity @": typed.replace("@", "&#x40;"),
        "json escape": typed.replace("@", "\\u0040"),
        "md5 lower (Gravatar)": hexdigest("md5", lowered),
        "sha1 typed": hexdigest("sha1", typed),
        "sha256 normalised, truncated": hexdigest("sha256", normalised)[:32],
        "upper-case hex md5": hexdigest("md5", normalised).upper(),
        "local part only": f"mail leak-{RUN}-probe at example dot com",
    }
    for name, text in samples.items():
        assert find_leaks(name, {"body": text}, [secret]), name
    # and the address a sender typed may be echoed to that sender in a body, as an address
    assert not find_leaks("echo", {"body": typed}, [secret], echo_allowed=secret)
    assert find_leaks("echo", {"header ETag": typed}, [secret], echo_allowed=secret)
    gravatar = hexdigest("md5", lowered)
    assert find_leaks("echo", {"body": gravatar}, [secret], echo_allowed=secret)
    assert not find_leaks("clean", {"body": "leak-other@example.com"}, [secret])


def test_public_surfaces_never_show_an_address(
    world: World, app: Flask, all_logs: pytest.LogCaptureFixture
) -> None:
    scan = Scan(world.secrets)
    reader = app.test_client(use_cookies=False)
    approved = approved_ids(app)
    held = [p for p in world.posted if p.comment_id not in approved]
    held_id = held[0].comment_id
    first = next(p for p in world.posted if p.comment_id in approved and p.door == "form")
    widget = f"/w/{SITE}?thread={THREAD}"
    api = f"/api/v1/sites/{SITE}"
    previews = [p.preview for p in world.posted if p.preview]
    assert len(previews) >= 5, "the form answers carry the author's preview link"
    other_thread_preview = next(p.preview for p in held if HELD_THREAD in p.preview)
    starts = [
        widget,
        f"{widget}&lang=id",
        f"{widget}&cpage=2",
        f"{widget}&cpage=2&lang=id",
        f"{widget}&replytocom={first.comment_id}",
        f"{widget}&replytocom={first.comment_id}&lang=id",
        f"{widget}&origin={urllib.parse.quote(ORIGIN)}&url={urllib.parse.quote(ORIGIN + '/p')}",
        f"/w/{SITE}?thread={HELD_THREAD}",
        f"/w/{SITE}?thread=never-commented",
        *previews,
        *(f"{preview}&lang=id" for preview in previews),
        # what is held stays held: reply links, forged and misplaced previews
        f"{widget}&replytocom={held_id}",
        f"{widget}&unapproved={held_id}",
        f"{widget}&unapproved={held_id}&moderation-hash=forged",
        other_thread_preview.replace(HELD_THREAD, THREAD),
        f"{api}/comments?thread={THREAD}",
        f"{api}/comments?thread={THREAD}&page=2",
        f"{api}/comments?thread={THREAD}&lang=id",
        f"{api}/comments?thread={HELD_THREAD}",
        f"{api}/counts?thread={THREAD}&thread={HELD_THREAD}&thread=never-commented",
        f"{api}/form-token?thread={THREAD}",
        f"/w/{SITE}/fragment?thread={THREAD}",
        f"/w/{SITE}/fragment?thread={HELD_THREAD}",
        f"/feeds/{SITE}.atom",
        f"/feeds/{SITE}.atom?thread={THREAD}",
        f"/feeds/{SITE}.atom?thread={HELD_THREAD}",
        "/embed.js",
        "/demo",
        "/healthz",
        "/api/openapi.json",
    ]
    pages = crawl(reader, starts, scan)
    # after every preview was rendered, the public pages again (nothing cached across)
    again = {
        f"{url} (again)": scan.response(f"GET {url} again", reader.get(url))
        for url in (widget, f"{widget}&lang=id", f"{widget}&cpage=2")
    }
    listing = pages[f"{api}/comments?thread={THREAD}"]
    etag = listing.headers["ETag"]
    scan.response(
        "GET comments, If-None-Match",
        reader.get(f"{api}/comments?thread={THREAD}", headers={"If-None-Match": etag}),
    )
    scan.response(
        "OPTIONS comments (preflight)",
        reader.options(f"{api}/comments?thread={THREAD}", headers={"Origin": ORIGIN}),
    )
    scan.response(
        "GET widget in Indonesian by Accept-Language",
        reader.get(widget, headers={"Accept-Language": "id"}),
    )
    # what each sender was answered: 303 (its Location), 201/202 JSON, webhook answers
    for posted in world.posted:
        scan.response(f"{posted.door} answer to the sender of {posted.comment_id}", posted.answer)
    scan.text("log records of the whole scenario", logged_text(all_logs))

    # the crawl really saw the thread: paginated, with reply links, every public comment
    assert any("cpage=2" in url for url in pages), sorted(pages)
    assert any("replytocom=" in url for url in pages), sorted(pages)
    assert listing.get_json()["pages"] >= 2, listing.get_json()
    public = " ".join(
        response.get_data(as_text=True)
        for url, response in [*pages.items(), *again.items()]
        if not any(url.startswith(preview) for preview in previews)
        # an author's edit page (reached with the key the preview carries) shows their own text
        and "/edit?" not in url
    )
    assert "a moderator answers" in public
    for posted in world.posted:
        if posted.comment_id in approved:
            assert html.escape(posted.text) in public, f"an approved comment is missing: {posted}"
        else:
            assert posted.text not in public, f"a held comment is public: {posted}"
    assert len(scan.surfaces) >= 50, scan.surfaces
    scan.assert_clean()


def approved_ids(app: Flask) -> set[int]:
    from tests.helpers import stored_comments

    return {row["id"] for row in stored_comments(app) if row["status"] == "approved"}


def deliver_everything(app: Flask) -> None:
    from moderation.services import webhooks

    settings = webhooks.DeliverySettings(
        backoff_base=0.01, timeout=5.0, lease_seconds=30.0, allow_private_targets=True
    )
    with app.app_context():
        for _ in range(50):
            if webhooks.deliver_due(settings) == 0:
                return


def test_outbound_webhooks_carry_addresses_only_where_allowed(
    world: World, app: Flask, receivers: dict[str, Receiver]
) -> None:
    deliver_everything(app)
    quiet, allowed = receivers["quiet"], receivers["allowed"]
    assert quiet.refused_signatures == allowed.refused_signatures == 0
    events = {payload["type"] for payload in quiet.payloads()}
    assert events == {
        "comment.created",
        "comment.approved",
        "comment.rejected",
        "comment.spam",
        "comment.deleted",
    }
    assert len(quiet.accepted) == len(allowed.accepted) > len(world.posted)

    scan = Scan(world.secrets)
    for message in quiet.accepted:
        scan.text(
            f"webhook {message['webhook-id']} to the integration without emails", message["raw"]
        )
    scan.assert_clean()

    # positive control: the integration allowed to see emails gets every one, and the
    # same scanner finds each of them in what it received
    control = "\n".join(message["raw"] for message in allowed.accepted)
    for secret in world.email_secrets:
        assert find_leaks("allowed integration", {"body": control}, [secret]), secret.label
    emails = {payload["data"].get("email") for payload in allowed.payloads()}
    typed = {validate_email(p.email, check_deliverability=False).normalized for p in world.posted}
    assert typed <= emails


def test_error_answers_never_repeat_an_address_to_anyone_else(
    app: Flask, client: FlaskClient, actions: Actions
) -> None:
    """Every error answer is sent a fresh address; none repeats it (JSON, webhook, pages).
    The widget form re-rendered to its sender is the one place input is kept."""
    world = new_world(app, client, actions)
    reader = app.test_client(use_cookies=False)
    first = world.via_json()
    assert first.status == 202
    api = f"/api/v1/sites/{SITE}/comments?thread={THREAD}"
    widget = f"/w/{SITE}?thread={THREAD}"
    own = {"Origin": ORIGIN}
    evil = {"Origin": "https://evil.example"}

    def fields(email: str, **overrides: Any) -> dict[str, Any]:
        return {
            "comment": f"An error case {uuid.uuid4().hex}",
            "author": "Error Case",
            "email": email,
            "form_token": aged_token(app, SITE, THREAD),
            **overrides,
        }

    def e() -> str:
        return world.new_email("err")

    hooks = world.integrator
    replay_id = f"msg_replay_{RUN}"
    replayed = {"site": SITE, "thread": THREAD, "email": e()}
    first_refusal = hooks.send("comment.submit", replayed, webhook_id=replay_id)
    cases: list[tuple[str, int, TestResponse]] = [
        ("404 page", 404, reader.get(f"/no-such-page?email={e()}")),
        ("404 unknown site", 404, reader.get(f"/w/nope?thread=a&email={e()}")),
        ("404 API unknown site", 404, reader.get(f"/api/v1/sites/nope/comments?thread=a&e={e()}")),
        ("400 widget without thread", 400, reader.get(f"/w/{SITE}?email={e()}")),
        ("400 API without thread", 400, reader.get(f"/api/v1/sites/{SITE}/comments?e={e()}")),
        ("405 widget", 405, reader.put(widget, data=fields(e()))),
        ("405 API", 405, reader.delete(api, json=fields(e()))),
        (
            "413 widget",
            413,
            reader.post(widget, data=fields(e(), comment="x" * 1_100_000), headers=own),
        ),
        ("413 API", 413, reader.post(api, json=fields(e(), comment="x" * 1_100_000), headers=own)),
        (
            "415 API",
            415,
            reader.post(api, data=json.dumps(fields(e())), content_type="text/plain", headers=own),
        ),
        (
            "400 API malformed JSON",
            400,
            reader.post(
                api, data=json.dumps(fields(e()))[:-3], content_type="application/json", headers=own
            ),
        ),
        ("422 API field errors", 422, reader.post(api, json=fields(e(), comment=""), headers=own)),
        (
            "422 API invalid address",
            422,
            reader.post(api, json=fields(e().replace("@", "@@")), headers=own),
        ),
        ("403 API foreign origin", 403, reader.post(api, json=fields(e()), headers=evil)),
        (
            "403 API no form token",
            403,
            reader.post(api, json=fields(e(), form_token=""), headers=own),
        ),
        ("403 widget foreign origin", 403, reader.post(widget, data=fields(e()), headers=evil)),
        (
            "409 API duplicate",
            409,
            reader.post(
                api,
                json=fields(first.email, comment=first.text),
                headers=own,
                environ_base={"REMOTE_ADDR": "198.51.100.201"},
            ),
        ),
        ("422 webhook field errors", 422, hooks.submit(site=SITE, email=e(), comment="")),
        (
            "400 webhook malformed JSON",
            400,
            hooks.send("comment.submit", {}, body=f'{{"data": {{"email": "{e()}"'.encode()),
        ),
        (
            "401 webhook bad signature",
            401,
            hooks.send("comment.submit", {"email": e()}, secret="whsec_" + "A" * 43 + "="),
        ),
        (
            "409 webhook duplicate",
            409,
            hooks.submit(site=SITE, thread=THREAD, email=first.email, comment=first.text),
        ),
        ("422 webhook, first answer", 422, first_refusal),
        (
            "422 webhook, replayed",
            422,
            hooks.send("comment.submit", replayed, webhook_id=replay_id),
        ),
    ]
    scan = Scan(world.secrets)
    for name, status, response in cases:
        assert response.status_code == status, (name, response.get_data(as_text=True))
        scan.response(name, response)

    # the widget form re-rendered to its own sender keeps their input, is never stored by
    # a cache (no-store), and nothing of it reaches anyone else afterwards
    echoes: list[tuple[str, int, dict[str, Any], str]] = []
    for name, status, overrides in (
        ("422 widget field errors", 422, {"url": "javascript:alert(1)"}),
        ("422 widget invalid address", 422, {"email": "invalid"}),
        ("403 widget forged form token", 403, {"form_token": "forged"}),
        ("409 widget duplicate", 409, {"email": first.email, "comment": first.text}),
    ):
        email = overrides.pop("email", None) or e()
        if email == "invalid":
            email = e().replace("@", "@@")
            world.emails[-1] = email
        echoes.append((name, status, fields(email, **overrides), email))
    scan.secrets = world.secrets
    for name, status, data, email in echoes:
        response = reader.post(
            widget, data=data, headers=own, environ_base={"REMOTE_ADDR": "198.51.100.202"}
        )
        assert response.status_code == status, (name, response.get_data(as_text=True))
        assert response.headers["Cache-Control"] == "no-store", name
        kept = response.get_data(as_text=True).lower()
        assert html.escape(email.split("@")[0].lower()) in kept, "the input is kept"
        scan.response(
            name, response, echo_allowed=next(s for s in scan.secrets if s.label == email)
        )
    for path in (widget, api):
        scan.response(f"GET {path} after the errors", reader.get(path, headers=own))
    scan.assert_clean()


class TestRateLimitAnswers:
    """429s from every limit: per address, per email, per route, per integration, failed
    sign-ins. None repeats an address, except the widget form to its own sender."""

    @pytest.fixture
    def config_overrides(self) -> dict[str, Any]:
        return {
            "WEBHOOK_ALLOW_PRIVATE_TARGETS": True,
            "LIMIT_SUBMIT_PER_ADDRESS": "2/minute",
            "LIMIT_SUBMIT_PER_EMAIL": "2/minute",
            "LIMIT_WEBHOOK_PER_INTEGRATION": "6/minute",
            "LIMIT_LOGIN_FAILURES": "2/minute",
        }

    def test_limit_answers_never_repeat_an_address(
        self, app: Flask, client: FlaskClient, actions: Actions
    ) -> None:
        world = new_world(app, client, actions)

        def form(email: str, address: str) -> TestResponse:
            return client.post(
                f"/w/{SITE}?thread={THREAD}&lang=id",
                data={
                    "comment": f"Rate case {uuid.uuid4().hex}",
                    "author": "Rate Case",
                    "email": email,
                    "form_token": aged_token(app, SITE, THREAD),
                },
                headers={"Origin": ORIGIN},
                environ_base={"REMOTE_ADDR": address},
            )

        def api(email: str, address: str) -> TestResponse:
            return client.post(
                f"/api/v1/sites/{SITE}/comments?thread={THREAD}",
                json={
                    "comment": f"Rate case {uuid.uuid4().hex}",
                    "author": "Rate Case",
                    "email": email,
                    "form_token": aged_token(app, SITE, THREAD),
                },
                headers={"Origin": ORIGIN},
                environ_base={"REMOTE_ADDR": address},
            )

        #: (what, the 429 answer, the address its sender typed if it may be echoed)
        answers: list[tuple[str, TestResponse, str | None]] = []
        for door, send in (("form", form), ("api", api)):
            # per address: a third comment from one address, each with another email
            address = world.new_address()
            emails = [world.new_email(f"rate{door}") for _ in range(3)]
            results = [send(email, address) for email in emails]
            assert all(r.status_code in (202, 303) for r in results[:2]), results
            answers.append((f"{door}, per address", results[2], emails[2]))
            # per email: one address typed from three places
            shared = world.new_email(f"peremail{door}")
            results = [send(shared, world.new_address()) for _ in range(3)]
            answers.append((f"{door}, per email", results[2], shared))
            # the route limit: 60 a minute per client address, whatever the content
            address, email = world.new_address(), world.new_email(f"route{door}")
            for _ in range(61):
                last = send(email, address)
            answers.append((f"{door}, route limit", last, email))
        # the webhook: per client address, then the per-integration route limit
        address = world.new_address()
        per_address = [world.via_webhook(client_ip=address) for _ in range(3)][-1].answer
        answers.append(("webhook, per address", per_address, None))
        for _ in range(6):
            last = world.via_webhook().answer
            if last.status_code == 429:
                break
        answers.append(("webhook, per integration", last, None))
        # failed sign-ins
        intruder = Dashboard(app.test_client())
        for _ in range(3):
            refused = intruder.sign_in("alice", "not the password at all")
        answers.append(("sign-in failures", refused, None))

        scan = Scan(world.secrets)
        for name, response, typed in answers:
            assert response.status_code == 429, (name, response.get_data(as_text=True))
            assert int(response.headers["Retry-After"]) > 0, name
            echo = None
            if (
                name.startswith("form")
                and response.mimetype == "text/html"
                and "form_token" in (response.get_data(as_text=True))
            ):
                # the widget re-rendered its form with the sender's own input
                assert response.headers["Cache-Control"] == "no-store", name
                echo = next(s for s in scan.secrets if s.label == typed)
            scan.response(f"429 {name}", response, echo_allowed=echo)
        scan.assert_clean()


def test_unexpected_database_errors_do_not_log_addresses(
    app: Flask, client: FlaskClient, actions: Actions, caplog: pytest.LogCaptureFixture
) -> None:
    """A failure the code does not expect is logged with its traceback, never with the
    values it was writing (SQLAlchemy prints bound parameters unless told not to)."""
    from moderation.extensions import db

    actions.create_site(SITE, [ORIGIN])
    typed = f"Leak-{RUN}-Fault@Example.com"

    def fail_comment_inserts(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO COMMENTS"):
            raise conn.dialect.loaded_dbapi.DataError("injected failure")

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", fail_comment_inserts)
    try:
        with caplog.at_level(logging.INFO, logger="moderation"):
            response = client.post(
                f"/api/v1/sites/{SITE}/comments?thread={THREAD}",
                json={
                    "comment": "This one fails to store.",
                    "author": "Fault Case",
                    "email": typed,
                    "form_token": aged_token(app, SITE, THREAD),
                },
                headers={"Origin": ORIGIN},
                environ_base={"REMOTE_ADDR": "203.0.113.250"},
            )
    finally:
        event.remove(engine, "before_cursor_execute", fail_comment_inserts)
    assert response.status_code == 500
    assert "injected failure" in caplog.text, "the failure itself is logged"
    scan = Scan([email_secret(typed)])
    scan.response("500 answer", response)
    scan.text("the log of the failure", caplog.text)
    scan.assert_clean()


@pytest.mark.slow
def test_a_real_server_never_logs_an_address(tmp_path: Path, migrated_database: str) -> None:
    """``moderation serve`` with its own logging (DEBUG), behind a trusted proxy, taking
    comments over real HTTP: accepted, refused, invalid, limited. Its output names no
    commenter's email and no raw client address."""
    env = fresh_server_env(
        tmp_path,
        migrated_database,
        FORM_TOKEN_MIN_AGE="0",
        SPAM_MIN_FILL_SECONDS="0",
        TRUSTED_PROXIES="1",
        LOG_LEVEL="DEBUG",
    )
    server = start_server(tmp_path, env, args=["--no-deliver"])
    emails: list[str] = []
    addresses: list[str] = []
    statuses: list[int] = []
    try:
        origin, thread = server.url, "logged"

        def client(address: str | None = None) -> dict[str, str]:
            if address is None:
                address = f"203.0.113.{200 + len(addresses)}"
                addresses.append(address)
            return {"Origin": origin, "X-Forwarded-For": address}

        def fields(**overrides: str) -> dict[str, str]:
            number = len(emails)
            emails.append(STYLES[number % 3](f"leak-{RUN}-{number:04d}-serve", "example.com"))
            status, _, body = http_json(
                "GET", f"{origin}/api/v1/sites/demo/form-token?thread={thread}"
            )
            assert status == 200, body
            return {
                "comment": f"Served comment {number}",
                "author": "Served",
                "email": emails[-1],
                "form_token": str(body["form_token"]),  # type: ignore[index]
                **overrides,
            }

        def post_json(headers: dict[str, str], **overrides: str) -> None:
            url = f"{origin}/api/v1/sites/demo/comments?thread={thread}"
            statuses.append(http_json("POST", url, fields(**overrides), headers)[0])

        def post_form(headers: dict[str, str], **overrides: str) -> None:
            request = urllib.request.Request(
                f"{origin}/w/demo?thread={thread}",
                data=urllib.parse.urlencode(fields(**overrides)).encode(),
                headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:  # follows the 303
                    statuses.append(response.status)
            except urllib.error.HTTPError as error:
                statuses.append(error.code)
                error.close()

        post_json(client())  # accepted
        post_json(client())  # accepted
        post_json(client(), comment="")  # 422
        post_form(client())  # 303 to the preview
        post_form(client(addresses[-1]))  # the same address again: flood, 429
        post_form(client(), url="javascript:alert(1)")  # 400, the form again
        post_json({**client(), "Origin": "https://evil.example"})  # 403
        assert statuses == [202, 202, 422, 200, 429, 422, 403], statuses
    finally:
        server.stop()
    output = server.output()
    assert "Serving on" in output, output
    scan = Scan([*(email_secret(email) for email in emails), *map(ip_secret, addresses)])
    scan.text("moderation serve output", output)
    scan.assert_clean()
