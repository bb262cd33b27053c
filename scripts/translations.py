"""The translations of what readers see, in every language of ``moderation.domain.languages``.

The catalogs ``moderation/translations/<locale>/LC_MESSAGES/messages.po`` are the source;
the ``.mo`` files beside them are compiled from them and committed too. ``babel.cfg`` says
which code and templates readers see (the dashboard and the operators' modules stay English).

    python scripts/translations.py extract   # add new messages (empty) to every catalog, drop
                                             # gone ones, compile; then lists what is missing
    python scripts/translations.py check     # lists what is missing or wrong, per language
    python scripts/translations.py compile   # .po -> .mo after editing translations

Adding a string: write it in English with ``_()`` / ``gettext()`` (``N_()`` where it is only
marked), run ``extract``, fill its ``msgstr`` in every ``messages.po`` (``msgstr[0..n]`` for
plurals: as many forms as the header's Plural-Forms), run ``compile``, then ``check``.
"""

from __future__ import annotations

import copy
import importlib.util
import io
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po, write_po

from moderation.domain.languages import LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "moderation" / "translations"
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "_l": None}
#: Every catalog, by the language code readers ask for (English is the source language).
LOCALES = {code: language.locale for code, language in LANGUAGES.items() if code != "en"}
#: Fixed dates keep the committed files the same between runs.
STAMP = datetime(2026, 11, 25, tzinfo=UTC)
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdr]")


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def in_sources(path: str) -> bool:
    """Only the package and the templates are walked (not tests, docs or a virtualenv)."""
    relative = Path(path).resolve().relative_to(ROOT).parts
    return not relative or relative[0] in ("moderation", "templates")


def source_messages() -> Catalog:
    """Every message readers can see, extracted from the code and templates now."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    template = Catalog(project="moderation", version="1", creation_date=STAMP)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, directory_filter=in_sources
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def read_catalog(locale: str) -> Catalog:
    path = po_path(locale)
    if not path.exists():
        return Catalog(locale=locale, project="moderation", version="1")
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def forms(message: Message) -> list[str]:
    """The translation's forms (one for a plain message)."""
    string = message.string
    return list(string) if isinstance(string, list | tuple) else [string or ""]


def key(message: Message) -> str:
    return message.id[0] if isinstance(message.id, list | tuple) else message.id


def missing(template: Catalog, catalog: Catalog) -> list[str]:
    """The messages of ``template`` that ``catalog`` does not translate (absent, empty,
    fuzzy, or with fewer plural forms than its language has)."""
    wanted = get_plural(str(catalog.locale)).num_plurals
    gaps = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id, message.context)
        translated = found is not None and not found.fuzzy and all(forms(found))
        if not translated or (message.pluralizable and len(forms(found)) != wanted):
            gaps.append(key(message))
    return sorted(gaps)


def mistakes(template: Catalog, catalog: Catalog) -> list[str]:
    """Translations that would break or mislead at run time: a placeholder the English
    does not have (a KeyError for the reader), or one it has that went missing (only
    ``num`` may be left out of the forms before the last: "تعليق واحد", "one comment")."""
    problems = []
    for message in template:
        found = catalog.get(message.id, message.context) if message.id else None
        if found is None:
            continue
        english = set(
            PLACEHOLDER.findall(" ".join(message.id if message.pluralizable else [message.id]))
        )
        translated = forms(found)
        for index, form in enumerate(translated):
            if not form:
                continue
            names = set(PLACEHOLDER.findall(form))
            optional = {"num"} if message.pluralizable and index < len(translated) - 1 else set()
            if names - english or (english - optional) - names:
                problems.append(f"{key(message)!r}: form {index} {form!r} has {sorted(names)}")
    return problems


def stale_compiled(locale: str) -> bool:
    """Whether the committed .mo differs from what its .po compiles to."""
    mo = po_path(locale).with_suffix(".mo")
    if not mo.exists():
        return True
    fresh = io.BytesIO()
    write_mo(fresh, read_catalog(locale))
    return mo.read_bytes() != fresh.getvalue()


def report(template: Catalog) -> dict[str, list[str]]:
    """Per language code, every line a translator has to act on (empty: all is well)."""
    found: dict[str, list[str]] = {}
    for code, locale in LOCALES.items():
        catalog = read_catalog(locale)
        lines = [f"missing: {message!r}" for message in missing(template, catalog)]
        lines += [f"placeholder: {problem}" for problem in mistakes(template, catalog)]
        if catalog.plural_forms != get_plural(locale).plural_forms:
            lines.append(
                f"the header's Plural-Forms is not Babel's: {get_plural(locale).plural_forms}"
            )
        if stale_compiled(locale):
            lines.append(
                "the .mo is not compiled from the .po: run scripts/translations.py compile"
            )
        if lines:
            found[code] = lines
    return found


def describe(problems: dict[str, list[str]]) -> str:
    out = []
    for code, lines in problems.items():
        out.append(f"{code} ({po_path(LOCALES[code]).relative_to(ROOT)}): {len(lines)}")
        out.extend(f"  {line}" for line in lines)
    return "\n".join(out)


def write_catalog(locale: str, catalog: Catalog) -> None:
    catalog.project, catalog.version = "moderation", "1"
    catalog.creation_date = catalog.revision_date = STAMP
    catalog.last_translator = catalog.language_team = "moderation developers"
    catalog.fuzzy = False
    path = po_path(locale)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=0, no_location=True, sort_output=True, ignore_obsolete=True)


def compile_all(locales: Iterable[str] = LOCALES.values()) -> None:
    for locale in locales:
        with po_path(locale).with_suffix(".mo").open("wb") as handle:
            write_mo(handle, read_catalog(locale))


def legacy_indonesian() -> dict[str, str | tuple[str, ...]]:
    """The earlier Indonesian table (``scripts/translations_id.py``), while branches that
    add to it merge: its entries fill Indonesian messages the catalog does not translate."""
    path = ROOT / "scripts" / "translations_id.py"
    if not path.exists():
        return {}
    spec = importlib.util.spec_from_file_location("translations_id", path)
    if spec is None or spec.loader is None:
        return {}
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    table = getattr(module, "INDONESIAN", {})
    return table if isinstance(table, dict) else {}


def extract() -> None:
    """Bring every catalog in line with the sources, then compile."""
    update_catalogs(source_messages(), legacy_indonesian())
    compile_all()


def update_catalogs(template: Catalog, indonesian: dict[str, str | tuple[str, ...]]) -> None:
    """New messages come into every catalog untranslated (Indonesian ones from the
    earlier table when it has them); messages no longer used go."""
    for locale in LOCALES.values():
        catalog = read_catalog(locale)
        # a copy each: update() adopts the template's new Message objects themselves
        catalog.update(copy.deepcopy(template), no_fuzzy_matching=True, update_header_comment=False)
        if locale == "id":
            fill_from(catalog, indonesian)
        write_catalog(locale, catalog)


def fill_from(catalog: Catalog, table: dict[str, str | tuple[str, ...]]) -> None:
    """Translate the catalog's untranslated messages that ``table`` has."""
    for message in catalog:
        if not message.id or all(forms(message)) or key(message) not in table:
            continue
        translated = table[key(message)]
        if message.pluralizable:
            wanted = get_plural(str(catalog.locale)).num_plurals
            plural = translated if isinstance(translated, tuple) else (translated,)
            message.string = tuple((list(plural) * wanted)[:wanted])
        elif isinstance(translated, str):
            message.string = translated


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "check"
    if command == "extract":
        extract()
    elif command == "compile":
        compile_all()
    elif command != "check":
        print(__doc__)
        return 2
    problems = report(source_messages())
    if problems:
        print(describe(problems))
        return 1
    print(f"all {len(LOCALES)} catalogs translate every message readers see")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
