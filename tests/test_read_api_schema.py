"""Schemathesis on the read API with real signatures: generated queries for every read
operation, signed as an integrator would, against a live server holding comments; no 5xx
and no answer that breaks the schema. (The unsigned side is in test_api_schema.py's run
over the whole document.)"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from standardwebhooks import Webhook

from tests.helpers import Actions, create_integration
from tests.servers import ServerProcess, fresh_server_env, service_app, start_server

if TYPE_CHECKING:
    # imported where used: every test process imports this file to collect it, and only
    # the one that runs it needs schemathesis and requests (0.18 s of CPU)
    import schemathesis

pytestmark = [pytest.mark.slow, pytest.mark.database_incidental]


@dataclass
class Live:
    server: ServerProcess
    integration: str
    secret: str


def signed(secret: str, content: str) -> dict[str, str]:
    message_id, now = f"msg_{uuid.uuid4().hex}", datetime.now(UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, now, content),
    }


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, migrated_database: str) -> Iterator[Live]:
    """A server with a site, a reading integration allowed emails, and a few comments."""
    import requests

    workdir = tmp_path_factory.mktemp("read-schema")
    env = fresh_server_env(
        workdir,
        migrated_database,
        LIMIT_SUBMIT_PER_ADDRESS="100000/minute",
        LIMIT_SUBMIT_PER_EMAIL="100000/minute",
        LIMIT_WEBHOOK_PER_INTEGRATION="100000/minute",
        LIMIT_WEBHOOK_FAILURES_PER_ADDRESS="100000/minute",
        SPAM_MIN_FILL_SECONDS="0",
    )
    server = start_server(workdir, env, args=["--no-deliver"])
    try:
        with service_app(env) as app:
            Actions(app).create_site("blog", ["https://blog.example"])
            integration, secret = create_integration(app, "blog", allow_email=True, name="Reader")
        for number in range(5):
            body = json.dumps(
                {
                    "type": "comment.submit",
                    "data": {
                        "site": "blog",
                        "thread": f"post-{number % 2}",
                        "author": f"Reader {number}",
                        "email": f"reader{number}@example.com",
                        "comment": f"Comment number {number}",
                        "client_ip": f"203.0.113.{number + 1}",
                    },
                }
            )
            answer = requests.post(
                f"{server.url}/api/v1/hooks/{integration}",
                data=body.encode(),
                headers={"content-type": "application/json", **signed(secret, body)},
                timeout=10,
            )
            assert answer.status_code == 202, answer.text
        yield Live(server, integration, secret)
    finally:
        server.stop()


def read_operations(url: str) -> list[schemathesis.APIOperation]:
    import schemathesis

    schema = schemathesis.openapi.from_url(f"{url}/api/openapi.json")
    return [
        operation
        for operation in (result.ok() for result in schema.get_all_operations())
        if operation.path.startswith("/api/v1/integrations/")
    ]


def test_signed_reads_conform_to_the_schema(live: Live) -> None:
    import requests
    from schemathesis.specs.openapi.checks import ignored_auth

    found = read_operations(live.server.url)
    assert len(found) == 3
    failures: list[str] = []
    statuses: set[int] = set()
    session = requests.Session()
    for operation in found:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=30,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case: schemathesis.Case) -> None:
            case.path_parameters = {**(case.path_parameters or {}), "integration": live.integration}
            kwargs = case.as_transport_kwargs(base_url=live.server.url)
            prepared = requests.Request(
                kwargs["method"], kwargs["url"], params=kwargs.get("params")
            ).prepare()
            prepared.headers.update(signed(live.secret, f"GET {prepared.path_url}"))
            response = session.send(prepared, timeout=10)
            statuses.add(response.status_code)
            assert response.status_code < 500, response.text
            # ignored_auth judges the generated headers, which were replaced by a real
            # signature: the unsigned run over the whole document keeps that check
            case.validate_response(response, excluded_checks=[ignored_auth])

        try:
            check()
        except Exception as error:  # collect all, report together
            failures.append(f"{operation.method.upper()} {operation.path}: {error}")
    assert not failures, "\n\n".join(failures)
    assert 200 in statuses  # the generated reads were signed well enough to be answered


README = Path(__file__).resolve().parent.parent / "README.md"


def readme_block(language: str, marker: str) -> str:
    """The README's code block in ``language`` that contains ``marker``."""
    blocks = re.findall(rf"```{language}\n(.*?)```", README.read_text(), re.S)
    [block] = [block for block in blocks if marker in block]
    return block


def test_the_readme_read_recipes_work_as_printed(live: Live) -> None:
    python = (
        readme_block("python", "def read(target)")
        .replace('"whsec_..."', repr(live.secret))
        .replace('"int_..."', repr(live.integration))
        .replace('"https://comments.example.com"', repr(live.server.url))
    )
    ran = subprocess.run(
        [sys.executable, "-c", python], capture_output=True, text=True, timeout=60, check=False
    )
    assert ran.returncode == 0, ran.stderr
    assert [line.split()[0] for line in ran.stdout.splitlines()] == ["1", "2", "3", "4", "5"]
    key_line = next(
        line for line in readme_block("sh", "thread.upsert").splitlines() if line.startswith("KEY=")
    )
    shell = (
        key_line
        + "\n"
        + readme_block("sh", "TARGET=").replace("https://comments.example.com", live.server.url)
    )
    curled = subprocess.run(
        ["bash", "-c", shell],
        env={**os.environ, "SECRET": live.secret, "INTEGRATION": live.integration},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert curled.returncode == 0, curled.stderr
    assert len(json.loads(curled.stdout)["comments"]) == 5
