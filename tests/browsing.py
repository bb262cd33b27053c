"""A real cross-site embed for browser tests: host pages on ``http://127.0.0.1:A``
(tests/host_sites.py) embedding the widget of a real ``moderation serve`` reached as
``http://localhost:B``; Debian's headless Chromium through Playwright; what a reader does
there.

tests/conftest.py loads this module as a plugin: its fixtures (a served widget shared by the
modules with the same settings, a host site per module, fresh browser pages per test) reach
every test module, which may override any of them (``serve_settings`` above all) by
defining a fixture of the same name."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, make_url, text

from tests.databases import CHEAP_PASSWORD_HASH, SERVER_DATABASE_URL
from tests.host_sites import HostSite, hosting
from tests.servers import ServerProcess, copy_migrated_database
from tests.servers import service_app as app_of_server

if TYPE_CHECKING:
    # names for annotations only: this module is a plugin of every test process, and one
    # that drives no browser (pytest-xdist's controller) need not load Playwright (0.15 s)
    from playwright.sync_api import Browser, BrowserContext, Frame, Page, Playwright, ViewportSize


#: Debian's Chromium in its headless build (package ``chromium-headless-shell``: the same
#: version, Blink and V8 as ``chromium``, and what Playwright itself runs for headless
#: tests), started directly rather than through its ``/usr/bin`` wrapper script. The full
#: browser's ``--headless`` mode builds the desktop browser's machinery around every page:
#: the same pages cost it twice the CPU (4.4 s against 2.1 s for a launch and four posts
#: through the widget, each in a new context). One difference shows: it gives cross-site
#: frames storage of their own, as visitors' browsers do.
CHROMIUM = "/usr/lib/chromium/chromium-headless-shell"
#: Debian's full Chromium (package ``chromium``): its browser contexts are off the record,
#: where Chromium blocks third-party cookies, and with Playwright's switches (storage
#: partitioning off) a cross-site frame then gets no storage at all: the browser of
#: :func:`storageless_browser`, for the widget's ways without storage.
FULL_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
#: Playwright launches Chromium with these features disabled; the same list without
#: ``ThirdPartyStoragePartitioning`` (Playwright turns it off, Chrome ships with it on) gives
#: the storage visitors' browsers have: a cross-site frame gets partitioned storage.
STOCK_STORAGE_ARGS = [
    *CHROMIUM_ARGS,
    "--disable-features="
    + ",".join(
        [
            "AvoidUnnecessaryBeforeUnloadCheckSync",
            "DestroyProfileOnBrowserClose",
            "HttpsUpgrades",
            "HttpsFirstBalancedModeAutoEnable",
            "LensOverlay",
            "MediaRouter",
            "PaintHolding",
            "AvoidCorsURLLoaderRestartOnRedirect",
            "OptimizationHints",
            "NetworkTimeServiceQuerying",
            "AimEnabled",
            "PreconnectToSearch",
        ]
    ),
]
TIMEOUT_MS = 15_000
FRAME = "#comments iframe"


def private_database(workdir: Path, server_url: str, suffix: str) -> Iterator[str]:
    """SQLite in ``workdir``'s instance folder, or on a PostgreSQL run a database of the
    caller's own on that server (others may be emptying the shared one), dropped after."""
    if not server_url or server_url.startswith("sqlite"):
        yield f"sqlite:///{workdir / 'instance' / 'moderation.db'}"
        return
    shared = make_url(server_url)
    name = f"{shared.database}_{suffix}_{os.getpid()}"
    admin = create_engine(shared, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield shared.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def page_maker(browser: Browser) -> Iterator[Any]:
    """``new_page(**context_options)``: a page in a fresh context (a new visitor)."""
    contexts: list[BrowserContext] = []

    def make(**options: Any) -> Page:
        options.setdefault("viewport", {"width": 720, "height": 900})
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def sign_in_to_dashboard(page: Page, service: str, username: str, password: str) -> None:
    """Sign in through the dashboard's form, as a moderator would."""
    page.goto(f"{service}/dashboard/sign-in")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{service}/dashboard/")


def widget_frame(page: Page, ready: str = "#commentform") -> Frame:
    """The widget's frame once it sized itself and ``ready`` is in it."""
    page.wait_for_function(
        """() => {
            const frame = document.querySelector('#comments iframe');
            return frame && frame.style.height !== '' && frame.style.minHeight === '0px';
        }""",
        timeout=TIMEOUT_MS,
    )
    handle = page.locator(FRAME).element_handle()
    frame = handle.content_frame()
    assert frame is not None
    frame.wait_for_selector(ready, timeout=TIMEOUT_MS)
    return frame


# --- what a reader does in the widget --------------------------------------------------


def post_through_the_form(
    frame: Frame, text: str, author: str = "Ann Reader", email: str = "ann.reader@example.org"
) -> None:
    """Write and post a comment in the widget as a reader does; back once the page that
    answered has loaded in the frame and shows the comment awaiting moderation."""
    frame.get_by_role("textbox", name="Comment", exact=True).fill(text)
    frame.get_by_role("textbox", name="Name", exact=True).fill(author)
    frame.get_by_role("textbox", name="Email", exact=True).fill(email)
    with frame.expect_navigation():
        frame.get_by_role("button", name="Post Comment").click()
    frame.wait_for_selector(".comment-awaiting-moderation")


@contextmanager
def answered_in(frame: Frame) -> Iterator[None]:
    """Around what posts the frame's form (a click, a key): back once the frame has loaded
    the page that answered. (The frame's ``url`` only changes while Playwright is called:
    polling it between sleeps sees the old one until a timeout.)"""
    with frame.expect_navigation():
        yield


def published(app: Flask, site: str, thread: str, text: str, **draft: Any) -> int:
    """One approved comment with ``text`` on ``site``'s ``thread``."""
    from tests.helpers import approve, seed_comments

    (comment_id,) = seed_comments(app, 1, site=site, thread=thread, text=text, **draft)
    approve(app, comment_id)
    return comment_id


#: The WCAG 2.1 A and AA rules axe-core checks.
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


#: Whether axe-core is in the frame's document already (a state it reached without loading
#: again, such as a reply form opened, is checked with the copy injected before).
AXE_IS_THERE = "() => typeof window.axe === 'object' && typeof window.axe.run === 'function'"


def axe_violations(frame: Frame) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations in ``frame``: rule, impact and the first node."""
    from axe_playwright_python.base import AXE_SCRIPT

    if not frame.evaluate(AXE_IS_THERE):
        frame.evaluate(AXE_SCRIPT)  # half a megabyte of script to send and compile
    # every rule of those tags runs; only violations come back in full (the passes' nodes
    # are most of axe's answer on a long page, and nothing reads them)
    options = {"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]}
    results = frame.evaluate("options => axe.run(options)", options)
    return [
        f"{item['id']} ({item['impact']}): {item['nodes'][0]['target']}"
        for item in results["violations"]
    ]


# --- a server's setup and traffic from the test process -------------------------------


@contextmanager
def app_of(env: dict[str, str]) -> Iterator[Flask]:
    """The application in this process as a server started with ``env`` has it: the same
    database and instance folder (so the same secret key). A module's setup goes through its
    service layer: each command-line start costs seconds on a loaded machine, and the
    commands have tests of their own (tests/test_cli.py)."""
    overrides = {
        "RATELIMIT_STORAGE_URI": "memory://",
        # comments seeded through the pipeline come from few addresses: room for all
        "LIMIT_SUBMIT_PER_ADDRESS": "1000/minute",
        "LIMIT_SUBMIT_PER_EMAIL": "1000/minute",
        "PASSWORD_HASH_METHOD": CHEAP_PASSWORD_HASH,
    }
    with app_of_server(env, overrides) as app:
        yield app


def serve_args(deliver: bool) -> list[str]:
    """``moderation serve``'s options for a server Chromium talks to directly.

    Threads enough for Chromium's spare connections: gunicorn's gthread worker gives each
    accepted connection a thread until its first request arrives, for up to five seconds,
    and Chromium opens more connections than it uses when a page asks for several files at
    once (whichever connects first takes the request). On two threads (the default then),
    two such idle connections stopped the server for five seconds every few page loads; as
    many as the threads do on any number (behind nginx, as deployed, only nginx connects;
    the tests' one process takes every connection). The webhook and
    email delivery worker (a process of its own) only where a test waits for a delivery."""
    return ["--threads", "8"] + ([] if deliver else ["--no-deliver"])


@contextmanager
def served(
    workdir: Path,
    setup: Callable[[Flask], object],
    port: int | None = None,
    deliver: bool = False,
    template: str = "",
    **settings: str,
) -> Iterator[ServerProcess]:
    """``moderation serve`` in ``workdir`` with ``settings`` (``MODERATION_*`` without the
    prefix, see :func:`tests.servers.fresh_server_env`), set up by ``setup(app)`` through the
    application in this process (:func:`app_of`); stopped afterwards, and on a PostgreSQL
    run its database left empty for the next module. ``deliver``: with the delivery worker
    (see :func:`serve_args`); ``template``: on a database migrated already (the
    ``migrated_database`` fixture, see :func:`tests.servers.fresh_server_env`)."""
    from tests.servers import fresh_server_env, leave_server_database_empty, start_server

    env = fresh_server_env(workdir, template, **settings)
    process = start_server(workdir, env, args=serve_args(deliver), port=port)
    try:
        with app_of(env) as app:
            setup(app)
        yield process
    finally:
        process.stop()
        leave_server_database_empty(env["MODERATION_INSTANCE_PATH"])


def post_through_the_api(
    server_url: str, site: str, origin: str, thread: str, fields: dict[str, object]
) -> dict[str, Any]:
    """A comment sent through the public JSON API as a custom front end on ``origin`` sends
    it (a form token first); the service's answer."""
    from tests.servers import http_json

    headers = {"Origin": origin}
    base = f"{server_url}/api/v1/sites/{site}"
    status, _, token = http_json("GET", f"{base}/form-token?thread={thread}", headers=headers)
    assert status == 200, token
    body = {**fields, "form_token": token["form_token"]}  # type: ignore[index]
    status, _, answer = http_json("POST", f"{base}/comments?thread={thread}", body, headers)
    assert status == 202 and isinstance(answer, dict), answer
    return answer


# --- fixtures: one served widget per module --------------------------------------------

#: The settings of a module's server (``serve_settings`` unless a module overrides it, and
#: what modules hand to :func:`served`): forms may be posted at once (the spam timing has
#: tests of its own), posts from 127.0.0.1 are not limited, and what the test process
#: decides shows at the next request.
QUICK_SETTINGS = {
    "FORM_TOKEN_MIN_AGE": "0",
    "SPAM_MIN_FILL_SECONDS": "0",
    "LIMIT_SUBMIT_PER_ADDRESS": "1000/minute",
    "LIMIT_SUBMIT_PER_EMAIL": "1000/minute",
    "PUBLIC_READ_STALENESS": "0",
}


def module_name(request: pytest.FixtureRequest) -> str:
    return str(request.module.__name__).rsplit(".", 1)[-1].removeprefix("test_")


@pytest.fixture(scope="module")
def workdir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of the module's own (for what it runs beside the server)."""
    return tmp_path_factory.mktemp(module_name(request))


@pytest.fixture(scope="module")
def serve_settings() -> dict[str, str]:
    """``MODERATION_*`` settings of the module's server (names without the prefix)."""
    return dict(QUICK_SETTINGS)


@dataclass
class WidgetServers:
    """The test process's widget servers, one per set of settings: modules whose settings
    are the same share one (each registers a site of its own, and its tests their own
    threads), stopped when the process ends. A start and a stop cost seconds of CPU (the
    server, its worker, migrations) and a few of waiting."""

    folders: pytest.TempPathFactory
    #: the ``migrated_database`` fixture: on SQLite each server's database starts as a
    #: copy of it, so the server migrates nothing
    template: str
    stack: ExitStack = field(default_factory=ExitStack)
    envs: dict[tuple[tuple[str, str], ...], dict[str, str]] = field(default_factory=dict)
    started: dict[str, ServerProcess] = field(default_factory=dict)

    def env(self, settings: dict[str, str]) -> dict[str, str]:
        """The environment of the server with ``settings`` (its address in
        ``MODERATION_PUBLIC_URL``), a new folder and database the first time."""
        from tests.servers import free_port

        key = tuple(sorted(settings.items()))
        if key not in self.envs:
            workdir = self.folders.mktemp("served")
            database = self.stack.enter_context(
                contextmanager(private_database)(workdir, SERVER_DATABASE_URL, workdir.name)
            )
            if database.startswith("sqlite"):
                copy_migrated_database(self.template, workdir / "instance")
            self.envs[key] = {
                "MODERATION_INSTANCE_PATH": str(workdir / "instance"),
                "MODERATION_DATABASE_URL": database,
                "MODERATION_PUBLIC_URL": f"http://localhost:{free_port()}",
                **{f"MODERATION_{name}": value for name, value in settings.items()},
            }
        return self.envs[key]

    def start(self, env: dict[str, str]) -> str:
        """The server of ``env`` running (started if it is not): its public address."""
        from tests.servers import start_server

        public = env["MODERATION_PUBLIC_URL"]
        if public not in self.started:
            workdir = Path(env["MODERATION_INSTANCE_PATH"]).parent
            port = int(public.rsplit(":", 1)[1])
            server = start_server(workdir, env, args=serve_args(deliver=False), port=port)
            self.stack.callback(server.stop)
            self.started[public] = server
        return public


@pytest.fixture(scope="session")
def widget_servers(
    tmp_path_factory: pytest.TempPathFactory, migrated_database: str
) -> Iterator[WidgetServers]:
    """See :class:`WidgetServers`."""
    servers = WidgetServers(tmp_path_factory, migrated_database)
    with servers.stack:
        yield servers


@pytest.fixture(scope="module")
def serve_env(widget_servers: WidgetServers, serve_settings: dict[str, str]) -> dict[str, str]:
    """The server's environment; its public address is ``MODERATION_PUBLIC_URL``."""
    return widget_servers.env(serve_settings)


@pytest.fixture(scope="module")
def service(widget_servers: WidgetServers, serve_env: dict[str, str]) -> str:
    """``moderation serve`` as a real process, as the browser reaches it: ``localhost``,
    another site than the hosts' ``127.0.0.1`` (shared by the modules of this test process
    with the same settings, see :class:`WidgetServers`)."""
    return widget_servers.start(serve_env)


@pytest.fixture(scope="module")
def service_app(serve_env: dict[str, str], service: str) -> Iterator[Flask]:
    """The application in this process beside the module's server (see :func:`app_of`): the
    test's moderator, and its setup, through the service layer."""
    with app_of(serve_env) as app:
        yield app


@pytest.fixture(scope="module")
def host() -> Iterator[HostSite]:
    """The blog that embeds the widget (a module registers its origin)."""
    yield from hosting()


@pytest.fixture(scope="module")
def stranger() -> Iterator[HostSite]:
    """Another origin, never registered, copying the blog's snippet."""
    yield from hosting()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """Headless Chromium as Playwright sets it up (a cross-site frame has storage, not
    partitioned: storage partitioning is among Playwright's switches)."""
    yield from page_maker(browser)


@pytest.fixture(scope="session")
def storageless_browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's full Chromium as Playwright sets it up: cross-site frames get no storage
    at all (see :data:`FULL_CHROMIUM`). Launched in a test process only if one of its
    tests asks for it."""
    yield from launched(playwright, CHROMIUM_ARGS, FULL_CHROMIUM)


@pytest.fixture
def storageless_page(storageless_browser: Browser) -> Iterator[Callable[..., Page]]:
    """A page in a fresh context of :func:`storageless_browser` (a new visitor whose
    browser lets a cross-site frame store nothing)."""
    yield from page_maker(storageless_browser)


@pytest.fixture(scope="module")
def same_reader(browser: Browser) -> Iterator[Callable[..., Page]]:
    """``same_reader(viewport=..., color_scheme=...)``: the one page of a reader going from
    post to post, for tests that only look (posting nothing, storing nothing; a navigation
    leaves nothing of the page before). A navigation costs Chromium half the CPU of a page
    in a new context (0.6 s against 1.2 s for a post with the widget)."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()

    def look(viewport: ViewportSize | None = None, color_scheme: str = "light") -> Page:
        page.set_viewport_size(viewport or {"width": 720, "height": 900})
        page.emulate_media(color_scheme=color_scheme)  # type: ignore[arg-type]
        return page

    yield look
    context.close()


def launched(
    playwright: Playwright, args: list[str], executable: str = CHROMIUM
) -> Iterator[Browser]:
    """Debian's Chromium (never a downloaded browser) with ``args``, closed afterwards."""
    package = "chromium" if executable == FULL_CHROMIUM else "chromium-headless-shell"
    if not Path(executable).exists():
        pytest.fail(
            f"{executable} is not installed: apt-get install {package} (scripts/test.sh does)"
        )
    chromium = playwright.chromium.launch(executable_path=executable, args=args)
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture(scope="session")
def stock_browser(playwright: Playwright) -> Iterator[Browser]:
    """Chromium with Chrome's own rules: cross-site frames get partitioned storage (one per
    test process, as :func:`tests.conftest.browser`)."""
    yield from launched(playwright, STOCK_STORAGE_ARGS)


@pytest.fixture
def stock_page(stock_browser: Browser) -> Iterator[Callable[..., Page]]:
    """A page in a fresh context of :func:`stock_browser` (a new visitor)."""
    yield from page_maker(stock_browser)
