"""The public data-rights page (issue 18): a person asks at /privacy, a real SMTP server
(aiosmtpd) receives the link, and the link downloads (as ``people export``) or, after a
confirmation, erases (as ``people erase``) — once, before it expires, with a CSRF token,
rate limited, and answering the same whatever the address."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select, update

from moderation.clock import utcnow
from moderation.extensions import db
from moderation.models import AuditEvent, Comment, OutboxDelivery, PersonLink
from tests.helpers import Actions, csrf_token, seed_comments
from tests.mail_servers import ADDRESS, TEST_PUBLIC_URL, SmtpSink, deliver, mail_config

PUBLIC = TEST_PUBLIC_URL
ANN = "ann@example.com"
NOBODY = "nobody@example.org"


@pytest.fixture
def config_overrides(smtp: SmtpSink) -> dict[str, Any]:
    return mail_config(smtp, LIMIT_PRIVACY_PER_EMAIL="2/hour", LIMIT_PRIVACY_PER_ADDRESS="4/hour")


@pytest.fixture
def ann(app: Flask, actions: Actions) -> list[int]:
    """Ann wrote two comments on the blog; Bob one."""
    actions.create_site("blog", flood_seconds=0)
    ids = seed_comments(app, 2, email="Ann@Example.com", author="Ann")
    seed_comments(app, 1, email="bob@example.com", author="Bob", text="Bob's words")
    return ids


def ask(client: FlaskClient, email: str, lang: str = "en") -> Any:
    """Ask the page for a link, as a person would (the form's CSRF token included)."""
    token = csrf_token(client, f"/privacy?lang={lang}")
    return client.post(f"/privacy?lang={lang}", data={"email": email, "csrf_token": token})


def the_link(app: Flask, smtp: SmtpSink, address: str) -> str:
    """Deliver the outbox; the path of the link emailed to ``address`` (without its
    ``?lang=``)."""
    deliver(app)
    (message,) = smtp.to(address)
    (url,) = [link for link in message.links() if "/privacy/link/" in link]
    assert url.startswith(PUBLIC + "/privacy/link/")
    return url.removeprefix(PUBLIC).split("?")[0]


def test_the_answer_is_the_same_whatever_the_address(
    app: Flask,
    client: FlaskClient,
    ann: list[int],
    smtp: SmtpSink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    answers = [ask(app.test_client(), email) for email in (ANN, NOBODY)]
    assert [a.status_code for a in answers] == [303, 303]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]
    pages = [client.get(a.headers["Location"]) for a in answers]
    assert pages[0].get_data() == pages[1].get_data()
    assert "Check your inbox" in pages[0].get_data(as_text=True)
    # both addresses get an email: the mailbox, not the page, tells who has comments
    assert deliver(app) == 2
    assert {tuple(m.rcpt_tos) for m in smtp.messages} == {(ANN,), (NOBODY,)}
    for answer in [*answers, *pages]:
        assert not ADDRESS.findall(answer.get_data(as_text=True))
    ours = [r for r in caplog.records if not r.name.startswith("mail.log")]  # aiosmtpd's own
    assert not [r for r in ours if ADDRESS.search(r.getMessage())]


def test_the_link_downloads_what_people_export_gives_once(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, ann: list[int], smtp: SmtpSink
) -> None:
    ask(client, ANN)
    path = the_link(app, smtp, ANN)
    shown = client.get(path)
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"] == "no-store"
    assert "We store 2 comments written with your address." in shown.get_data(as_text=True)
    assert not ADDRESS.findall(shown.get_data(as_text=True))
    token = csrf_token(client, path)
    download = client.post(path + "/download", data={"csrf_token": token})
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    data = json.loads(download.get_data())
    exported = json.loads(runner.invoke(args=["people", "export", ANN]).stdout)
    data.pop("exported_at"), exported.pop("exported_at")
    assert data == exported
    assert sorted(c["id"] for c in data["comments"]) == sorted(ann)
    again = client.post(path + "/download", data={"csrf_token": token})
    assert again.status_code == 410
    assert "already used" in again.get_data(as_text=True)


def test_erasing_asks_for_confirmation_then_erases_as_people_erase(
    app: Flask, client: FlaskClient, ann: list[int], smtp: SmtpSink
) -> None:
    ask(client, ANN)
    path = the_link(app, smtp, ANN)
    assert client.get(path + "/erase").status_code == 200  # opening it erases nothing
    token = csrf_token(client, path + "/erase")
    unticked = client.post(path + "/erase", data={"csrf_token": token})
    assert unticked.status_code == 400
    assert "tick the box" in unticked.get_data(as_text=True)
    with app.app_context():
        assert db.session.get_one(Comment, ann[0]).email.lower() == ANN
    erased = client.post(path + "/erase", data={"csrf_token": token, "confirm": "y"})
    assert erased.status_code == 200
    assert "2 comments anonymised." in erased.get_data(as_text=True)
    with app.app_context():
        rows = db.session.execute(select(Comment).where(Comment.id.in_(ann))).scalars().all()
        assert {(c.author, c.email, c.ip_truncated) for c in rows} == {("Anonymous", "", "")}
        bob = db.session.execute(select(Comment).where(Comment.author == "Bob")).scalar_one()
        assert bob.email == "bob@example.com"
        audit = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "person.erased")
        ).scalar_one()
        assert (audit.actor_type, audit.actor_name) == ("visitor", "self-service page")
        assert "@" not in audit.reason
        # the address does not outlive the erasure: no link, no email to it, in the database
        assert db.session.execute(select(PersonLink)).scalars().all() == []
        assert not db.session.execute(
            select(OutboxDelivery).where(OutboxDelivery.recipient == ANN)
        ).all()
    assert (
        client.post(path + "/erase", data={"csrf_token": token, "confirm": "y"}).status_code == 404
    )


def test_posts_without_the_csrf_token_change_nothing(
    app: Flask, client: FlaskClient, ann: list[int], smtp: SmtpSink
) -> None:
    assert client.post("/privacy", data={"email": ANN}).status_code == 400
    with app.app_context():
        assert db.session.execute(select(OutboxDelivery)).all() == []
    ask(client, ANN)
    path = the_link(app, smtp, ANN)
    forged = app.test_client()  # another browser: no session, so no valid token
    assert forged.post(path + "/erase", data={"confirm": "y"}).status_code == 400
    assert forged.post(path + "/download").status_code == 400
    with app.app_context():
        assert db.session.get_one(Comment, ann[0]).author == "Ann"
        assert db.session.execute(select(PersonLink.used_at)).scalar_one() is None


def test_forged_and_expired_links_are_refused_kindly(
    app: Flask, client: FlaskClient, ann: list[int], smtp: SmtpSink
) -> None:
    ask(client, ANN)
    path = the_link(app, smtp, ANN)
    assert client.get(path + "x").status_code == 404
    assert client.get("/privacy/link/not-a-token").status_code == 404
    with app.app_context():
        db.session.execute(update(PersonLink).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    expired = client.get(path)
    assert expired.status_code == 410
    assert "expired" in expired.get_data(as_text=True)


def test_bad_addresses_get_an_inline_error_and_requests_are_rate_limited(
    app: Flask, client: FlaskClient, ann: list[int]
) -> None:
    bad = ask(client, "not an address")
    assert bad.status_code == 400
    assert "Please enter a valid email address." in bad.get_data(as_text=True)
    assert [ask(client, ANN).status_code for _ in range(3)] == [303, 303, 429]
    assert ask(client, NOBODY).status_code == 303  # another address, same client
    refused = ask(client, "third@example.net")
    assert refused.status_code == 429  # the client's own limit (4 an hour)
    assert "Retry-After" in refused.headers


def test_the_page_and_the_email_speak_indonesian(
    app: Flask, client: FlaskClient, ann: list[int], smtp: SmtpSink
) -> None:
    page = client.get("/privacy?lang=id").get_data(as_text=True)
    assert 'lang="id"' in page
    assert "Komentar dan data Anda" in page
    ask(client, ANN, lang="id")
    path = the_link(app, smtp, ANN)
    assert "Unduh atau hapus data Anda" in smtp.to(ANN)[0].text
    assert f"{path}?lang=id" in smtp.to(ANN)[0].text
    assert "Unduh data saya" in client.get(f"{path}?lang=id").get_data(as_text=True)
