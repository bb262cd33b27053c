"""The websites that embed the widget in browser tests: host pages on ``http://127.0.0.1:A``
(a tiny ``http.server`` serving whatever HTML a test registers, or nginx with server-side
includes) around the README's snippet. The service they embed, the browser and the
fixtures are tests/browsing.py's."""

from __future__ import annotations

import html
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.servers import free_port

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
    """A blog post page (:data:`POST`) with ``embed`` in its body."""
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
    """A :class:`HostSite` serving from a thread of its own on a free port."""
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


def hosting() -> Iterator[HostSite]:
    """A host site for as long as the fixture that yields from this lasts."""
    site = start_host()
    try:
        yield site
    finally:
        site.stop()


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
