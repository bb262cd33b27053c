"""Test helpers: set up scenarios through the service layer, as the product does."""

from __future__ import annotations

from typing import Any

from flask import Flask

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
        self, username: str = "mod", role: str = "moderator", password: str = PASSWORD
    ) -> Moderator:
        """A moderator account."""
        from moderation.services import moderators

        with self.app.app_context():
            return moderators.create_moderator(username, password, role)
