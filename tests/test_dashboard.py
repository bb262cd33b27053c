"""The dashboard over HTTP: sign-in, roles, CSRF, every action, queue filters, audit log."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import (
    PASSWORD,
    Actions,
    Dashboard,
    csrf_token,
    seed_comments,
    signed_in,
    stored_comments,
)


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {
        "LIMIT_SUBMIT_PER_SITE": "100000/hour",
        "LIMIT_SUBMIT_PER_ADDRESS": "100000/hour",
        "LIMIT_LOGIN_FAILURES": "3/hour",  # per hour: no window boundary in mid-test
    }


@pytest.fixture
def site(actions: Actions) -> str:
    actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
    return "blog"


@pytest.fixture
def admin(client: FlaskClient, actions: Actions) -> Dashboard:
    actions.create_moderator("alice", "admin")
    dashboard = Dashboard(client)
    assert dashboard.sign_in("alice").status_code == 303
    return dashboard


@pytest.fixture
def mod(app: Flask, actions: Actions) -> Dashboard:
    return signed_in(app, actions, "bob", "moderator")


def status_of(app: Flask, comment_id: int) -> str:
    return next(row["status"] for row in stored_comments(app) if row["id"] == comment_id)


DASHBOARD_PAGES = [
    "/dashboard/",
    "/dashboard/?status=all",
    "/dashboard/audit",
    "/dashboard/sites",
    "/dashboard/sites/blog",
    "/dashboard/moderators",
    "/dashboard/comments/1",
]


@pytest.mark.parametrize("path", DASHBOARD_PAGES)
def test_signed_out_visitors_see_nothing(
    client: FlaskClient, app: Flask, site: str, path: str
) -> None:
    seed_comments(app, 2)
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/dashboard/sign-in?next=")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Seeded comment" not in page
    assert 'class="count"' not in page


def test_signed_out_posts_change_nothing(client: FlaskClient, app: Flask, site: str) -> None:
    [comment_id] = seed_comments(app, 1)
    token = csrf_token(client)
    response = client.post(
        f"/dashboard/comments/{comment_id}/moderate",
        data={"csrf_token": token, "action": "approve"},
    )
    assert response.status_code == 401
    assert status_of(app, comment_id) == "pending"


def test_sign_in_failure_is_explained(client: FlaskClient, actions: Actions) -> None:
    actions.create_moderator("alice", "admin")
    response = Dashboard(client).sign_in("alice", "wrong password!!")
    assert response.status_code == 401
    assert "Wrong username or password." in response.get_data(as_text=True)
    assert Dashboard(client).sign_in("nobody", "whatever pass").status_code == 401


def test_failed_sign_ins_are_limited_but_successes_are_not(app: Flask, actions: Actions) -> None:
    actions.create_moderator("alice", "admin")
    for _ in range(5):
        client = app.test_client()
        assert Dashboard(client).sign_in("alice").status_code == 303
    attacker = app.test_client()
    statuses = [
        Dashboard(attacker).sign_in("alice", f"guess number {n}").status_code for n in range(3)
    ]
    assert statuses == [401, 401, 401]
    refused = Dashboard(attacker).sign_in("alice")  # even the right password, for now
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1


def test_sign_in_starts_a_fresh_session(client: FlaskClient, actions: Actions) -> None:
    actions.create_moderator("alice", "admin")
    with client.session_transaction("/dashboard/") as session:
        session["planted"] = "by an attacker"
    Dashboard(client).sign_in("alice")
    with client.session_transaction("/dashboard/") as session:
        assert "planted" not in session
        # the cookie names a random server-side session, not the account
        assert len(session["_user_id"]) >= 40
        assert session["_user_id"] not in {"1", "alice"}


def test_session_cookie_flags(database_url: str, instance_path: Any, actions: Actions) -> None:
    from moderation import create_app
    from tests.databases import BASE_CONFIG

    app = create_app({**BASE_CONFIG, "DATABASE_URL": database_url, "SESSION_COOKIE_SECURE": True})
    Actions(app).create_moderator("alice", "admin")
    client = app.test_client()
    page = client.get("/dashboard/sign-in", base_url="https://localhost").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/dashboard/sign-in",
        base_url="https://localhost",
        headers={"Referer": "https://localhost/dashboard/sign-in"},
        data={"csrf_token": token, "username": "alice", "password": PASSWORD},
    )
    assert response.status_code == 303
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    assert "SameSite=Lax" in cookie
    from moderation.extensions import db

    with app.app_context():
        db.engine.dispose()


def test_dashboard_pages_are_never_framed_or_cached(admin: Dashboard, site: str) -> None:
    response = admin.client.get("/dashboard/")
    assert response.headers["Content-Security-Policy"].endswith("frame-ancestors 'none'")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/dashboard/sites"),
        ("get", "/dashboard/sites/blog"),
        ("post", "/dashboard/sites"),
        ("post", "/dashboard/sites/blog"),
        ("get", "/dashboard/moderators"),
        ("post", "/dashboard/moderators"),
        ("post", "/dashboard/moderators/1/deactivate"),
        ("post", "/dashboard/moderators/1/reset-password"),
    ],
)
def test_moderators_cannot_manage_sites_or_accounts(
    mod: Dashboard, site: str, method: str, path: str
) -> None:
    response = (
        mod.client.get(path) if method == "get" else mod.post(path, username="x", password="y" * 12)
    )
    assert response.status_code == 403


def test_request_without_valid_csrf_changes_nothing(
    admin: Dashboard, app: Flask, site: str
) -> None:
    [comment_id] = seed_comments(app, 1)
    for token in ("", "forged-token"):
        response = admin.post(
            f"/dashboard/comments/{comment_id}/moderate", action="approve", csrf_token=token
        )
        assert response.status_code == 400
        assert "CSRF" in response.get_data(as_text=True)
    assert status_of(app, comment_id) == "pending"


@pytest.mark.parametrize(
    ("steps", "final"),
    [
        (["approve"], "approved"),
        (["reject"], "rejected"),
        (["spam"], "spam"),
        (["delete"], "deleted"),
        (["reject", "restore"], "approved"),
        (["spam", "restore"], "approved"),
        (["approve", "reject", "approve"], "approved"),
    ],
)
def test_every_decision(
    admin: Dashboard, app: Flask, site: str, steps: list[str], final: str
) -> None:
    [comment_id] = seed_comments(app, 1)
    for step in steps:
        assert admin.moderate(comment_id, step, next="/dashboard/?status=all").status_code == 303
    assert status_of(app, comment_id) == final
    audit = admin.page(f"/dashboard/audit?comment={comment_id}")
    for step in steps:
        assert f">{step}</a></td>" in audit


def test_invalid_transition_gets_a_clear_message(admin: Dashboard, app: Flask, site: str) -> None:
    [comment_id] = seed_comments(app, 1)
    admin.moderate(comment_id, "delete")
    response = admin.moderate(comment_id, "approve")
    assert response.status_code == 409
    assert "This comment is deleted; it can no longer be approved." in response.get_data(
        as_text=True
    )
    as_json = admin.client.post(
        f"/dashboard/comments/{comment_id}/moderate",
        data={"csrf_token": admin.token, "action": "restore"},
        headers={"Accept": "application/json"},
    )
    assert as_json.status_code == 409
    assert (
        as_json.get_json()["detail"]
        == "Only rejected or spam comments can be restored; this one is deleted."
    )
    assert status_of(app, comment_id) == "deleted"


def test_unknown_comment_is_404(admin: Dashboard, site: str) -> None:
    assert admin.client.get("/dashboard/comments/999").status_code == 404
    assert admin.moderate(999, "approve").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/sites/nowhere",
        "/dashboard/sites/nowhere/try",
        "/dashboard/integrations/nothing",
        "/dashboard/integrations/nothing/edit",
        "/dashboard/moderators/999/sites",
    ],
)
def test_unknown_site_integration_or_account_is_a_not_found_page(
    admin: Dashboard, path: str
) -> None:
    response = admin.client.get(path)
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


def test_keyboard_actions_answer_json(admin: Dashboard, app: Flask, site: str) -> None:
    [comment_id] = seed_comments(app, 1)
    response = admin.client.post(
        f"/dashboard/comments/{comment_id}/moderate",
        data={"action": "approve"},
        headers={"Accept": "application/json", "X-CSRFToken": admin.token},
    )
    assert response.status_code == 200
    assert response.get_json()["status"] == "approved"


def test_edit_and_reply(admin: Dashboard, app: Flask, site: str) -> None:
    [comment_id] = seed_comments(app, 1)
    assert (
        admin.post(
            f"/dashboard/comments/{comment_id}/edit", text="Corrected <b>text</b>"
        ).status_code
        == 303
    )
    assert (
        admin.post(
            f"/dashboard/comments/{comment_id}/reply", text="Thanks for writing!"
        ).status_code
        == 303
    )
    rows = stored_comments(app)
    assert rows[0]["text"] == "Corrected <b>text</b>"
    assert rows[0]["status"] == "approved"  # replying publishes the comment answered
    assert (rows[1]["parent_id"], rows[1]["status"], rows[1]["author"]) == (
        comment_id,
        "approved",
        "alice",
    )
    widget = admin.client.get("/w/blog?thread=post-1").get_data(as_text=True)
    assert "Thanks for writing!" in widget
    assert "by-moderator" in widget
    assert "Corrected <b>text</b>" in widget
    assert admin.post(f"/dashboard/comments/{comment_id}/edit", text="   ").status_code == 400


def test_bulk_on_a_selection(admin: Dashboard, app: Flask, site: str) -> None:
    ids = seed_comments(app, 4)
    response = admin.post(
        "/dashboard/comments/bulk", action="reject", ids=[str(ids[0]), str(ids[2])]
    )
    assert response.status_code == 303
    assert [status_of(app, i) for i in ids] == ["rejected", "pending", "rejected", "pending"]
    admin.moderate(ids[1], "delete")
    response = admin.post("/dashboard/comments/bulk", action="approve", ids=[str(i) for i in ids])
    follow = admin.page("/dashboard/")
    assert (
        "3 comments approved. 1 comment was left as it was: “approve” does not apply to it."
        in follow
    )
    nothing = admin.post("/dashboard/comments/bulk", action="approve")
    assert nothing.status_code == 400
    # the mistake is said beside the bulk form, in words, on the queue itself
    assert re.search(
        r'class="field-error"[^>]*>Select at least one comment, or tick',
        nothing.get_data(as_text=True),
    )


def test_bulk_on_everything_matching_the_filter(
    admin: Dashboard, app: Flask, actions: Actions
) -> None:
    actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
    actions.create_site("news", ["https://news.example"], flood_seconds=0)
    blog = seed_comments(app, 30, site="blog", text="blog words")
    news = seed_comments(app, 3, site="news", text="news words")
    # first the moderator is asked, with the number it will change; nothing changes yet
    asked = admin.post(
        "/dashboard/comments/bulk?site=blog&status=pending", action="spam", all_matching="y"
    )
    assert asked.status_code == 200
    assert "Spam 30 comments?" in asked.get_data(as_text=True)
    assert {status_of(app, i) for i in blog} == {"pending"}
    response = admin.post(
        "/dashboard/comments/bulk?site=blog&status=pending",
        action="spam",
        all_matching="y",
        confirmed="yes",
    )
    assert response.status_code == 303
    assert {status_of(app, i) for i in blog} == {"spam"}
    assert {status_of(app, i) for i in news} == {"pending"}


def test_queue_shows_everything_a_moderator_needs(admin: Dashboard, app: Flask, site: str) -> None:
    [parent] = seed_comments(app, 1, text="The parent", author="Parent Person")
    admin.moderate(parent, "approve")
    seed_comments(
        app,
        1,
        text="Has https://a.example https://b.example https://c.example",
        author="Linker",
        email="linker@example.com",
        url="https://linker.example",
        parent_id=parent,
    )
    html = admin.page("/dashboard/")
    assert "&lt;linker@example.com&gt;" in html
    assert "https://linker.example" in html
    assert "10.0.0.0/24" in html
    assert "too_many_links" in html and "Contains 3 links" in html
    assert "In reply to" in html and "Parent Person" in html
    assert "post-1" in html


def test_counts_per_status(admin: Dashboard, app: Flask, site: str) -> None:
    ids = seed_comments(app, 5)
    admin.moderate(ids[0], "approve")
    admin.moderate(ids[1], "spam")
    html = admin.page("/dashboard/")
    counts = dict(re.findall(r'class="count" data-status="(\w+)">(\d+)<', html))
    assert counts == {"pending": "3", "approved": "1", "rejected": "0", "spam": "1", "deleted": "0"}


def test_filters(admin: Dashboard, app: Flask, actions: Actions) -> None:
    actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
    actions.create_site("news", ["https://news.example"], flood_seconds=0)
    seed_comments(
        app, 1, site="blog", thread="a", text="apples", author="Ann", email="ann@example.com"
    )
    seed_comments(
        app, 1, site="blog", thread="b", text="bananas", author="Ben", email="ben@example.org"
    )
    seed_comments(
        app, 1, site="news", thread="a", text="cherries", author="Cat", email="cat@example.net"
    )

    def shown(query: str) -> set[str]:
        html = admin.page(f"/dashboard/?{query}")
        return {fruit for fruit in ("apples", "bananas", "cherries") if fruit in html}

    assert shown("") == {"apples", "bananas", "cherries"}
    assert shown("site=blog") == {"apples", "bananas"}
    assert shown("site=blog&thread=a") == {"apples"}
    assert shown("thread=a") == {"apples", "cherries"}
    assert shown("q=banan") == {"bananas"}
    assert shown("q=Cat") == {"cherries"}
    assert shown("q=example.org") == {"bananas"}
    assert shown("q=100%25") == set()
    assert shown("status=approved") == set()
    assert shown("status=nonsense") == {"apples", "bananas", "cherries"}


def test_keyset_pages_and_order(admin: Dashboard, app: Flask, site: str) -> None:
    seed_comments(app, 30)
    first = admin.page("/dashboard/")
    numbers_first = [int(n) for n in re.findall(r"Seeded comment (\d+)", first)]
    assert numbers_first == list(range(29, 4, -1))  # newest first, 25 a page
    next_link = re.search(r'rel="next" href="([^"]+)"', first)
    assert next_link
    second = admin.page(next_link.group(1).replace("&amp;", "&"))
    assert [int(n) for n in re.findall(r"Seeded comment (\d+)", second)] == [4, 3, 2, 1, 0]
    assert 'rel="next"' not in second
    oldest = admin.page("/dashboard/?order=oldest")
    assert [int(n) for n in re.findall(r"Seeded comment (\d+)", oldest)][:3] == [0, 1, 2]
    assert admin.client.get("/dashboard/?after=garbage!!").status_code == 200


def test_audit_log_filters(admin: Dashboard, mod: Dashboard, app: Flask, site: str) -> None:
    ids = seed_comments(app, 2)
    admin.moderate(ids[0], "approve")
    mod.moderate(ids[1], "spam", reason="obvious junk")
    by_bob = admin.page("/dashboard/audit?actor=bob")
    assert "obvious junk" in by_bob
    assert ">approve</a>" not in by_bob
    by_action = admin.page("/dashboard/audit?action=approve")
    assert ">alice</a>" in by_action and ">bob</a>" not in by_action
    by_comment = admin.page(f"/dashboard/audit?comment={ids[1]}")
    assert ">spam</a>" in by_comment and ">approve</a>" not in by_comment


def test_admin_manages_sites(admin: Dashboard, app: Flask, site: str) -> None:
    page = admin.page("/dashboard/sites/blog")
    assert "data-site=&#34;blog&#34;" in page or 'data-site="blog"' in page
    assert "/embed.js" in page
    response = admin.post(
        "/dashboard/sites/blog",
        name="Blog",
        origins="https://blog.example\nhttps://www.blog.example",
        policy="open",
        max_links="1",
        flood_seconds="5",
        max_depth="3",
        page_size="20",
        submit_limit="",
        moderation_words="casino",
        blocked_words="",
    )
    assert response.status_code == 303
    saved = admin.page("/dashboard/sites/blog")
    assert "https://www.blog.example" in saved
    bad = admin.post(
        "/dashboard/sites/blog",
        name="Blog",
        origins="not an origin",
        policy="open",
        max_links="1",
        flood_seconds="5",
        max_depth="3",
        page_size="20",
    )
    assert bad.status_code == 400
    assert "Malformed origin" in bad.get_data(as_text=True)
    created = admin.post(
        "/dashboard/sites",
        slug="news",
        name="News",
        origins="https://news.example",
        policy="premoderate",
    )
    assert created.status_code == 303
    duplicate = admin.post(
        "/dashboard/sites",
        slug="news",
        name="News",
        origins="https://news.example",
        policy="premoderate",
    )
    assert duplicate.status_code == 400
    assert "already exists" in duplicate.get_data(as_text=True)


def test_admin_manages_moderators(admin: Dashboard, app: Flask, actions: Actions) -> None:
    weak = admin.post("/dashboard/moderators", username="carol", role="moderator", password="short")
    assert weak.status_code == 400
    assert "too short" in weak.get_data(as_text=True)
    assert (
        admin.post(
            "/dashboard/moderators",
            username="carol",
            role="moderator",
            password="a very good passphrase",
        ).status_code
        == 303
    )
    carol = Dashboard(app.test_client())
    assert carol.sign_in("carol", "a very good passphrase").status_code == 303
    carol_id = int(
        re.search(
            r"/dashboard/moderators/(\d+)/deactivate", admin.page("/dashboard/moderators")
        ).group(1)
    )  # type: ignore[union-attr]
    # a reset shows a new password once and ends carol's session
    reset = admin.post(f"/dashboard/moderators/{carol_id}/reset-password")
    assert reset.status_code == 303
    new_password = re.search(
        r'<code class="secret">([^<]+)</code>', admin.page(reset.headers["Location"])
    ).group(1)  # type: ignore[union-attr]
    assert carol.client.get("/dashboard/").status_code == 302
    assert (
        Dashboard(app.test_client()).sign_in("carol", "a very good passphrase").status_code == 401
    )
    assert carol.sign_in("carol", new_password).status_code == 303
    # deactivation ends the session at once and blocks sign-in
    assert admin.post(f"/dashboard/moderators/{carol_id}/deactivate").status_code == 303
    assert carol.client.get("/dashboard/").status_code == 302
    assert Dashboard(app.test_client()).sign_in("carol", new_password).status_code == 401
    # an admin cannot lock themselves out
    own = admin.post("/dashboard/moderators/1/deactivate")
    assert own.status_code == 409


def test_no_open_redirects(client: FlaskClient, actions: Actions) -> None:
    actions.create_moderator("alice", "admin")
    for target in (
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
    ):
        token = csrf_token(client)
        response = client.post(
            f"/dashboard/sign-in?next={target}",
            data={"csrf_token": token, "username": "alice", "password": PASSWORD},
        )
        assert response.headers["Location"] == "/dashboard/", target
        client.post("/dashboard/sign-out", data={"csrf_token": csrf_token(client, "/dashboard/")})
