"""Every string a visitor of the widget can see has an Indonesian translation."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

pytestmark = pytest.mark.any_database

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "moderation" / "translations" / "id" / "LC_MESSAGES"
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "_l": None}

#: Files whose messages reach a visitor of the widget or a caller of the public API.
VISITOR_FACING = [
    "templates/widget/page.html",
    "templates/widget/_thread.html",
    "templates/widget/_comment.html",
    "templates/widget/_form.html",
    "moderation/widget/forms.py",
    "moderation/widget/views.py",
    "moderation/api/public.py",
    "moderation/domain/comments.py",
    "moderation/domain/rules.py",
    "moderation/services/form_tokens.py",
    "moderation/web/templating.py",
    "moderation/web/door.py",
    "moderation/api/json_body.py",
    "moderation/web/errors.py",
    "moderation/services/submissions.py",
    "templates/privacy/_layout.html",
    "templates/privacy/request.html",
    "templates/privacy/sent.html",
    "templates/privacy/refused.html",
    "templates/privacy/link.html",
    "templates/privacy/erase.html",
    "templates/privacy/erased.html",
    "templates/mail/person_link.txt",
    "templates/mail/person_link.html",
    "moderation/privacy/forms.py",
    "moderation/privacy/views.py",
    "moderation/services/person_links.py",
]


def visitor_messages() -> set[str]:
    messages: set[str] = set()
    for relative in VISITOR_FACING:
        method = "python" if relative.endswith(".py") else "jinja2"
        for _line, message, _comments, _context in extract_from_file(
            method, str(ROOT / relative), keywords=KEYWORDS
        ):
            messages.add(message[0] if isinstance(message, tuple) else message)
    return messages


def test_every_visitor_message_is_translated() -> None:
    with (CATALOG / "messages.mo").open("rb") as handle:
        catalog = read_mo(handle)
    missing = []
    for message in sorted(visitor_messages()):
        entry = catalog.get(message)
        translated = entry.string if entry else None
        if isinstance(translated, tuple):
            translated = translated[0]
        if not translated:
            missing.append(message)
    assert not missing, f"untranslated: {missing}; run python scripts/translations_id.py"


def as_key(value: object) -> object:
    return tuple(value) if isinstance(value, list | tuple) else value


def test_compiled_catalog_matches_the_source() -> None:
    with (CATALOG / "messages.po").open("rb") as handle:
        source = {as_key(m.id): as_key(m.string) for m in read_po(handle) if m.id}
    with (CATALOG / "messages.mo").open("rb") as handle:
        compiled = {as_key(m.id): as_key(m.string) for m in read_mo(handle) if m.id and m.string}
    assert compiled == {key: value for key, value in source.items() if value and any(value)}


@pytest.mark.parametrize("placeholder", ["%(name)s", "%(max)d", "%(seconds)d", "%(star)s"])
def test_placeholders_survive_translation(placeholder: str) -> None:
    with (CATALOG / "messages.po").open("rb") as handle:
        for message in read_po(handle):
            original = message.id[0] if isinstance(message.id, tuple) else message.id
            translated = message.string[0] if isinstance(message.string, tuple) else message.string
            if original and translated and placeholder in original:
                assert placeholder in translated, original
