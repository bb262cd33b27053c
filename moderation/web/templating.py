"""Template helpers shared by every page: the reader's language (its ``lang`` tag and
writing direction), dates in that language, and in UTC for the dashboard."""

from __future__ import annotations

from datetime import UTC, datetime

from babel import dates
from flask import Flask
from flask_babel import get_locale, get_timezone, gettext

from moderation.domain.languages import ENGLISH, Language, language_of


def reader_language() -> Language:
    """The language this page or email is written in (the request's, or the one an email
    is forced to): ``.tag`` for ``lang=""``, ``.direction`` for ``dir=""``."""
    return language_of(str(get_locale() or "en")) or ENGLISH


def isoformat(value: datetime) -> str:
    """Machine-readable UTC time for ``<time datetime>``."""
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


def comment_date(value: datetime) -> str:
    """ "November 25, 2026 at 5:00 PM" in the reader's language (UTC until the browser
    rewrites it in the reader's time zone).

    What Flask-Babel's ``format_date(value, "long")`` and ``format_time(value, "short")``
    write, with the locale and time zone looked up once instead of once each: a page of
    comments writes hundreds of dates, and the look-ups were most of their cost."""
    locale, zone = get_locale(), get_timezone()
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return str(
        gettext(
            "%(date)s at %(time)s",
            date=dates.format_date(zone.normalize(aware.astimezone(zone)), "long", locale=locale),
            time=dates.format_time(value, "short", tzinfo=zone, locale=locale),
        )
    )


def utc_time(value: datetime) -> str:
    """ "2026-11-25 17:00:05 UTC": how the dashboard shows every time."""
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def init_app(app: Flask) -> None:
    """Register the filters and globals."""
    app.add_template_filter(isoformat)
    app.add_template_filter(comment_date)
    app.add_template_filter(utc_time)
    app.add_template_global(get_locale)
    app.add_template_global(reader_language)
