"""The public JSON API: approved comments with ETags, JSON submissions, counts, CORS."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.helpers import (
    Actions,
    aged_token,
    approve,
    approve_all,
    assert_problem,
    comment_fields,
    stored_comments,
)

ORIGIN = "https://blog.example"
COMMENTS = "/api/v1/sites/blog/comments?thread=post-1"
PUBLIC_KEYS = {
    "id",
    "parent",
    "author",
    "url",
    "avatar",
    "html",
    "created_at",
    "depth",
    "by_moderator",
}


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"LIMIT_SUBMIT_PER_ADDRESS": "1000/minute", "LIMIT_SUBMIT_PER_EMAIL": "1000/minute"}


@pytest.fixture
def site(actions: Actions) -> str:
    actions.create_site("blog", [ORIGIN], flood_seconds=0)
    return "blog"


def submit(
    client: FlaskClient,
    app: Flask,
    body: Any = None,
    origin: str | None = ORIGIN,
    content_type: str = "application/json",
    thread: str = "post-1",
    **fields: Any,
) -> TestResponse:
    if body is None:
        body = {**comment_fields(), "form_token": aged_token(app, "blog", thread), **fields}
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    headers = {"Origin": origin} if origin else {}
    return client.post(
        f"/api/v1/sites/blog/comments?thread={thread}",
        data=data,
        headers=headers,
        content_type=content_type,
    )


def test_submission_answers_202_pending(client: FlaskClient, app: Flask, site: str) -> None:
    response = submit(client, app, comment="Via JSON", email="json@example.com")
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "pending"
    assert body["message"] == "Your comment is awaiting moderation."
    assert "email" not in body and "json@example.com" not in response.get_data(as_text=True)
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    [stored] = stored_comments(app)
    assert (stored["source"], stored["status"], stored["email"]) == (
        "json",
        "pending",
        "json@example.com",
    )


def test_open_site_publishes_at_once_with_201(
    client: FlaskClient, app: Flask, actions: Actions
) -> None:
    actions.create_site("blog", [ORIGIN], policy="open", flood_seconds=0)
    response = submit(client, app)
    assert response.status_code == 201
    assert response.get_json()["status"] == "approved"


def test_field_errors_are_422_with_each_message(client: FlaskClient, app: Flask, site: str) -> None:
    response = submit(client, app, email="nope", author="   ", url="ftp://x", comment_parent="abc")
    body = assert_problem(response, 422, "Some fields need your attention.")
    assert body["errors"] == {
        "author": "Please enter your name.",
        "email": "Please enter a valid email address.",
        "url": "Please enter a website address starting with http:// or https://.",
        "comment_parent": "The comment you are replying to does not exist.",
    }


@pytest.mark.parametrize(
    "value",
    [["a list"], {"an": "object"}, True, 3.5],
)
def test_non_text_fields_are_422(client: FlaskClient, app: Flask, site: str, value: Any) -> None:
    body = assert_problem(
        submit(client, app, author=value), 422, "Some fields need your attention."
    )
    assert body["errors"]["author"] == "This field must be text."


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"\xff\xfe\x00", 400, "not valid UTF-8"),
        (b"[1, 2]", 400, "must be a JSON object"),
        (b'"just a string"', 400, "must be a JSON object"),
    ],
)
def test_malformed_bodies(
    client: FlaskClient, app: Flask, site: str, body: bytes, status: int, fragment: str
) -> None:
    assert_problem(submit(client, app, body=body), status, fragment)


def test_form_content_types_are_refused(client: FlaskClient, app: Flask, site: str) -> None:
    response = client.post(
        "/api/v1/sites/blog/comments?thread=post-1",
        data=comment_fields(),
        headers={"Origin": ORIGIN},
    )
    assert_problem(response, 415, "application/json")
    assert stored_comments(app) == []


@pytest.mark.parametrize("origin", [None, "https://evil.example", "null", "http://[::1"])
def test_only_the_sites_origins_may_submit(
    client: FlaskClient, app: Flask, site: str, origin: str | None
) -> None:
    response = submit(client, app, origin=origin)
    assert_problem(response, 403, "cannot be posted from")
    assert "Access-Control-Allow-Origin" not in response.headers


def test_preflight(client: FlaskClient, site: str) -> None:
    allowed = client.options(
        COMMENTS, headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
    )
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    assert allowed.headers["Access-Control-Allow-Headers"] == "Content-Type"
    for origin in ("https://evil.example", "http://[::1"):  # the second no URL at all
        refused = client.options(COMMENTS, headers={"Origin": origin})
        assert refused.status_code == 403
        assert "Access-Control-Allow-Origin" not in refused.headers


def test_token_is_required_and_single_use(client: FlaskClient, app: Flask, site: str) -> None:
    no_token = {**comment_fields()}
    assert_problem(submit(client, app, body=no_token), 403, "The form has expired")
    token = client.get("/api/v1/sites/blog/form-token?thread=post-1", headers={"Origin": ORIGIN})
    assert token.status_code == 200
    assert token.headers["Cache-Control"] == "no-store"
    assert token.get_json()["min_age"] == 1
    reused = aged_token(app, "blog", "post-1")
    assert submit(client, app, body={**comment_fields(), "form_token": reused}).status_code == 202
    assert_problem(
        submit(client, app, body={**comment_fields(comment="again"), "form_token": reused}),
        403,
        "already used",
    )


def test_listing_shows_only_approved_public_fields(
    client: FlaskClient, app: Flask, site: str
) -> None:
    for number in range(3):
        submit(
            client,
            app,
            comment=f"Number {number}",
            email=f"n{number}@example.com",
            url="https://n.example",
        )
    ids = [row["id"] for row in stored_comments(app)]
    approve(app, ids[0])
    approve(app, ids[2])
    response = client.get(COMMENTS, headers={"Origin": ORIGIN})
    assert response.status_code == 200
    body = response.get_json()
    assert body["count"] == 2
    assert [comment["id"] for comment in body["comments"]] == [ids[0], ids[2]]
    for comment in body["comments"]:
        assert set(comment) == PUBLIC_KEYS
    assert "@example.com" not in response.get_data(as_text=True)
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "public" in response.headers["Cache-Control"]


def test_etag_and_304_until_the_thread_changes(client: FlaskClient, app: Flask, site: str) -> None:
    submit(client, app, comment="one")
    approve(app, stored_comments(app)[0]["id"])
    first = client.get(COMMENTS)
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    again = client.get(COMMENTS, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    submit(client, app, comment="two", email="two@example.com")
    assert (
        client.get(COMMENTS, headers={"If-None-Match": etag}).status_code == 304
    )  # pending: no change
    approve(app, stored_comments(app)[1]["id"])
    changed = client.get(COMMENTS, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


def test_unknown_thread_is_an_empty_list(client: FlaskClient, site: str) -> None:
    body = client.get("/api/v1/sites/blog/comments?thread=nothing-here").get_json()
    assert body["comments"] == [] and body["count"] == 0


def test_counts_for_many_threads(client: FlaskClient, app: Flask, site: str) -> None:
    for thread, n in (("a", 2), ("b", 1)):
        for index in range(n):
            submit(
                client,
                app,
                thread=thread,
                comment=f"{thread}{index}",
                email=f"{thread}{index}@example.com",
            )
    approve_all(app, [row["id"] for row in stored_comments(app)])
    response = client.get(
        "/api/v1/sites/blog/counts?thread=a&thread=b&thread=c", headers={"Origin": ORIGIN}
    )
    assert response.get_json() == {"counts": {"a": 2, "b": 1, "c": 0}}
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_counts_need_threads_and_cap_them(client: FlaskClient, site: str) -> None:
    assert_problem(client.get("/api/v1/sites/blog/counts"), 400, "at least one thread")
    many = "&".join(f"thread=t{number}" for number in range(101))
    assert_problem(client.get(f"/api/v1/sites/blog/counts?{many}"), 400, "At most 100 threads")


def test_unknown_site_and_missing_thread(client: FlaskClient, site: str) -> None:
    assert_problem(client.get("/api/v1/sites/nope/comments?thread=a"), 404, "Unknown site")
    assert_problem(client.get("/api/v1/sites/blog/comments"), 400, "must name its comment thread")


def test_messages_follow_the_language(client: FlaskClient, app: Flask, site: str) -> None:
    response = client.post(
        "/api/v1/sites/blog/comments?thread=post-1&lang=id",
        json={**comment_fields(email="x"), "form_token": aged_token(app, "blog", "post-1")},
        headers={"Origin": ORIGIN},
    )
    body = response.get_json()
    assert body["errors"]["email"] == "Mohon masukkan alamat email yang valid."


def test_oversized_body_is_413(client: FlaskClient, app: Flask, site: str) -> None:
    body = {
        **comment_fields(comment="x" * 1_100_000),
        "form_token": aged_token(app, "blog", "post-1"),
    }
    assert_problem(submit(client, app, body=body), 413, "")
