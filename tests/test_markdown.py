"""Markdown per site (``sites update SLUG --format markdown``): CommonMark through the same
sanitiser, the link and word rules judging the rendered result, and a preview that renders
without storing, equal to what is then published."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from moderation.domain.comments import CommentDraft
from moderation.domain.rendering import render_comment, render_text
from moderation.domain.rules import Outcome, Rule, Signals, SiteRules, decide
from moderation.domain.sites import CommentFormat, SitePolicy
from tests.doors import ORIGIN, FormDoor
from tests.helpers import Actions, stored_comments

MARKDOWN = CommentFormat.MARKDOWN
WORDPRESS = CommentFormat.WORDPRESS
PREVIEW = "/w/blog/preview?thread=post-1"


# --- rendering (no app) ------------------------------------------------------------------


@pytest.mark.any_database
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("**bold** and *soft*", "<p><strong>bold</strong> and <em>soft</em></p>"),
        (
            "[a link](https://x.example)",
            '<p><a href="https://x.example" target="_blank" rel="nofollow ugc noopener noreferrer">a link</a></p>',
        ),
        ("`code` here", "<p><code>code</code> here</p>"),
        ("- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"),
        ("```\nx < y\n```", "<pre><code>x &lt; y\n</code></pre>"),
        ("> quoted", "<blockquote>\n<p>quoted</p>\n</blockquote>"),
        # raw HTML is shown as typed, never run
        (
            "<b>typed</b> <script>alert(1)</script>",
            "<p>&lt;b&gt;typed&lt;/b&gt; &lt;script&gt;alert(1)&lt;/script&gt;</p>",
        ),
        # no headings or pictures in a comment: their words stay (an image becomes its link)
        ("# Title", "Title"),
        (
            "![a cat](https://x.example/i.png)",
            '<p><a href="https://x.example/i.png" target="_blank" rel="nofollow ugc noopener noreferrer">a cat</a></p>',
        ),
        ("[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>"),
    ],
)
def test_markdown_renders_commonmark_through_the_sanitiser(text: str, expected: str) -> None:
    assert render_text(text, MARKDOWN) == expected


@pytest.mark.any_database
def test_wordpress_sites_render_as_before() -> None:
    text = "Hello <b>there</b>\n\n**not bold** https://x.example"
    assert render_text(text, WORDPRESS) == render_comment(text)
    assert "**not bold**" in render_text(text, WORDPRESS)


@pytest.mark.any_database
@pytest.mark.parametrize(
    ("text", "comment_format", "rule"),
    [
        # three links readers see, though no "http" was typed
        ("[a](//a.example) [b](//b.example) [c](//c.example)", MARKDOWN, Rule.TOO_MANY_LINKS),
        ("[a](//a.example) [b](//b.example) [c](//c.example)", WORDPRESS, Rule.PREMODERATION),
        # the word readers see, split by emphasis as typed
        ("cheap v**i**agra", MARKDOWN, Rule.MODERATION_WORDS),
        ("cheap v**i**agra", WORDPRESS, Rule.PREMODERATION),
        ("cheap v<b>i</b>agra", WORDPRESS, Rule.MODERATION_WORDS),
    ],
)
def test_link_and_word_rules_judge_the_rendered_comment(
    text: str, comment_format: CommentFormat, rule: Rule
) -> None:
    rules = SiteRules(
        policy=SitePolicy.PREMODERATE,
        max_links=2,
        moderation_words=("viagra",),
        comment_format=comment_format,
    )
    decision = decide(CommentDraft(text, "Ann", "ann@example.com"), rules, Signals())
    assert decision.rule is rule
    assert decision.outcome is Outcome.HOLD


# --- the site setting --------------------------------------------------------------------


def test_the_format_is_set_per_site_from_the_command_line(
    app: Flask, runner: FlaskCliRunner, actions: Actions
) -> None:
    from moderation.services.sites import site_info

    actions.create_site("blog", [ORIGIN])
    with app.app_context():
        assert site_info("blog").comment_format is WORDPRESS
    result = runner.invoke(args=["sites", "update", "blog", "--format", "markdown"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert site_info("blog").comment_format is MARKDOWN
    refused = runner.invoke(args=["sites", "update", "blog", "--format", "bbcode"])
    assert refused.exit_code != 0
    assert "wordpress" in refused.output and "markdown" in refused.output


def test_a_markdown_site_stores_and_serves_markdown_rendered(
    app: Flask, client: FlaskClient, actions: Actions
) -> None:
    actions.create_site("blog", [ORIGIN], policy="open", comment_format="markdown")
    answer = FormDoor(app, client).post(comment="Some **bold** words")
    assert answer.status == 303, answer.text
    listing = client.get("/api/v1/sites/blog/comments?thread=post-1").get_json()
    assert listing["comments"][0]["html"] == "<p>Some <strong>bold</strong> words</p>"
    widget = client.get("/w/blog?thread=post-1").get_data(as_text=True)
    assert "You can use Markdown." in widget and "<strong>bold</strong>" in widget


# --- the preview ---------------------------------------------------------------------------


@pytest.mark.parametrize("comment_format", ["markdown", "wordpress"])
def test_the_preview_equals_the_published_rendering(
    app: Flask, client: FlaskClient, actions: Actions, comment_format: str
) -> None:
    actions.create_site("blog", [ORIGIN], policy="open", comment_format=comment_format)
    text = "A *first* line with <em>tags</em>\n\n- and https://link.example/x?a=1&b=2\n\n`x < y`"
    preview = client.post(PREVIEW, data={"comment": text}, headers={"Origin": ORIGIN})
    assert preview.status_code == 200, preview.get_data(as_text=True)
    assert preview.headers["Cache-Control"] == "no-store"
    assert stored_comments(app) == []  # a preview stores nothing
    assert FormDoor(app, client).post(comment=text).status == 303
    listing = client.get("/api/v1/sites/blog/comments?thread=post-1").get_json()
    assert preview.get_json()["html"] == listing["comments"][0]["html"]


def test_the_widget_previews_from_its_own_page(client: FlaskClient, actions: Actions) -> None:
    actions.create_site("blog", [ORIGIN], comment_format="markdown")
    page = client.get("/w/blog?thread=post-1").get_data(as_text=True)
    assert 'id="preview-button"' in page
    assert f'data-preview-url="{PREVIEW}"' in page
    own = client.post(PREVIEW, data={"comment": "**hi**"}, headers={"Origin": "http://localhost"})
    assert own.get_json() == {"html": "<p><strong>hi</strong></p>"}


@pytest.mark.parametrize(
    ("headers", "data", "status", "says"),
    [
        ({"Origin": "https://evil.example"}, {"comment": "hi"}, 403, "cannot be posted from"),
        ({}, {"comment": "hi"}, 403, "cannot be posted from"),
        ({"Origin": ORIGIN}, {"comment": "  "}, 422, "Please type your comment."),
        ({"Origin": ORIGIN}, {"comment": "x" * 65_526}, 422, "too long"),
    ],
)
def test_a_preview_is_refused_like_a_post(
    client: FlaskClient,
    actions: Actions,
    headers: dict[str, str],
    data: dict[str, str],
    status: int,
    says: str,
) -> None:
    actions.create_site("blog", [ORIGIN], comment_format="markdown")
    response = client.post(PREVIEW, data=data, headers={"Accept": "application/json", **headers})
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert says in response.get_data(as_text=True)


def test_previews_are_rate_limited(client: FlaskClient, actions: Actions) -> None:
    actions.create_site("blog", [ORIGIN], comment_format="markdown")
    answers = [
        client.post(
            PREVIEW,
            data={"comment": "hi"},
            headers={"Origin": ORIGIN, "Accept": "application/json"},
        )
        for _ in range(61)
    ]
    assert {answer.status_code for answer in answers[:60]} == {200}
    refused = answers[60]
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.mimetype == "application/problem+json"


def test_an_admin_switches_the_format_and_moderators_write_in_it(
    app: Flask, actions: Actions
) -> None:
    from tests.helpers import seed_comments, signed_in

    actions.create_site("blog", [ORIGIN])
    admin = signed_in(app, actions, "alice")
    assert 'selected value="wordpress"' in admin.page("/dashboard/sites/blog")
    settings = {
        "name": "Blog",
        "origins": ORIGIN,
        "policy": "premoderate",
        "comment_format": "markdown",
        "max_links": "2",
        "flood_seconds": "15",
        "max_depth": "5",
        "page_size": "50",
        "spam_hold_threshold": "0.4",
        "spam_threshold": "0.8",
        "hold_first_comments": "0",
    }
    assert admin.post("/dashboard/sites/blog", **settings).status_code == 303
    assert 'selected value="markdown"' in admin.page("/dashboard/sites/blog")
    (comment,) = seed_comments(app, 1, text="Stored as **markdown**")
    assert (
        admin.post(
            f"/dashboard/comments/{comment}/reply", text="A *moderator's* answer"
        ).status_code
        == 303
    )
    assert (
        admin.post(f"/dashboard/comments/{comment}/edit", text="Edited **here**").status_code == 303
    )
    widget = admin.client.get("/w/blog?thread=post-1").get_data(as_text=True)
    assert "<p>A <em>moderator's</em> answer</p>" in widget
    assert "<p>Edited <strong>here</strong></p>" in widget
    # a form without the field (an older page) keeps the format
    del settings["comment_format"]
    assert admin.post("/dashboard/sites/blog", **settings).status_code == 303
    assert 'selected value="markdown"' in admin.page("/dashboard/sites/blog")
