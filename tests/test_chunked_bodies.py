"""Chunked request bodies over ``MAX_CONTENT_LENGTH`` (issue 12, suspected, confirmed): a
real ``moderation serve`` read them cut at the limit and answered 400 (JSON, form) or 401
(webhook: the signature covers the whole body) instead of 413. The test client does not
go through gunicorn's chunked decoding, so these run against a real server."""

from __future__ import annotations

import http.client
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from standardwebhooks import Webhook

from tests.helpers import Actions, create_integration
from tests.servers import ServerProcess, fresh_server_env, service_app, start_server

pytestmark = [pytest.mark.slow, pytest.mark.database_incidental]

LIMIT = 64 * 1024  # a small MAX_CONTENT_LENGTH keeps the bodies small


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, migrated_database: str
) -> Iterator[tuple[ServerProcess, str, str]]:
    workdir = tmp_path_factory.mktemp("chunked")
    env = fresh_server_env(
        workdir,
        migrated_database,
        MAX_CONTENT_LENGTH=str(LIMIT),
        SECRET_KEY='"chunked-test-key"',
        LIMIT_SUBMIT_PER_ADDRESS='"1000/minute"',
    )
    process = start_server(workdir, env, args=["--workers", "1", "--no-deliver"])
    try:
        # the site and its integration through the services, in this process, once the
        # server has migrated (a CLI run for each cost seconds)
        with service_app(env) as app:
            Actions(app).create_site("blog", ["https://blog.example"])
            public_id, secret = create_integration(app, "blog")
        yield process, public_id, secret
    finally:
        process.stop()


def chunked_post(
    server: ServerProcess, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, str, str]:
    """POST ``body`` with ``Transfer-Encoding: chunked`` (no Content-Length)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        pieces = (body[start : start + 8192] for start in range(0, len(body), 8192))
        connection.request("POST", path, body=pieces, headers=headers, encode_chunked=True)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read().decode()
    finally:
        connection.close()


def signed(secret: str, body: bytes) -> dict[str, str]:
    message_id = f"msg_{uuid.uuid4().hex}"
    moment = datetime.now(UTC)
    return {
        "Content-Type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, moment, body.decode()),
    }


def submission(size: int) -> bytes:
    event = {
        "type": "comment.submit",
        "data": {
            "site": "blog",
            "thread": "chunked",
            "author": "A",
            "email": "a@example.com",
            "comment": "x" * size,
        },
    }
    return json.dumps(event).encode()


def test_an_oversized_chunked_webhook_is_413(server: tuple[ServerProcess, str, str]) -> None:
    process, public_id, secret = server
    body = submission(LIMIT * 2)
    status, content_type, text = chunked_post(
        process, f"/api/v1/hooks/{public_id}", body, signed(secret, body)
    )
    assert (status, content_type) == (413, "application/problem+json"), text


def test_a_chunked_webhook_under_the_limit_is_read_whole(
    server: tuple[ServerProcess, str, str],
) -> None:
    process, public_id, secret = server
    body = submission(LIMIT // 2)
    status, _, text = chunked_post(
        process, f"/api/v1/hooks/{public_id}", body, signed(secret, body)
    )
    assert status == 202, text


def test_an_oversized_chunked_json_submission_is_413(
    server: tuple[ServerProcess, str, str],
) -> None:
    process, _, _ = server
    body = json.dumps({"comment": "x" * LIMIT * 2, "author": "A", "email": "a@example.com"})
    status, content_type, text = chunked_post(
        process,
        "/api/v1/sites/blog/comments?thread=chunked",
        body.encode(),
        {"Content-Type": "application/json", "Origin": "https://blog.example"},
    )
    assert (status, content_type) == (413, "application/problem+json"), text


def test_an_oversized_chunked_form_post_is_413(server: tuple[ServerProcess, str, str]) -> None:
    process, _, _ = server
    body = urlencode({"comment": "x" * LIMIT * 2, "author": "A", "email": "a@example.com"})
    status, content_type, text = chunked_post(
        process,
        "/w/blog?thread=chunked",
        body.encode(),
        {"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://blog.example"},
    )
    assert status == 413, text
    assert content_type.startswith("text/html")


def test_the_server_log_stays_clean(server: tuple[ServerProcess, str, str]) -> None:
    process, _, _ = server
    assert "Traceback" not in process.output()
