"""Flask-Limiter's route limits on the public write routes: each post counted once, by the
route's decorator, and limits for the whole application still counted on those routes
(Flask-Limiter's own before-request check is skipped there only when it has nothing to do)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from moderation.web.limits import limiter

POSTS = ("/w/blog/edit?thread=x", "/api/v1/sites/blog/comments?thread=x")


@pytest.mark.parametrize("path", POSTS)
def test_a_route_limit_counts_each_post_once(app: Flask, path: str) -> None:
    app.config["LIMIT_PUBLIC_POSTS_PER_ADDRESS"] = "3/minute"
    client = app.test_client()
    statuses = [client.post(path, json={}).status_code for _ in range(4)]
    assert 429 not in statuses[:3], statuses
    assert statuses[3] == 429


@pytest.fixture
def application_limit(config_overrides: dict[str, Any]) -> Iterator[None]:
    """An application-wide limit of 2 requests a minute (Flask-Limiter keeps it on its one
    limiter object: taken off again after the test)."""
    config_overrides["RATELIMIT_APPLICATION"] = "2/minute"
    yield
    limiter.limit_manager.set_application_limits([])


@pytest.mark.parametrize("path", POSTS)
def test_an_application_wide_limit_counts_on_the_limited_routes_too(
    application_limit: None, app: Flask, path: str
) -> None:
    client = app.test_client()
    statuses = [client.post(path, json={}).status_code for _ in range(3)]
    assert 429 not in statuses[:2], statuses
    assert statuses[2] == 429
