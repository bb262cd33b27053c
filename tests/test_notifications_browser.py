"""Notifications followed in a real browser: a real ``moderation serve`` (with its own
delivery worker) sends to a real SMTP server (aiosmtpd) and a Slack-compatible receiver on
127.0.0.1, and headless Chromium follows the links found in the received messages.

Set ``SCREENSHOT_DIR`` to also save the README's screenshots (a held-comment email and
the confirmation page its Approve link opens).
"""

from __future__ import annotations

import os
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect

from tests.browsing import QUICK_SETTINGS, app_of, post_through_the_api, served
from tests.helpers import Actions
from tests.mail_servers import ChatReceiver, Received, SmtpSink
from tests.servers import ServerProcess, cli_in_process, free_port, http_json

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ORIGIN = "https://blog.example"
MODERATOR = "mo@moderators.example"
ANN = "ann@example.org"
BOB = "bob@example.org"
ADMIN_PASSWORD = "a long passphrase 123"


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="module")
def chat() -> Iterator[tuple[ChatReceiver, ChatReceiver]]:
    good, bad = ChatReceiver().start(), ChatReceiver(status=500).start()
    yield good, bad
    good.stop()
    bad.stop()


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
    smtp: SmtpSink,
    chat: tuple[ChatReceiver, ChatReceiver],
    migrated_database: str,
) -> Iterator[ServerProcess]:
    port = free_port()

    def setup(app: Flask) -> None:
        from moderation.services import moderators, notify_settings
        from moderation.services.events import SYSTEM

        Actions(app).create_site("blog", [ORIGIN], flood_seconds=0)
        with app.app_context():
            mo = moderators.create_moderator("mo", "another long passphrase 456", "moderator")
            notify_settings.set_email(mo, MODERATOR, SYSTEM)
            moderators.create_moderator("boss", ADMIN_PASSWORD, "admin")
            for receiver in chat:
                notify_settings.add_chat_hook("blog", receiver.url, True, SYSTEM)

    with served(
        tmp_path_factory.mktemp("notifications-browser"),
        setup,
        port=port,
        deliver=True,  # emails and chat messages go out through the delivery worker
        template=migrated_database,
        **QUICK_SETTINGS,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(smtp.port),
        MAIL_DEFAULT_SENDER="comments@comments.example",
        PUBLIC_URL=f"http://127.0.0.1:{port}",
        WEBHOOK_ALLOW_PRIVATE_TARGETS="true",
        WEBHOOK_BACKOFF_BASE="0.1",
        WEBHOOK_MAX_ATTEMPTS="2",
    ) as process:
        yield process


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def post_comment(
    server: ServerProcess, text: str, author: str, email: str, parent: int | None = None
) -> int:
    """A comment through the JSON API, asking for notifications; its id."""
    fields: dict[str, object] = {"comment": text, "author": author, "email": email, "notify": True}
    if parent is not None:
        fields["comment_parent"] = str(parent)
    return int(post_through_the_api(server.url, "blog", ORIGIN, "post-1", fields)["id"])


def public_ids(server: ServerProcess) -> list[int]:
    _, _, answer = http_json("GET", f"{server.url}/api/v1/sites/blog/comments?thread=post-1")
    found: list[int] = []

    def walk(comments: list[dict[str, object]]) -> None:
        for comment in comments:
            found.append(int(comment["id"]))  # type: ignore[call-overload]
            walk(comment.get("replies") or [])  # type: ignore[arg-type]

    walk(answer["comments"])  # type: ignore[index]
    return found


def wait_for(smtp: SmtpSink, address: str, count: int, timeout: float = 20) -> list[Received]:
    deadline = time.monotonic() + timeout
    while len(smtp.to(address)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    received = smtp.to(address)
    assert len(received) >= count, [m.message["Subject"] for m in received]
    return received


def wait_until_sent(server: ServerProcess, timeout: float = 20) -> None:
    """Until the server's outbox holds nothing left to send (all delivered or dead)."""
    from sqlalchemy import func, select

    from moderation.extensions import db
    from moderation.models.integrations import DeliveryState, OutboxDelivery

    waiting = select(func.count()).where(OutboxDelivery.state == DeliveryState.PENDING)
    deadline = time.monotonic() + timeout
    with app_of(server.env) as app, app.app_context():
        while (left := db.session.execute(waiting).scalar_one()) and time.monotonic() < deadline:
            db.session.rollback()  # the next look sees what the worker did meanwhile
            time.sleep(0.1)
    assert left == 0, f"{left} message(s) still waiting to be sent"


def link(message: Received, fragment: str) -> str:
    return next(url for url in message.links() if fragment in url)


def approve_from_email(page: Page, message: Received) -> None:
    page.goto(link(message, "/approve"))
    expect(page.get_by_role("heading")).to_have_text("Approve this comment?")
    page.get_by_role("button", name="Approve this comment").click()
    expect(page.get_by_role("heading")).to_have_text("Comment approved")


def test_the_whole_loop_in_a_browser(
    server: ServerProcess, smtp: SmtpSink, page: Page, chat: tuple[ChatReceiver, ChatReceiver]
) -> None:
    first = post_comment(server, "First!", "Ann A", ANN)
    (held,) = wait_for(smtp, MODERATOR, 1)
    (confirmation,) = wait_for(smtp, ANN, 1)
    # a mail scanner (or a curious moderator) opening every link changes nothing
    for message in (held, confirmation):
        for url in message.links():
            page.goto(url)
    assert public_ids(server) == []
    screenshots = os.environ.get("SCREENSHOT_DIR")
    if screenshots:
        page.set_content(held.html)
        page.screenshot(path=str(Path(screenshots) / "notification-email.png"), full_page=True)
    # the commenter confirms (double opt-in)
    page.goto(link(confirmation, "/notify/confirm/"))
    page.get_by_role("button", name="Yes, send me notifications").click()
    expect(page.get_by_role("heading")).to_have_text("Thank you")
    # the moderator approves from the email; the comment is public
    page.goto(link(held, "/approve"))
    if screenshots:
        page.screenshot(path=str(Path(screenshots) / "notification-confirm.png"), full_page=True)
    approve_from_email(page, held)
    assert public_ids(server) == [first]
    approved = wait_for(smtp, ANN, 2)[-1]
    assert "approved" in approved.message["Subject"]
    # the used link is refused kindly, and changes nothing
    page.goto(link(held, "/reject"))
    expect(page.get_by_role("heading")).to_have_text("This link was already used")
    # a reply, approved from its own email, reaches Ann by display name only
    reply = post_comment(server, "Well said", "Bob B", BOB, parent=first)
    approve_from_email(page, wait_for(smtp, MODERATOR, 2)[-1])
    replied = wait_for(smtp, ANN, 3)[-1]
    assert replied.message["Subject"].startswith("Bob B replied")
    assert BOB not in replied.message.as_string()
    assert public_ids(server) == [first, reply]
    # one-click unsubscribe (RFC 8058): a POST of List-Unsubscribe=One-Click
    target = replied.message["List-Unsubscribe"].strip().strip("<>")
    request = urllib.request.Request(
        target,
        data=b"List-Unsubscribe=One-Click",
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
    again = post_comment(server, "Still here", "Bob B", BOB, parent=first)
    approve_from_email(page, wait_for(smtp, MODERATOR, 3)[-1])
    assert again in public_ids(server)
    # written with the approval that caused it, anything for Ann would be in the outbox
    # by now: once the worker has sent (or given up on) all of it, nothing more can come
    wait_until_sent(server)
    assert len(smtp.to(ANN)) == 3
    # every message carries no address but its recipient's (and the sender's); the
    # moderator's shows the held comment's author, as the queue does
    for message in smtp.messages:
        allowed = {*message.rcpt_tos, "comments@comments.example"}
        if message.rcpt_tos == [MODERATOR]:
            allowed |= {ANN, BOB}
        assert message.addresses() <= allowed
    # chat: the good receiver heard of every held comment; the failing one ends dead
    good, bad = chat
    assert len(good.bodies) == 3 and "First!" in good.bodies[0]["text"]
    page.goto(f"{server.url}/dashboard/sign-in")
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("notification(s) are dead")
    page.get_by_role("link", name="Notifications").first.click()
    expect(page.locator("table.list").last).to_contain_text("HTTP 500")
    expect(page.locator("table.list").last).to_contain_text("dead")
    assert bad.requests == 6  # three messages, two attempts each


CAROL = "carol@example.org"


def test_a_person_erases_their_data_from_the_emailed_link(
    server: ServerProcess, smtp: SmtpSink, page: Page
) -> None:
    post_comment(server, "Carol's words", "Carol C", CAROL)
    page.goto(f"{server.url}/privacy")
    page.get_by_label("Your email address").fill(CAROL)
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("heading")).to_have_text("Check your inbox")
    assert CAROL not in page.content()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(
        "/privacy/link/" in url for m in smtp.to(CAROL) for url in m.links()
    ):
        time.sleep(0.1)
    url = next(u for m in smtp.to(CAROL) for u in m.links() if "/privacy/link/" in u)
    page.goto(url)
    expect(page.locator("main")).to_contain_text("We store 1 comment written with your address.")
    page.get_by_role("link", name="Erase my data").click()
    page.get_by_role("button", name="Erase my data").click()
    expect(page.locator("main")).to_contain_text("tick the box")
    page.get_by_label("Yes, erase my data").check()
    page.get_by_role("button", name="Erase my data").click()
    expect(page.get_by_role("heading")).to_have_text("Your data is erased")
    expect(page.locator("main")).to_contain_text("1 comment anonymised.")
    # the command itself, run in this process on the server's database (a process of its
    # own costs a second and a half of CPU; the command has tests of its own)
    exported = cli_in_process(server.env, "people", "export", CAROL)
    assert exported.exit_code == 0, exported.output
    assert '"comments": []' in exported.output
    page.goto(url)  # the link died with the erasure
    expect(page.get_by_role("heading")).to_have_text("This link is not valid")
