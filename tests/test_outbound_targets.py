"""Outbound targets (issue 12, item 1): one parse of the URL, refusal of every host that is
not written plainly or that is not on the public internet, and a connection to exactly the
address that was checked. The attacks go through the CLI, the dashboard and the delivery
worker sending to real local receivers."""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select, update

from tests.helpers import PASSWORD, Actions, seed_comments
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.database_incidental

FAST = {"backoff_base": 0.01, "timeout": 2.0, "lease_seconds": 30.0}


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"WEBHOOK_ALLOW_PRIVATE_TARGETS": False, "LIMIT_SUBMIT_PER_SITE": "100000/hour"}


def loopback_spellings(port: int) -> list[str]:
    """127.0.0.1 (and other local places) written in every way a URL parser might accept."""
    return [
        f"http://%31%32%37.0.0.1:{port}/hook",  # the reported attack
        f"http://127.0.0.%31:{port}/hook",
        f"http://127%2e0.0.1:{port}/hook",
        f"http://2130706433:{port}/hook",  # one 32-bit number
        f"http://0x7f.1:{port}/hook",  # hexadecimal and a short form
        f"http://0x7f000001:{port}/hook",
        f"http://0177.0.0.1:{port}/hook",  # octal
        f"http://127.1:{port}/hook",
        f"http://127.000.000.001:{port}/hook",
        f"http://localhost.:{port}/hook",  # a trailing dot
        f"http://127.0.0.1.:{port}/hook",
        f"http://user@127.0.0.1:{port}/hook",  # userinfo
        f"http://evil.example@127.0.0.1:{port}/hook",
        f"http://127.0.0.1\\@evil.example:{port}/hook",  # a backslash
        f"http://127.0.0.1\t:{port}/hook",  # whitespace that parsers drop
        f"http://127.0.0.1 :{port}/hook",
        f"http://\uff11\uff12\uff17.0.0.1:{port}/hook",  # fullwidth digits
        f"http://[::ffff:127.0.0.1]:{port}/hook",  # IPv4-mapped
        f"http://[::ffff:7f00:1]:{port}/hook",
        f"http://[::127.0.0.1]:{port}/hook",  # IPv4-compatible
        f"http://[64:ff9b::7f00:1]:{port}/hook",  # NAT64
        f"http://[64:ff9b:1::a00:1]:{port}/hook",  # local-use NAT64
        f"http://[2002:7f00:1::1]:{port}/hook",  # 6to4
        f"http://[2001:0:4136:e378:8000:63bf:80ff:fffe]:{port}/hook",  # Teredo
        f"http://[::1]:{port}/hook",
        f"http://[fe80::1%25lo]:{port}/hook",  # a zone
        f"http://0.0.0.0:{port}/hook",
        f"http://0:{port}/hook",
        f"http://100.64.0.1:{port}/hook",  # shared address space (CGNAT)
        f"http://224.0.0.1:{port}/hook",  # multicast
        f"http://240.0.0.1:{port}/hook",  # reserved
        f"http://169.254.169.254:{port}/latest",  # cloud metadata
        f"http://no-such-host.invalid:{port}/hook",  # does not resolve: refused, not waved through
        f"http://127.0.0.1:{port}#@evil.example/hook",
        f"http://127.0.0.1:0{port}/hook",  # a port with a leading zero
    ]


def create(runner: FlaskCliRunner, url: str) -> Any:
    return runner.invoke(
        args=[
            "integrations",
            "create",
            "x",
            "--site",
            "blog",
            "--events",
            "comment.created",
            "--url",
            url,
        ]
    )


def integration_count(app: Flask) -> int:
    from moderation.extensions import db
    from moderation.models import Integration

    with app.app_context():
        return len(db.session.execute(select(Integration)).scalars().all())


def test_the_cli_refuses_every_spelling_of_a_local_target(
    app: Flask, actions: Actions, runner: FlaskCliRunner, receiver: Receiver
) -> None:
    actions.create_site("blog", ["https://blog.example"])
    accepted = []
    for url in loopback_spellings(receiver.port):
        result = create(runner, url)
        if result.exit_code != 1 or "Traceback" in result.output:
            accepted.append((url, result.output))
    assert accepted == []
    assert integration_count(app) == 0


def dashboard_admin(client: FlaskClient, actions: Actions) -> str:
    """Sign in as an admin; return a CSRF token for the dashboard's forms."""
    actions.create_moderator("alice", "admin")

    def token(path: str) -> str:
        html = client.get(path).get_data(as_text=True)
        found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
            r'name="csrf-token" content="([^"]+)"', html
        )
        assert found, html
        return found.group(1)

    signed_in = client.post(
        "/dashboard/sign-in",
        data={"csrf_token": token("/dashboard/sign-in"), "username": "alice", "password": PASSWORD},
    )
    assert signed_in.status_code == 303
    return token("/dashboard/integrations")


def test_the_dashboard_refuses_with_the_same_rule_and_words_as_the_cli(
    app: Flask,
    actions: Actions,
    client: FlaskClient,
    runner: FlaskCliRunner,
    receiver: Receiver,
) -> None:
    actions.create_site("blog", ["https://blog.example"])
    csrf = dashboard_admin(client, actions)
    for url in loopback_spellings(receiver.port):
        cli = create(runner, url)
        assert cli.exit_code == 1, (url, cli.output)
        reason = cli.output.strip().removeprefix("Error: ")
        page = client.post(
            "/dashboard/integrations",
            data={
                "csrf_token": csrf,
                "name": "x",
                "site": "blog",
                "target_url": url,
                "events": "comment.created",
                "scopes": "submit",
            },
        )
        assert page.status_code == 400, url
        html = page.get_data(as_text=True)
        from markupsafe import escape

        assert str(escape(reason)) in html, (url, reason)
    assert integration_count(app) == 0


def store_target_as_before(app: Flask, public_id: str, url: str) -> None:
    """A URL saved before the rule existed (or written by an older version)."""
    from moderation.extensions import db
    from moderation.models import Integration

    with app.app_context():
        db.session.execute(
            update(Integration).where(Integration.public_id == public_id).values(target_url=url)
        )
        db.session.commit()


def subscribe(app: Flask, receiver: Receiver, actions: Actions, url: str | None = None) -> str:
    from moderation.services import integrations
    from moderation.services.events import SYSTEM

    actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
    with app.app_context():
        integration, secret = integrations.create_integration(
            "Receiver",
            "blog",
            integrations.IntegrationSettings(
                events=("comment.created",), target_url=url or receiver.url
            ),
            allow_private=True,
            actor=SYSTEM,
        )
        receiver.secret = secret
        return integration.public_id


def deliver(app: Flask, allow_private: bool, rounds: int = 1, **settings: Any) -> None:
    from moderation.services import webhooks

    with app.app_context():
        for _ in range(rounds):
            webhooks.deliver_due(
                webhooks.DeliverySettings(
                    **{**FAST, **settings, "allow_private_targets": allow_private}
                )
            )


def last_errors(app: Flask) -> list[str]:
    from moderation.extensions import db
    from moderation.models import DeliveryAttempt

    with app.app_context():
        return [
            attempt.error
            for attempt in db.session.execute(
                select(DeliveryAttempt).order_by(DeliveryAttempt.id)
            ).scalars()
        ]


@pytest.mark.parametrize(
    "spelling",
    [
        "http://%31%32%37.0.0.1:{port}/hook",
        "http://2130706433:{port}/hook",
        "http://127.1:{port}/hook",
        "http://[::ffff:127.0.0.1]:{port}/hook",
        "http://localhost.:{port}/hook",
    ],
)
def test_a_stored_local_target_is_never_reached_by_the_worker(
    app: Flask, actions: Actions, receiver: Receiver, spelling: str
) -> None:
    public_id = subscribe(app, receiver, actions)
    store_target_as_before(app, public_id, spelling.format(port=receiver.port))
    seed_comments(app, 1)
    deliver(app, allow_private=False)
    assert receiver.requests == 0
    [error] = last_errors(app)
    assert error.startswith("refused: "), error


class FlippingResolver:
    """A DNS server that answers a public address for the check, then this machine
    (rebinding)."""

    def __init__(self, name: str, first: str, then: str) -> None:
        self.name, self.first, self.then = name, first, then
        self.calls = 0
        self.real = socket.getaddrinfo
        self.lock = threading.Lock()

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != self.name:
            return self.real(host, port, *args, **kwargs)
        with self.lock:
            self.calls += 1
            address = self.first if self.calls == 1 else self.then
        return self.real(address, port, *args, **kwargs)


class LoopbackOnly:
    """``socket.create_connection`` that connects to this machine only: no packet of the
    test ever leaves it. Connections elsewhere are recorded and fail as unreachable."""

    def __init__(self) -> None:
        self.real = socket.create_connection
        self.elsewhere: list[str] = []

    def __call__(self, address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        host, port = address[0], address[1]
        for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
            resolved = str(info[4][0])
            if ipaddress.ip_address(resolved).is_loopback:
                return self.real((resolved, port), *args, **kwargs)
            self.elsewhere.append(resolved)
        raise OSError(101, "Network is unreachable (test: only loopback is reachable)")


def test_dns_rebinding_cannot_turn_a_checked_delivery_inwards(
    app: Flask, actions: Actions, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name answers a public address when it is checked and 127.0.0.1 right after: the
    delivery must connect to the address it checked (which fails here: only loopback is
    reachable in this test), never to the receiver on 127.0.0.1."""
    public_id = subscribe(app, receiver, actions)
    store_target_as_before(app, public_id, f"http://hooks.rebind.test:{receiver.port}/hook")
    seed_comments(app, 1)
    resolver = FlippingResolver("hooks.rebind.test", "93.184.216.34", "127.0.0.1")
    connector = LoopbackOnly()
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    monkeypatch.setattr(socket, "create_connection", connector)
    try:
        deliver(app, allow_private=False)
    finally:
        monkeypatch.undo()
    assert receiver.requests == 0
    assert resolver.calls == 1
    assert connector.elsewhere == ["93.184.216.34"]
    assert last_errors(app) == ["connection failed"]


def test_the_delivery_log_gives_no_port_scan_oracle(app: Flask, actions: Actions) -> None:
    """A closed port and a port that never answers read the same way as any failure to
    connect; nothing names an errno, an exception class or the address."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts the connection, never answers
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
    try:
        receiver = Receiver(secret="")
        public_id = subscribe(app, receiver, actions, url="http://127.0.0.1:1/hook")
        seed_comments(app, 1)
        for port in (closed.getsockname()[1], silent.getsockname()[1]):
            store_target_as_before(app, public_id, f"http://127.0.0.1:{port}/hook")
            redeliver_all(app)
            deliver(app, allow_private=True, timeout=0.5)
        store_target_as_before(app, public_id, "http://no-such-host.invalid/hook")
        redeliver_all(app)
        deliver(app, allow_private=True, timeout=0.5)
        redeliver_all(app)
        deliver(app, allow_private=False, timeout=0.5)
    finally:
        silent.close()
        closed.close()
    errors = last_errors(app)
    assert errors == [
        "connection failed",
        "timed out",
        "refused: host not found",
        "refused: host not found",
    ]


def redeliver_all(app: Flask) -> None:
    from moderation.extensions import db
    from moderation.models import OutboxDelivery
    from moderation.services import webhooks

    with app.app_context():
        for delivery in db.session.execute(select(OutboxDelivery)).scalars().all():
            webhooks.redeliver(delivery.id)


# -- the rule itself, without the network ----------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "0.0.0.0",  # noqa: S104 - an address to judge, not to bind
        "0.1.2.3",
        "10.0.0.1",
        "100.64.0.1",
        "100.127.255.254",
        "127.0.0.1",
        "127.255.255.255",
        "169.254.169.254",
        "172.16.0.1",
        "192.0.0.8",
        "192.0.2.1",
        "192.88.99.1",
        "192.168.1.1",
        "198.18.0.1",
        "198.51.100.1",
        "203.0.113.1",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:0:7f00:1",  # IPv4-translated
        "::127.0.0.1",  # IPv4-compatible
        "::8.8.8.8",
        "64:ff9b::7f00:1",  # NAT64 (even of a public address: the translator is local)
        "64:ff9b::808:808",
        "64:ff9b:1::1",
        "2002:7f00:1::1",  # 6to4
        "2002:808:808::1",
        "2001::1",  # Teredo
        "2001:db8::1",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "fec0::1",
        "ff02::1",
        "100::1",
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    from moderation.services.outbound import is_public_address

    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700::1111", "::ffff:8.8.8.8"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    from moderation.services.outbound import is_public_address

    assert is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://hooks.example.com/in?x=1", "https://hooks.example.com/in?x=1"),
        ("HTTPS://Hooks.Example.COM/In", "https://hooks.example.com/In"),
        ("http://hooks.example.com", "http://hooks.example.com/"),
        ("http://hooks.example.com:8080/a%20b", "http://hooks.example.com:8080/a%20b"),
        ("http://b\u00fccher.example/h", "http://xn--bcher-kva.example/h"),
        ("http://xn--bcher-kva.example/h", "http://xn--bcher-kva.example/h"),
        ("http://[2606:4700:0::1111]/h", "http://[2606:4700::1111]/h"),
        ("http://8.8.8.8/h", "http://8.8.8.8/h"),
    ],
)
def test_plainly_written_urls_are_kept_in_their_canonical_form(url: str, canonical: str) -> None:
    from moderation.services.outbound import parse_target

    assert parse_target(url).url == canonical


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/",
        "http:/hooks.example.com/",
        "http:hooks.example.com",
        "//hooks.example.com/",
        "http://",
        "http://:80/",
        "http://hooks..example.com/",
        "http://.hooks.example.com/",
        "http://-hooks.example.com/",
        "http://hooks_x.example.com/",
        "http://hooks.example.com:0/",
        "http://hooks.example.com:65536/",
        "http://hooks.example.com:/",
        "http://hooks.example.com:80:80/",
        "http://hooks.example.com/\u00e9",
        "http://hooks.example.com/a b",
        "http://hooks.example.123/",
        "http://hooks.example.0x1f/",
        "http://xn--zz.example/",  # punycode that decodes to nothing valid
        "http://\u2488.example/",  # maps to '1.' under IDNA: a hidden dot
        "http://hooks.example.com\u3002evil/",  # an ideographic full stop
        "http://a" + "b" * 63 + ".example/",
        "http://hooks.example.com/" + "x" * 2001,
        "http://[::1/",
        "http://[v1.x]/",
        "http://hooks.example.com\r\n/",
    ],
)
def test_urls_not_written_plainly_are_refused(url: str) -> None:
    from moderation.domain.errors import InvalidInput
    from moderation.services.outbound import parse_target

    with pytest.raises(InvalidInput):
        parse_target(url)


def test_a_checked_target_resolves_once_and_post_uses_only_its_addresses(
    receiver: Receiver,
) -> None:
    """``post`` connects to the target's addresses and names the host only in the Host
    header (and in SNI for https): the host itself is never resolved again."""
    from moderation.services.outbound import Target, parse_target, post

    parsed = parse_target(f"http://never-resolved.invalid:{receiver.port}/hook")
    target = Target(parsed, (ipaddress.ip_address("127.0.0.1"),))
    result = post(target, {}, b"{}", timeout=2.0)
    assert receiver.requests == 1
    assert result.status_code == 401  # the receiver refuses the unsigned body: it was reached
    assert result.error == "HTTP 401"


def test_redirects_are_not_followed(app: Flask, actions: Actions, receiver: Receiver) -> None:
    """A target that answers 307 to somewhere else (here: another local receiver) gets a
    failed attempt; the request is never sent on."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(307)
            self.send_header("Location", receiver.url)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    ).start()
    try:
        subscribe(app, receiver, actions, url=f"http://127.0.0.1:{server.server_address[1]}/h")
        seed_comments(app, 1)
        deliver(app, allow_private=True)
    finally:
        server.shutdown()
        server.server_close()
    assert receiver.requests == 0
    assert last_errors(app) == ["HTTP 307"]
