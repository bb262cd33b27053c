"""A real local HTTP receiver for outbound webhooks that verifies every signature with the
``standardwebhooks`` package, like an integrator's endpoint would."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook


@dataclass
class Receiver:
    """Records what arrived; can fail the first N requests, or answer slowly."""

    secret: str
    port: int = 0  # 0: any free port; set it to start again where a stopped receiver was
    fail_first: int = 0
    delay: float = 0.0
    answer_body: bytes = b""  # sent with a 200 instead of an empty 204
    accepted: list[dict[str, Any]] = field(default_factory=list)
    refused_signatures: int = 0
    failures_sent: int = 0
    requests: int = 0
    in_flight: Counter[str] = field(default_factory=Counter)
    max_concurrent_same_id: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def accepted_ids(self) -> Counter[str]:
        with self.lock:
            return Counter(message["webhook-id"] for message in self.accepted)

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {name.lower(): value for name, value in self.headers.items()}
                message_id = headers.get("webhook-id", "")
                with receiver.lock:
                    receiver.requests += 1
                    receiver.in_flight[message_id] += 1
                    receiver.max_concurrent_same_id = max(
                        receiver.max_concurrent_same_id, receiver.in_flight[message_id]
                    )
                    fail = receiver.failures_sent < receiver.fail_first
                    if fail:
                        receiver.failures_sent += 1
                try:
                    if receiver.delay:
                        time.sleep(receiver.delay)
                    try:
                        payload = Webhook(receiver.secret).verify(body, headers)
                    except Exception:
                        with receiver.lock:
                            receiver.refused_signatures += 1
                        self._answer(401)
                        return
                    if fail:
                        self._answer(503)
                        return
                    with receiver.lock:
                        receiver.accepted.append(
                            {"webhook-id": message_id, "payload": payload, "raw": body.decode()}
                        )
                    if receiver.answer_body:
                        self._answer(200, receiver.answer_body)
                    else:
                        self._answer(204)
                finally:
                    with receiver.lock:
                        receiver.in_flight[message_id] -= 1

            def _answer(self, status: int, body: bytes = b"") -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = int(self.server.server_address[1])
        self.server.daemon_threads = True
        # a short poll: stop() waits for the loop to notice, 0.5 s a receiver by default
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def payloads(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(message["raw"]) for message in self.accepted]
