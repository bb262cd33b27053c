"""Dashboard sessions kept on the server: a copy of the cookie stops working when the
session ends (sign-out, password reset, deactivation, an admin's "sign out everywhere", the
absolute lifetime, the idle timeout), and sensitive admin actions ask for the password again
when the sign-in is not fresh."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from werkzeug.test import TestResponse

from moderation import clock
from tests.helpers import PASSWORD, SIGNED_IN_TOKEN_PAGE, Actions, csrf_token

COOKIE = "moderation_session"


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"LIMIT_LOGIN_FAILURES": "100/minute", "LIMIT_LOGIN_FAILURES_PER_ACCOUNT": "100/minute"}


class Clock:
    """The service's clock (:func:`moderation.clock.utcnow`), moved by hand."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = clock.utcnow()
        monkeypatch.setattr(clock, "utcnow", lambda: self.now)

    def advance(self, **delta: float) -> None:
        self.now = self.now + timedelta(**delta)


@pytest.fixture
def time_machine(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


class Browser:
    """One browser of one moderator, over the test client."""

    def __init__(self, app: Flask, user_agent: str = "Browser/1.0") -> None:
        self.client = app.test_client()
        self.client.environ_base["HTTP_USER_AGENT"] = user_agent

    def sign_in(self, username: str, password: str = PASSWORD) -> TestResponse:
        token = csrf_token(self.client, "/dashboard/sign-in")
        return self.client.post(
            "/dashboard/sign-in",
            data={"csrf_token": token, "username": username, "password": password},
        )

    def post(self, path: str, **data: Any) -> TestResponse:
        data.setdefault("csrf_token", csrf_token(self.client, SIGNED_IN_TOKEN_PAGE))
        return self.client.post(path, data=data)

    def signed_in(self) -> bool:
        status = self.client.get("/dashboard/").status_code
        assert status in (200, 302), status
        return status == 200

    def stolen_by(self, app: Flask, user_agent: str = "Browser/1.0") -> Browser:
        """Another browser holding a copy of this one's cookie."""
        cookie = self.client.get_cookie(COOKIE, path="/dashboard")
        assert cookie is not None
        thief = Browser(app, user_agent)
        thief.client.set_cookie(COOKIE, cookie.value, path="/dashboard")
        return thief


def account_id(app: Flask, username: str) -> int:
    from moderation.services import moderators

    with app.app_context():
        return next(m.id for m in moderators.list_moderators() if m.username == username)


@pytest.fixture
def alice(app: Flask, actions: Actions) -> Browser:
    """A signed-in admin."""
    actions.create_moderator("alice", "admin")
    browser = Browser(app)
    assert browser.sign_in("alice").status_code == 303
    return browser


@pytest.fixture
def carol(app: Flask, actions: Actions) -> Browser:
    """A signed-in moderator."""
    actions.create_moderator("carol", "moderator")
    browser = Browser(app)
    assert browser.sign_in("carol").status_code == 303
    return browser


def test_a_copied_cookie_is_refused_after_sign_out(app: Flask, carol: Browser) -> None:
    thief = carol.stolen_by(app)
    assert thief.signed_in()
    assert carol.post("/dashboard/sign-out").status_code == 303
    assert not carol.signed_in()
    assert not thief.signed_in()


def test_signing_out_ends_only_that_session(app: Flask, carol: Browser) -> None:
    other = Browser(app)
    assert other.sign_in("carol").status_code == 303
    carol.post("/dashboard/sign-out")
    assert other.signed_in()


ENDINGS: dict[str, Callable[[Browser, FlaskCliRunner, int], None]] = {
    "password reset": lambda admin, _runner, target: _ok(
        admin.post(f"/dashboard/moderators/{target}/reset-password"), 303
    ),
    "deactivation": lambda admin, _runner, target: _ok(
        admin.post(f"/dashboard/moderators/{target}/deactivate"), 303
    ),
    "an admin's sign out everywhere": lambda admin, _runner, target: _ok(
        admin.post(f"/dashboard/moderators/{target}/sign-out"), 303
    ),
    "the sign-out command": lambda _admin, runner, _target: _cli_ok(
        runner.invoke(args=["moderators", "sign-out", "carol"])
    ),
}


def _ok(response: TestResponse, status: int) -> None:
    assert response.status_code == status, response.get_data(as_text=True)


def _cli_ok(result: Any) -> None:
    assert result.exit_code == 0, result.output
    assert "1 session(s) ended" in result.output


@pytest.mark.parametrize("ending", ENDINGS)
def test_a_copied_cookie_is_refused_once_every_session_ends(
    app: Flask, alice: Browser, carol: Browser, runner: FlaskCliRunner, ending: str
) -> None:
    thief = carol.stolen_by(app, user_agent="Thief/6.6")
    assert thief.signed_in()
    ENDINGS[ending](alice, runner, account_id(app, "carol"))
    assert not thief.signed_in()
    assert not carol.signed_in()
    assert alice.signed_in()  # the admin's own session is not touched


def test_admin_sees_sessions_and_the_end_is_audited(
    app: Flask, alice: Browser, carol: Browser
) -> None:
    page = alice.client.get("/dashboard/moderators").get_data(as_text=True)
    assert f"/dashboard/moderators/{account_id(app, 'carol')}/sign-out" in page
    alice.post(f"/dashboard/moderators/{account_id(app, 'carol')}/sign-out")
    audit = alice.client.get("/dashboard/audit").get_data(as_text=True)
    assert "moderator.sign_out" in audit


def test_sign_out_command_names_unknown_accounts(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["moderators", "sign-out", "nobody"])
    assert result.exit_code != 0
    assert "Unknown moderator" in result.output


def test_a_session_ends_at_its_absolute_lifetime_even_when_busy(
    app: Flask, carol: Browser, time_machine: Clock
) -> None:
    thief = carol.stolen_by(app)
    for _ in range(11):  # busy all day: never idle
        time_machine.advance(hours=1, minutes=5)
        assert thief.signed_in()
    time_machine.advance(minutes=50)  # 12 h 45 min after the sign-in
    assert not thief.signed_in()
    assert not carol.signed_in()
    assert carol.sign_in("carol").status_code == 303  # a new sign-in starts a new lifetime
    assert carol.signed_in()


def test_a_session_ends_when_idle(app: Flask, carol: Browser, time_machine: Clock) -> None:
    time_machine.advance(hours=1, minutes=59)
    assert carol.signed_in()
    time_machine.advance(hours=2, seconds=1)
    assert not carol.signed_in()


@pytest.mark.parametrize(
    "config_overrides",
    [{"SESSION_ABSOLUTE_LIFETIME": 60, "SESSION_IDLE_TIMEOUT": 0}],
)
def test_lifetimes_are_settings(app: Flask, carol: Browser, time_machine: Clock) -> None:
    time_machine.advance(seconds=59)
    assert carol.signed_in()
    time_machine.advance(seconds=2)
    assert not carol.signed_in()


SENSITIVE: dict[str, tuple[str, dict[str, Any], str]] = {
    "create a moderator": (
        "/dashboard/moderators",
        {"username": "dave", "role": "admin", "password": "a very good passphrase"},
        "/dashboard/moderators",
    ),
    "reset a password": ("/dashboard/moderators/2/reset-password", {}, "/dashboard/moderators"),
    "deactivate an account": ("/dashboard/moderators/2/deactivate", {}, "/dashboard/moderators"),
    "change an account's sites": (
        "/dashboard/moderators/2/sites",
        {"sites": "blog"},
        "/dashboard/moderators/2/sites",  # the form again, to tick the boxes once more
    ),
    "create an integration": (
        "/dashboard/integrations",
        {
            "name": "crm",
            "site": "blog",
            "scopes": "submit",
        },
        "/dashboard/integrations",
    ),
    "disable an integration": (
        "/dashboard/integrations/{integration}/disable",
        {},
        "/dashboard/integrations",
    ),
    "rotate a secret": (
        "/dashboard/integrations/{integration}/rotate",
        {},
        "/dashboard/integrations",
    ),
}


def _integration(app: Flask) -> str:
    from moderation.services import integrations
    from moderation.services.events import SYSTEM

    with app.app_context():
        integration, _ = integrations.create_integration(
            "existing",
            "blog",
            integrations.IntegrationSettings(events=(), target_url="", scopes=("submit",)),
            False,
            SYSTEM,
        )
        return integration.public_id


@pytest.mark.parametrize("action", SENSITIVE)
def test_sensitive_actions_ask_for_the_password_again_when_the_sign_in_is_not_fresh(
    app: Flask, actions: Actions, alice: Browser, carol: Browser, time_machine: Clock, action: str
) -> None:
    actions.create_site("blog", ["https://blog.example"])
    path, data, back = SENSITIVE[action]
    path = path.format(integration=_integration(app))
    time_machine.advance(minutes=11)  # signed in 11 minutes ago: not fresh any more
    before = audit_count(app)

    asked = alice.post(path, **data)
    assert asked.status_code == 303
    assert asked.headers["Location"].startswith("/dashboard/confirm-password?next=")
    assert audit_count(app) == before  # nothing happened
    assert account_id(app, "carol") == 2 and carol.signed_in()

    wrong = alice.post(asked.headers["Location"], password="not my password")
    assert wrong.status_code == 401
    confirmed = alice.post(asked.headers["Location"], password=PASSWORD)
    assert confirmed.status_code == 303
    assert confirmed.headers["Location"] == back

    done = alice.post(path, **data)
    assert done.status_code in (200, 201, 303), done.get_data(as_text=True)
    assert audit_count(app) > before
    time_machine.advance(minutes=11)
    stale = alice.post(path, **data)  # and it goes stale again
    assert stale.headers["Location"].startswith("/dashboard/confirm-password?next=")


def audit_count(app: Flask) -> int:
    from sqlalchemy import func, select

    from moderation.extensions import db
    from moderation.models import AuditEvent, Moderator

    with app.app_context():
        events = db.session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
        accounts = db.session.execute(select(func.count()).select_from(Moderator)).scalar_one()
        return int(events) + int(accounts)


def test_a_cookie_replayed_from_another_browser_is_never_fresh(app: Flask, alice: Browser) -> None:
    thief = alice.stolen_by(app, user_agent="Thief/6.6")
    assert thief.signed_in()  # it reads, but it cannot act as a fresh admin
    answer = thief.post(
        "/dashboard/moderators",
        username="mallory",
        role="admin",
        password="a very good passphrase",
    )
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith("/dashboard/confirm-password")
    assert "mallory" not in alice.client.get("/dashboard/moderators").get_data(as_text=True)
    # the real browser, signed in a moment ago, still can
    assert (
        alice.post(
            "/dashboard/moderators",
            username="dave",
            role="moderator",
            password="a very good passphrase",
        ).status_code
        == 303
    )


def test_re_authentication_failures_are_limited_like_sign_ins(
    app: Flask, alice: Browser, time_machine: Clock
) -> None:
    app.config["LIMIT_LOGIN_FAILURES"] = "2/hour"
    statuses = [
        alice.post("/dashboard/confirm-password", password=f"guess {n}").status_code
        for n in range(3)
    ]
    assert statuses == [401, 401, 429]


def test_the_database_holds_no_usable_session_key(app: Flask, carol: Browser) -> None:
    from sqlalchemy import select

    from moderation.extensions import db
    from moderation.models import DashboardSession

    cookie_key = _session_key(app, carol)
    with app.app_context():
        stored = list(db.session.execute(select(DashboardSession.key_hash)).scalars())
    assert stored and cookie_key not in stored


def _session_key(app: Flask, browser: Browser) -> str:
    with browser.client.session_transaction("/dashboard/") as session:
        return str(session["_user_id"])
