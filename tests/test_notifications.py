"""Notifications end to end against a real SMTP server (aiosmtpd on 127.0.0.1): held
comments to moderators with single-use decision links, commenters' double opt-in,
approval and reply notices, RFC 8058 unsubscription, limits, the outbox's retries and
dead state, chat hooks, and a leak scan of every message sent."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from tests.doors import FormDoor, JsonDoor
from tests.helpers import PASSWORD, Actions, aged_token, approve, comment_fields
from tests.mail_servers import ChatReceiver, Received, SmtpSink, deliver

PUBLIC = "https://comments.example"
SENDER = "comments@comments.example"
MODERATOR_EMAIL = "mo@moderators.example"
ANN = "ann@example.com"
BOB = "bob@example.org"


@pytest.fixture
def config_overrides(smtp: SmtpSink) -> dict[str, Any]:
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "MAIL_DEFAULT_SENDER": SENDER,
        "PUBLIC_URL": PUBLIC,
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": True,
        "LIMIT_SUBMIT_PER_EMAIL": "1000/hour",
        "LIMIT_SUBMIT_PER_ADDRESS": "1000/hour",
    }


@pytest.fixture
def blog(app: Flask, actions: Actions) -> None:
    actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
    actions.create_moderator("mo")
    set_email(app, "mo", MODERATOR_EMAIL)


def set_email(app: Flask, username: str, address: str) -> None:
    from moderation.services import moderators, notify_settings
    from moderation.services.events import SYSTEM

    with app.app_context():
        notify_settings.set_email(moderators.get_by_username(username), address, SYSTEM)


def post(app: Flask, client: FlaskClient, thread: str = "post-1", **fields: Any) -> int:
    """A comment through the widget's form; its id."""
    answer = FormDoor(app, client).post(thread=thread, **fields)
    assert answer.status == 303, answer.text
    return int(re.search(r"comment-(\d+)", answer.headers["Location"]).group(1))  # type: ignore[union-attr]


def status_of(app: Flask, comment_id: int) -> str:
    from moderation.extensions import db
    from moderation.models import Comment

    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        assert comment is not None
        return comment.status.value


def sign_in(client: FlaskClient, username: str) -> None:
    page = client.get("/dashboard/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token, page
    answer = client.post(
        "/dashboard/sign-in",
        data={"csrf_token": token.group(1), "username": username, "password": PASSWORD},
    )
    assert answer.status_code == 303


def path_of(url: str) -> str:
    assert url.startswith(PUBLIC + "/"), url
    return url.removeprefix(PUBLIC)


def link_to(message: Received, label: str) -> str:
    found = re.search(rf"^{label}: (\S+)$", message.text, re.MULTILINE)
    assert found, message.text
    return found.group(1)


# --- delivery base ----------------------------------------------------------------------


def test_without_a_mail_server_nothing_is_queued_and_the_dashboard_says_so(
    app: Flask, client: FlaskClient, actions: Actions
) -> None:
    from moderation.extensions import db
    from moderation.models import OutboxDelivery

    app.config["MAIL_SERVER"] = ""
    actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
    actions.create_moderator("admin", role="admin")
    set_email(app, "admin", MODERATOR_EMAIL)
    post(app, client, notify="y")
    with app.app_context():
        assert db.session.execute(select(OutboxDelivery)).first() is None
    sign_in(client, "admin")
    page = client.get("/dashboard/notifications").get_data(as_text=True)
    assert "No mail server is configured" in page


def test_held_comment_email_shows_the_queue_and_is_multipart_with_public_links(
    app: Flask, client: FlaskClient, blog: None, smtp: SmtpSink
) -> None:
    comment_id = post(app, client, url="https://ann.example", comment="Hello <b>there</b>")
    assert deliver(app) == 1
    (message,) = smtp.to(MODERATOR_EMAIL)
    assert message.message.get_content_type() == "multipart/alternative"
    assert message.message["From"] == SENDER
    assert message.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.message["List-Unsubscribe"].startswith(f"<{PUBLIC}/notify/moderator-off/")
    for expected in (
        "Ann Example",
        ANN,
        "https://ann.example",
        "Hello <b>there</b>",
        "premoderation",
    ):
        assert expected in message.text
    assert "Hello &lt;b&gt;there&lt;/b&gt;" in message.html
    assert link_to(message, "Open in the dashboard") == f"{PUBLIC}/dashboard/comments/{comment_id}"
    for label in ("Approve", "Reject", "Spam"):
        assert link_to(message, label).startswith(f"{PUBLIC}/notify/m/")
    assert {link for link in message.links() if not link.startswith(PUBLIC)} == {
        "https://ann.example"  # the commenter's website, as the queue shows it
    }


def test_a_get_of_every_link_changes_nothing_and_the_post_decides_once(
    app: Flask, client: FlaskClient, blog: None, smtp: SmtpSink
) -> None:
    from moderation.extensions import db
    from moderation.models import AuditEvent

    comment_id = post(app, client)
    deliver(app)
    (message,) = smtp.to(MODERATOR_EMAIL)
    for url in message.links():
        client.get(path_of(url))
    assert status_of(app, comment_id) == "pending"
    approve_path = path_of(link_to(message, "Approve"))
    page = client.get(approve_path)
    assert page.status_code == 200 and "Approve this comment" in page.get_data(as_text=True)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    done = client.post(approve_path)
    assert done.status_code == 200 and "now approved" in done.get_data(as_text=True)
    assert status_of(app, comment_id) == "approved"
    with app.app_context():
        event = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "approve")
        ).scalar_one()
        assert (event.actor_type, event.actor_name) == ("email_link", "mo")
    again = client.post(path_of(link_to(message, "Reject")))
    assert again.status_code == 410 and "already used" in again.get_data(as_text=True)
    assert status_of(app, comment_id) == "approved"


def test_a_link_says_so_when_someone_else_already_decided(
    app: Flask, client: FlaskClient, blog: None, smtp: SmtpSink
) -> None:
    comment_id = post(app, client)
    deliver(app)
    approve(app, comment_id)  # another moderator, in the dashboard
    answer = client.post(path_of(link_to(smtp.messages[0], "Spam")))
    assert answer.status_code == 409
    assert "already approved by tester" in answer.get_data(as_text=True)
    assert status_of(app, comment_id) == "approved"


def test_an_expired_or_forged_link_is_refused_kindly(
    app: Flask, client: FlaskClient, blog: None, smtp: SmtpSink
) -> None:
    from moderation.extensions import db
    from moderation.models import EmailLink

    comment_id = post(app, client)
    deliver(app)
    with app.app_context():
        link = db.session.execute(select(EmailLink)).scalar_one()
        link.expires_at = link.created_at - timedelta(seconds=1)
        db.session.commit()
    answer = client.post(path_of(link_to(smtp.messages[0], "Approve")))
    assert answer.status_code == 410 and "expired" in answer.get_data(as_text=True)
    forged = client.post("/notify/m/not-a-token/approve")
    assert forged.status_code == 404 and "not valid" in forged.get_data(as_text=True)
    assert client.post(path_of(link_to(smtp.messages[0], "Approve")) + "x").status_code == 404
    assert status_of(app, comment_id) == "pending"


def test_moderators_choose_per_site_and_one_click_unsubscribes(
    app: Flask, client: FlaskClient, blog: None, smtp: SmtpSink, runner: FlaskCliRunner
) -> None:
    result = runner.invoke(
        args=["moderators", "update", "mo", "--notify", "none", "--site", "blog"]
    )
    assert result.exit_code == 0, result.output
    post(app, client)
    deliver(app)
    assert smtp.messages == []
    runner.invoke(args=["moderators", "update", "mo", "--notify", "each"])
    post(app, client, comment="Second")
    deliver(app)
    (message,) = smtp.messages
    off = message.message["List-Unsubscribe"].strip().strip("<>")
    assert client.get(path_of(off)).status_code == 200
    assert client.post(path_of(off), data={"List-Unsubscribe": "One-Click"}).status_code == 200
    post(app, client, comment="Third")
    deliver(app)
    assert len(smtp.messages) == 1


def test_cli_creates_a_moderator_with_an_address_and_checks_the_mail_server(
    app: Flask, runner: FlaskCliRunner, smtp: SmtpSink
) -> None:
    from moderation.services import moderators

    result = runner.invoke(
        args=["moderators", "create", "eve", "--email", "Eve@Example.ORG", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert moderators.get_by_username("eve").email == "Eve@example.org"
    bad = runner.invoke(args=["moderators", "update", "eve", "--notify", "sometimes"])
    assert bad.exit_code != 0
    ok = runner.invoke(args=["mail", "test", "eve@example.org"])
    assert ok.exit_code == 0 and "accepted the message (250" in ok.output
    assert smtp.to("eve@example.org")[0].message["Subject"].startswith("Test message")
    smtp.refuse = True
    refused = runner.invoke(args=["mail", "test", "eve@example.org"])
    assert refused.exit_code == 1 and "451" in refused.output
    app.config["MAIL_PORT"] = 1  # nobody listens there
    unreachable = runner.invoke(args=["mail", "test", "eve@example.org"])
    assert unreachable.exit_code == 1 and "did not take the message" in unreachable.output


def test_a_refusing_mail_server_is_retried_then_dead_and_shown_in_the_dashboard(
    app: Flask, client: FlaskClient, blog: None, smtp: SmtpSink, actions: Actions
) -> None:
    from moderation.extensions import db
    from moderation.models import DeliveryAttempt, OutboxDelivery

    smtp.refuse = True
    post(app, client)
    deliver(app, max_attempts=3)
    with app.app_context():
        delivery = db.session.execute(select(OutboxDelivery)).scalar_one()
        assert (delivery.channel, delivery.state.value, delivery.attempts) == ("email", "dead", 3)
        attempts = db.session.execute(select(DeliveryAttempt)).scalars().all()
        assert [attempt.status_code for attempt in attempts] == [451, 451, 451]
    actions.create_moderator("admin", role="admin")
    sign_in(client, "admin")
    page = client.get("/dashboard/notifications").get_data(as_text=True)
    assert "dead" in page and "451" in page
    assert "notification(s) are dead" in client.get("/dashboard/").get_data(as_text=True)
    smtp.refuse = False
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    answer = client.post(
        f"/dashboard/notifications/{delivery.id}/redeliver", data={"csrf_token": token}
    )
    assert answer.status_code == 303
    deliver(app)
    assert len(smtp.to(MODERATOR_EMAIL)) == 1


# --- commenters -------------------------------------------------------------------------


def test_the_widget_offers_notifications_off_by_default_in_both_languages(
    app: Flask, client: FlaskClient, blog: None
) -> None:
    page = client.get("/w/blog?thread=post-1").get_data(as_text=True)
    assert "Notify me of follow-up comments by email." in page
    assert re.search(
        r'<input id="subscribe_comments" name="notify" type="checkbox" value="y">', page
    )
    indonesian = client.get("/w/blog?thread=post-1&lang=id").get_data(as_text=True)
    assert "Beri tahu saya komentar lanjutan melalui email." in indonesian


def test_nothing_but_one_confirmation_reaches_an_unconfirmed_address(
    app: Flask, client: FlaskClient, blog: None, smtp: SmtpSink
) -> None:
    first = post(app, client, notify="y")
    post(app, client, notify="y", comment="Once more")
    approve(app, first)
    deliver(app)
    to_ann = smtp.to(ANN)
    assert len(to_ann) == 1 and "confirm" in to_ann[0].message["Subject"].lower()
    confirm = next(link for link in to_ann[0].links() if "/notify/confirm/" in link)
    client.get(path_of(confirm))  # a scanner fetching the link confirms nothing
    approve(app, post(app, client, comment="Third"))
    deliver(app)
    assert len(smtp.to(ANN)) == 1


def test_the_json_api_takes_the_notify_field(app: Flask, client: FlaskClient, blog: None) -> None:
    from moderation.extensions import db
    from moderation.models import NotifyAddress

    assert JsonDoor(app, client).post(notify=True, email="j@example.com").status == 202
    assert JsonDoor(app, client).post(notify=False, email="n@example.com").status == 202
    with app.app_context():
        emails = db.session.execute(select(NotifyAddress.email)).scalars().all()
    assert emails == ["j@example.com"]


def commenter_flow(app: Flask, client: FlaskClient, smtp: SmtpSink) -> tuple[int, str]:
    """Ann asks for notifications and confirms; returns her comment and her unsubscribe."""
    comment_id = post(app, client, notify="y")
    deliver(app)
    (confirmation,) = smtp.to(ANN)
    confirm = path_of(next(link for link in confirmation.links() if "/notify/confirm/" in link))
    assert "Confirm" in client.get(confirm).get_data(as_text=True)
    assert client.post(confirm).status_code == 200
    return comment_id, confirmation.message["List-Unsubscribe"].strip().strip("<>")


def test_commenter_confirms_hears_of_approval_and_reply_then_unsubscribes_in_one_click(
    app: Flask, client: FlaskClient, blog: None, smtp: SmtpSink
) -> None:
    comment_id, _ = commenter_flow(app, client, smtp)
    approve(app, comment_id)
    deliver(app)
    approved = smtp.to(ANN)[-1]
    assert "approved" in approved.message["Subject"]
    assert f"{PUBLIC}/w/blog?thread=post-1#comment-{comment_id}" in approved.text
    reply = post(
        app, client, comment="I agree", author="Bob B", email=BOB, comment_parent=str(comment_id)
    )
    approve(app, reply)
    deliver(app)
    replied = smtp.to(ANN)[-1]
    assert replied.message["Subject"].startswith("Bob B replied")
    assert "I agree" in replied.text
    unsubscribe = replied.message["List-Unsubscribe"].strip().strip("<>")
    answer = client.post(
        path_of(unsubscribe),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert answer.status_code == 200
    count = len(smtp.to(ANN))
    approve(
        app,
        post(
            app, client, comment="Again", author="Bob B", email=BOB, comment_parent=str(comment_id)
        ),
    )
    deliver(app)
    assert len(smtp.to(ANN)) == count


def test_unsubscribe_landing_page_offers_every_thread_of_the_site(
    app: Flask, client: FlaskClient, blog: None, smtp: SmtpSink
) -> None:
    comment_id, unsubscribe = commenter_flow(app, client, smtp)
    page = client.get(path_of(unsubscribe)).get_data(as_text=True)
    assert "Unsubscribe from all threads of Blog" in page
    client.post(path_of(unsubscribe), data={"scope": "site"})
    approve(app, comment_id)
    deliver(app)
    assert len(smtp.to(ANN)) == 1  # the confirmation only


@pytest.mark.parametrize(
    ("lang", "subject", "html_tag", "confirm_page"),
    [
        (
            "id",
            "Mohon konfirmasi pemberitahuan dari Blog",
            '<html lang="id" dir="ltr">',
            "Konfirmasi",
        ),
        ("pt", "Confirme as notificações de Blog", '<html lang="pt-BR" dir="ltr">', "Confirmar"),
        ("ar", "يرجى تأكيد الإشعارات من Blog", '<html lang="ar" dir="rtl">', "تأكيد"),
    ],
)
def test_commenter_emails_are_in_their_language(
    app: Flask,
    client: FlaskClient,
    blog: None,
    smtp: SmtpSink,
    lang: str,
    subject: str,
    html_tag: str,
    confirm_page: str,
) -> None:
    """The emails, and the pages their links open (whatever that browser prefers), speak
    the language the commenter used the widget in."""
    answer = client.post(
        f"/w/blog?thread=post-1&lang={lang}",
        data={**comment_fields(), "notify": "y", "form_token": aged_token(app, "blog", "post-1")},
        headers={"Origin": "https://blog.example"},
    )
    assert answer.status_code == 303
    deliver(app)
    (message,) = smtp.to(ANN)
    assert message.message["Subject"] == subject
    html = message.message.get_body(preferencelist=("html",))
    assert html is not None and html_tag in html.get_content()  # type: ignore[attr-defined]
    confirm = path_of(next(link for link in message.links() if "/notify/confirm/" in link))
    page = client.get(confirm, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f"<h1>{confirm_page}" in page
    assert html_tag.replace(' dir="ltr"', "") in page


def test_hourly_limit_per_recipient_stops_the_flood_and_is_logged(
    app: Flask, client: FlaskClient, blog: None, smtp: SmtpSink
) -> None:
    from moderation.extensions import db
    from moderation.models import AuditEvent

    app.config["NOTIFY_LIMIT_PER_RECIPIENT"] = 2
    for number in range(4):
        post(app, client, comment=f"Comment {number}")
    deliver(app)
    assert len(smtp.to(MODERATOR_EMAIL)) == 2
    with app.app_context():
        refusals = (
            db.session.execute(select(AuditEvent).where(AuditEvent.action == "notify.refused"))
            .scalars()
            .all()
        )
    assert len(refusals) == 2 and "per recipient" in refusals[0].reason
    assert MODERATOR_EMAIL not in refusals[0].reason


def test_no_message_carries_an_address_but_its_recipients(
    app: Flask, client: FlaskClient, blog: None, smtp: SmtpSink
) -> None:
    comment_id, _ = commenter_flow(app, client, smtp)
    approve(app, comment_id)
    reply = post(
        app,
        client,
        comment="Reply",
        author="Bob B",
        email=BOB,
        comment_parent=str(comment_id),
        notify="y",
    )
    approve(app, reply)
    deliver(app)
    assert len(smtp.messages) >= 5
    for message in smtp.messages:
        allowed = {*message.rcpt_tos, SENDER}
        if message.rcpt_tos == [MODERATOR_EMAIL]:
            # the held-comment email shows its author's address, as the queue does
            allowed |= {ANN, BOB}
        assert message.addresses() <= allowed, (message.rcpt_tos, message.addresses())
    # a reply names its author by display name only
    replied = [m for m in smtp.to(ANN) if "replied" in m.message["Subject"]]
    assert replied and BOB not in replied[0].message.as_string()


# --- chat -------------------------------------------------------------------------------


def test_chat_hooks_get_held_comments_and_a_failing_one_ends_dead_in_the_dashboard(
    app: Flask, client: FlaskClient, blog: None, runner: FlaskCliRunner, actions: Actions
) -> None:
    from moderation.extensions import db
    from moderation.models import OutboxDelivery

    good, bad = ChatReceiver().start(), ChatReceiver(status=500).start()
    try:
        for receiver in (good, bad):
            result = runner.invoke(args=["chat", "add", "blog", receiver.url])
            assert result.exit_code == 0, result.output
        listed = runner.invoke(args=["chat", "list"]).output
        assert "/services/" not in listed  # the URL's path is a credential
        refused = runner.invoke(args=["chat", "add", "blog", "ftp://example.com/x"])
        assert refused.exit_code != 0
        post(app, client, comment="Buy my stuff", author="Spammy")
        deliver(app, max_attempts=3)
        (body,) = good.bodies
        assert "Spammy" in body["text"] and "Buy my stuff" in body["text"]
        assert f"{PUBLIC}/dashboard/comments/" in body["text"]
        assert ANN not in body["text"]
        assert bad.requests == 3
        with app.app_context():
            states = {
                row.chat_hook_id: row.state.value
                for row in db.session.execute(
                    select(OutboxDelivery).where(OutboxDelivery.channel == "chat")
                ).scalars()
            }
        assert sorted(states.values()) == ["dead", "delivered"]
        actions.create_moderator("admin", role="admin")
        sign_in(client, "admin")
        page = client.get("/dashboard/notifications").get_data(as_text=True)
        assert "chat" in page and "HTTP 500" in page
    finally:
        good.stop()
        bad.stop()


def test_a_digest_lists_what_was_held_since_the_last_one_with_working_links(
    app: Flask, client: FlaskClient, blog: None, smtp: SmtpSink, runner: FlaskCliRunner
) -> None:
    from moderation.clock import utcnow
    from moderation.services.digests import send_digests

    runner.invoke(args=["moderators", "update", "mo", "--notify", "digest", "--site", "blog"])
    first, second = post(app, client, comment="One"), post(app, client, comment="Two")
    deliver(app)
    assert smtp.messages == []  # no email per comment
    with app.app_context():
        assert send_digests(utcnow()) == 1
        assert send_digests(utcnow()) == 0  # not due again yet
    deliver(app)
    (digest,) = smtp.to(MODERATOR_EMAIL)
    assert digest.message["Subject"] == "2 comment(s) awaiting moderation"
    assert "One" in digest.text and "Two" in digest.text
    approve_links = re.findall(r"^Approve: (\S+)$", digest.text, re.MULTILINE)
    assert len(approve_links) == 2
    assert client.post(path_of(approve_links[1])).status_code == 200
    assert (status_of(app, first), status_of(app, second)) == ("pending", "approved")
    third = post(app, client, comment="Three")
    with app.app_context():
        assert send_digests(utcnow() + timedelta(minutes=61)) == 1
    deliver(app)
    latest = smtp.to(MODERATOR_EMAIL)[-1]
    assert "Three" in latest.text and "One" not in latest.text
    assert f"/dashboard/comments/{third}" in latest.text


def test_a_comment_judged_spam_subscribes_nobody(
    app: Flask, client: FlaskClient, blog: None, smtp: SmtpSink
) -> None:
    from moderation.extensions import db
    from moderation.models import NotifyAddress

    answer = FormDoor(app, client).post(notify="y", contact_phone="555-0100")  # the honeypot
    assert answer.status == 303
    deliver(app)
    assert smtp.to(ANN) == []
    with app.app_context():
        assert db.session.execute(select(NotifyAddress)).first() is None


def test_trusted_policy_can_require_a_confirmed_address(
    app: Flask, client: FlaskClient, actions: Actions, smtp: SmtpSink
) -> None:
    actions.create_site("blog", ["https://blog.example"], flood_seconds=0, policy="trusted")
    app.config["TRUSTED_REQUIRES_CONFIRMED_EMAIL"] = True
    approve(app, post(app, client, notify="y"))
    # an approved comment is not enough while the address is unconfirmed
    assert status_of(app, post(app, client, comment="Second")) == "pending"
    deliver(app)
    (confirmation,) = smtp.to(ANN)
    client.post(path_of(next(url for url in confirmation.links() if "/notify/confirm/" in url)))
    assert status_of(app, post(app, client, comment="Third")) == "approved"


def test_erasing_a_person_forgets_their_subscriptions_and_the_emails_waiting_for_them(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, blog: None, smtp: SmtpSink
) -> None:
    from moderation.extensions import db
    from moderation.models import NotifyAddress, OutboxDelivery, ThreadSubscription

    post(app, client, notify="y")  # queues the confirmation email to Ann
    with app.app_context():
        queued = db.session.execute(
            select(OutboxDelivery.id).where(OutboxDelivery.recipient == ANN)
        ).all()
    assert queued, "the confirmation email should be waiting"

    result = runner.invoke(args=["people", "erase", ANN, "--yes"])
    assert result.exit_code == 0, result.output

    with app.app_context():
        assert db.session.execute(select(NotifyAddress.id)).all() == []
        assert db.session.execute(select(ThreadSubscription.id)).all() == []
        assert (
            db.session.execute(
                select(OutboxDelivery.id).where(OutboxDelivery.recipient == ANN)
            ).all()
            == []
        )
    deliver(app)
    assert smtp.to(ANN) == []
