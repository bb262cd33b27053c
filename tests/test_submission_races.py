"""Submissions racing each other through a real threaded server: first comments on fresh
threads, each answered with its own comment, stored once, counted once (the pending
counter and the queue's depth are written in the statement that counts the comment on
PostgreSQL, in two on SQLite)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from moderation.clock import utcnow
from moderation.domain.status import CommentStatus
from moderation.extensions import db
from moderation.models import DailyQueueDepth, StatusCount
from tests.helpers import Actions, aged_token, stored_comments
from tests.servers import served_in_thread

ORIGIN = "https://blog.example"
CLIENTS = 6
THREADS = 3


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {
        "LIMIT_SUBMIT_PER_ADDRESS": "1000/minute",
        "LIMIT_SUBMIT_PER_EMAIL": "1000/minute",
        "LIMIT_PUBLIC_POSTS_PER_ADDRESS": "1000/minute",
    }


def test_racing_first_comments_are_each_answered_stored_and_counted_once(
    app: Flask, actions: Actions
) -> None:
    actions.create_site("blog", [ORIGIN], flood_seconds=0)
    jobs = [
        (client, f"race-{number}", aged_token(app, "blog", f"race-{number}"))
        for client in range(CLIENTS)
        for number in range(THREADS)
    ]
    statuses: Counter[int] = Counter()
    answers: list[tuple[str, dict[str, Any]]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS)

    with served_in_thread(app) as base:

        def post(client: int) -> None:
            barrier.wait()
            for owner, thread, token in jobs:
                if owner != client:
                    continue
                marker = f"racer-{client}-{thread}"
                body = {
                    "comment": f"Said by {marker}",
                    "author": marker,
                    "email": f"{marker}@example.com",
                    "form_token": token,
                }
                request = urllib.request.Request(
                    f"{base}/api/v1/sites/blog/comments?thread={thread}",
                    data=json.dumps(body).encode(),
                    headers={"Content-Type": "application/json", "Origin": ORIGIN},
                )
                try:
                    with urllib.request.urlopen(request, timeout=60) as response:
                        status, answer = response.status, json.loads(response.read())
                except urllib.error.HTTPError as error:
                    status, answer = error.code, {}
                with lock:
                    statuses[status] += 1
                    answers.append((marker, answer))

        workers = [threading.Thread(target=post, args=(client,)) for client in range(CLIENTS)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    assert statuses == {202: CLIENTS * THREADS}
    for marker, answer in answers:
        assert answer["author"] == marker and marker in answer["html"]
    assert len({answer["id"] for _, answer in answers}) == CLIENTS * THREADS
    assert len(stored_comments(app)) == CLIENTS * THREADS
    with app.app_context():
        pending = db.session.execute(
            select(StatusCount.count).where(StatusCount.status == CommentStatus.PENDING)
        ).scalar_one()
        depth = db.session.execute(
            select(DailyQueueDepth.pending).where(DailyQueueDepth.day == utcnow().date())
        ).scalar_one()
    assert pending == depth == CLIENTS * THREADS
