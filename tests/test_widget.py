"""The widget over HTTP: page, field rules, token rules, origin rules, preview, languages."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.test import TestResponse

from moderation.clock import utcnow
from moderation.services import form_tokens
from tests.helpers import Actions, aged_token, approve, comment_fields, stored_comments

ORIGIN = "http://127.0.0.1:5000"
PAGE = "/w/blog?thread=post-1"


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    """Room for many posts from one test client; the limits have their own tests."""
    return {"LIMIT_SUBMIT_PER_ADDRESS": "1000/minute", "LIMIT_SUBMIT_PER_EMAIL": "1000/minute"}


@pytest.fixture
def site(actions: Actions) -> str:
    actions.create_site("blog", [ORIGIN], flood_seconds=0)
    return "blog"


def post(
    client: FlaskClient,
    app: Flask,
    thread: str = "post-1",
    origin: str | None = ORIGIN,
    token: str | None = None,
    query: str = "",
    **fields: str,
) -> TestResponse:
    data = comment_fields(**fields)
    data.setdefault("form_token", token if token is not None else aged_token(app, "blog", thread))
    headers = {"Origin": origin} if origin else {}
    return client.post(f"/w/blog?thread={thread}{query}", data=data, headers=headers)


def test_page_shows_the_wordpress_form(client: FlaskClient, site: str) -> None:
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for text in (
        "Leave a Reply",
        "Your email address will not be published.",
        'Required fields are marked <span class="required">*</span>',
        '<label for="comment">Comment <span class="required" aria-hidden="true">*</span>',
        '<label for="author">Name <span class="required" aria-hidden="true">*</span>',
        '<label for="email">Email <span class="required" aria-hidden="true">*</span>',
        '<label for="url">Website</label>',
        "Save my name, email, and website in this browser for the next time I comment.",
        'value="Post Comment"',
        'name="comment_parent"',
    ):
        assert text in html, text


def test_page_can_be_framed_only_by_the_sites_origins(
    client: FlaskClient, actions: Actions
) -> None:
    actions.create_site("blog", [ORIGIN, "https://blog.example"])
    response = client.get(PAGE)
    csp = response.headers["Content-Security-Policy"]
    assert csp.endswith(f"frame-ancestors {ORIGIN} https://blog.example")
    assert "X-Frame-Options" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Cookie" not in response.headers.get("Vary", "")


def test_unknown_site_and_missing_thread(client: FlaskClient, site: str) -> None:
    assert client.get("/w/nope?thread=a").status_code == 404
    response = client.get("/w/blog")
    assert response.status_code == 400
    assert "must name its comment thread" in response.get_data(as_text=True)


def test_posting_redirects_to_the_authors_preview(
    client: FlaskClient, app: Flask, site: str
) -> None:
    response = post(client, app, comment="My first words")
    assert response.status_code == 303
    location = response.headers["Location"]
    assert re.match(
        r"^/w/blog\?thread=post-1&unapproved=\d+&moderation-hash=[^#]+#comment-\d+$", location
    )
    preview = client.get(location).get_data(as_text=True)
    assert "Your comment is awaiting moderation." in preview
    assert "My first words" in preview
    # anyone else (without the signed link) sees nothing
    public = client.get(PAGE).get_data(as_text=True)
    assert "My first words" not in public
    forged = client.get(re.sub(r"moderation-hash=[^#&]+", "moderation-hash=forged", location))
    assert "My first words" not in forged.get_data(as_text=True)
    other_id = re.sub(r"unapproved=\d+", "unapproved=999", location)
    assert "My first words" not in client.get(other_id).get_data(as_text=True)


def test_approved_comment_appears_for_everyone(client: FlaskClient, app: Flask, site: str) -> None:
    post(client, app, comment="Approved words", url="https://ann.example")
    comment_id = stored_comments(app)[0]["id"]
    approve(app, comment_id)
    html = client.get(PAGE).get_data(as_text=True)
    assert "Approved words" in html
    assert "1 comment" in html
    assert (
        '<a href="https://ann.example" class="url" rel="nofollow ugc noopener noreferrer"' in html
    )
    assert f'id="comment-{comment_id}"' in html


FIELD_CASES = [
    ({"comment": ""}, "comment", "Please type your comment."),
    ({"comment": "  \n\t "}, "comment", "Please type your comment."),
    ({"comment": "x" * 65_526}, "comment", "Your comment is too long (at most 65525 characters)."),
    ({"author": ""}, "author", "Please enter your name."),
    ({"author": "   "}, "author", "Please enter your name."),
    ({"author": "\u200b\u202e"}, "author", "Please enter your name."),
    ({"author": "a" * 246}, "author", "Your name is too long (at most 245 characters)."),
    ({"email": ""}, "email", "Please enter your email address."),
    ({"email": "not-an-email"}, "email", "Please enter a valid email address."),
    ({"email": "ann@"}, "email", "Please enter a valid email address."),
    (
        {"email": "a" * 90 + "@example.com"},
        "email",
        "Your email address is too long (at most 100 characters).",
    ),
    (
        {"url": "ftp://files.example"},
        "url",
        "Please enter a website address starting with http:// or https://.",
    ),
    (
        {"url": "javascript:alert(1)"},
        "url",
        "Please enter a website address starting with http:// or https://.",
    ),
    (
        {"url": "https://example.com/" + "a" * 190},
        "url",
        "Your website address is too long (at most 200 characters).",
    ),
]


@pytest.mark.parametrize(("fields", "field", "message"), FIELD_CASES)
def test_field_rules_show_inline_with_input_kept(
    client: FlaskClient, app: Flask, site: str, fields: dict[str, str], field: str, message: str
) -> None:
    response = post(client, app, **{"author": "Kept Name", "comment": "Kept text", **fields})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'<span class="field-error" id="{field}-error">{message}</span>' in html
    assert (
        f'aria-describedby="{field}-error' in html
        or f'aria-describedby="{field}-error email-notes"' in html
    )
    assert 'aria-invalid="true"' in html
    if field != "author":
        assert 'value="Kept Name"' in html
    if field != "comment":
        assert ">Kept text</textarea>" in html
    assert stored_comments(app) == []


def test_fields_are_cleaned_and_normalised(client: FlaskClient, app: Flask, site: str) -> None:
    response = post(
        client,
        app,
        author="  Ann\x00 \x07Example\u202e ",
        email="Ann.Example@EXAMPLE.COM",
        url="ann.example/about",
        comment="Line one\r\nLine two\x0b",
    )
    assert response.status_code == 303
    [stored] = stored_comments(app)
    assert stored["author"] == "Ann Example"
    assert stored["email"] == "Ann.Example@example.com"
    assert stored["url"] == "https://ann.example/about"
    assert stored["text"] == "Line one\nLine two"
    assert stored["ip"] == "127.0.0.0/24"


@pytest.mark.parametrize(
    ("token_kind", "message"),
    [
        ("missing", "The form has expired. Please post your comment again."),
        ("forged", "The form is invalid. Please post your comment again."),
        ("other-thread", "The form belongs to another page. Please post your comment again."),
        ("too-fresh", "That was quick! Please wait a moment and post your comment again."),
        ("expired", "The form has expired. Please post your comment again."),
    ],
)
def test_token_rules(
    client: FlaskClient, app: Flask, site: str, token_kind: str, message: str
) -> None:
    tokens = {
        "missing": "",
        "forged": aged_token(app, "blog", "post-1")[:-3] + "abc",
        "other-thread": aged_token(app, "blog", "post-2"),
        "too-fresh": aged_token(app, "blog", "post-1", age_seconds=0),
        "expired": aged_token(app, "blog", "post-1", age_seconds=3 * 3600),
    }
    response = post(client, app, token=tokens[token_kind], comment="Kept through refusal")
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert message in html
    assert ">Kept through refusal</textarea>" in html
    assert stored_comments(app) == []


def test_a_token_posts_only_once(client: FlaskClient, app: Flask, site: str) -> None:
    token = aged_token(app, "blog", "post-1")
    assert post(client, app, token=token, comment="first").status_code == 303
    response = post(client, app, token=token, comment="second", email="other@example.com")
    assert response.status_code == 403
    assert "This form was already used to post a comment." in response.get_data(as_text=True)
    assert [c["text"] for c in stored_comments(app)] == ["first"]


def test_a_form_token_is_what_itsdangerous_signs() -> None:
    """Tokens are signed directly (every page view issues one), in itsdangerous's format:
    tokens from before a deploy still post after it, and the other way round."""
    secret, thread = "a-secret-key-of-the-service-32ch", 'post-1 "ü" /x'
    # issued a moment ago: the issue time is rounded to the millisecond, maybe upwards
    token = form_tokens.issue(secret, "blog", thread, utcnow() - timedelta(seconds=5))
    payload = URLSafeSerializer(secret, salt=form_tokens.SALT).loads(token)
    assert (payload["s"], payload["t"]) == ("blog", thread)
    with pytest.raises(BadSignature):
        URLSafeSerializer("another-secret-key-of-32-chars!!", salt=form_tokens.SALT).loads(token)
    old = URLSafeSerializer(secret, salt=form_tokens.SALT).dumps({**payload, "t": "post-2"})
    assert form_tokens.check(secret, old, "blog", "post-2", utcnow(), 0, 60).nonce == payload["n"]


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({"Origin": ORIGIN}, True),
        ({"Referer": ORIGIN + "/2026/11/a-post?x=1"}, True),
        ({"Origin": "http://localhost"}, True),  # the widget page posting to itself
        ({}, False),
        ({"Origin": "https://evil.example"}, False),
        ({"Origin": "null"}, False),
        ({"Referer": "https://evil.example/page"}, False),
        ({"Origin": "https://evil.example", "Referer": ORIGIN + "/"}, False),
        ({"Origin": ORIGIN + ".evil.example"}, False),
        ({"Origin": "http://127.0.0.1:5001"}, False),
    ],
)
def test_origin_rules(
    client: FlaskClient, app: Flask, site: str, headers: dict[str, str], allowed: bool
) -> None:
    data = {**comment_fields(), "form_token": aged_token(app, "blog", "post-1")}
    response = client.post(PAGE, data=data, headers=headers)
    if allowed:
        assert response.status_code == 303
    else:
        assert response.status_code == 403
        assert "cannot be posted from" in response.get_data(as_text=True)
        assert stored_comments(app) == []


def test_honeypot_is_answered_as_accepted_and_stored_as_spam(
    client: FlaskClient, app: Flask, site: str
) -> None:
    response = post(client, app, contact_phone="+1 555 0100")
    assert response.status_code == 303
    assert "Your comment is awaiting moderation." in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)
    [stored] = stored_comments(app)
    assert (stored["status"], stored["rule"]) == ("spam", "honeypot")


def test_text_is_rendered_safely(client: FlaskClient, app: Flask, site: str) -> None:
    post(
        client,
        app,
        comment=(
            '<script>alert("x")</script><b>bold</b> <em>em</em> <img src=x onerror=alert(1)>'
            ' <a href="javascript:alert(2)">js</a> <a href="https://ok.example" onclick="x()">ok</a>'
            " see https://docs.example/page."
        ),
    )
    approve(app, stored_comments(app)[0]["id"])
    html = client.get(PAGE).get_data(as_text=True)
    content = html.split('<div class="comment-content">', 1)[1].split("</div>", 1)[0]
    assert "<script" not in content and "onerror" not in content and "onclick" not in content
    assert "javascript:" not in content
    assert "<b>bold</b>" in content and "<em>em</em>" in content
    # links leave the widget's frame: a new tab, never the frame itself
    assert (
        '<a href="https://ok.example" target="_blank" rel="nofollow ugc noopener noreferrer">ok</a>'
        in content
    )
    assert (
        '<a href="https://docs.example/page" rel="nofollow ugc noopener noreferrer" target="_blank">'
        "https://docs.example/page</a>." in content
    )


def test_replies_nest_and_the_form_says_who_is_answered(
    client: FlaskClient, app: Flask, site: str
) -> None:
    post(client, app, comment="Root", author="Rooty")
    root = stored_comments(app)[0]["id"]
    approve(app, root)
    page = client.get(f"{PAGE}&replytocom={root}").get_data(as_text=True)
    assert "Reply to Rooty" in page
    assert "Cancel reply" in page
    assert f'name="comment_parent" id="comment_parent" value="{root}"' in page
    response = post(client, app, comment="A reply", email="b@example.com", comment_parent=str(root))
    assert response.status_code == 303
    reply = stored_comments(app)[1]
    assert reply["parent_id"] == root
    approve(app, reply["id"])
    html = client.get(PAGE).get_data(as_text=True)
    assert f'id="comment-{reply["id"]}" class="comment depth-2"' in html


def test_replies_stop_at_the_sites_depth(client: FlaskClient, app: Flask, actions: Actions) -> None:
    actions.create_site("blog", [ORIGIN], max_depth=2, flood_seconds=0)
    post(client, app, comment="Level 1")
    first = stored_comments(app)[0]["id"]
    approve(app, first)
    post(client, app, comment="Level 2", email="b@example.com", comment_parent=str(first))
    second = stored_comments(app)[1]["id"]
    approve(app, second)
    html = client.get(PAGE).get_data(as_text=True)
    assert f"replytocom={first}" in html
    assert f"replytocom={second}" not in html
    response = post(
        client, app, comment="Level 3", email="c@example.com", comment_parent=str(second)
    )
    assert response.status_code == 422
    assert "Replies cannot nest deeper than 2 levels here." in response.get_data(as_text=True)


def test_replying_to_a_hidden_or_foreign_comment_is_refused(
    client: FlaskClient, app: Flask, site: str
) -> None:
    post(client, app, comment="Pending root")
    pending = stored_comments(app)[0]["id"]
    for parent in (str(pending), "12345", "abc"):
        response = post(client, app, comment="Reply", email="z@example.com", comment_parent=parent)
        assert response.status_code == 422
        assert "The comment you are replying to does not exist." in response.get_data(as_text=True)


def test_pagination_of_top_level_comments(
    client: FlaskClient, app: Flask, actions: Actions
) -> None:
    actions.create_site("blog", [ORIGIN], page_size=5, flood_seconds=0)
    for number in range(7):
        post(client, app, comment=f"Comment number {number}", email=f"p{number}@example.com")
    for stored in stored_comments(app):
        approve(app, stored["id"])
    first = client.get(PAGE).get_data(as_text=True)
    second = client.get(f"{PAGE}&cpage=2").get_data(as_text=True)
    assert "Comment number 0" in first and "Comment number 4" in first
    assert "Comment number 5" not in first and "Newer comments" in first
    assert "Comment number 5" in second and "Comment number 6" in second
    assert "Comment number 0" not in second and "Page 2 of 2" in second
    assert "7 comments" in first


def test_indonesian_by_parameter_and_by_accept_language(client: FlaskClient, site: str) -> None:
    by_param = client.get(f"{PAGE}&lang=id").get_data(as_text=True)
    by_header = client.get(PAGE, headers={"Accept-Language": "id-ID,id;q=0.9"}).get_data(
        as_text=True
    )
    for html in (by_param, by_header):
        assert '<html lang="id" ' in html
        assert "Tinggalkan Balasan" in html
        assert "Alamat email Anda tidak akan dipublikasikan." in html
        assert "Kirim Komentar" in html
        assert "Leave a Reply" not in html


def test_errors_in_indonesian(client: FlaskClient, app: Flask, site: str) -> None:
    response = post(client, app, query="&lang=id", email="x", author="")
    html = response.get_data(as_text=True)
    assert "Mohon masukkan alamat email yang valid." in html
    assert "Mohon masukkan nama Anda." in html


def hashes_of(email: str) -> list[str]:
    return [
        getattr(hashlib, name)(candidate.encode()).hexdigest()
        for name in ("md5", "sha1", "sha256")
        for candidate in (email, email.lower())
    ]


def test_email_never_appears_in_public_responses(
    client: FlaskClient, app: Flask, site: str
) -> None:
    secret_email = "Hidden.Person+tag@Private-Example.org"
    normalised = "Hidden.Person+tag@private-example.org"
    response = post(client, app, email=secret_email, comment="Find my address")
    preview = client.get(response.headers["Location"])
    approve(app, stored_comments(app)[0]["id"])
    bodies: list[Any] = [
        preview,
        client.get(PAGE),
        client.get(f"{PAGE}&lang=id"),
        client.get("/api/v1/sites/blog/comments?thread=post-1"),
        client.get("/api/v1/sites/blog/counts?thread=post-1"),
        client.get("/embed.js"),
        client.get("/w/blog?thread=post-1&cpage=9"),
    ]
    forbidden = [secret_email.lower(), normalised.lower(), "hidden.person", *hashes_of(normalised)]
    for response in bodies:
        text = (response.get_data(as_text=True) + str(response.headers)).lower()
        for needle in forbidden:
            assert needle.lower() not in text, (response.request.path, needle)


def test_avatars_are_identicons_of_a_keyed_hash(client: FlaskClient, app: Flask, site: str) -> None:
    post(client, app, comment="With a face", email="face@example.com")
    approve(app, stored_comments(app)[0]["id"])
    html = client.get(PAGE).get_data(as_text=True)
    [source] = re.findall(r'<img class="avatar" src="(/avatar/[0-9a-f]{32}\.svg)"', html)
    picture = client.get(source)
    assert picture.status_code == 200
    assert picture.mimetype == "image/svg+xml"
    assert "immutable" in picture.headers["Cache-Control"]
    assert picture.get_data(as_text=True).startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert source[8:-4] not in hashes_of("face@example.com")
    assert client.get("/avatar/nothex.svg").status_code == 404
