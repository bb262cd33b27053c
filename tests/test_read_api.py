"""The read API for integrators: signed per integration, scoped, keyset pages that never
repeat or skip, filters (status, thread, since), one comment, one thread, and emails only
for integrations allowed to see them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import (
    Actions,
    Integrator,
    approve,
    create_integration,
    seed_comments,
    signed_headers,
)


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"LIMIT_SUBMIT_PER_SITE": "100000/hour"}


@pytest.fixture
def reader(app: Flask, client: FlaskClient, actions: Actions) -> Integrator:
    actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
    actions.create_site("other", ["https://other.example"], flood_seconds=0)
    return Integrator(client, *create_integration(app, scopes=("read",)))


def test_pages_walk_the_pending_queue_without_repeats_or_gaps(
    app: Flask, reader: Integrator
) -> None:
    ids = seed_comments(app, 7)
    approve(app, ids[2])
    seed_comments(app, 2, site="other")
    seen: list[int] = []
    cursor = ""
    pages = 0
    while True:
        answer = reader.read(f"/comments?status=pending&limit=2{cursor}")
        assert answer.status_code == 200, answer.get_data(as_text=True)
        body = answer.get_json()
        seen += [comment["id"] for comment in body["comments"]]
        assert all(comment["status"] == "pending" for comment in body["comments"])
        assert all(comment["site"] == "blog" for comment in body["comments"])
        pages += 1
        if body["next_cursor"] is None:
            break
        # a comment arriving while the integrator pages is found on a later page
        if pages == 1:
            ids += seed_comments(app, 1, thread="post-9", email="late@example.com")
        cursor = f"&cursor={body['next_cursor']}"
    assert seen == [comment_id for comment_id in ids if comment_id != ids[2]]
    assert pages == 4


def test_filters_by_thread_and_change_time(app: Flask, reader: Integrator) -> None:
    first = seed_comments(app, 2, thread="a")
    second = seed_comments(app, 1, thread="b/with spaces")
    since = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    approve(app, first[0])  # changed now; the others were seeded an hour ago
    changed = reader.read(f"/comments?since={quote(since)}").get_json()
    assert [comment["id"] for comment in changed["comments"]] == [first[0]]
    in_b = reader.read(f"/comments?thread={quote('b/with spaces')}").get_json()
    assert [comment["id"] for comment in in_b["comments"]] == second
    every = reader.read("/comments").get_json()
    assert len(every["comments"]) == 3 and every["next_cursor"] is None


def test_one_comment_and_one_thread(app: Flask, reader: Integrator) -> None:
    [comment_id] = seed_comments(app, 1, thread="post-1")
    [elsewhere] = seed_comments(app, 1, site="other")
    comment = reader.read(f"/comments/{comment_id}").get_json()
    assert (comment["id"], comment["thread"], comment["status"]) == (
        comment_id,
        "post-1",
        "pending",
    )
    assert "email" not in comment
    assert reader.read(f"/comments/{elsewhere}").status_code == 404  # another site's
    assert reader.read("/comments/99999").status_code == 404
    assert reader.read("/comments/abc").status_code == 404
    thread = reader.read("/thread?key=post-1").get_json()
    assert thread["key"] == "post-1" and thread["open"] is True
    assert thread["counts"]["pending"] == 1 and thread["counts"]["approved"] == 0
    missing = reader.read("/thread?key=nope")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"


def test_emails_only_for_integrations_allowed_them(
    app: Flask, client: FlaskClient, reader: Integrator
) -> None:
    [comment_id] = seed_comments(app, 1, email="private.person@example.com")
    assert "private.person" not in reader.read("/comments").get_data(as_text=True)
    assert "private.person" not in reader.read(f"/comments/{comment_id}").get_data(as_text=True)
    allowed = Integrator(client, *create_integration(app, scopes=("read",), allow_email=True))
    body = allowed.read(f"/comments/{comment_id}").get_json()
    assert body["email"] == "private.person@example.com"


def test_reads_need_a_valid_signature_and_the_read_scope(
    app: Flask, client: FlaskClient, reader: Integrator
) -> None:
    unsigned = client.get(f"/api/v1/integrations/{reader.public_id}/comments")
    assert unsigned.status_code == 401 and unsigned.mimetype == "application/problem+json"
    wrong = reader.read("/comments", secret="whsec_" + "QUJD" * 8)
    assert wrong.status_code == 401
    # a signature is for one URL: another query does not verify with it
    target = f"/api/v1/integrations/{reader.public_id}/comments?status=pending"
    headers = signed_headers(reader.secret, f"GET {target}")
    assert client.get(target, headers=headers).status_code == 200
    assert client.get(target.replace("pending", "spam"), headers=headers).status_code == 401
    writer = Integrator(client, *create_integration(app, scopes=("submit", "moderate")))
    refused = writer.read("/comments")
    assert refused.status_code == 403 and "'read'" in refused.get_json()["detail"]
    unknown = Integrator(client, "int_0000000000000000", reader.secret).read("/comments")
    assert unknown.status_code == 404


@pytest.mark.parametrize(
    "query",
    ["status=nope", "since=yesterday", "cursor=abc", "limit=0", "limit=101", "limit=x"],
)
def test_bad_parameters_are_400_problems(reader: Integrator, query: str) -> None:
    answer = reader.read(f"/comments?{query}")
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert answer.mimetype == "application/problem+json"


def test_a_disabled_integration_cannot_read(app: Flask, reader: Integrator) -> None:
    from moderation.services import integrations
    from moderation.services.events import SYSTEM

    with app.app_context():
        integrations.set_enabled(reader.public_id, False, SYSTEM)
    assert reader.read("/comments").status_code == 403


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/comments/99999999999", 404),
        ("/comments/999999999999999999", 404),
        ("/comments?cursor=99999999999", 200),
        ("/comments?cursor=999999999999999999", 200),
        ("/comments?since=0001-01-01T00:00:00%2B01:00", 400),
        ("/comments?since=9999-12-31T23:59:59-01:00", 400),
        ("/comments?since=0001-01-01T00:00:00", 200),
        ("/comments?thread=%00", 400),
        ("/thread?key=%00", 400),
    ],
)
def test_edge_values_are_answered_never_500(reader: Integrator, path: str, status: int) -> None:
    answer = reader.read(path)
    assert answer.status_code == status, answer.get_data(as_text=True)
