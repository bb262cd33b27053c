"""The link and word rules judge what readers will see, not the characters typed.

A corpus of evasions, each of which a browser shows as the blocked word or as links: entities
(``v&#105;agra``), empty tags and comments splitting a word, soft hyphens, zero-width spaces
and joiners, word joiners and BOMs, full-width and mathematical letters, words in tooltips
and in percent-escaped link targets; anchors spelled ``<a/href=...>``, in capitals, with
entities in the href, protocol-relative, ``mailto:``; addresses split by tags or written in
full-width letters. Each goes through every door of a site whose rules should catch it
(:func:`test_every_evasion_is_caught_at_every_door`), and Chromium shows what a reader sees
of each with no rule on (:func:`test_chromium_shows_the_corpus_as_the_word_and_as_links`):
the corpus is made of real evasions, not of strings that only look like them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser, Route

from moderation.domain.reading import comparable
from tests.doors import DOORS, ORIGIN, Door
from tests.helpers import Actions, stored_comments


@dataclass(frozen=True)
class Evasion:
    """Fields of a comment that a reader sees as ``word`` (or as ``links`` links)."""

    name: str
    fields: dict[str, str]
    word: str = ""
    links: int = 0
    #: how many of the links are clickable (the others are addresses shown as text)
    clickable: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


WORD_EVASIONS = [
    Evasion("decimal entity", {"comment": "Cheap v&#105;agra here"}, "viagra"),
    Evasion("hex entity", {"comment": "Cheap v&#x69;agr&#x61; here"}, "viagra"),
    Evasion("named entity", {"comment": "Cheap vi&NoBreak;agra here"}, "viagra"),
    Evasion("empty tag inside", {"comment": "Cheap via<b></b>gra here"}, "viagra"),
    Evasion("inline tags around parts", {"comment": "Cheap v<i>ia</i>g<em>ra</em> here"}, "viagra"),
    Evasion("HTML comment inside", {"comment": "Cheap vi<!-- hidden -->agra here"}, "viagra"),
    Evasion("soft hyphen entity", {"comment": "Cheap vi&shy;agra here"}, "viagra"),
    Evasion("soft hyphen character", {"comment": "Cheap vi\u00adagra here"}, "viagra"),
    Evasion("zero-width space entity", {"comment": "Cheap via&#8203;gra here"}, "viagra"),
    Evasion("zero-width joiner entity", {"comment": "Cheap via&zwj;gra here"}, "viagra"),
    Evasion("zero-width non-joiner entity", {"comment": "Cheap via&zwnj;gra here"}, "viagra"),
    Evasion("word joiner entity", {"comment": "Cheap via&#x2060;gra here"}, "viagra"),
    Evasion("BOM entity", {"comment": "Cheap via&#xFEFF;gra here"}, "viagra"),
    Evasion("combining grapheme joiner", {"comment": "Cheap via\u034fgra here"}, "viagra"),
    Evasion("variation selector", {"comment": "Cheap via\ufe0fgra here"}, "viagra"),
    Evasion(
        "full-width letters", {"comment": "Cheap \uff56\uff49\uff41\uff47\uff52\uff41"}, "viagra"
    ),
    Evasion(
        "mathematical bold letters",
        {"comment": "Cheap \U0001d42f\U0001d422\U0001d41a\U0001d420\U0001d42b\U0001d41a"},
        "viagra",
    ),
    Evasion("upper case with entity", {"comment": "Cheap VI&#65;GRA"}, "viagra"),
    Evasion("in a tooltip", {"comment": 'Cheap <abbr title="v&#105;agra">pills</abbr>'}, "viagra"),
    Evasion(
        "percent-escaped link target",
        {"comment": '<a href="https://sp%61m.example/offer">a great offer</a>'},
        "spam.example",
    ),
    Evasion(
        "entity-escaped link target",
        {"comment": '<a href="https://sp&#97;m.example/offer">a great offer</a>'},
        "spam.example",
    ),
    Evasion(
        "name in full-width letters",
        {"author": "\uff36\uff49\uff41\uff47\uff52\uff41 Fan"},
        "viagra",
    ),
    Evasion("name with a soft hyphen", {"author": "Via\u00adgra Fan"}, "viagra"),
    Evasion("percent-escaped website", {"url": "https://sp%61m.example/"}, "spam.example"),
]


def _three(template: str) -> str:
    return " and ".join(template.format(n=n) for n in (1, 2, 3))


LINK_EVASIONS = [
    Evasion(
        "slash instead of a space",
        {"comment": _three('<a/href="//ads.example/{n}">deal {n}</a>')},
        links=3,
        clickable=3,
    ),
    Evasion(
        "capitals, no quotes",
        {"comment": _three("<A HREF=//ads.example/{n}>deal {n}</A>")},
        links=3,
        clickable=3,
    ),
    Evasion(
        "entities in the href",
        {"comment": _three('<a href="&#47;&#47;ads.example/{n}">deal {n}</a>')},
        links=3,
        clickable=3,
    ),
    Evasion(
        "entity-spelled scheme",
        {"comment": _three('<a href="&#104;ttps://ads.example/{n}">deal {n}</a>')},
        links=3,
        clickable=3,
    ),
    Evasion(
        "newline and tab in the tag",
        {"comment": _three('<a\n\thref="https://ads.example/{n}">deal {n}</a>')},
        links=3,
        clickable=3,
    ),
    Evasion(
        "mailto links",
        {"comment": _three('<a href="mailto:sales{n}@ads.example">mail {n}</a>')},
        links=3,
        clickable=3,
    ),
    Evasion(
        "address split by an empty tag (shown, not clickable)",
        {"comment": _three("ht<b></b>tps://ads.example/{n}")},
        links=3,
    ),
    Evasion(
        "address in full-width letters (shown, not clickable)",
        {"comment": _three("\uff48\uff54\uff54\uff50\uff53\uff1a\uff0f\uff0fads.example/{n}")},
        links=3,
    ),
    Evasion(
        "two anchors and a bare address",
        {
            "comment": '<a href="//ads.example/1">one</a> <a/href="//ads.example/2">two</a> '
            "https://ads.example/3"
        },
        links=3,
        clickable=3,
    ),
]


@pytest.fixture
def config_overrides() -> dict[str, Any]:
    """Room for the whole corpus from one address; the limits have their own tests."""
    return {
        "LIMIT_SUBMIT_PER_ADDRESS": "100000/hour",
        "LIMIT_SUBMIT_PER_EMAIL": "100000/hour",
        "LIMIT_SUBMIT_PER_SITE": "100000/hour",
    }


@pytest.fixture(params=DOORS, ids=lambda door: door.name)
def door(request: pytest.FixtureRequest, app: Flask, client: FlaskClient) -> Door:
    return request.param(app, client)  # type: ignore[no-any-return]


def post_corpus(door: Door, corpus: list[Evasion]) -> dict[str, dict[str, Any]]:
    """Post every evasion on a thread of its own; what was stored, by evasion name."""
    for number, evasion in enumerate(corpus):
        fields = {"email": f"person{number}@example.org", **evasion.fields}
        answer = door.post(thread=f"evasion-{number}", **fields)
        assert answer.accepted, (evasion.name, answer.status, answer.text[:300])
    stored = stored_comments(door.app)
    assert len(stored) == len(corpus)
    return {evasion.name: row for evasion, row in zip(corpus, stored, strict=True)}


def test_every_evasion_is_caught_at_every_door(door: Door, actions: Actions) -> None:
    actions.create_site(
        "blog",
        [ORIGIN],
        policy="open",
        flood_seconds=0,
        max_links=2,
        blocked_words="viagra, spam.example",
    )
    stored = post_corpus(door, WORD_EVASIONS + LINK_EVASIONS)
    missed = {}
    for evasion in WORD_EVASIONS:
        row = stored[evasion.name]
        if (row["status"], row["rule"]) != ("spam", "blocked_words") or (
            repr(evasion.word) not in row["reason"]
        ):
            missed[evasion.name] = (row["status"], row["rule"], row["reason"])
    for evasion in LINK_EVASIONS:
        row = stored[evasion.name]
        if (row["status"], row["rule"]) != ("pending", "too_many_links") or (
            f"Contains {evasion.links} links" not in row["reason"]
        ):
            missed[evasion.name] = (row["status"], row["rule"], row["reason"])
    assert missed == {}


def test_what_readers_do_not_see_as_links_or_words_passes(door: Door, actions: Actions) -> None:
    """The controls: markup that shows no link (a ``javascript:`` anchor loses its href, a
    ``www.`` name is not made a link), words only near each other, and words split by a
    paragraph are published; a rule that held everything would pass the test above."""
    actions.create_site(
        "blog", [ORIGIN], policy="open", flood_seconds=0, max_links=2, blocked_words="viagra"
    )
    controls = [
        Evasion("script anchors", {"comment": _three('<a href="javascript:go({n})">x{n}</a>')}),
        Evasion("www names", {"comment": _three("www.site{n}.example")}),
        Evasion("words apart", {"comment": "via the agra road, via gra"}),
        Evasion("paragraphs apart", {"comment": "via\n\ngra"}),
        Evasion("escaped markup", {"comment": "&lt;b&gt;via&lt;/b&gt;gra"}),
    ]
    stored = post_corpus(door, controls)
    assert {name: row["status"] for name, row in stored.items()} == dict.fromkeys(
        stored, "approved"
    )


# ------------------------------------------------------------------------- in Chromium

SERVICE = "http://moderation.test"

#: Per comment on the page: its visible text (as a reader would tell it apart: invisible
#: characters dropped, NFKC, lower case), the links a reader can click, and its tooltips.
READ_COMMENTS = r"""
() => Array.from(document.querySelectorAll("li.comment")).map((item) => {
  const content = item.querySelector(".comment-content");
  const seen = (text) => text.replace(/[\p{Cf}\u034f\ufe00-\ufe0f]/gu, "").normalize("NFKC").toLowerCase();
  return {
    author: seen(item.querySelector(".fn").innerText),
    website: (item.querySelector(".fn a") || {href: ""}).href,
    text: seen(content.innerText),
    clickable: Array.from(content.querySelectorAll("a[href]")).filter((a) => a.getAttribute("href").trim()).map((a) => a.href),
    titles: Array.from(content.querySelectorAll("[title]")).map((e) => seen(e.title)),
  };
})
"""


@pytest.mark.browser
def test_chromium_shows_the_corpus_as_the_word_and_as_links(
    app: Flask, client: FlaskClient, actions: Actions, browser: Browser
) -> None:
    """With no rule on, every evasion is published, and the widget page in Chromium shows it
    as the blocked word (in the text, a tooltip, a link's host or the name) or as links."""
    actions.create_site("blog", [ORIGIN], policy="open", flood_seconds=0, max_links=100)
    corpus = WORD_EVASIONS + LINK_EVASIONS
    door = DOORS[0](app, client)
    for number, evasion in enumerate(corpus):
        fields = {"email": f"reader{number}@example.org", **evasion.fields}
        assert door.post(thread="corpus", **fields).accepted, evasion.name

    def answer(route: Route) -> None:
        path = route.request.url.removeprefix(SERVICE)
        if not path.startswith("/w/"):
            route.abort()
            return
        response = client.get(path)
        route.fulfill(
            status=response.status_code, body=response.get_data(), content_type="text/html"
        )

    context = browser.new_context()
    context.route("**/*", answer)
    try:
        page = context.new_page()
        page.goto(f"{SERVICE}/w/blog?thread=corpus", wait_until="load")
        shown = page.evaluate(READ_COMMENTS)
    finally:
        context.close()
    assert len(shown) == len(corpus)
    wrong = {}
    for evasion, seen in zip(corpus, shown, strict=True):
        if evasion.word:
            readings = [seen["text"], seen["author"], *seen["titles"]]
            readings += [
                re.sub(r"^[a-z]+://", "", href) for href in [*seen["clickable"], seen["website"]]
            ]
            if not any(comparable(evasion.word) in reading for reading in readings):
                wrong[evasion.name] = seen
        else:
            shown_addresses = len(re.findall(r"https?://", seen["text"]))
            if len(seen["clickable"]) != evasion.clickable or (
                evasion.clickable + shown_addresses < evasion.links
            ):
                wrong[evasion.name] = seen
    assert wrong == {}


def test_every_invisible_format_character_is_ignored() -> None:
    """Every character of Unicode's category Cf (in this Python's Unicode database) is
    dropped before words are compared: none can split a word unseen."""
    import sys
    import unicodedata

    kept = [
        f"U+{code:04X}"
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) == "Cf" and comparable(f"a{chr(code)}b") != "ab"
    ]
    assert kept == []
