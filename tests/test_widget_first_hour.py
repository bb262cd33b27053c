"""What a new site owner meets in the first hour, over HTTP and the CLI: the snippet with its
``<noscript>`` link, why a frame stayed empty, threads that store only their own site's post."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import PASSWORD, Actions, aged_token, comment_fields, stored_comments

ORIGIN = "https://blog.example"


def post_from(client: FlaskClient, app: Flask, thread: str, page_url: str, title: str) -> int:
    """A comment posted from the widget framed on ``page_url``."""
    query = f"thread={thread}&origin={ORIGIN}&url={page_url}&title={title}"
    response = client.post(
        f"/w/blog?{query}",
        data={
            **comment_fields(comment=f"On {page_url}"),
            "form_token": aged_token(app, "blog", thread),
        },
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(stored_comments(app)[-1]["id"])


def thread_post(app: Flask, key: str) -> tuple[str, str]:
    from sqlalchemy import select

    from moderation.extensions import db
    from moderation.models import Thread

    with app.app_context():
        row = db.session.execute(select(Thread.title, Thread.url).where(Thread.key == key)).one()
    return (row.title, row.url)


def test_thread_stores_only_an_address_on_the_sites_origins(
    client: FlaskClient, app: Flask, actions: Actions
) -> None:
    actions.create_site("blog", [ORIGIN], flood_seconds=0)
    post_from(client, app, "p", "https://evil.example/phish", "Evil")
    assert thread_post(app, "p") == ("", "")
    post_from(client, app, "p", f"{ORIGIN}/p", "The post")
    assert thread_post(app, "p") == ("The post", f"{ORIGIN}/p")
    # a later page from elsewhere does not take it over
    post_from(client, app, "p", "https://evil.example/p", "Taken")
    assert thread_post(app, "p") == ("The post", f"{ORIGIN}/p")


def test_embed_check_says_what_is_wrong_and_where_to_fix_it(
    client: FlaskClient, actions: Actions
) -> None:
    actions.create_site("blog", [ORIGIN])
    good = client.get("/w/blog/embed-check", headers={"Origin": ORIGIN})
    assert good.json == {"ok": True, "detail": ""}
    assert good.headers["Access-Control-Allow-Origin"] == "*"
    stranger = client.get("/w/blog/embed-check", headers={"Origin": "https://other.example"})
    assert stranger.json is not None and not stranger.json["ok"]
    assert "https://other.example is not an allowed origin" in stranger.json["detail"]
    unknown = client.get("/w/blogg/embed-check?lang=id", headers={"Origin": ORIGIN})
    assert unknown.json is not None
    assert 'tidak ada situs "blogg"' in unknown.json["detail"]


def test_dashboard_snippet_carries_the_noscript_link(client: FlaskClient, actions: Actions) -> None:
    import re

    actions.create_site("blog", [ORIGIN])
    actions.create_moderator("alice", "admin")
    page = client.get("/dashboard/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    client.post(
        "/dashboard/sign-in",
        data={"csrf_token": token.group(1), "username": "alice", "password": PASSWORD},
    )
    html = client.get("/dashboard/sites/blog").get_data(as_text=True)
    assert (
        "&lt;noscript&gt;&lt;a href=&#34;http://localhost/w/blog?thread=UNIQUE-PAGE-KEY&#34;&gt;"
        in html.replace("&quot;", "&#34;")
    )
