"""What a reader gets from a comment: the rules judge this, not the characters typed.

Markup can make the typed text and the shown text differ: ``v&#105;agra``,
``via<b></b>gra`` and ``vi&shy;agra`` all read "viagra"; ``<a/href="//spam.example">`` is
a link although it holds no ``http``. So the rules read the comment as rendered
(:func:`moderation.domain.rendering.render_comment`): :func:`read_html` takes the
sanitised HTML apart the way a browser shows it, and :func:`comparable` removes what a
reader cannot see (format characters such as zero-width spaces, joiners and soft hyphens)
and folds what looks alike by definition (Unicode NFKC: full-width and mathematical
letters, ligatures; case).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import unquote

#: Tags that start a new line for a reader: words on either side do not join.
_BLOCK_TAGS = {"p", "br", "blockquote"}

#: Every character of Unicode's category Cf ("format": zero-width space and joiners, soft
#: hyphen, word joiner, bidi controls, BOM, tag characters...), plus the other
#: "default ignorable" characters a browser draws as nothing (variation selectors, the
#: combining grapheme joiner, Hangul fillers, Mongolian selectors).
_INVISIBLE = re.compile(
    "["
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb"
    "\u0600-\u0605\u06dd\u070f\u0890\u0891\u08e2"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e0fff"
    "]"
)
#: An address written out for a reader, linked or not.
_SHOWN_URL = re.compile(r"https?://", re.IGNORECASE)


@dataclass(frozen=True)
class Reading:
    """Rendered HTML as a reader gets it."""

    #: the text shown, entities decoded, inline tags joining words, blocks on new lines
    text: str
    #: the part of ``text`` outside links (addresses shown there are not clickable)
    unlinked_text: str
    #: where each link goes (the ``href`` of every anchor that has one, decoded)
    links: tuple[str, ...]
    #: tooltips (``title`` attributes), shown on hover
    titles: tuple[str, ...]

    @property
    def link_count(self) -> int:
        """Links a reader meets: every link, plus every address shown as plain text."""
        return len(self.links) + len(_SHOWN_URL.findall(comparable(self.unlinked_text)))


class _Reader(HTMLParser):
    """Collects a :class:`Reading` (attribute values and text come entity-decoded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.unlinked: list[str] = []
        self.links: list[str] = []
        self.titles: list[str] = []
        self.open_links = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._boundary(tag)
        values = {name: value or "" for name, value in attrs}
        if values.get("title"):
            self.titles.append(values["title"])
        if tag == "a":
            self.open_links += 1
            self.unlinked.append(" ")
            if values.get("href", "").strip():
                self.links.append(values["href"].strip())

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "a":
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        self._boundary(tag)
        if tag == "a" and self.open_links:
            self.open_links -= 1
            self.unlinked.append(" ")

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if not self.open_links:
            self.unlinked.append(data)

    def _boundary(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self.text.append("\n")
            self.unlinked.append("\n")


def read_html(html: str) -> Reading:
    """What a reader gets from ``html`` (sanitised HTML, as the service renders it)."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return Reading(
        text="".join(reader.text),
        unlinked_text="".join(reader.unlinked),
        links=tuple(reader.links),
        titles=tuple(reader.titles),
    )


def comparable(text: str) -> str:
    """``text`` as a reader tells it apart: invisible characters removed, NFKC-normalised,
    case-folded, runs of whitespace made one space."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    # NFKC can produce no new invisible character, but removing one can join two letters
    # that compose (e + U+200B + combining accent): normalise once more
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(text.split())


def readings_of_link(href: str) -> tuple[str, ...]:
    """A link's address as typed and with its %-escapes decoded (a browser decodes
    ``sp%61m.example`` to ``spam.example`` before it connects)."""
    decoded = unquote(href)
    return (href,) if decoded == href else (href, decoded)
