"""Error pages speak the reader's language under their heading too: every refusal a reader
can meet on a public page (an unknown address, a method the address does not take, a body
too large, a NUL in the query, a data-rights form without its token, too many posts), and
every status of the error table, says its sentence in each of the eleven languages, never
Werkzeug's English description; Arabic pages are right to left."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import HTTPException, default_exceptions
from werkzeug.test import TestResponse

from moderation.domain.languages import LANGUAGE_CODES
from moderation.web.errors import READER_DETAILS, handle_http_exception

pytestmark = pytest.mark.database_incidental

HTML = {"Accept": "text/html"}
OTHER_LANGUAGES = [code for code in LANGUAGE_CODES if code != "en"]

#: Each way a reader meets an error page: what the client does, given ``?lang=CODE``.
ERRORS: dict[str, Callable[[FlaskClient, str], TestResponse]] = {
    "404 unknown address": lambda client, lang: client.get(f"/no-such-page?{lang}", headers=HTML),
    "404 unknown site": lambda client, lang: client.get(
        f"/w/nowhere?thread=x&{lang}", headers=HTML
    ),
    "405 method": lambda client, lang: client.put(f"/?{lang}", headers=HTML),
    "413 too large": lambda client, lang: client.post(
        f"/privacy?{lang}", data={"email": "x" * 2_000_000}, headers=HTML
    ),
    "400 NUL character": lambda client, lang: client.get(
        f"/w/blog?thread=%00&{lang}", headers=HTML
    ),
    "400 form without its token": lambda client, lang: client.post(
        f"/privacy?{lang}", data={"email": "ann@example.com"}, headers=HTML
    ),
}


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    """The data-rights form checks its CSRF token, as in production."""
    return {"WTF_CSRF_ENABLED": True}


def page_parts(response: TestResponse) -> tuple[str, str, str]:
    """The page's ``<html>`` tag, its heading and the sentence under it."""
    html = response.get_data(as_text=True)
    tag = re.search(r"<html[^>]*>", html)
    heading = re.search(r"<h1>(.*?)</h1>", html, re.S)
    sentence = re.search(r"</h1>\s*<p>(.*?)</p>", html, re.S)
    assert tag and heading and sentence, html[:500]
    return tag.group(0), heading.group(1).strip(), sentence.group(1).strip()


def werkzeug_descriptions() -> set[str]:
    """Every HTTP error's English description as Werkzeug writes it."""
    return {str(cls.description) for cls in default_exceptions.values() if cls.description}


@pytest.mark.parametrize("code", OTHER_LANGUAGES)
def test_every_public_error_page_says_its_sentence_in_the_readers_language(
    client: FlaskClient, code: str
) -> None:
    english_words = werkzeug_descriptions()
    for name, make in ERRORS.items():
        english = make(client, "lang=en")
        translated = make(client, f"lang={code}")
        status = int(name.split()[0])
        assert english.status_code == translated.status_code == status, name
        _, english_heading, english_sentence = page_parts(english)
        tag, heading, sentence = page_parts(translated)
        assert sentence and sentence != english_sentence, (name, sentence)
        assert english_sentence not in translated.get_data(as_text=True), name
        assert sentence not in english_words, (name, sentence)
        assert heading != english_heading, (name, heading)
        assert ('dir="rtl"' in tag) == (code == "ar"), (name, tag)


def test_the_browser_language_chooses_the_error_page_language_too(client: FlaskClient) -> None:
    page = client.get("/no-such-page", headers={**HTML, "Accept-Language": "de-AT,de;q=0.9"})
    tag, heading, sentence = page_parts(page)
    assert tag.startswith('<html lang="de"')
    assert heading == "404 Nicht gefunden"
    assert sentence.startswith("Unter dieser Adresse gibt es nichts.")


def test_english_pages_no_longer_show_werkzeugs_descriptions(client: FlaskClient) -> None:
    english_words = werkzeug_descriptions()
    for name, make in ERRORS.items():
        _, _, sentence = page_parts(make(client, "lang=en"))
        assert sentence not in english_words, name


def test_too_many_posts_outside_a_widget_are_explained_in_the_readers_language(app: Flask) -> None:
    app.config["LIMIT_PUBLIC_POSTS_PER_ADDRESS"] = "1/minute"
    client = app.test_client()
    client.post("/w/blog/edit?thread=x&lang=fr", headers=HTML)
    refused = client.post("/w/blog/edit?thread=x&lang=fr", headers=HTML)
    assert refused.status_code == 429
    _, heading, sentence = page_parts(refused)
    assert heading != "429 Too Many Requests"
    assert sentence.startswith("Vous avez publié trop de commentaires.")


@pytest.mark.parametrize("status", sorted(READER_DETAILS))
def test_every_status_of_the_table_has_a_translated_sentence(app: Flask, status: int) -> None:
    """Whatever raises it, an error the table lists says the table's sentence: its English
    words on an English page, other words in every other language, Werkzeug's in none."""
    error_class: type[HTTPException] = default_exceptions[status]

    def sentence(code: str) -> str:
        with app.test_request_context(f"/somewhere?lang={code}", headers=HTML):
            return page_parts(TestResponse.force_type(handle_http_exception(error_class())))[2]

    english = sentence("en")
    assert english == READER_DETAILS[status]
    assert english != error_class.description
    for code in OTHER_LANGUAGES:
        assert sentence(code) not in (english, error_class.description), code


def test_a_method_the_address_does_not_take_says_which_it_does(client: FlaskClient) -> None:
    """RFC 9110 § 15.5.6: a 405 names the methods the address takes, on the page and in
    problem+json alike (the answer is ours, the ``Allow`` header Werkzeug's)."""
    for accept in ("text/html", "application/json"):
        response = client.put("/", headers={"Accept": accept})
        assert response.status_code == 405
        assert "GET" in response.headers["Allow"], response.headers
        assert response.mimetype != "text/plain"
