"""Moderators per site: a moderator sees and changes only the sites they are given; every
dashboard route, walked as a moderator of another site, shows nothing of it and changes
nothing of it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select
from werkzeug.routing import AnyConverter, IntegerConverter
from werkzeug.test import TestResponse

from moderation.extensions import db
from moderation.models import Integration
from tests.helpers import Actions, approve, seed_comments, sign_in, stored_comments

#: Things of the other site that must never reach its non-moderator.
SECRET_TEXT = "Gazette-only secret words"
SECRET_EMAIL = "insider@gazette.example"
SECRET_AUTHOR = "Gazette Insider"
SECRET_THREAD = "gazette-scoop"
SECRET_INTEGRATION = "Gazette newsroom bot"
SECRET_SITE_NAME = "Evening Gazette Ltd"
#: (The thread key is not among them: the walk puts it in the query, and filters echo it.)
MARKERS = (SECRET_TEXT, SECRET_EMAIL, SECRET_AUTHOR, SECRET_INTEGRATION, SECRET_SITE_NAME)

#: Endpoints every signed-in account may use whatever its sites (they hold no site data).
NOT_WALKED = {"dashboard.static", "dashboard.sign_in", "dashboard.sign_out"}


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"LIMIT_SUBMIT_PER_SITE": "100000/hour", "LIMIT_SUBMIT_PER_ADDRESS": "100000/hour"}


@dataclass
class TwoSites:
    """A blog moderated by bob, a gazette he must not see, and alice the admin."""

    blog_ids: list[int]
    gazette_ids: list[int]
    integration_id: str


@pytest.fixture
def two_sites(app: Flask, actions: Actions) -> TwoSites:
    actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
    actions.create_site(
        "gazette", ["https://gazette.example"], flood_seconds=0, name=SECRET_SITE_NAME
    )
    actions.create_moderator("alice", "admin")
    actions.create_moderator("bob", sites=["blog"])
    blog_ids = seed_comments(app, 2, site="blog", thread="blog-post")
    gazette_ids = [
        comment_id
        for number in range(3)
        for comment_id in seed_comments(
            app,
            1,
            site="gazette",
            thread=SECRET_THREAD,
            text=f"{SECRET_TEXT}, number {number}",
            author=SECRET_AUTHOR,
            email=SECRET_EMAIL,
        )
    ]
    approve(app, gazette_ids[0])  # an audit event on the gazette
    with app.app_context():
        from moderation.services import integrations
        from moderation.services.events import SYSTEM

        integration, _ = integrations.create_integration(
            SECRET_INTEGRATION,
            "gazette",
            integrations.IntegrationSettings(events=(), target_url="", scopes=("moderate",)),
            False,
            SYSTEM,
        )
        public_id = integration.public_id
    return TwoSites(blog_ids, gazette_ids, public_id)


def gazette_state(app: Flask, world: TwoSites) -> list[tuple[Any, ...]]:
    """Everything but the blog's own comments that a moderator could change (a reply
    written anywhere else would show up here too)."""
    rows: list[tuple[Any, ...]] = [
        (row["id"], row["status"], row["text"], row["parent_id"])
        for row in stored_comments(app)
        if row["id"] not in world.blog_ids
    ]
    with app.app_context():
        integration = db.session.execute(select(Integration)).scalar_one()
        rows.append((integration.secret, integration.disabled_at, integration.name))
    return rows


def leaks(response: TestResponse, world: TwoSites) -> list[str]:
    """The gazette's things a page shows: its words, or a link to one of its comments."""
    body = response.get_data(as_text=True)
    links = [f'href="/dashboard/comments/{comment_id}"' for comment_id in world.gazette_ids]
    return [marker for marker in (*MARKERS, *links) if marker in body]


def walk_values(app: Flask, rule: Any, world: TwoSites) -> tuple[dict[str, Any], bool]:
    """Values for a route's arguments that name the gazette's things, and whether any does."""
    named = {
        "comment_id": world.gazette_ids[1],
        "slug": "gazette",
        "site_slug": "gazette",
        "public_id": world.integration_id,
        "delivery_id": 1,
        "account_id": 1,
    }
    values: dict[str, Any] = {}
    for argument in rule.arguments:
        converter = rule._converters[argument]
        if argument in named:
            values[argument] = named[argument]
        elif isinstance(converter, AnyConverter):
            values[argument] = sorted(converter.items)[0]
        elif isinstance(converter, IntegerConverter):
            values[argument] = world.gazette_ids[1]
        else:
            values[argument] = "gazette"
    return values, bool(rule.arguments)


def admin_only(app: Flask, endpoint: str) -> bool:
    """Whether the view is reserved to admins (``admin_required`` marks it)."""
    return bool(getattr(app.view_functions[endpoint], "admin_only", False))


def test_every_dashboard_route_hides_another_sites_things(
    app: Flask, client: FlaskClient, two_sites: TwoSites
) -> None:
    token = sign_in(client, "bob")
    before = gazette_state(app, two_sites)
    probe = {
        "site": "gazette",
        "thread": SECRET_THREAD,
        "status": "all",
        "q": "insider",
        "comment": two_sites.gazette_ids[0],
        "actor": "alice",
    }
    form = {
        "csrf_token": token,
        "action": "delete",
        "ids": [str(comment_id) for comment_id in two_sites.gazette_ids],
        "all_matching": "y",
        "confirmed": "yes",
        "text": "bob was here",
        "reason": "walk",
        "name": "renamed by bob",
        "origins": "https://bob.example",
        "sites": "gazette",
        "next": "/dashboard/",
    }
    walked = 0
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        if not rule.endpoint.startswith("dashboard.") or rule.endpoint in NOT_WALKED:
            continue
        values, names_a_thing = walk_values(app, rule, two_sites)
        with app.test_request_context():
            path = url_for(rule.endpoint, **values, **probe)
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            walked += 1
            response = client.open(path, method=method, data=form if method == "POST" else None)
            where = f"{method} {path} -> {response.status_code}"
            assert response.status_code < 500, where
            assert not leaks(response, two_sites), (where, leaks(response, two_sites))
            if admin_only(app, rule.endpoint):
                assert response.status_code == 403, where  # the same whatever it names
                assert "Only admins can" in response.get_data(as_text=True), where
            elif names_a_thing:
                assert response.status_code == 404, where
            assert gazette_state(app, two_sites) == before, where
    assert walked >= 20  # every route of today, and any added later


def test_admin_pages_tell_a_moderator_they_are_for_admins(
    app: Flask, client: FlaskClient, two_sites: TwoSites
) -> None:
    sign_in(client, "bob")
    reserved = sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("dashboard.") and admin_only(app, rule.endpoint)
    )
    assert "/dashboard/moderators" in reserved and "/dashboard/sites/<slug>" in reserved
    for path in ("/dashboard/sites", "/dashboard/sites/blog", "/dashboard/sites/no-such-site"):
        page = client.get(path)
        body = page.get_data(as_text=True)
        assert page.status_code == 403, path
        assert "For admins only" in body and "signed in as <strong>bob</strong>" in body
        assert 'href="/dashboard/"' in body and 'aria-label="Dashboard"' in body  # its nav
    answer = client.get("/dashboard/moderators", headers={"Accept": "application/json"})
    assert answer.status_code == 403 and answer.mimetype == "application/problem+json"
    assert "Only admins can" in answer.get_json()["detail"]
    # a thing of another site, on a page moderators may use, still does not exist
    assert client.get(f"/dashboard/comments/{two_sites.gazette_ids[0]}").status_code == 404


def test_the_walk_can_fail_an_admin_sees_the_gazette(
    app: Flask, client: FlaskClient, two_sites: TwoSites
) -> None:
    sign_in(client, "alice")
    for path in (
        f"/dashboard/comments/{two_sites.gazette_ids[1]}",
        "/dashboard/?status=all",
        "/dashboard/audit",
        "/dashboard/integrations",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert leaks(response, two_sites), path


def test_moderator_works_only_their_sites_queue(
    app: Flask, client: FlaskClient, two_sites: TwoSites
) -> None:
    token = sign_in(client, "bob")
    queue = client.get("/dashboard/?status=all").get_data(as_text=True)
    assert "Seeded comment 0" in queue and "Seeded comment 1" in queue
    assert re.search(r'data-status="pending">2<', queue)  # the blog's two, not the gazette's
    # the site filter offers the blog only
    assert 'value="blog"' in queue and 'value="gazette"' not in queue
    # a decision through the keyboard's JSON door: 404 like a missing comment
    answer = client.post(
        f"/dashboard/comments/{two_sites.gazette_ids[1]}/moderate",
        data={"csrf_token": token, "action": "approve"},
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 404
    # a bulk selection mixing both sites changes the blog's only
    client.post(
        "/dashboard/comments/bulk",
        data={
            "csrf_token": token,
            "action": "reject",
            "ids": [str(two_sites.blog_ids[0]), str(two_sites.gazette_ids[2])],
        },
    )
    statuses = {row["id"]: row["status"] for row in stored_comments(app)}
    assert statuses[two_sites.blog_ids[0]] == "rejected"
    assert statuses[two_sites.gazette_ids[2]] == "pending"
    # "everything matching" with every status and no site: still only the blog
    client.post(
        "/dashboard/comments/bulk?status=all",
        data={"csrf_token": token, "action": "delete", "all_matching": "y", "confirmed": "yes"},
    )
    statuses = {row["id"]: row["status"] for row in stored_comments(app)}
    assert [statuses[i] for i in two_sites.blog_ids] == ["deleted", "deleted"]
    assert [statuses[i] for i in two_sites.gazette_ids] == ["approved", "pending", "pending"]


def test_audit_log_of_a_moderator_holds_their_sites_only(
    app: Flask, client: FlaskClient, two_sites: TwoSites
) -> None:
    approve(app, two_sites.blog_ids[0])
    sign_in(client, "bob")
    log = client.get("/dashboard/audit").get_data(as_text=True)
    assert f"/dashboard/comments/{two_sites.blog_ids[0]}" in log
    assert f"/dashboard/comments/{two_sites.gazette_ids[0]}" not in log
    by_comment = client.get(f"/dashboard/audit?comment={two_sites.gazette_ids[0]}")
    assert f"/dashboard/comments/{two_sites.gazette_ids[0]}" not in by_comment.get_data(
        as_text=True
    )


def test_admin_gives_and_takes_sites_and_open_sessions_follow(
    app: Flask, actions: Actions, two_sites: TwoSites
) -> None:
    admin, bob = app.test_client(), app.test_client()
    admin_token = sign_in(admin, "alice")
    sign_in(bob, "bob")
    gazette_comment = f"/dashboard/comments/{two_sites.gazette_ids[1]}"
    assert bob.get(gazette_comment).status_code == 404
    page = admin.get("/dashboard/moderators").get_data(as_text=True)
    assert re.search(r"<td[^>]*>blog\s*<a", page)  # bob's one site is listed
    bob_id = 2
    form = admin.get(f"/dashboard/moderators/{bob_id}/sites").get_data(as_text=True)
    assert re.search(r'value="blog"[^>]*checked|checked[^>]*value="blog"', form)
    saved = admin.post(
        f"/dashboard/moderators/{bob_id}/sites",
        data={"csrf_token": admin_token, "sites": ["blog", "gazette"]},
    )
    assert saved.status_code == 303
    assert bob.get(gazette_comment).status_code == 200
    # none ticked: every site
    admin.post(f"/dashboard/moderators/{bob_id}/sites", data={"csrf_token": admin_token})
    assert "every site" in admin.get("/dashboard/moderators").get_data(as_text=True)
    assert bob.get(gazette_comment).status_code == 200
    admin.post(
        f"/dashboard/moderators/{bob_id}/sites",
        data={"csrf_token": admin_token, "sites": ["blog"]},
    )
    assert bob.get(gazette_comment).status_code == 404
    # an unknown site is refused beside the field, and nothing changes
    refused = admin.post(
        f"/dashboard/moderators/{bob_id}/sites",
        data={"csrf_token": admin_token, "sites": ["nowhere"]},
    )
    assert refused.status_code == 400
    assert "field-error" in refused.get_data(as_text=True)
    assert bob.get(gazette_comment).status_code == 404
    # a new account limited from the start
    created = admin.post(
        "/dashboard/moderators",
        data={
            "csrf_token": admin_token,
            "username": "carol",
            "role": "moderator",
            "password": "a very good passphrase",
            "sites": ["gazette"],
        },
    )
    assert created.status_code == 303
    carol = app.test_client()
    sign_in(carol, "carol", "a very good passphrase")
    assert carol.get(gazette_comment).status_code == 200
    assert carol.get(f"/dashboard/comments/{two_sites.blog_ids[0]}").status_code == 404


def test_cli_creates_and_updates_moderators_per_site(
    app: Flask, runner: FlaskCliRunner, actions: Actions
) -> None:
    actions.create_site("blog")
    actions.create_site("news")
    actions.create_site("shop")
    created = runner.invoke(
        args=[
            "moderators",
            "create",
            "dana",
            "--site",
            "blog",
            "--site",
            "news",
            "--password-stdin",
        ],
        input="a long enough passphrase\n",
    )
    assert created.exit_code == 0, created.output
    assert "sites: blog, news" in created.output

    def sites_of_dana() -> set[str] | None:
        from moderation.services import moderators, sites

        with app.app_context():
            dana = moderators.get_by_username("dana")
            scope = moderators.visible_site_ids(dana)
            if scope is None:
                return None
            return {site.slug for site in sites.list_sites(scope)}

    assert sites_of_dana() == {"blog", "news"}
    assert runner.invoke(args=["moderators", "update", "dana", "--site", "shop"]).exit_code == 0
    assert sites_of_dana() == {"shop"}
    # a password reset on the command line leaves the sites as they are
    reset = runner.invoke(
        args=["moderators", "update", "dana", "--password-stdin"],
        input="a brand new passphrase\n",
    )
    assert reset.exit_code == 0, reset.output
    assert sites_of_dana() == {"shop"}
    client = app.test_client()
    sign_in(client, "dana", "a brand new passphrase")
    assert runner.invoke(args=["moderators", "update", "dana", "--all-sites"]).exit_code == 0
    assert sites_of_dana() is None
    # mistakes: one line, nothing changed
    for args, fragment in (
        (["update", "dana", "--site", "nowhere"], "Unknown site 'nowhere'"),
        (["update", "nobody", "--site", "blog"], "Unknown moderator 'nobody'"),
        (["update", "dana"], "Nothing to change"),
    ):
        result = runner.invoke(args=["moderators", *args])
        assert result.exit_code != 0 and fragment in result.output, result.output
    weak = runner.invoke(args=["moderators", "update", "dana", "--password-stdin"], input="short\n")
    assert weak.exit_code == 1 and "too short" in weak.output
    assert sites_of_dana() is None
    admin = runner.invoke(
        args=[
            "moderators",
            "create",
            "erin",
            "--role",
            "admin",
            "--site",
            "blog",
            "--password-stdin",
        ],
        input="a long enough passphrase\n",
    )
    assert admin.exit_code == 1 and "Admins see every site" in admin.output


def test_the_queue_polls_its_own_sites_counters_with_an_etag(
    app: Flask, client: FlaskClient, two_sites: TwoSites
) -> None:
    sign_in(client, "bob")
    queue_page = client.get("/dashboard/").get_data(as_text=True)
    assert "<title>(2) Queue · Moderation</title>" in queue_page  # the pending count
    first = client.get("/dashboard/counts")
    assert first.status_code == 200
    assert first.get_json()["pending"] == 2  # the blog's two, not the gazette's
    tag = first.headers["ETag"]
    assert client.get("/dashboard/counts", headers={"If-None-Match": tag}).status_code == 304
    seed_comments(app, 1, site="gazette", thread="elsewhere", text="Not bob's business")
    assert client.get("/dashboard/counts", headers={"If-None-Match": tag}).status_code == 304
    seed_comments(app, 1, site="blog", thread="blog-post", text="A new one for bob")
    changed = client.get("/dashboard/counts", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.get_json()["pending"] == 3


def test_the_poll_tells_the_status_of_the_comments_on_screen_of_their_sites_only(
    app: Flask, client: FlaskClient, two_sites: TwoSites
) -> None:
    sign_in(client, "bob")
    blog, gazette = two_sites.blog_ids[0], two_sites.gazette_ids[1]
    shown = f"/dashboard/counts?shown={blog},{gazette},junk,99999"
    first = client.get(shown)
    assert first.status_code == 200, first.get_data(as_text=True)[:3000]
    assert first.get_json()["shown"] == {
        str(blog): {"status": "pending", "actions": ["approve", "reject", "spam", "delete"]}
    }
    approve(app, blog)  # in another browser
    again = client.get(shown, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200
    assert again.get_json()["shown"][str(blog)]["status"] == "approved"
    assert client.get("/dashboard/").get_data(as_text=True).count('data-poll-ms="15000"') == 1


def test_admins_front_page_says_what_needs_attention(
    app: Flask, client: FlaskClient, actions: Actions, two_sites: TwoSites
) -> None:
    sign_in(client, "alice")
    html = client.get("/dashboard/").get_data(as_text=True)
    # the oldest waiting comment (the blog's first), and the gazette that bob does not watch
    assert "Needs attention: 2" in html
    assert f'Oldest waiting comment: <a href="/dashboard/comments/{two_sites.blog_ids[0]}"' in html
    assert re.search(r"No moderator looks after <a [^>]*>Evening Gazette Ltd</a>", html)
    # a moderator of every site covers them all
    actions.create_moderator("carol")
    html = client.get("/dashboard/").get_data(as_text=True)
    assert "Needs attention: 1" in html and "No moderator looks after" not in html
    bob = app.test_client()
    sign_in(bob, "bob")
    assert "Needs attention" not in bob.get("/dashboard/").get_data(as_text=True)
