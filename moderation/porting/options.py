"""What a reader can be told: how to key threads, how to map statuses, how long a text may be."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit

from moderation.porting.records import MAX_TEXT_LENGTH, Status


class ThreadKeying(StrEnum):
    """How a page becomes a thread key.

    ``path`` (default): the URL's path, with its query when it has one
    (``https://blog.example/?p=4`` → ``/?p=4``), as WordPress sites without pretty
    permalinks need; ``url``: the whole URL as written; ``source_id``: the source's own
    identifier of the page (WordPress post id, Disqus identifier, Isso thread id).
    """

    PATH = "path"
    URL = "url"
    SOURCE_ID = "source_id"


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """Options every reader takes.

    ``status_overrides`` are merged over the format's default map (see
    :func:`~moderation.porting.statuses.parse_status_map`). Texts longer than
    ``max_text_length`` characters are refused.
    """

    keying: ThreadKeying = ThreadKeying.PATH
    status_overrides: Mapping[str, Status] = field(default_factory=dict)
    max_text_length: int = MAX_TEXT_LENGTH


def path_key(url: str) -> str:
    """The path of ``url`` (``/`` when empty) with ``?query`` when there is one.

    Percent-escapes are kept as written: a browser's ``location.pathname`` keeps them too.
    """
    parts = urlsplit(url.strip())
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def choose_key(keying: ThreadKeying, url: str, source_id: str) -> str:
    """The thread key for a page under ``keying``; empty when the page lacks what it needs.

    With ``source_id`` keying a page without an identifier falls back to its path, and the
    other way round, so that a page is keyed whenever it can be.
    """
    if keying is ThreadKeying.SOURCE_ID and source_id:
        return source_id
    if keying is ThreadKeying.URL and url.strip():
        return url.strip()
    if url.strip():
        return path_key(url)
    return source_id
