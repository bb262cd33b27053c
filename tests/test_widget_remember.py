""" "Save my name, email, and website…" on the standalone page (no frame, no JavaScript
needed): a first-party cookie, only with the box ticked, read back into that browser's own
form and never into a cached page or another reader's."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.doors import ORIGIN, FormDoor
from tests.helpers import Actions, aged_token

PAGE = "/w/blog?thread=post-1"
DETAILS = {"author": "Hal Standalone", "email": "hal@example.org", "url": "https://hal.example"}


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    return {"LIMIT_SUBMIT_PER_ADDRESS": "1000/minute", "LIMIT_SUBMIT_PER_EMAIL": "1000/minute"}


@pytest.fixture
def site(actions: Actions) -> str:
    actions.create_site("blog", [ORIGIN], flood_seconds=0)
    return "blog"


def test_ticked_box_keeps_the_details_for_this_browser_only(
    app: Flask, client: FlaskClient, site: str
) -> None:
    answer = FormDoor(app, client).post(comment="Remember me.", remember="y", **DETAILS)
    assert answer.status == 303
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("moderation_author_blog=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/w/blog" in cookie

    page = client.get(PAGE)
    html = page.get_data(as_text=True)
    assert 'value="Hal Standalone"' in html and 'value="hal@example.org"' in html
    assert 'value="https://hal.example"' in html
    assert 'name="remember" type="checkbox" value="y" checked' in html
    assert page.headers["Cache-Control"] == "no-store"
    # another reader's page (and the cached one) knows nothing of it
    stranger = app.test_client().get(PAGE).get_data(as_text=True)
    assert "hal@example.org" not in stranger and "Hal Standalone" not in stranger
    # in a frame the cookie is not the widget's way (its script keeps them instead)
    framed = client.get(f"{PAGE}&origin={ORIGIN}").get_data(as_text=True)
    assert "hal@example.org" not in framed


def test_unticked_box_forgets_and_a_framed_post_keeps_nothing(
    app: Flask, client: FlaskClient, site: str
) -> None:
    door = FormDoor(app, client)
    door.post(comment="Keep them.", remember="y", **DETAILS)
    answer = door.post(comment="Now forget them.", **DETAILS)
    assert "moderation_author_blog=;" in answer.headers["Set-Cookie"]
    assert "hal@example.org" not in client.get(PAGE).get_data(as_text=True)

    framed = app.test_client()
    answer = framed.post(
        f"{PAGE}&origin={ORIGIN}",
        data={
            **DETAILS,
            "comment": "From the frame.",
            "remember": "y",
            "form_token": aged_token(app, "blog", "post-1"),
        },
        headers={"Origin": ORIGIN},
    )
    assert answer.status_code == 303 and "Set-Cookie" not in answer.headers
