"""The rules every comment field follows, whichever door it came in by.

WordPress's limits and field names: ``comment`` (65,525 characters), ``author`` (245),
``email`` (100), ``url`` (200), ``comment_parent``. Whitespace-only counts as empty and
control characters are removed before anything is checked.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from moderation.domain.errors import N_, FieldError, InvalidFields
from moderation.domain.numbers import parse_id

MAX_COMMENT = 65_525
MAX_AUTHOR = 245
MAX_EMAIL = 100
MAX_URL = 200

FIELDS = ("comment", "author", "email", "url", "comment_parent")

# C0/C1 controls except tab and newlines; plus bidi overrides/isolates, which can make a
# name read backwards ("RLO attacks"), and zero-width characters that hide content.
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
    "\ud800-\udfff]"  # lone surrogates: not text, and no database can store them
)
# in single-line fields newlines and tabs are also controls
_LINE_BREAKS = re.compile(r"[\t\r\n\u2028\u2029]+")


@dataclass(frozen=True)
class CommentDraft:
    """A comment whose fields passed every rule, normalised."""

    text: str
    author: str
    email: str
    url: str = ""
    parent_id: int | None = None


def strip_controls(value: str, single_line: bool = False) -> str:
    """Remove control and invisible formatting characters; NFC-normalise."""
    text = unicodedata.normalize("NFC", value)
    text = _CONTROL.sub("", text)
    if single_line:
        text = _LINE_BREAKS.sub(" ", text)
    else:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.strip()


def clean_text(value: str) -> str:
    """The comment: required, at most 65,525 characters."""
    text = strip_controls(value)
    if not text:
        raise FieldError(N_("Please type your comment."))
    if len(text) > MAX_COMMENT:
        raise FieldError(
            N_("Your comment is too long (at most %(max)d characters)."), max=MAX_COMMENT
        )
    return text


def clean_author(value: str) -> str:
    """The name: required, one line, at most 245 characters."""
    author = re.sub(r"\s{2,}", " ", strip_controls(value, single_line=True))
    if not author:
        raise FieldError(N_("Please enter your name."))
    if len(author) > MAX_AUTHOR:
        raise FieldError(N_("Your name is too long (at most %(max)d characters)."), max=MAX_AUTHOR)
    return author


def clean_email(value: str, check_deliverability: bool = False) -> str:
    """The email: required, valid, at most 100 characters, stored normalised."""
    email = strip_controls(value, single_line=True)
    if not email:
        raise FieldError(N_("Please enter your email address."))
    if len(email) > MAX_EMAIL:
        raise FieldError(
            N_("Your email address is too long (at most %(max)d characters)."), max=MAX_EMAIL
        )
    try:
        checked = validate_email(email, check_deliverability=check_deliverability, strict=True)
    except EmailNotValidError:
        raise FieldError(N_("Please enter a valid email address.")) from None
    normalized = checked.normalized
    if len(normalized) > MAX_EMAIL:
        raise FieldError(
            N_("Your email address is too long (at most %(max)d characters)."), max=MAX_EMAIL
        )
    # the domain part is case-insensitive; keep the local part as typed
    return normalized


def clean_url(value: str, max_length: int = MAX_URL) -> str:
    """The website: optional, http(s) only, at most 200 characters (WordPress's limit)."""
    url = strip_controls(value, single_line=True)
    if not url:
        return ""
    if (
        "://" not in url
        and not url.startswith("//")
        and re.match(r"^[\w.-]+\.[a-z]{2,}(/|$)", url, re.I)
    ):
        url = "https://" + url  # WordPress accepts "example.com"
    if len(url) > max_length:
        raise FieldError(
            N_("Your website address is too long (at most %(max)d characters)."), max=max_length
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on an invalid port
    except ValueError:
        raise FieldError(
            N_("Please enter a website address starting with http:// or https://.")
        ) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or " " in url:
        raise FieldError(N_("Please enter a website address starting with http:// or https://."))
    return url


def clean_parent(value: object) -> int | None:
    """The comment replied to: empty or 0 for none, else a positive id."""
    if value is None:
        return None
    text = str(value).strip()
    if text in ("", "0"):
        return None
    number = parse_id(text)
    if number is None:
        raise FieldError(N_("The comment you are replying to does not exist."))
    return number


def validate_draft(raw: Mapping[str, object], check_deliverability: bool = False) -> CommentDraft:
    """THE field check of every door (the widget form, the JSON API, the webhook): each
    field cleaned by its rule; :class:`InvalidFields` carries every field's message.

    Values are text; a whole number counts as its digits (JSON front ends send
    ``comment_parent`` as a number). Anything else is refused as not text.
    """
    cleaners: dict[str, Callable[[str], object]] = {
        "comment": clean_text,
        "author": clean_author,
        "email": lambda value: clean_email(value, check_deliverability),
        "url": clean_url,
        "comment_parent": clean_parent,
    }
    errors: dict[str, str | FieldError] = {}
    cleaned: dict[str, object] = {}
    for name, cleaner in cleaners.items():
        value = raw.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if value is not None and not isinstance(value, str):
            errors[name] = N_("This field must be text.")
            continue
        try:
            cleaned[name] = cleaner(value or "")
        except FieldError as error:
            errors[name] = error
    if errors:
        raise InvalidFields(errors)
    parent = cleaned["comment_parent"]
    return CommentDraft(
        text=str(cleaned["comment"]),
        author=str(cleaned["author"]),
        email=str(cleaned["email"]),
        url=str(cleaned["url"]),
        parent_id=parent if isinstance(parent, int) else None,
    )
