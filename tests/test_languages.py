"""The reader's language over HTTP: the widget in every language with WordPress's words,
the order that picks it (``data-lang`` / ``?lang=``, the host page's ``lang``, the
browser), dates and plurals in the reader's locale, Arabic right to left, JSON errors and
public pages translated, and the dashboard in English whatever the browser asks."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import Actions

pytestmark = pytest.mark.database_incidental

PAGE = "/w/blog?thread=post-1"

#: Per language: the html tag, WordPress's "Leave a Reply" and its email notice.
WORDPRESS = {
    "en": ("en", "Leave a Reply", "Your email address will not be published."),
    "id": ("id", "Tinggalkan Balasan", "Alamat email Anda tidak akan dipublikasikan."),
    "ms": ("ms", "Tinggalkan Balasan", "Alamat e-mel anda tidak akan disiarkan."),
    "es": ("es", "Deja una respuesta", "Tu dirección de correo electrónico no será publicada."),
    "fr": ("fr", "Laisser un commentaire", "Votre adresse e-mail ne sera pas publiée."),
    "de": ("de", "Schreibe einen Kommentar", "Deine E-Mail-Adresse wird nicht veröffentlicht."),
    "pt": ("pt-BR", "Deixe um comentário", "O seu endereço de e-mail não será publicado."),
    "it": ("it", "Lascia un commento", "Il tuo indirizzo email non sarà pubblicato."),
    "nl": ("nl", "Geef een reactie", "Je e-mailadres wordt niet gepubliceerd."),
    "ja": ("ja", "コメントを残す", "メールアドレスが公開されることはありません。"),
    "zh": ("zh-Hans", "发表回复", "您的邮箱地址不会被公开。"),
    "ar": ("ar", "اترك تعليقاً", "لن يتم نشر عنوان بريدك الإلكتروني."),
}


@pytest.fixture
def site(actions: Actions) -> str:
    actions.create_site("blog", ["http://127.0.0.1:5000"], flood_seconds=0)
    return "blog"


def html_tag(html: str) -> str:
    match = re.search(r"<html[^>]*>", html)
    assert match, html[:200]
    return match.group(0)


@pytest.mark.parametrize("code", list(WORDPRESS))
def test_the_widget_speaks_every_language(client: FlaskClient, site: str, code: str) -> None:
    tag, heading, notice = WORDPRESS[code]
    html = client.get(f"{PAGE}&lang={code}").get_data(as_text=True)
    assert f'lang="{tag}"' in html_tag(html)
    assert heading in html and notice in html
    assert f'data-locale="{tag}"' in html  # what the browser's Intl rewrites dates with
    assert ('dir="rtl"' in html_tag(html)) == (code == "ar")
    if code != "en":
        assert "Leave a Reply" not in html


def test_the_first_language_we_have_wins_then_the_browser(client: FlaskClient, site: str) -> None:
    """embed.js sends the embed's data-lang, then the host page's lang; the browser's
    Accept-Language comes after both; English when nothing matches."""
    browser = {"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"}
    cases = {
        f"{PAGE}&lang=de&lang=es": "Schreibe einen Kommentar",  # data-lang
        f"{PAGE}&lang=ko&lang=es-MX": "Deja una respuesta",  # the host page's lang
        f"{PAGE}&lang=ko": "Laisser un commentaire",  # the browser
    }
    for url, heading in cases.items():
        html = client.get(url, headers=browser).get_data(as_text=True)
        assert heading in html, url
    nothing = client.get(f"{PAGE}&lang=ko", headers={"Accept-Language": "ko,sv;q=0.5"})
    assert "Leave a Reply" in nothing.get_data(as_text=True)
    # the page's own links and form keep the one language chosen
    html = client.get(f"{PAGE}&lang=ko&lang=pt-BR").get_data(as_text=True)
    action = re.search(r'<form action="([^"]+)"', html)
    assert action and re.findall(r"lang=(\w+)", action.group(1)) == ["pt"]


def test_dates_and_plurals_in_the_readers_locale(app: Flask) -> None:
    from flask_babel import ngettext

    from moderation.web.templating import comment_date

    moment = datetime(2026, 11, 25, 17, 0, tzinfo=UTC)
    expected = {
        "en": "November 25, 2026 at 5:00\u202fPM",
        "de": "25. November 2026 um 17:00 Uhr",
        "fr": "25 novembre 2026 à 17:00",
        "pt": "25 de novembro de 2026 às 17:00",
        "ja": "2026年11月25日 17:00",
        "zh": "2026年11月25日 17:00",
        "ar": "25 نوفمبر 2026 في 5:00 م",
    }
    for code, written in expected.items():
        with app.test_request_context(f"/w/blog?lang={code}"):
            assert comment_date(moment).replace("\xa0", " ") == written.replace("\xa0", " ")

    def counts(code: str, numbers: list[int]) -> list[str]:
        with app.test_request_context(f"/w/blog?lang={code}"):
            return [ngettext("%(num)d comment", "%(num)d comments", n) for n in numbers]

    assert counts("ar", [0, 1, 2, 3, 11, 100]) == [
        "لا توجد تعليقات",
        "تعليق واحد",
        "تعليقان",
        "3 تعليقات",
        "11 تعليقًا",
        "100 تعليق",
    ]
    assert counts("fr", [0, 1, 2, 1000000]) == [
        "0 commentaire",
        "1 commentaire",
        "2 commentaires",
        "1000000 de commentaires",
    ]
    assert counts("ja", [1, 5]) == ["1件のコメント", "5件のコメント"]


def test_arabic_public_pages_are_right_to_left(client: FlaskClient, site: str) -> None:
    missing = client.get("/w/nowhere?thread=x&lang=ar", headers={"Accept": "text/html"})
    assert missing.status_code == 404
    html = missing.get_data(as_text=True)
    assert 'dir="rtl"' in html_tag(html) and "هذا الموقع غير مسجل هنا." in html
    assert "<h1>404 غير موجود</h1>" in html
    english = client.get("/w/nowhere?thread=x", headers={"Accept": "text/html"})
    assert "<h1>404 Not Found</h1>" in english.get_data(as_text=True)


def test_json_errors_follow_the_language(client: FlaskClient, site: str) -> None:
    answer = client.get("/api/v1/sites/blog/comments?lang=ja")
    assert answer.status_code == 400
    assert (
        answer.get_json()["detail"]
        == "リクエストにはコメントスレッドの指定が必要です (?thread=...)。"
    )
    by_browser = client.get("/api/v1/sites/blog/comments", headers={"Accept-Language": "nl"})
    assert by_browser.get_json()["detail"].startswith("Het verzoek moet")


def test_the_dashboard_and_the_english_pages_stay_english(client: FlaskClient, site: str) -> None:
    """(The landing page speaks the reader's language: tests/test_home_page.py.)"""
    for path in ("/dashboard/sign-in?lang=ar", "/demo"):
        page = client.get(path, headers={"Accept-Language": "ar,de;q=0.8"})
        html = page.get_data(as_text=True)
        assert html_tag(html).startswith('<html lang="en"') and 'dir="rtl"' not in html, path
