"""Every message a reader can see is translated in every language, with Babel's plural
rules, placeholders intact and compiled catalogs that match their sources; and the
language is chosen as documented. ``python scripts/translations.py check`` prints the same
list of what is missing as the first test."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.plurals import get_plural

from moderation.domain.languages import LANGUAGE_CODES, choose_language, language_of
from scripts import translations
from scripts.translations import (
    LOCALES,
    describe,
    missing,
    mistakes,
    read_catalog,
    report,
    source_messages,
)

pytestmark = pytest.mark.any_database


@pytest.fixture(scope="module")
def template() -> Catalog:
    return source_messages()


def test_every_language_translates_every_message_readers_see(template: Catalog) -> None:
    problems = report(template)
    assert not problems, (
        "Translations to fill in (each .po, then python scripts/translations.py compile; "
        "python scripts/translations.py check lists them again):\n" + describe(problems)
    )


def test_the_check_names_each_missing_message_per_language(template: Catalog) -> None:
    """A message added to the code without translations shows up by its msgid in every
    language's list (what the coordinator fills in at merge)."""
    grown = copy.deepcopy(template)
    grown.add("A brand-new message nobody translated yet.")
    grown.add(("%(num)d new reply", "%(num)d new replies"))
    for locale in LOCALES.values():
        assert missing(grown, read_catalog(locale)) == [
            "%(num)d new reply",
            "A brand-new message nobody translated yet.",
        ]


def test_extract_adds_new_messages_to_each_catalog_on_its_own(
    template: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new message reaches every catalog untranslated (Indonesian from the earlier table);
    one language's translation never leaks into another's."""
    shutil.copytree(translations.TRANSLATIONS, tmp_path, dirs_exist_ok=True)
    monkeypatch.setattr(translations, "TRANSLATIONS", tmp_path)
    grown = copy.deepcopy(template)
    grown.add("Show the draft")
    grown.add(("%(num)d new reply", "%(num)d new replies"))
    table: dict[str, str | tuple[str, ...]] = {
        "Show the draft": "Tampilkan draf",
        "%(num)d new reply": ("%(num)d balasan baru",),
    }
    translations.update_catalogs(grown, table)
    indonesian = read_catalog("id")
    assert indonesian.get("Show the draft").string == "Tampilkan draf"  # type: ignore[union-attr]
    assert missing(grown, indonesian) == []
    for locale in set(LOCALES.values()) - {"id"}:
        catalog = read_catalog(locale)
        assert missing(grown, catalog) == ["%(num)d new reply", "Show the draft"], locale
        assert catalog.get("Leave a Reply").string  # type: ignore[union-attr]


def test_a_plural_with_too_few_forms_counts_as_missing(template: Catalog) -> None:
    catalog = read_catalog("ar")
    entry = catalog.get(("%(num)d comment", "%(num)d comments"))
    assert entry is not None and len(entry.string) == 6  # zero, one, two, few, many, other
    entry.string = tuple(entry.string[:2])
    assert missing(template, catalog) == ["%(num)d comment"]


def test_a_lost_or_invented_placeholder_is_reported(template: Catalog) -> None:
    catalog = read_catalog("de")
    catalog.get("Reply to %(name)s").string = "Antworten"  # type: ignore[union-attr]
    catalog.get("Reply").string = "Antworten an %(name)s"  # type: ignore[union-attr]
    found = mistakes(template, catalog)
    assert len(found) == 2
    assert any("'Reply to %(name)s'" in line for line in found)
    assert any("'Reply'" in line for line in found)


@pytest.mark.parametrize("code", sorted(LOCALES))
def test_plural_rules_are_babels(code: str) -> None:
    catalog = read_catalog(LOCALES[code])
    rule = get_plural(LOCALES[code])
    assert catalog.plural_forms == rule.plural_forms
    for message in catalog:
        if message.pluralizable:
            assert len(message.string) == rule.num_plurals, message.id


def test_the_dashboard_and_operator_modules_stay_out_of_the_catalogs(template: Catalog) -> None:
    ids = {message.id if isinstance(message.id, str) else message.id[0] for message in template}
    assert "Leave a Reply" in ids
    assert "Unknown role %(role)r: choose admin or moderator." not in ids  # services/moderators
    assert "The password is too short: use at least %(min)d characters." not in ids


def test_every_documented_language_has_a_catalog() -> None:
    assert LANGUAGE_CODES == (
        "en",
        "id",
        "ms",
        "es",
        "fr",
        "de",
        "pt",
        "it",
        "nl",
        "ja",
        "zh",
        "ar",
    )
    assert set(LOCALES) == set(LANGUAGE_CODES) - {"en"}


@pytest.mark.parametrize(
    ("asked", "accepted", "expected"),
    [
        (["fr"], ["de"], "fr"),  # data-lang / ?lang= first
        (["ko", "de"], ["es"], "de"),  # then the host page's lang
        ([], ["ko", "pt-PT", "en"], "pt"),  # then the browser's best language we have
        (["ko"], ["*"], "en"),  # then English
        (["pt-BR"], [], "pt"),
        (["zh-Hans-CN"], [], "zh"),
        (["zh_Hans"], [], "zh"),
        (["AR-eg"], [], "ar"),
        ([""], [], "en"),
    ],
)
def test_language_choice_order(asked: list[str], accepted: list[str], expected: str) -> None:
    assert choose_language(asked, accepted).code == expected


def test_languages_name_their_catalog_tag_and_direction() -> None:
    portuguese, chinese, arabic = language_of("pt"), language_of("zh"), language_of("ar")
    assert portuguese and (portuguese.locale, portuguese.tag) == ("pt_BR", "pt-BR")
    assert chinese and (chinese.locale, chinese.tag) == ("zh_Hans", "zh-Hans")
    assert arabic and arabic.direction == "rtl"
    assert {language.direction for code in LOCALES if (language := language_of(code))} == {
        "ltr",
        "rtl",
    }
