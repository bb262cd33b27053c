"""Two ``moderation serve`` processes share one classifier: decisions taken through one
process's webhook teach the model the other process scores with."""

from __future__ import annotations

import json
import random
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook

from moderation.services import sites
from tests.helpers import Actions, create_integration
from tests.redis_dbs import LIMITS_DB, redis_url
from tests.servers import ServerProcess, fresh_server_env, http_json, service_app, start_server

ORIGIN = "https://blog.example"
CORPUS = Path(__file__).parent / "corpus" / "spam"
pytestmark = pytest.mark.slow


def corpus(kind: str) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (CORPUS / f"{kind}.jsonl").read_text().splitlines()]
    random.Random(19).shuffle(rows)
    return rows


class Hook:
    """A signed webhook sender for one integration on one server."""

    def __init__(self, public_id: str, secret: str) -> None:
        self.public_id, self.secret = public_id, secret

    def send(self, server: ServerProcess, event: str, data: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps({"type": event, "data": data})
        message_id, moment = f"msg_{uuid.uuid4().hex}", datetime.now(UTC)
        headers = {
            "webhook-id": message_id,
            "webhook-timestamp": str(int(moment.timestamp())),
            "webhook-signature": Webhook(self.secret).sign(message_id, moment, body),
        }
        status, _, answer = http_json(
            "POST", f"{server.url}/api/v1/hooks/{self.public_id}", json.loads(body), headers
        )
        assert status in (200, 201, 202), answer
        assert isinstance(answer, dict)
        return answer


def submit(hook: Hook, server: ServerProcess, number: int, row: dict[str, Any]) -> dict[str, Any]:
    return hook.send(
        server,
        "comment.submit",
        {
            "site": "blog",
            "thread": f"t{number}",
            "author": row["author"],
            "email": row["email"],
            "url": row["url"],
            "comment": row["text"],
            "client_ip": f"198.51.{number // 200}.{number % 200 + 1}",
        },
    )


def test_two_processes_learn_and_score_with_one_model(tmp_path: Path) -> None:
    env = fresh_server_env(
        tmp_path,
        RATELIMIT_STORAGE_URI=redis_url(LIMITS_DB),
        RATELIMIT_KEY_PREFIX=f"test-spam-{uuid.uuid4().hex[:8]}",
        LIMIT_SUBMIT_PER_EMAIL="1000/minute",
        LIMIT_SUBMIT_PER_SITE="10000/hour",
        # the policy change below reaches both processes within a second, not five
        SITE_SETTINGS_STALENESS="1",
    )
    # no delivery workers: the integration has no target, they would have nothing to send
    # (each costs a process's start, about a second of CPU)
    first = start_server(tmp_path, env, ["--no-deliver"])
    servers = [first]
    try:
        with service_app(env) as app:
            Actions(app).create_site("blog", [ORIGIN], flood_seconds=0)
            hook = Hook(*create_integration(app, "blog"))
        servers.append(start_server(tmp_path, env, ["--no-deliver"]))
        spam, ham = corpus("spam"), corpus("ham")
        # 25 spam and 25 ham, each submitted to one process and decided on the other
        for index in range(25):
            for number, row, action in (
                (2 * index, spam[index], "spam"),
                (2 * index + 1, ham[index], "approve"),
            ):
                answer = submit(hook, servers[number % 2], number, row)
                hook.send(
                    servers[(number + 1) % 2],
                    "comment.moderate",
                    {"comment": answer["id"], "action": action},
                )
        with service_app(env) as app, app.app_context():
            sites.update_site("blog", sites.SiteSettings(policy="open"))
        # changed by another process: each server re-reads a site's settings after at most
        # SITE_SETTINGS_STALENESS (one second here)
        time.sleep(1.5)
        # never-seen comments, on both processes: spam waits, ham is published
        for place, server in enumerate(servers):
            results = [
                submit(hook, server, 500 + 10 * place + n, row)["status"]
                for n, row in enumerate(spam[-5:])
            ]
            assert results.count("approved") <= 1, results
            results = [
                submit(hook, server, 800 + 10 * place + n, row)["status"]
                for n, row in enumerate(ham[-5:])
            ]
            assert results.count("approved") >= 4, results
    finally:
        for server in servers:
            server.stop()
