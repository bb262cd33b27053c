"""Test helpers: set up scenarios through the service layer, as the product does."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from moderation.models import Moderator, Site

PASSWORD = "correct horse battery staple"


class Actions:
    """Shortcuts that go through the services (never straight to the tables)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def create_site(
        self, slug: str = "blog", origins: list[str] | None = None, **settings: Any
    ) -> Site:
        """A site embedded from ``origins`` (default http://127.0.0.1:5000)."""
        from moderation.services import sites

        with self.app.app_context():
            site = sites.create_site(
                slug,
                slug.title(),
                origins or ["http://127.0.0.1:5000"],
                settings.pop("policy", "premoderate"),
            )
            if settings:
                site = sites.update_site(slug, sites.SiteSettings(**settings))
            return site

    def create_moderator(
        self,
        username: str = "mod",
        role: str = "moderator",
        password: str = PASSWORD,
        sites: list[str] | None = None,
    ) -> Moderator:
        """A moderator account (limited to ``sites`` when given)."""
        from moderation.services import moderators

        with self.app.app_context():
            return moderators.create_moderator(username, password, role, sites)


def aged_token(app: Flask, site: str, thread: str, age_seconds: float = 10) -> str:
    """A form token issued ``age_seconds`` ago, as if a person had filled in the form."""
    from datetime import timedelta

    from moderation.clock import utcnow
    from moderation.services import form_tokens

    issued = utcnow() - timedelta(seconds=age_seconds)
    return form_tokens.issue(app.config["SECRET_KEY"], site, thread, issued)


def comment_fields(**overrides: str) -> dict[str, str]:
    """A valid comment form, with ``overrides``."""
    fields = {
        "comment": "A thoughtful comment.",
        "author": "Ann Example",
        "email": "ann@example.com",
        "url": "",
    }
    fields.update(overrides)
    return fields


def approve(app: Flask, comment_id: int) -> None:
    """Approve a comment through the service layer, as a moderator would."""
    from moderation.domain.status import ModerationAction
    from moderation.services.decisions import moderate
    from moderation.services.events import Actor

    with app.app_context():
        moderate(comment_id, ModerationAction.APPROVE, Actor("moderator", "1", "tester"))


def stored_comments(app: Flask) -> list[dict[str, Any]]:
    """Every stored comment as a dict (what the database holds, email included)."""
    from sqlalchemy import select

    from moderation.extensions import db
    from moderation.models import Comment

    with app.app_context():
        rows = db.session.execute(select(Comment).order_by(Comment.id)).scalars()
        return [
            {
                "id": row.id,
                "author": row.author,
                "email": row.email,
                "url": row.url,
                "text": row.text,
                "status": row.status.value,
                "rule": row.held_by_rule,
                "reason": row.held_reason,
                "ip": row.ip_truncated,
                "parent_id": row.parent_id,
                "source": row.source,
            }
            for row in rows
        ]


def seed_comments(
    app: Flask, count: int, site: str = "blog", thread: str = "post-1", **draft: Any
) -> list[int]:
    """Store ``count`` comments through the submission pipeline (no HTTP), return their ids."""
    from datetime import timedelta

    from moderation.clock import utcnow
    from moderation.domain.comments import CommentDraft
    from moderation.services.submissions import SubmissionContext, submit_comment

    ids = []
    base = utcnow() - timedelta(hours=1)
    with app.app_context():
        for number in range(count):
            fields = {
                "text": f"Seeded comment {number}",
                "author": f"Author {number}",
                "email": f"author{number}@example.com",
                **draft,
            }
            result = submit_comment(
                CommentDraft(**fields),
                SubmissionContext(
                    site_slug=site,
                    thread_key=thread,
                    client_ip=f"10.{number // 250}.{number % 250}.1",
                    now=base + timedelta(seconds=number),
                    source="test",
                ),
            )
            ids.append(result.comment.id)
    return ids


def page_csrf_token(client: FlaskClient, path: str = "/dashboard/sign-in") -> str:
    """The CSRF token a dashboard page carries (its meta tag, or a form's hidden field)."""
    import re

    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html) or re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', html
    )
    assert match, html
    return match.group(1)


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD) -> str:
    """Sign ``client`` in to the dashboard; returns the session's CSRF token."""
    token = page_csrf_token(client)
    response = client.post(
        "/dashboard/sign-in",
        data={"csrf_token": token, "username": username, "password": password},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return page_csrf_token(client, "/dashboard/")
