"""The languages readers get: the widget, its JSON answers, commenters' emails and the
public pages. The dashboard and the operators' commands stay English.

A language has three names: its ``code`` (what ``?lang=`` accepts and what is stored with a
notification address), the Babel ``locale`` of its catalog and of its dates and plural rules
(``moderation/translations/<locale>``), and the BCP 47 ``tag`` written in ``lang=""`` and
given to the browser's ``Intl`` date formatting.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    """One language of the reader-facing pages."""

    code: str
    locale: str
    tag: str
    #: its own name, for a reader choosing it
    name: str
    #: ``rtl`` for scripts written right to left
    direction: str = "ltr"


LANGUAGES: dict[str, Language] = {
    language.code: language
    for language in (
        Language("en", "en", "en", "English"),
        Language("id", "id", "id", "Bahasa Indonesia"),
        Language("ms", "ms", "ms", "Bahasa Melayu"),
        Language("es", "es", "es", "Español"),
        Language("fr", "fr", "fr", "Français"),
        Language("de", "de", "de", "Deutsch"),
        Language("pt", "pt_BR", "pt-BR", "Português do Brasil"),
        Language("it", "it", "it", "Italiano"),
        Language("nl", "nl", "nl", "Nederlands"),
        Language("ja", "ja", "ja", "日本語"),
        Language("zh", "zh_Hans", "zh-Hans", "简体中文"),
        Language("ar", "ar", "ar", "العربية", direction="rtl"),
    )
}
ENGLISH = LANGUAGES["en"]
#: The codes ``?lang=`` accepts, in the order of the list above.
LANGUAGE_CODES = tuple(LANGUAGES)
_BY_LOCALE = {language.locale: language for language in LANGUAGES.values()}


def language_of(value: str) -> Language | None:
    """The language a code, a BCP 47 tag or a locale names (``"pt"``, ``"pt-BR"``,
    ``"zh_Hans_CN"``, ``"EN-gb"``): its primary subtag decides; ``None`` when it is
    not one of ours (``"ko"``, ``"*"``, ``""``)."""
    if value in _BY_LOCALE:
        return _BY_LOCALE[value]
    primary = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return LANGUAGES.get(primary)


def locale_of(code: str) -> str:
    """The Babel locale of a stored language code (English for one no longer offered)."""
    return (language_of(code) or ENGLISH).locale


def choose_language(asked: Iterable[str], accepted: Iterable[str]) -> Language:
    """The reader's language: the first of ours among ``asked`` (the embed's
    ``data-lang``, then the host page's ``lang``), else among ``accepted`` (the browser's
    Accept-Language, best first), else English."""
    for value in (*asked, *accepted):
        language = language_of(value)
        if language is not None:
            return language
    return ENGLISH
