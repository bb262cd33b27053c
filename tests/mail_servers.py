"""Real receivers for notifications in tests: an SMTP server (aiosmtpd) and a
Slack-compatible incoming-webhook receiver, both on 127.0.0.1 and a free port."""

from __future__ import annotations

import email
import email.policy
import json
import re
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from flask import Flask

from tests.servers import free_port

#: Anything shaped like an email address (for the leak scan).
ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


@dataclass
class Received:
    """One message as the SMTP server got it."""

    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def text(self) -> str:
        part = self.message.get_body(("plain",))
        return part.get_content().replace("\r\n", "\n") if part is not None else ""  # type: ignore[no-any-return]

    @property
    def html(self) -> str:
        part = self.message.get_body(("html",))
        return part.get_content().replace("\r\n", "\n") if part is not None else ""  # type: ignore[no-any-return]

    def links(self) -> list[str]:
        """Every http(s) link in the plain-text part, in order."""
        return re.findall(r"https?://\S+", self.text)

    def addresses(self, skip_headers: tuple[str, ...] = ("Message-ID",)) -> set[str]:
        """Every address in headers (but ``skip_headers``) and in every part."""
        found: set[str] = set()
        for name, value in self.message.items():
            if name not in skip_headers:
                found.update(ADDRESS.findall(str(value)))
        for part in self.message.walk():
            if not part.is_multipart():
                found.update(ADDRESS.findall(part.get_content()))
        return found


@dataclass
class SmtpSink:
    """An SMTP server that keeps every message; ``refuse`` makes it answer 451 to DATA."""

    refuse: bool = False
    messages: list[Received] = field(default_factory=list)
    controller: Controller | None = None

    @property
    def port(self) -> int:
        assert self.controller is not None
        return int(self.controller.port)

    def start(self) -> SmtpSink:
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                if sink.refuse:
                    return "451 4.3.0 try again later"
                parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
                sink.messages.append(Received(list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()

    def to(self, address: str) -> list[Received]:
        return [message for message in self.messages if address in message.rcpt_tos]

    def wait_for(self, count: int, timeout: float = 20) -> list[Received]:
        """Wait until ``count`` messages arrived in all (the worker sends them)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.messages) >= count, f"{len(self.messages)} of {count} messages arrived"
        return self.messages


@dataclass
class ChatReceiver:
    """A Slack-compatible incoming webhook: keeps each JSON body; ``status`` to fail."""

    status: int = 200
    bodies: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/services/T000/B000/XXXX"

    def start(self) -> ChatReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.requests += 1
                if receiver.status == 200:
                    receiver.bodies.append(json.loads(body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


#: Where the links in test emails point (no request ever goes there).
TEST_PUBLIC_URL = "https://comments.example"


def mail_config(sink: SmtpSink, **settings: Any) -> dict[str, Any]:
    """App settings that send mail to ``sink``, links on :data:`TEST_PUBLIC_URL`."""
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": sink.port,
        "MAIL_DEFAULT_SENDER": "comments@comments.example",
        "PUBLIC_URL": TEST_PUBLIC_URL,
        **settings,
    }


def deliver(app: Flask, **settings: Any) -> int:
    """Run the delivery worker until nothing is due."""
    from moderation.services import webhooks

    options = {"backoff_base": 0.0, "timeout": 5.0, "allow_private_targets": True, **settings}
    total = 0
    with app.app_context():
        for _ in range(30):
            sent = webhooks.deliver_due(webhooks.DeliverySettings(**options))
            total += sent
            if not sent:
                break
    return total
