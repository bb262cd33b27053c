"""Security headers on every kind of answer, as one matrix of (request, expected headers).

Everywhere: ``X-Content-Type-Options: nosniff``, a strict ``Referrer-Policy``, one
``Content-Security-Policy`` with ``frame-ancestors`` (and for HTML no inline or eval'd
script, no plugins, a fixed base), never ``Access-Control-Allow-Credentials``, and
``Vary: Origin`` wherever CORS names an origin.

* widget pages (``/w/...``, re-rendered forms and previews too): ``frame-ancestors`` lists
  exactly the site's origins and no ``X-Frame-Options`` (it would forbid the embedding);
* everything else public (JSON, errors, scripts, static files, ``/demo``, ``/healthz``):
  ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``;
* the dashboard: the same, plus ``Cache-Control: no-store``;
* every public answer: no ``Set-Cookie`` and no ``Vary: Cookie`` -- also when the browser
  asking is a signed-in moderator's, whose session cookie the service must neither renew on
  nor let shared caches key on (a cached ``Set-Cookie`` would hand the session to others).

Sign-in cookies: ``HttpOnly``, ``SameSite=Lax``, ``Secure`` when configured (the default),
host-only, ``Path=/dashboard``, and a new session on sign-in.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from moderation import create_app
from moderation.config import DEFAULTS
from moderation.extensions import db
from tests.databases import BASE_CONFIG, uses_server_database
from tests.helpers import (
    PASSWORD,
    Actions,
    aged_token,
    approve,
    comment_fields,
    csrf_token,
    seed_comments,
    signed_in,
)

pytestmark = pytest.mark.database_incidental

SITE_ORIGINS = ("https://blog.example", "https://www.blog.example:8443")
ORIGIN = SITE_ORIGINS[0]
EVIL = "https://evil.example"
THREAD = "post-1"
WIDGET = f"/w/blog?thread={THREAD}"
API = "/api/v1/sites/blog"
COMMENTS = f"{API}/comments?thread={THREAD}"
STRICT_REFERRER_POLICIES = {
    "no-referrer",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
}
SESSION_COOKIE = DEFAULTS["SESSION_COOKIE_NAME"]


#: a route ceiling by the hour: flooding it must not race the clock on a slow machine
MATRIX_CONFIG = {"LIMIT_PUBLIC_POSTS_PER_ADDRESS": "10/hour"}


@pytest.fixture
def config_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    return {**MATRIX_CONFIG, **getattr(request, "param", {})}


def seed(app: Flask) -> int:
    """Where each case of the matrix starts: the site, and one approved comment on the
    thread (its id returned)."""
    Actions(app).create_site("blog", list(SITE_ORIGINS), flood_seconds=0)
    [comment_id] = seed_comments(app, 1, thread=THREAD)
    approve(app, comment_id)
    return comment_id


@dataclass(frozen=True)
class Seeded:
    """A SQLite database :func:`seed` made, and the comment's id in it."""

    path: Path
    comment_id: int


@pytest.fixture(scope="module")
def seeded(migrated_database: str, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """The matrix's starting database, seeded once for the module (on SQLite): seeding
    through the services was a third of each case's CPU, copying a file costs little."""
    folder = tmp_path_factory.mktemp("seeded")
    path = folder / "seeded.db"
    shutil.copyfile(migrated_database.removeprefix("sqlite:///"), path)
    app = create_app(
        {**BASE_CONFIG, **MATRIX_CONFIG, "DATABASE_URL": f"sqlite:///{path}"},
        instance_path=str(folder),
    )
    comment_id = seed(app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return Seeded(path, comment_id)


@pytest.fixture
def database_url(database_url: str, request: pytest.FixtureRequest) -> str:
    """The test's own database; for a case of the matrix on SQLite, a copy of
    :func:`seeded` (a database server seeds it for each case: :class:`Env`)."""
    if "env" in request.fixturenames and not uses_server_database():
        seeded: Seeded = request.getfixturevalue("seeded")
        shutil.copyfile(seeded.path, database_url.removeprefix("sqlite:///"))
    return database_url


class Env:
    """A site with one approved comment, a reader's browser and, on demand, a signed-in
    moderator's browser."""

    def __init__(
        self, app: Flask, client: FlaskClient, actions: Actions, comment_id: int | None
    ) -> None:
        """``comment_id``: the approved comment when the database holds it already
        (:func:`seeded`); otherwise it is made here."""
        self.app, self.client, self.actions = app, client, actions
        self.comment_id = seed(app) if comment_id is None else comment_id
        self._moderator: FlaskClient | None = None
        self.csrf = ""

    # a moderator's browser ------------------------------------------------------------
    def moderator(self) -> FlaskClient:
        """The browser of a signed-in admin (it holds the session cookie)."""
        if self._moderator is None:
            dashboard = signed_in(self.app, self.actions, "alice", "admin")
            self.csrf = dashboard.token
            self._moderator = dashboard.client
        return self._moderator

    # the widget and the API ---------------------------------------------------------------
    def form(
        self,
        origin: str | None = ORIGIN,
        address: str = "198.51.100.7",
        path: str = WIDGET,
        **fields: str,
    ) -> TestResponse:
        data = {**comment_fields(), "form_token": aged_token(self.app, "blog", THREAD), **fields}
        return self.client.post(
            path,
            data=data,
            headers={"Origin": origin} if origin else {},
            environ_base={"REMOTE_ADDR": address},
        )

    def submit(
        self, origin: str = ORIGIN, address: str = "198.51.100.8", **fields: Any
    ) -> TestResponse:
        body = {**comment_fields(), "form_token": aged_token(self.app, "blog", THREAD), **fields}
        return self.client.post(
            COMMENTS, json=body, headers={"Origin": origin}, environ_base={"REMOTE_ADDR": address}
        )

    def limit_site(self) -> None:
        """One comment a minute for the whole site."""
        from moderation.services import sites

        with self.app.app_context():
            sites.update_site("blog", sites.SiteSettings(submit_limit="1/minute"))

    def preview(self) -> TestResponse:
        posted = self.form(comment="A comment to preview")
        assert posted.status_code == 303
        return self.client.get(posted.headers["Location"].split("#")[0])

    def second_form_over_limit(self) -> TestResponse:
        self.limit_site()
        assert self.form(comment="The first one").status_code == 303
        return self.form(comment="One too many", address="198.51.100.9")

    def second_submission_over_limit(self) -> TestResponse:
        self.limit_site()
        assert self.submit(comment="The first one").status_code == 202
        return self.submit(comment="One too many", address="198.51.100.9")

    def flood_route(self, send: Callable[[], TestResponse], times: int = 11) -> TestResponse:
        for _ in range(times):
            response = send()
        return response

    def not_modified(self) -> TestResponse:
        etag = self.client.get(COMMENTS).headers["ETag"]
        return self.client.get(COMMENTS, headers={"If-None-Match": etag, "Origin": ORIGIN})

    # the dashboard ---------------------------------------------------------------------
    def sign_in(self, password: str) -> TestResponse:
        self.actions.create_moderator("bob", "moderator")
        browser = self.app.test_client()
        return browser.post(
            "/dashboard/sign-in",
            data={"csrf_token": csrf_token(browser), "username": "bob", "password": password},
        )

    def failed_sign_ins(self) -> TestResponse:
        self.actions.create_moderator("bob", "moderator")
        browser = self.app.test_client()
        for _ in range(6):
            response = browser.post(
                "/dashboard/sign-in",
                data={
                    "csrf_token": csrf_token(browser),
                    "username": "bob",
                    "password": "wrong!!!!!",
                },
            )
        return response

    def dashboard_post(self, path: str, with_csrf: bool = True, **data: str) -> TestResponse:
        browser = self.moderator()
        if with_csrf:
            data["csrf_token"] = self.csrf
        return browser.post(path, data=data)


@pytest.fixture
def env(app: Flask, client: FlaskClient, actions: Actions, request: pytest.FixtureRequest) -> Env:
    seeded: Seeded | None = None if uses_server_database() else request.getfixturevalue("seeded")
    return Env(app, client, actions, seeded.comment_id if seeded else None)


# --------------------------------------------------------------------------- the matrix

WIDGET_PAGE = "widget"  # framed by exactly the site's origins
WIDGET_ERROR = "widget error"  # an error of the widget's own routes: 'none', or the site's origins
PUBLIC = "public"  # never framed
DASHBOARD = "dashboard"  # never framed, never cached
PUBLIC_KINDS = {WIDGET_PAGE, WIDGET_ERROR, PUBLIC}
ANY = object()  # no expectation on Access-Control-Allow-Origin


@dataclass(frozen=True)
class Case:
    name: str
    send: Callable[[Env], TestResponse]
    status: int
    kind: str
    mimetype: str | None = None
    #: directives Cache-Control must have (any one of each tuple)
    cache: tuple[tuple[str, ...], ...] = ()
    #: the Access-Control-Allow-Origin expected: an origin, "*", None (absent) or ANY
    cors: object = ANY
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.name


HTML = "text/html"
JSON = "application/json"
PROBLEM = "application/problem+json"
NOT_SHARED = (("private", "no-store"),)
NO_STORE = (("no-store",),)


def get(path: str, **headers: str) -> Callable[[Env], TestResponse]:
    return lambda env: env.client.get(path, headers=headers)


def as_moderator(path: str, **headers: str) -> Callable[[Env], TestResponse]:
    """A public page opened in the browser of a signed-in moderator."""
    return lambda env: env.moderator().get(path, headers=headers)


def dashboard(path: str) -> Callable[[Env], TestResponse]:
    return lambda env: env.moderator().get(path)


CASES = [
    # --- the widget ----------------------------------------------------------------------
    Case("widget page", get(WIDGET), 200, WIDGET_PAGE, HTML, NOT_SHARED, cors=None),
    Case("widget page, Indonesian", get(f"{WIDGET}&lang=id"), 200, WIDGET_PAGE, HTML, NOT_SHARED),
    Case(
        "widget page, reply form and page 2",
        lambda env: env.client.get(f"{WIDGET}&replytocom={env.comment_id}&cpage=2"),
        200,
        WIDGET_PAGE,
        HTML,
        NOT_SHARED,
    ),
    Case(
        "widget page of a thread without comments",
        get("/w/blog?thread=new"),
        200,
        WIDGET_PAGE,
        HTML,
        NOT_SHARED,
    ),
    Case("widget author preview", Env.preview, 200, WIDGET_PAGE, HTML, NO_STORE),
    Case("widget post, 303 to the preview", lambda env: env.form(), 303, WIDGET_ERROR),
    Case(
        "widget post from the widget itself, 303",
        lambda env: env.form(origin="http://localhost"),
        303,
        WIDGET_ERROR,
    ),
    Case(
        "widget post, form again with field errors",
        lambda env: env.form(email="not an address"),
        422,
        WIDGET_PAGE,
        HTML,
        NO_STORE,
    ),
    Case(
        "widget post, form again: forged form token",
        lambda env: env.form(form_token="forged"),
        403,
        WIDGET_PAGE,
        HTML,
        NO_STORE,
    ),
    Case(
        "widget post, form again: site limit (friendly 429)",
        Env.second_form_over_limit,
        429,
        WIDGET_PAGE,
        HTML,
        NO_STORE,
        headers={"Retry-After": r"\d+"},
    ),
    Case(
        # DESIGN: "a friendly localized 429 in the widget" -- the page must be showable in
        # the site's frame, whichever limit answered
        "widget post, route limit 429 shown in the frame",
        lambda env: env.flood_route(lambda: env.form(address="192.0.2.1", comment="")),
        429,
        WIDGET_PAGE,
        HTML,
        headers={"Retry-After": r"\d+"},
    ),
    Case(
        "widget post from a foreign origin, 403",
        lambda env: env.form(origin=EVIL),
        403,
        WIDGET_ERROR,
        HTML,
    ),
    Case(
        "widget post without Origin or Referer, 403",
        lambda env: env.form(origin=None),
        403,
        WIDGET_ERROR,
        HTML,
    ),
    Case("widget of an unknown site, 404", get("/w/nope?thread=a"), 404, PUBLIC, HTML),
    Case("widget without a thread, 400", get("/w/blog"), 400, WIDGET_ERROR, HTML),
    Case("widget PUT, 405", lambda env: env.client.put(WIDGET), 405, WIDGET_ERROR, HTML),
    Case(
        "widget post too large, 413",
        lambda env: env.form(comment="x" * 1_100_000),
        413,
        WIDGET_ERROR,
        HTML,
    ),
    # --- the public JSON API ------------------------------------------------------------
    Case(
        "API comments, allowed origin",
        get(COMMENTS, Origin=ORIGIN),
        200,
        PUBLIC,
        JSON,
        (("public",),),
        cors=ORIGIN,
        headers={"ETag": r'W/".+"'},
    ),
    Case("API comments, no origin", get(COMMENTS), 200, PUBLIC, JSON, cors=None),
    Case("API comments, foreign origin", get(COMMENTS, Origin=EVIL), 200, PUBLIC, JSON, cors=None),
    Case("API comments, 304", Env.not_modified, 304, PUBLIC, cors=ORIGIN),
    Case(
        "API counts",
        get(f"{API}/counts?thread={THREAD}&thread=b", Origin=ORIGIN),
        200,
        PUBLIC,
        JSON,
        cors=ORIGIN,
    ),
    Case(
        "API form token",
        get(f"{API}/form-token?thread={THREAD}", Origin=ORIGIN),
        200,
        PUBLIC,
        JSON,
        NO_STORE,
        cors=ORIGIN,
    ),
    Case(
        "API preflight, allowed origin",
        lambda env: env.client.options(COMMENTS, headers={"Origin": ORIGIN}),
        204,
        PUBLIC,
        cors=ORIGIN,
    ),
    Case(
        "API preflight, foreign origin",
        lambda env: env.client.options(COMMENTS, headers={"Origin": EVIL}),
        403,
        PUBLIC,
        PROBLEM,
        cors=None,
    ),
    Case("API submit, 202", lambda env: env.submit(), 202, PUBLIC, JSON, cors=ORIGIN),
    Case(
        "API submit as a form, 415",
        lambda env: env.client.post(COMMENTS, data=comment_fields(), headers={"Origin": ORIGIN}),
        415,
        PUBLIC,
        PROBLEM,
        cors=ORIGIN,
    ),
    # a refusal the site's own front end cannot read is no use to it: CORS on errors too
    Case(
        "API submit, 422 readable by the site's front end",
        lambda env: env.submit(email="not an address"),
        422,
        PUBLIC,
        PROBLEM,
        cors=ORIGIN,
    ),
    Case(
        "API submit, 400 malformed JSON readable by the site's front end",
        lambda env: env.client.post(
            COMMENTS, data="{", content_type="application/json", headers={"Origin": ORIGIN}
        ),
        400,
        PUBLIC,
        PROBLEM,
        cors=ORIGIN,
    ),
    Case(
        "API submit, 403 form token readable by the site's front end",
        lambda env: env.submit(form_token="forged"),
        403,
        PUBLIC,
        PROBLEM,
        cors=ORIGIN,
    ),
    Case(
        "API submit, 429 site limit readable by the site's front end",
        Env.second_submission_over_limit,
        429,
        PUBLIC,
        PROBLEM,
        cors=ORIGIN,
        headers={"Retry-After": r"\d+"},
    ),
    Case(
        "API submit, route limit 429",
        lambda env: env.flood_route(lambda: env.submit(address="192.0.2.2", comment="")),
        429,
        PUBLIC,
        PROBLEM,
        headers={"Retry-After": r"\d+"},
    ),
    Case(
        "API submit from a foreign origin, 403",
        lambda env: env.submit(origin=EVIL),
        403,
        PUBLIC,
        PROBLEM,
        cors=None,
    ),
    Case(
        "API submit too large, 413",
        lambda env: env.submit(comment="x" * 1_100_000),
        413,
        PUBLIC,
        PROBLEM,
    ),
    Case(
        "API unknown site, 404", get("/api/v1/sites/nope/comments?thread=a"), 404, PUBLIC, PROBLEM
    ),
    Case("API unknown path, 404", get("/api/v1/nothing"), 404, PUBLIC, PROBLEM),
    Case("API DELETE, 405", lambda env: env.client.delete(COMMENTS), 405, PUBLIC, PROBLEM),
    Case(
        "webhook, unknown integration 404",
        lambda env: env.client.post("/api/v1/hooks/int_nope", json={}),
        404,
        PUBLIC,
        PROBLEM,
    ),
    Case(
        "webhook, unsigned 401",
        lambda env: env.client.post(
            f"/api/v1/hooks/{integration_id(env)}", json={"type": "comment.submit", "data": {}}
        ),
        401,
        PUBLIC,
        PROBLEM,
    ),
    *(
        Case(
            f"read API {name}, unsigned 401",
            lambda env, path=path: env.client.get(
                f"/api/v1/integrations/{integration_id(env)}{path}"
            ),
            401,
            PUBLIC,
            PROBLEM,
        )
        for name, path in (
            ("comments", "/comments?status=pending"),
            ("one comment", "/comments/1"),
            ("thread", "/thread?key=post-1"),
        )
    ),
    Case("OpenAPI document", get("/api/openapi.json"), 200, PUBLIC, JSON, cors="*"),
    # --- scripts, static files, pages ----------------------------------------------------
    Case("embed.js", get("/embed.js"), 200, PUBLIC, "text/javascript", cors="*"),
    Case(
        "avatar", get("/avatar/0123456789abcdef0123456789abcdef.svg"), 200, PUBLIC, "image/svg+xml"
    ),
    Case("avatar of a malformed key, 404", get("/avatar/not-a-key.svg"), 404, PUBLIC, HTML),
    Case("static widget.css", get("/static/widget.css"), 200, PUBLIC, "text/css"),
    Case("static widget.js", get("/static/widget.js"), 200, PUBLIC, "text/javascript"),
    Case("static dashboard.css", get("/static/dashboard.css"), 200, PUBLIC, "text/css"),
    Case("static file missing, 404", get("/static/nope.css"), 404, PUBLIC, HTML),
    Case("healthz", get("/healthz"), 200, PUBLIC, JSON),
    Case("readyz", get("/readyz"), 200, PUBLIC, JSON, NO_STORE),
    Case("metrics, no token: 404", get("/metrics"), 404, PUBLIC, HTML),
    Case(
        "widget author edit, no key: 403",
        get(f"/w/blog/edit?thread={THREAD}"),
        403,
        WIDGET_PAGE,
        HTML,
        NO_STORE,
    ),
    Case(
        "widget author delete, no key: 403",
        lambda env: env.client.post(
            f"/w/blog/delete?thread={THREAD}",
            data={"comment_id": "1", "key": "", "confirm": "yes"},
            headers={"Origin": ORIGIN},
        ),
        403,
        WIDGET_PAGE,
        HTML,
        NO_STORE,
    ),
    # it names the origin the browser asked for: no shared cache may keep it for others
    Case("demo page", get("/demo"), 200, PUBLIC, HTML, NO_STORE),
    Case("demo page, forged Host", get("/demo", Host="evil.example"), 200, PUBLIC, HTML, NO_STORE),
    Case("landing page", get("/"), 200, PUBLIC, HTML),
    Case(
        "widget embed check",
        get("/w/blog/embed-check", Origin=ORIGIN),
        200,
        PUBLIC,
        JSON,
        NO_STORE,
        cors="*",
    ),
    Case(
        "widget embed check, foreign origin",
        get("/w/blog/embed-check", Origin=EVIL),
        200,
        PUBLIC,
        JSON,
        NO_STORE,
        cors="*",
    ),
    Case(
        "widget pending previews",
        get(f"/w/blog/pending?thread={THREAD}&key=forged"),
        200,
        PUBLIC,
        HTML,
        NO_STORE,
    ),
    Case(
        "widget fragment",
        get(f"/w/blog/fragment?thread={THREAD}", Origin=EVIL),
        200,
        PUBLIC,
        HTML,
        (("public",),),
        cors="*",
        headers={"ETag": r'W/".+"'},
    ),
    Case(
        "Atom feed",
        get(f"/feeds/blog.atom?thread={THREAD}", Origin=EVIL),
        200,
        PUBLIC,
        "application/atom+xml",
        (("public",),),
        cors="*",
        headers={"ETag": '".+"'},
    ),
    Case(
        "widget preview",
        lambda env: env.client.post(
            f"/w/blog/preview?thread={THREAD}", data={"comment": "hi"}, headers={"Origin": ORIGIN}
        ),
        200,
        PUBLIC,
        JSON,
        NO_STORE,
        cors=None,
    ),
    Case("unknown page, 404", get("/nothing-here"), 404, PUBLIC, HTML),
    Case("healthz POST, 405", lambda env: env.client.post("/healthz"), 405, PUBLIC, HTML),
    # --- the pages links in notification emails open (the URL holds a credential) ----------
    *(
        Case(name, send, 404, PUBLIC, HTML, NO_STORE, headers={"Referrer-Policy": "no-referrer"})
        for name, send in [
            ("notify decision link, unknown", get("/notify/m/x/approve")),
            ("notify decision POST, unknown", lambda env: env.client.post("/notify/m/x/approve")),
            ("notify confirm, forged", get("/notify/confirm/x")),
            ("notify unsubscribe, forged", get("/notify/unsubscribe/x")),
            ("notify moderator-off, forged", get("/notify/moderator-off/x")),
        ]
    ),
    # --- the data-rights page: a CSRF session of its own (Path=/privacy), never cached -------
    Case(
        "privacy page",
        get("/privacy"),
        200,
        DASHBOARD,
        HTML,
        NO_STORE,
        headers={"Set-Cookie": r"moderation_session=[^;]+;.*HttpOnly; Path=/privacy; SameSite=Lax"},
    ),
    Case("privacy page, sent", get("/privacy/sent"), 200, DASHBOARD, HTML, NO_STORE),
    Case(
        "privacy page POST without CSRF token, 400",
        lambda env: env.client.post("/privacy", data={"email": "ann@example.com"}),
        400,
        DASHBOARD,
        HTML,
        NO_STORE,
    ),
    *(
        Case(name, send, 404, DASHBOARD, HTML, NO_STORE, headers={"Referrer-Policy": "no-referrer"})
        for name, send in [
            ("privacy link, forged", get("/privacy/link/x")),
            ("privacy link erase, forged", get("/privacy/link/x/erase")),
        ]
    ),
    Case(
        "privacy link download POST without CSRF token, 400",
        lambda env: env.client.post("/privacy/link/x/download"),
        400,
        DASHBOARD,
        HTML,
        NO_STORE,
    ),
    # --- public answers to a signed-in moderator's browser ---------------------------------
    Case("widget page, moderator's browser", as_moderator(WIDGET), 200, WIDGET_PAGE, HTML),
    Case(
        "API comments, moderator's browser",
        as_moderator(COMMENTS, Origin=ORIGIN),
        200,
        PUBLIC,
        JSON,
        cors=ORIGIN,
    ),
    Case(
        "API counts, moderator's browser",
        as_moderator(f"{API}/counts?thread={THREAD}"),
        200,
        PUBLIC,
        JSON,
    ),
    Case("embed.js, moderator's browser", as_moderator("/embed.js"), 200, PUBLIC, cors="*"),
    Case("OpenAPI, moderator's browser", as_moderator("/api/openapi.json"), 200, PUBLIC, JSON),
    Case("static file, moderator's browser", as_moderator("/static/widget.css"), 200, PUBLIC),
    Case("healthz, moderator's browser", as_moderator("/healthz"), 200, PUBLIC, JSON),
    Case("demo, moderator's browser", as_moderator("/demo"), 200, PUBLIC, HTML),
    # --- the dashboard -----------------------------------------------------------------------
    Case("dashboard sign-in page", get("/dashboard/sign-in"), 200, DASHBOARD, HTML),
    Case("dashboard, signed out: 302", get("/dashboard/"), 302, DASHBOARD),
    Case(
        "dashboard, signed out JSON: 401",
        get("/dashboard/", Accept="application/json"),
        401,
        DASHBOARD,
        PROBLEM,
    ),
    Case("dashboard sign-in, 303", lambda env: env.sign_in(PASSWORD), 303, DASHBOARD),
    Case("dashboard sign-in refused, 401", lambda env: env.sign_in("wrong!!!!!"), 401, DASHBOARD),
    Case("dashboard sign-in limited, 429", Env.failed_sign_ins, 429, DASHBOARD, HTML),
    Case("dashboard queue", dashboard("/dashboard/"), 200, DASHBOARD, HTML),
    Case(
        "dashboard comment",
        lambda env: env.moderator().get(f"/dashboard/comments/{env.comment_id}"),
        200,
        DASHBOARD,
        HTML,
    ),
    Case("dashboard comment 404", dashboard("/dashboard/comments/999999"), 404, DASHBOARD, HTML),
    Case("dashboard audit log", dashboard("/dashboard/audit"), 200, DASHBOARD, HTML),
    Case("dashboard sites", dashboard("/dashboard/sites"), 200, DASHBOARD, HTML),
    Case("dashboard site", dashboard("/dashboard/sites/blog"), 200, DASHBOARD, HTML),
    Case("dashboard moderators", dashboard("/dashboard/moderators"), 200, DASHBOARD, HTML),
    Case("dashboard integrations", dashboard("/dashboard/integrations"), 200, DASHBOARD, HTML),
    Case(
        "dashboard decision, 303",
        lambda env: env.dashboard_post(
            f"/dashboard/comments/{env.comment_id}/moderate", action="reject"
        ),
        303,
        DASHBOARD,
    ),
    Case(
        "dashboard decision without CSRF token, 400",
        lambda env: env.dashboard_post(
            f"/dashboard/comments/{env.comment_id}/moderate", with_csrf=False, action="reject"
        ),
        400,
        DASHBOARD,
        HTML,
    ),
    Case(
        "dashboard decision as JSON",
        lambda env: env.moderator().post(
            f"/dashboard/comments/{env.comment_id}/moderate",
            data={"csrf_token": env.csrf, "action": "reject"},
            headers={"Accept": "application/json"},
        ),
        200,
        DASHBOARD,
        JSON,
    ),
    Case(
        "dashboard sign-out, 303",
        lambda env: env.dashboard_post("/dashboard/sign-out"),
        303,
        DASHBOARD,
    ),
]


def integration_id(env: Env) -> str:
    from moderation.services import integrations
    from moderation.services.events import SYSTEM

    with env.app.app_context():
        integration, _ = integrations.create_integration(
            "CMS", "blog", integrations.IntegrationSettings(), allow_private=True, actor=SYSTEM
        )
        return integration.public_id


def directives(policy: str) -> dict[str, list[str]]:
    """A CSP header as {directive: sources}."""
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            assert words[0].lower() not in parsed, f"{words[0]} twice in {policy!r}"
            parsed[words[0].lower()] = words[1:]
    return parsed


def cache_directives(response: TestResponse) -> set[str]:
    value = response.headers.get("Cache-Control", "")
    return {item.split("=")[0].strip().lower() for item in value.split(",") if item.strip()}


def vary(response: TestResponse) -> set[str]:
    return {
        item.strip().lower()
        for value in response.headers.getlist("Vary")
        for item in value.split(",")
        if item.strip()
    }


def problems(case: Case, response: TestResponse) -> list[str]:
    """Every way ``response`` falls short of ``case``; empty when it is right."""
    found: list[str] = []
    headers = response.headers

    def expect(condition: bool, message: str) -> None:
        if not condition:
            found.append(message)

    expect(
        response.status_code == case.status,
        f"status {response.status_code}, expected {case.status}: "
        f"{response.get_data(as_text=True)[:300]}",
    )
    if case.mimetype:
        expect(response.mimetype == case.mimetype, f"Content-Type {headers.get('Content-Type')}")
    expect(headers.get("X-Content-Type-Options") == "nosniff", "no X-Content-Type-Options: nosniff")
    expect(
        headers.get("Referrer-Policy") in STRICT_REFERRER_POLICIES,
        f"Referrer-Policy {headers.get('Referrer-Policy')!r}",
    )
    policies = headers.getlist("Content-Security-Policy")
    expect(len(policies) == 1, f"{len(policies)} Content-Security-Policy headers")
    csp = directives(policies[0]) if policies else {}
    ancestors = csp.get("frame-ancestors")
    expect(ancestors is not None, "no frame-ancestors")
    if response.mimetype == HTML:
        scripts = csp.get("script-src", csp.get("default-src", ["*"]))
        expect(
            not {"'unsafe-inline'", "'unsafe-eval'", "*", "data:"} & set(scripts),
            f"script-src {scripts}",
        )
        expect(csp.get("object-src") == ["'none'"], f"object-src {csp.get('object-src')}")
        expect("base-uri" in csp, "no base-uri")
    frame_options = headers.get("X-Frame-Options")
    site_framing = set(ancestors or ()) == set(SITE_ORIGINS) and len(ancestors or ()) == len(
        SITE_ORIGINS
    )
    no_framing = ancestors == ["'none'"] and frame_options == "DENY"
    if case.kind == WIDGET_PAGE:
        expect(site_framing, f"frame-ancestors {ancestors}, expected exactly {SITE_ORIGINS}")
        expect(frame_options is None, f"X-Frame-Options {frame_options} forbids the embedding")
    elif case.kind == WIDGET_ERROR:
        expect(
            no_framing or (site_framing and frame_options is None),
            f"frame-ancestors {ancestors} / X-Frame-Options {frame_options}",
        )
    else:
        expect(no_framing, f"frame-ancestors {ancestors} / X-Frame-Options {frame_options}")
    if case.kind in PUBLIC_KINDS:
        expect(
            not headers.getlist("Set-Cookie"),
            f"Set-Cookie on a public answer: {headers.getlist('Set-Cookie')}",
        )
        expect("cookie" not in vary(response), f"Vary: {headers.get('Vary')}")
    if case.kind == DASHBOARD:
        expect(
            "no-store" in cache_directives(response),
            f"Cache-Control {headers.get('Cache-Control')}",
        )
    for choices in case.cache:
        expect(
            bool(set(choices) & cache_directives(response)),
            f"Cache-Control {headers.get('Cache-Control')!r}, expected one of {choices}",
        )
    allow_origin = headers.get("Access-Control-Allow-Origin")
    if case.cors is not ANY:
        expect(allow_origin == case.cors, f"Access-Control-Allow-Origin {allow_origin!r}")
    if allow_origin not in (None, "*"):
        expect("origin" in vary(response), f"CORS for {allow_origin} without Vary: Origin")
    expect("Access-Control-Allow-Credentials" not in headers, "CORS with credentials")
    for name, pattern in case.headers.items():
        expect(
            re.fullmatch(pattern, headers.get(name, "")) is not None,
            f"{name}: {headers.get(name)!r}, expected {pattern}",
        )
    return found


@pytest.mark.parametrize("case", CASES, ids=str)
def test_security_headers(env: Env, case: Case) -> None:
    response = case.send(env)
    response.get_data()  # buffer the body, then release the file a static answer holds
    response.close()
    found = problems(case, response)
    assert not found, f"{case.name}:\n  " + "\n  ".join(found)


def test_matrix_covers_every_public_route(app: Flask) -> None:
    """A new route must join the matrix (or be named here as covered elsewhere)."""
    exercised = " ".join(case.name for case in CASES)
    covered = {
        "/embed.js": "embed.js",
        "/avatar/<key>.svg": "avatar",
        "/w/<site_slug>": "widget page",
        "/demo": "demo",
        "/": "landing page",
        "/w/<site_slug>/embed-check": "widget embed check",
        "/w/<site_slug>/pending": "widget pending previews",
        "/w/<site_slug>/fragment": "widget fragment",
        "/feeds/<site_slug>.atom": "Atom feed",
        "/w/<site_slug>/preview": "widget preview",
        "/healthz": "healthz",
        "/readyz": "readyz",
        "/metrics": "metrics",
        "/w/<site_slug>/edit": "widget author edit",
        "/w/<site_slug>/delete": "widget author delete",
        "/api/openapi.json": "OpenAPI",
        "/api/v1/sites/<site_slug>/comments": "API comments",
        "/api/v1/sites/<site_slug>/counts": "API counts",
        "/api/v1/sites/<site_slug>/form-token": "API form token",
        "/api/v1/hooks/<integration_id>": "webhook",
        "/api/v1/integrations/<integration_id>/comments": "read API comments",
        "/api/v1/integrations/<integration_id>/comments/<comment_id>": "read API one comment",
        "/api/v1/integrations/<integration_id>/thread": "read API thread",
        "/static/<path:filename>": "static",
        "/notify/m/<token>/<action>": "notify decision",
        "/notify/confirm/<signed>": "notify confirm",
        "/notify/unsubscribe/<signed>": "notify unsubscribe",
        "/notify/moderator-off/<signed>": "notify moderator-off",
        "/privacy": "privacy page",
        "/privacy/sent": "privacy page, sent",
        "/privacy/link/<token>": "privacy link",
        "/privacy/link/<token>/erase": "privacy link erase",
        "/privacy/link/<token>/download": "privacy link download",
    }
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/dashboard"):
            continue
        assert rule.rule in covered, f"{rule.rule} is not in the header matrix"
        assert covered[rule.rule] in exercised, rule.rule


# --------------------------------------------------------------------------- cookies


def session_cookie(response: TestResponse) -> dict[str, str]:
    """The session's Set-Cookie as {attribute: value}, the value under "value"."""
    for header in response.headers.getlist("Set-Cookie"):
        name, _, rest = header.partition("=")
        if name.strip() != SESSION_COOKIE:
            continue
        value, *attributes = rest.split(";")
        parsed = {"value": value.strip()}
        for attribute in attributes:
            key, _, setting = attribute.strip().partition("=")
            parsed[key.lower()] = setting
        return parsed
    raise AssertionError(f"no {SESSION_COOKIE} cookie in {response.headers.getlist('Set-Cookie')}")


def test_cookie_defaults_are_strict() -> None:
    assert DEFAULTS["SESSION_COOKIE_SECURE"] is True
    assert DEFAULTS["SESSION_COOKIE_HTTPONLY"] is True
    assert DEFAULTS["SESSION_COOKIE_SAMESITE"] == "Lax"


@pytest.mark.parametrize(
    "config_overrides",
    [{"SESSION_COOKIE_SECURE": False}, {"SESSION_COOKIE_SECURE": True}],
    indirect=True,
    ids=["secure off (plain-HTTP development)", "secure on (the default)"],
)
def test_sign_in_cookie_flags(
    app: Flask, actions: Actions, config_overrides: dict[str, Any]
) -> None:
    secure = config_overrides["SESSION_COOKIE_SECURE"]
    base = "https://localhost" if secure else "http://localhost"
    actions.create_moderator("alice", "admin")
    browser = app.test_client()
    page = browser.get("/dashboard/sign-in", base_url=base)
    before = session_cookie(page)
    token = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)
    )
    assert token
    response = browser.post(
        "/dashboard/sign-in",
        data={"csrf_token": token.group(1), "username": "alice", "password": PASSWORD},
        base_url=base,
        # over HTTPS Flask-WTF also wants a same-origin Referer, as browsers send
        headers={"Referer": f"{base}/dashboard/sign-in"},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    cookie = session_cookie(response)
    assert "httponly" in cookie
    assert cookie.get("samesite", "").lower() == "lax"
    assert ("secure" in cookie) is secure
    assert cookie.get("path") == "/dashboard", "never sent with a public page's request"
    assert "domain" not in cookie, "host-only: no other host under the domain receives it"
    assert cookie["value"] != before["value"], "a new session on sign-in"
    for other in (page, response):
        for header in other.headers.getlist("Set-Cookie"):
            if header.startswith(f"{SESSION_COOKIE}="):
                assert "HttpOnly" in header and "SameSite=Lax" in header


def test_the_dashboard_cookie_never_goes_with_a_public_request(env: Env) -> None:
    """With ``Path=/dashboard`` a browser keeps the session cookie to the dashboard: the
    widget, the API, the demo and static files never receive it (so no log, proxy or cache
    on the public side sees it), while the dashboard still knows the moderator."""
    browser = env.moderator()
    public = [WIDGET, COMMENTS, f"{API}/counts?thread={THREAD}", "/demo", "/embed.js", "/"]
    sent = {path: browser.get(path).request.headers.get("Cookie") for path in public}
    assert sent == dict.fromkeys(public)
    dashboard = browser.get("/dashboard/")
    assert dashboard.status_code == 200
    assert SESSION_COOKIE in (dashboard.request.headers.get("Cookie") or "")


def test_demo_names_the_asked_host_only_to_the_asker(client: FlaskClient) -> None:
    """``/demo`` shows the snippet with the origin the browser asked for, taken from the
    ``Host`` header (that is confirmed here); it is ``no-store``, so a shared cache never
    hands a snippet naming someone else's host to the next newcomer."""
    response = client.get("/demo", headers={"Host": "evil.example"})
    assert "http://evil.example/embed.js" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
