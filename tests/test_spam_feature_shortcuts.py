"""The spam features' shortcuts give what the long way gives, for any text: a comment's
features (and so the stored counts learned from them) do not depend on which way it took.

Each shortcut skips work a cheap test shows to be unneeded (a substring, a bound, the
characters a host is made of); each test here compares it with the general computation.
"""

from __future__ import annotations

import ipaddress
import re
from itertools import groupby

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moderation.domain.spam.features import _MONEY, FeatureExtractor, _has_digit, _names_money
from moderation.domain.spam.text import (
    _TRAILING_PUNCTUATION,
    REPEATED_CHARACTER,
    URL_PATTERN,
    WORD_PATTERN,
    _is_link,
    find_links,
    is_ip_host,
    other_characters,
    script_shares,
    words_of,
)

pytestmark = pytest.mark.any_database

EXTRACTOR = FeatureExtractor(b"test-feature-key-0123456789abcdef")

#: Texts made of what the shortcuts look at (currency signs and words in any case, the
#: long s that matches "s" ignoring case, capitals, emoji, runs, word boundaries) and any
#: other character a comment can hold.
_TEXTS = st.lists(
    st.sampled_from(
        [
            *"$€£¥₹₽ \n_-'.!aAsSuUdDeErRbBtTcC\u017f\u0345\u00e9\u00c9\u0416\u0436\u4e2d",
            *(
                "usd",
                "USD",
                "u\u017fd",
                "Eur",
                "bTc",
                "usdt",
                "usd_",
                "eurx",
                "\U0001f600",
                "\u2615",
            ),
            *("AAAAA", "aaaa", "\n\n\n\n\n", "     ", "ÉÉÉÉÉ", "CHEAP", "FREE"),
        ]
    )
    | st.characters(exclude_categories=("Cs",)),
    max_size=40,
).map("".join)

_SETTINGS = settings(max_examples=500, deadline=None, derandomize=True, database=None)


@_SETTINGS
@given(text=_TEXTS)
def test_money_is_found_as_by_the_pattern(text: str) -> None:
    assert _names_money(text, text.casefold()) == (_MONEY.search(text) is not None)


def test_money_words_in_any_case_are_found() -> None:
    """The cases the substring tests must let through to the pattern."""
    for text in ("price 5 USD", "u\u017fd", "BTC only", "eur.", "$", "₽5", "usd_", "xusd"):
        assert _names_money(text, text.casefold()) == (_MONEY.search(text) is not None)
    assert _names_money("u\u017fd", "u\u017fd".casefold())
    assert not _names_money("usdx busd", "usdx busd")


@_SETTINGS
@given(text=_TEXTS)
def test_five_of_a_character_in_a_row_is_found_as_by_counting(text: str) -> None:
    runs = any(character != "\n" and len(list(run)) >= 5 for character, run in groupby(text))
    assert (REPEATED_CHARACTER.search(text) is not None) == runs


@_SETTINGS
@given(
    text=_TEXTS | st.text(alphabet=st.characters(categories=("Nd", "No", "Nl", "Ll")), max_size=8)
)
def test_a_digit_is_found_as_by_the_pattern(text: str) -> None:
    assert _has_digit(text, other_characters(text)) == (re.search(r"\d", text) is not None)


def _is_ip_the_long_way(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


@_SETTINGS
@given(
    host=st.lists(
        st.sampled_from([*"0123456789.:[]%abcdefx", "\u0661", "\uff11", "255", "::", "1.2.3.4"]),
        max_size=16,
    ).map("".join)
    | st.ip_addresses().map(str)
    | st.text(max_size=12)
)
def test_an_ip_host_is_told_as_ipaddress_tells(host: str) -> None:
    assert is_ip_host(host) == _is_ip_the_long_way(host)


_EMOJI = re.compile("[\U0001f300-\U0010ffff]")


@_SETTINGS
@given(text=_TEXTS)
def test_capitals_and_emoji_are_counted_as_character_by_character(text: str) -> None:
    """Most letters capitals, and emoji: the shape's bounds skip counts, never change them."""
    features: list[str] = []
    EXTRACTOR._shape(text, text.casefold(), other_characters(text), features)
    letters, _ = script_shares(text)
    upper = sum(character.isupper() for character in text)
    most = letters >= 12 and upper / letters > 0.6
    assert ("caps:most" in features) == most
    emoji = len(_EMOJI.findall(text))
    expected = {"emoji:many"} if emoji >= 5 else {"emoji:some"} if emoji else set()
    assert {feature for feature in features if feature.startswith("emoji:")} == expected


_WORDY = st.lists(
    st.sampled_from([*"aZ9_'\u2019 \n.-", "don't", "don\u2019t", "snake_case", "\u00e9", "\u4e2d"])
    | st.characters(exclude_categories=("Cs",)),
    max_size=30,
).map("".join)


@_SETTINGS
@given(text=_WORDY)
def test_words_are_the_words_of_the_pattern(text: str) -> None:
    assert words_of(text) == WORD_PATTERN.findall(text)


_LINKY = st.lists(
    st.sampled_from([*"a.:/ w-", "http://", "https://x", "www.", ".com", "example", "\u00e9"])
    | st.characters(exclude_categories=("Cs",)),
    max_size=20,
).map("".join)


@_SETTINGS
@given(text=_LINKY)
def test_links_are_the_links_of_the_pattern(text: str) -> None:
    """Without a dot or "://" there is no link to look for (a name usually)."""
    expected = [
        match.group(0).rstrip(_TRAILING_PUNCTUATION)
        for match in URL_PATTERN.finditer(text)
        if _is_link(match)
    ]
    assert find_links(text) == expected


def test_hosts_and_words_longer_than_names_are_worked_out_not_remembered() -> None:
    """A comment may carry a host or a word of thousands of characters: each is worked
    out the same way, but only names of a length DNS (a host) or a language (a word) could
    give are remembered, so thousands of hostile comments cannot fill a process's memory."""
    from moderation.domain.spam import features, text

    hosts = text._remembered_registered_part
    words = features._remembered_word_features
    long_host, long_word = "shop." + "\u4e2d" * 6000 + ".example.com", "z" * 6000
    before = hosts.cache_info().currsize, words.cache_info().currsize
    assert text.registered_domain(long_host) == "example.com"
    assert features._word_features(long_word) == ("long:80+",)
    assert (hosts.cache_info().currsize, words.cache_info().currsize) == before
    hosts.cache_clear()
    words.cache_clear()
    assert text.registered_domain("shop.example.co.uk") == "example.co.uk"
    assert features._word_features("word") == ("w:word",)
    assert (hosts.cache_info().currsize, words.cache_info().currsize) == (1, 1)
