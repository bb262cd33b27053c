"""Log lines in both formats, and the request id a user can quote."""

from __future__ import annotations

import json
import logging

import pytest
from flask.testing import FlaskClient

from moderation.logs import JsonFormatter, PlainFormatter, log_event


def record_of(event: str, **fields: object) -> logging.LogRecord:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("moderation.test_logs")
    logger.addHandler(keep := Keep())
    try:
        try:
            raise ValueError("boom")
        except ValueError as error:
            log_event(logger, event, logging.WARNING, exc_info=error, **fields)
    finally:
        logger.removeHandler(keep)
    return records[0]


@pytest.mark.any_database
def test_a_json_line_is_one_object_with_its_fields_and_traceback() -> None:
    line = JsonFormatter().format(record_of("request", route="/w/<site_slug>", status=500))
    assert "\n" not in line
    decoded = json.loads(line)
    assert decoded["event"] == "request"
    assert decoded["level"] == "warning"
    assert decoded["route"] == "/w/<site_slug>"
    assert decoded["status"] == 500
    assert "ValueError: boom" in decoded["error"]


@pytest.mark.any_database
def test_a_plain_line_is_key_value_text_quoted_where_needed() -> None:
    line = PlainFormatter().format(record_of("job", job="digests", outcome="failed (X Y)"))
    assert "\n" not in line
    assert ' WARNING moderation.test_logs job job=digests outcome="failed (X Y)"' in line
    assert "ValueError: boom" in line


def test_every_answer_carries_a_request_id_and_error_pages_show_it(client: FlaskClient) -> None:
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert first != second
    assert len(first) == 32

    page = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert page.headers["X-Request-ID"] in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("offered", "kept"),
    [("0123456789abcdef0123456789abcdef", True), ("ann@example.com", False), ("x" * 65, False)],
)
def test_a_proxy_request_id_is_kept_only_when_well_formed(
    client: FlaskClient, offered: str, kept: bool
) -> None:
    returned = client.get("/healthz", headers={"X-Request-ID": offered}).headers["X-Request-ID"]
    assert (returned == offered) is kept
