"""A real cross-site embed for browser tests: host pages on ``http://127.0.0.1:A`` (a tiny
``http.server`` serving whatever HTML a test registers) embedding the widget of a real
``moderation serve`` reached as ``http://localhost:B``; Debian's Chromium through Playwright."""

from __future__ import annotations

import html
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, Frame, Page
from sqlalchemy import create_engine, make_url, text

CHROMIUM = "/usr/bin/chromium"
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

#: A blog post: ``{head}`` goes into ``<head>``, ``{embed}`` is the widget's snippet.
POST = """<!doctype html>
<html lang="{lang}">
<head><meta charset="utf-8"><title>{title}</title>{head}</head>
<body>
<h1>{title}</h1>
<p>A blog post on the host site, with the comment widget below.</p>
{embed}
</body>
</html>
"""


def embed_snippet(service: str, site: str, thread: str, attributes: str = "") -> str:
    """The README's snippet (``<noscript>`` link included) for ``site`` and ``thread``,
    with extra container attributes."""
    return (
        f'<div id="comments" data-site="{html.escape(site)}" data-thread="{html.escape(thread)}"'
        f"{attributes}></div>\n"
        f'<script src="{service}/embed.js" async></script>\n'
        f'<noscript><a href="{service}/w/{html.escape(site)}?thread={html.escape(thread)}">'
        "Read and post comments</a></noscript>"
    )


def post_page(title: str, embed: str, head: str = "", lang: str = "en") -> str:
    return POST.format(title=html.escape(title), embed=embed, head=head, lang=lang)


@dataclass
class HostSite:
    """A website on ``http://127.0.0.1:PORT``: ``add(path, html)`` publishes a page."""

    server: ThreadingHTTPServer
    thread: threading.Thread
    pages: dict[str, str] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def add(self, path: str, body: str) -> str:
        self.pages[path] = body
        return f"{self.origin}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def start_host() -> HostSite:
    pages: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(urlsplit(self.path).path)
            if body is None:
                self.send_error(404)
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the test output is for failures."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="host-site", daemon=True)
    thread.start()
    return HostSite(server, thread, pages)


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


def cli(workdir: Path, env: dict[str, str], *args: str) -> str:
    """``python -m moderation ARGS`` as the operator runs it, in ``workdir``."""
    result = subprocess.run(
        [sys.executable, "-m", "moderation", *args],
        cwd=workdir,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


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


#: A site served by nginx with server-side includes on, the comments fragment fetched from
#: the service through an internal location: the README's configuration, ports filled in.
NGINX_CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {root}/tmp;
    proxy_temp_path {root}/tmp;
    fastcgi_temp_path {root}/tmp;
    uwsgi_temp_path {root}/tmp;
    scgi_temp_path {root}/tmp;
    server {{
        listen 127.0.0.1:{port};
        root {root}/pages;
        ssi on;
        location /_comments/ {{
            internal;
            proxy_pass {service}/w/;
            proxy_set_header Accept-Encoding "";
        }}
    }}
}}
"""


@dataclass
class NginxSite:
    """nginx on ``http://127.0.0.1:PORT`` serving ``pages/`` with SSI (see :data:`NGINX_CONF`)."""

    process: subprocess.Popen[bytes]
    root: Path
    port: int

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add(self, name: str, body: str) -> str:
        (self.root / "pages" / name).write_text(body)
        return f"{self.origin}/{name}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def start_nginx(root: Path, service: str) -> NginxSite:
    """Start nginx in ``root`` with :data:`NGINX_CONF`, its includes answered by ``service``."""
    import time
    import urllib.request

    from tests.servers import free_port

    port = free_port()
    (root / "pages").mkdir(parents=True)
    (root / "tmp").mkdir()
    (root / "pages" / "ping.html").write_text("ok")
    conf = root / "nginx.conf"
    conf.write_text(NGINX_CONF.format(root=root, port=port, service=service))
    process = subprocess.Popen(
        ["/usr/sbin/nginx", "-p", str(root), "-c", str(conf), "-e", str(root / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    site = NginxSite(process, root, port)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{site.origin}/ping.html", timeout=1):
                return site
        except OSError:
            time.sleep(0.05)
    site.stop()
    raise RuntimeError((root / "error.log").read_text(errors="replace"))
