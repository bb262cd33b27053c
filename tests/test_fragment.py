"""``GET /w/<site>/fragment``: a thread's published comments as HTML other pages include
(server-side includes, static builds): no form, no token, no email, schema.org JSON-LD,
cacheable like the JSON read; and the widget frame that goes beside it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import Actions, approve, seed_comments

FRAGMENT = "/w/blog/fragment?thread=post-1"


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"PUBLIC_URL": "https://comments.example"}


@pytest.fixture
def thread(app: Flask, actions: Actions) -> list[int]:
    """Two published comments (the second answers the first) and one held."""
    actions.create_site("blog", ["https://blog.example"], flood_seconds=0)
    first, held = seed_comments(app, 2)
    approve(app, first)
    (reply,) = seed_comments(
        app,
        1,
        text="A reply with <b>bold</b> words",
        author="Ben",
        email="ben@example.com",
        url="https://ben.example",
        parent_id=first,
    )
    approve(app, reply)
    return [first, reply, held]


def json_ld(page: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert found, page
    return json.loads(found.group(1))  # type: ignore[no-any-return]


def test_the_fragment_holds_published_comments_and_nothing_private(
    client: FlaskClient, thread: list[int]
) -> None:
    first, reply, held = thread
    response = client.get(FRAGMENT)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert page.startswith('<div id="comments"')
    assert 'data-site="blog"' in page and 'data-thread="post-1"' in page
    assert f'id="comment-{first}"' in page and f'id="comment-{reply}"' in page
    assert f'id="comment-{held}"' not in page and "Seeded comment 1" not in page
    assert "A reply with <b>bold</b> words" in page
    for private in ("@example.com", "<form", "form_token", "textarea", "<input"):
        assert private not in page
    # links work from any page that includes it: absolute, on PUBLIC_URL
    assert 'src="https://comments.example/avatar/' in page
    assert (
        f'href="https://comments.example/w/blog?thread=post-1&amp;replytocom={first}#respond"'
        in page
    )
    assert 'href="https://ben.example" class="url" rel="nofollow ugc noopener noreferrer"' in page


def test_the_fragment_describes_its_comments_as_schema_org_json_ld(
    client: FlaskClient, thread: list[int]
) -> None:
    first, reply, _held = thread
    data = json_ld(client.get(FRAGMENT).get_data(as_text=True))
    assert data["@context"] == "https://schema.org"
    assert data["commentCount"] == 2
    comments = {item["@id"]: item for item in data["comment"]}
    base = "https://comments.example/w/blog?thread=post-1#comment-"
    assert set(comments) == {f"{base}{first}", f"{base}{reply}"}
    answer = comments[f"{base}{reply}"]
    assert answer["@type"] == "Comment"
    assert answer["author"] == {"@type": "Person", "name": "Ben", "url": "https://ben.example"}
    assert answer["text"] == "A reply with bold words"
    assert answer["parentItem"] == {"@id": f"{base}{first}"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", answer["dateCreated"])
    assert "email" not in json.dumps(data)


def test_json_ld_cannot_be_closed_early_by_a_comment(
    app: Flask, client: FlaskClient, actions: Actions
) -> None:
    actions.create_site("blog", ["https://blog.example"])
    (comment,) = seed_comments(app, 1, text="&lt;/script&gt;&lt;script&gt;alert(1)")
    approve(app, comment)
    page = client.get(FRAGMENT).get_data(as_text=True)
    assert page.count("<script") == 1  # the JSON-LD block only
    assert json_ld(page)["comment"][0]["text"] == "</script><script>alert(1)"


def test_the_fragment_is_cached_and_revalidated_like_the_json_read(
    app: Flask, client: FlaskClient, thread: list[int]
) -> None:
    response = client.get(FRAGMENT)
    assert response.headers["Cache-Control"] == "public, max-age=10"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Accept-Language" in response.headers["Vary"]
    etag = response.headers["ETag"]
    again = client.get(FRAGMENT, headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.data
    approve(app, thread[2])
    changed = client.get(FRAGMENT, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert "Seeded comment 1" in changed.get_data(as_text=True)


def test_a_thread_with_only_held_comments_answers_as_an_empty_one(
    app: Flask, client: FlaskClient, actions: Actions
) -> None:
    actions.create_site("blog", ["https://blog.example"])
    seed_comments(app, 1)
    held = client.get(FRAGMENT)
    empty = client.get("/w/blog/fragment?thread=never-commented")
    assert held.headers["ETag"] == empty.headers["ETag"]
    assert "No comments yet" in held.get_data(as_text=True)
    assert "Seeded comment" not in held.get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/w/nope/fragment?thread=a", 404),
        ("/w/blog/fragment", 400),
        ("/w/blog/fragment?thread=", 400),
    ],
)
def test_bad_requests_get_a_clear_answer(
    client: FlaskClient, actions: Actions, path: str, status: int
) -> None:
    actions.create_site("blog", ["https://blog.example"])
    assert client.get(path).status_code == status


def test_the_frame_beside_a_fragment_leaves_its_list_out(
    client: FlaskClient, thread: list[int]
) -> None:
    page = client.get("/w/blog?thread=post-1&fragment=1&origin=https://blog.example")
    html = page.get_data(as_text=True)
    assert 'data-beside-fragment="1"' in html
    assert 'id="commentform"' in html
    assert f'id="comment-{thread[0]}"' not in html and "No comments yet" not in html
    # the form keeps the mode after a post
    assert re.search(r'action="[^"]*fragment=1', html)
