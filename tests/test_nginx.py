"""Debian's nginx in front of ``moderation serve``, configured by docs/deploy/nginx.conf
itself (its TLS lines left out: nginx listens on plain 127.0.0.1 here), run as a process of
this test with its own prefix. Clients connect from different loopback addresses
(127.0.0.2, 127.0.0.3, ...), so the service, trusting one proxy hop, must limit each by the
address nginx saw; what a client writes in X-Forwarded-For changes nothing."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import re
import shutil
import subprocess
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

import moderation
from moderation.clock import utcnow
from moderation.services import form_tokens
from tests.helpers import Actions
from tests.servers import (
    ServerProcess,
    free_port,
    fresh_server_env,
    leave_server_database_empty,
    service_app,
    start_server,
)

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
pytestmark = [
    pytest.mark.slow,
    # addresses, limits (in the counters' file), static files, body sizes, request ids: the
    # same on every database
    pytest.mark.database_incidental,
    pytest.mark.skipif(not os.access(NGINX, os.X_OK), reason="Debian's nginx is not installed"),
]

CONFIG = Path(__file__).resolve().parent.parent / "docs" / "deploy" / "nginx.conf"
STATIC = Path(moderation.__file__).resolve().parent / "static"
SECRET_KEY = f"nginx-test-{uuid.uuid4().hex}"
ORIGIN = "https://blog.example"
#: The service's per-address limit in this module.
PER_ADDRESS = 2


@dataclass
class Proxy:
    """nginx on ``port`` in front of ``server``."""

    port: int
    prefix: Path
    server: ServerProcess

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        client: str = "127.0.0.1",
    ) -> tuple[int, dict[str, str], bytes]:
        """One request through nginx from the loopback address ``client``."""
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=30, source_address=(client, 0)
        )
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def access_log(self) -> str:
        return (self.prefix / "access.log").read_text()


def site_config(upstream_port: int, listen_port: int) -> str:
    """docs/deploy/nginx.conf without its TLS lines, listening on 127.0.0.1, proxying to the
    test's server and serving the package's static folder."""
    text = "\n".join(line for line in CONFIG.read_text().splitlines() if "# tls-only" not in line)
    text = text.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream_port};")
    text = text.replace("/opt/moderation/static", str(STATIC))
    text = text.replace(
        "server_name comments.example.com;",
        f"listen 127.0.0.1:{listen_port};\n    server_name comments.example.com;",
    )
    assert f"listen 127.0.0.1:{listen_port};" in text
    return text


def main_config(prefix: Path, site: str) -> str:
    """A whole nginx configuration of the test's own: everything under ``prefix``."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read the temp folder
    temp = "\n".join(
        f"    {name}_temp_path {prefix / name};" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )  # fmt: skip
    return f"""{user}worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
{temp}
{site}
    access_log {prefix / "access.log"} combined_request_id;
}}
"""


def start_nginx(prefix: Path, server: ServerProcess) -> Proxy:
    port = free_port()
    (prefix / "nginx.conf").write_text(main_config(prefix, site_config(server.port, port)))
    command = [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", "stderr"]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    with (prefix / "stderr.log").open("w") as stderr:
        process = subprocess.Popen([*command, "-g", "daemon off;"], stderr=stderr)
    proxy = Proxy(port, prefix, server)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        assert process.poll() is None, (prefix / "stderr.log").read_text()
        try:
            if proxy.request("GET", "/healthz")[0] == 200:
                proxy.process = process  # type: ignore[attr-defined]
                return proxy
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("nginx did not answer")


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory, migrated_database: str) -> Iterator[Proxy]:
    tmp_path = tmp_path_factory.mktemp("nginx")
    env = fresh_server_env(
        tmp_path,
        migrated_database,
        SECRET_KEY=SECRET_KEY,
        TRUSTED_PROXIES="1",
        # per hour: a sliding window that turns over during the test lets one more through
        LIMIT_SUBMIT_PER_ADDRESS=f"{PER_ADDRESS}/hour",
        LIMIT_SUBMIT_PER_EMAIL="100/hour",
    )
    server = start_server(tmp_path, env, ["--no-deliver"])
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    try:
        with service_app(env) as app:
            Actions(app).create_site("blog", [ORIGIN], flood_seconds=0)  # the limits decide
        proxy = start_nginx(prefix, server)
        try:
            yield proxy
        finally:
            proxy.process.terminate()  # type: ignore[attr-defined]
            proxy.process.wait(timeout=10)  # type: ignore[attr-defined]
    finally:
        server.stop()
        leave_server_database_empty(env["MODERATION_INSTANCE_PATH"])


def post_comment(proxy: Proxy, client: str, forged: str | None = None) -> int:
    """A comment through the form from ``client``, perhaps with a forged X-Forwarded-For."""
    thread = f"t-{uuid.uuid4().hex[:8]}"
    token = form_tokens.issue(SECRET_KEY, "blog", thread, utcnow() - timedelta(seconds=10))
    fields = {
        "comment": f"Through nginx {uuid.uuid4().hex}",
        "author": "Ann",
        "email": f"{uuid.uuid4().hex[:8]}@example.com",
        "form_token": token,
    }
    headers = {"Origin": ORIGIN, "Content-Type": "application/x-www-form-urlencoded"}
    if forged:
        headers["X-Forwarded-For"] = forged
    body = urllib.parse.urlencode(fields).encode()
    return proxy.request("POST", f"/w/blog?thread={thread}", body, headers, client)[0]


def test_each_client_address_has_its_own_limit(proxy: Proxy) -> None:
    first = [post_comment(proxy, "127.0.0.2") for _ in range(PER_ADDRESS + 1)]
    assert first == [303] * PER_ADDRESS + [429]
    assert post_comment(proxy, "127.0.0.3") == 303  # another reader, another count


def test_a_forged_forwarded_for_changes_nothing(proxy: Proxy) -> None:
    forged = ["198.51.100.1", "127.0.0.9", "10.0.0.1, 203.0.113.5"]
    statuses = [post_comment(proxy, "127.0.0.4", forged[n]) for n in range(PER_ADDRESS + 1)]
    assert statuses == [303] * PER_ADDRESS + [429]
    # nor does claiming to be a reader who still has posts left
    assert post_comment(proxy, "127.0.0.4", "127.0.0.5") == 429
    assert post_comment(proxy, "127.0.0.5") == 303


def test_embed_js_comes_from_disk_with_long_cache_headers_and_gzip(proxy: Proxy) -> None:
    status, headers, body = proxy.request("GET", "/embed.js", headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Type"].split(";")[0] in ("text/javascript", "application/javascript")
    assert "max-age=86400" in headers["Cache-Control"]
    assert "stale-while-revalidate" in headers["Cache-Control"]
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert headers.get("Content-Encoding") == "gzip"
    assert gzip.decompress(body) == (STATIC / "embed.js").read_bytes()
    assert "X-Request-ID" not in headers  # nginx answered it alone

    etag = headers["ETag"]
    status, _, _ = proxy.request("GET", "/embed.js", headers={"If-None-Match": etag})
    assert status == 304


def test_bodies_over_the_service_limit_stop_at_nginx(proxy: Proxy) -> None:
    headers = {"Content-Type": "application/json", "Origin": ORIGIN}
    too_big = b'{"comment": "' + b"x" * (1024 * 1024) + b'"}'
    status, _, _ = proxy.request("POST", "/api/v1/sites/blog/comments?thread=big", too_big, headers)
    assert status == 413
    status, response_headers, _ = proxy.request(
        "POST", "/api/v1/sites/blog/comments?thread=big", b"{}", headers
    )
    assert status == 422  # a small body reaches the service
    assert "X-Request-ID" in response_headers


def test_nginx_and_the_service_share_the_request_id(proxy: Proxy) -> None:
    status, headers, body = proxy.request("GET", "/readyz", headers={"X-Request-ID": "x" * 40})
    assert status == 200, body
    assert json.loads(body)["status"] == "ready"
    request_id = headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)  # nginx's own, not the client's
    deadline = time.monotonic() + 5  # nginx writes its log line after the answer
    while f"id={request_id}" not in proxy.access_log() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert f"id={request_id}" in proxy.access_log()
    assert "127.0.0.0 - " in proxy.access_log()
    assert "127.0.0.2 - " not in proxy.access_log()  # addresses truncated as the service does
    assert (
        f'"request_id": "{request_id}"' in proxy.server.output()
        or request_id in proxy.server.output()
    )
