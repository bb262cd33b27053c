"""The spam classifier's features: deterministic, informative, and never personal in clear."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moderation.domain.spam import (
    MAX_FEATURE_LENGTH,
    FeatureExtractor,
    Submission,
    describe,
)
from moderation.domain.spam.features import MAX_FEATURES
from moderation.domain.spam.text import (
    find_links,
    registered_domain,
    remove_links,
    script_of,
    script_shares,
    split_links,
)

pytestmark = pytest.mark.any_database

KEY = b"test-feature-key-0123456789abcdef"
EXTRACTOR = FeatureExtractor(KEY)

SPAMMY = Submission(
    text=(
        "Great post!!! Buy cheap viagra at https://cheap-pills-online.example/buy?ref=12 "
        "or mail joe.bloggs@mailbox.example, call +1 555 123 4567, server 198.51.100.23"
    ),
    author="Best Casino 2024",
    email="Joe.Bloggs123@gmail.com",
    url="https://casino-bonus-deals.example/free-spins",
    network="203.0.113.0/24",
)


def features_of(**fields: object) -> frozenset[str]:
    """The features of a submission built from ``fields``."""
    return EXTRACTOR.extract(Submission(**fields))  # type: ignore[arg-type]


def test_same_input_and_key_give_the_same_features() -> None:
    assert EXTRACTOR.extract(SPAMMY) == FeatureExtractor(KEY).extract(SPAMMY)


def test_no_email_or_ip_address_appears_in_clear() -> None:
    features = EXTRACTOR.extract(SPAMMY)
    joined = " ".join(features).lower()
    for personal in (
        "joe.bloggs123@gmail.com",
        "joe.bloggs123",
        "gmail.com",
        "joe.bloggs@mailbox.example",
        "mailbox.example",
        "203.0.113",
        "198.51.100.23",
        "555 123 4567",
        "5551234567",
    ):
        assert personal not in joined
    assert {"text:email", "text:ip", "text:phone", "email:freemail", "email:digits"} <= features


def test_personal_fields_become_keyed_hashes() -> None:
    features = EXTRACTOR.extract(SPAMMY)
    hashed = {feature for feature in features if ":h:" in feature}
    assert {feature.split(":h:")[0] for feature in hashed} == {"email", "emaildom", "net"}
    other = FeatureExtractor(b"another-key-0123456789abcdef0123").extract(SPAMMY)
    assert hashed.isdisjoint(other)
    assert features - hashed == other - {f for f in other if ":h:" in f}
    assert EXTRACTOR.personal_features(" JOE.Bloggs123@GMAIL.com ") <= features


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        FeatureExtractor(b"short")


def test_links_give_domains_top_level_domains_words_and_count() -> None:
    features = EXTRACTOR.extract(SPAMMY)
    assert {
        "link:cheap-pills-online.example",
        "tld:example",
        "links:1",
        "u:cheap",
        "u:pills",
        "u:buy",
        "linkkind:hyphens",
    } <= features
    assert "link:mailbox.example" not in features  # an address's domain is not a link


def test_website_field_gives_its_domain_and_shape() -> None:
    features = EXTRACTOR.extract(SPAMMY)
    assert {"site:casino-bonus-deals.example", "siteflag:deep", "siteflag:hyphens"} <= features
    assert "site:none" in features_of(text="hello there")


def test_name_patterns() -> None:
    features = EXTRACTOR.extract(SPAMMY)
    assert {"n:best", "n:casino", "name:digits", "name:words:3"} <= features
    assert "name:caps" in features_of(text="hi", author="CHEAP WATCHES")
    assert "name:url" in features_of(text="hi", author="www.cheap-tickets.example")
    assert "name:separators" in features_of(text="hi", author="bestvpn | top deals")
    assert "name:in_email" in features_of(text="hi", author="Anna K", email="anna.k@example.org")


def test_scripts_and_letter_mixing() -> None:
    assert "script:cyrillic" in features_of(text="Отличный пост, спасибо!")
    mixed = features_of(text="Buy v\u0456\u0430gr\u0430 online")  # two Cyrillic letters in a word
    assert {"mixedword", "scripts:cyrillic+latin"} <= mixed
    assert script_of("ж") == "cyrillic"
    assert script_of("漢") == "han"
    assert script_of("1") == "other"


def test_unspaced_scripts_become_character_pairs() -> None:
    features = features_of(text="谢谢分享")
    assert {"w:谢谢", "w:谢分", "w:分享", "script:han"} <= features


def test_full_width_text_folds_to_plain_letters() -> None:
    plain = "Free money https://free-cash.example"
    wide = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in plain)
    features = features_of(text=wide)
    assert {"w:free", "w:money", "link:free-cash.example"} <= features


def test_length_repetition_capitals_and_punctuation() -> None:
    features = features_of(text="CHEAP CHEAP CHEAP WATCHES BUY NOW!!!!! cheap cheap cheap cheap")
    assert {"len:<100", "rep:char", "rep:words", "caps:words", "excl:many"} <= features
    assert "len:<20" in features_of(text="Nice post")


def test_replies_are_marked() -> None:
    assert "reply" in features_of(text="Agreed", is_reply=True)
    assert "toplevel" in features_of(text="Agreed")


def test_a_huge_comment_stays_bounded() -> None:
    text = " ".join(f"word{index}x" for index in range(20_000)) + " " + "z" * 500
    features = features_of(text=text, author="Ann", email="ann@example.org")
    assert len(features) <= MAX_FEATURES
    assert {"n:ann", "name:in_email", "email:custom", "site:none", "toplevel"} <= features
    assert max(len(feature) for feature in features) <= MAX_FEATURE_LENGTH


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("www.example.com", "example.com"),
        ("shop.example.co.uk", "example.co.uk"),
        ("a.b.example.org", "example.org"),
        ("192.0.2.1", "ip"),
        ("localhost", "localhost"),
    ],
)
def test_registered_domain(host: str, expected: str) -> None:
    assert registered_domain(host) == expected


@pytest.mark.parametrize(
    ("feature", "phrase"),
    [
        ("link:casino.example", "link to casino.example"),
        ("w:viagra", "word 'viagra'"),
        ("n:casino", "name word 'casino'"),
        ("site:casino.example", "website casino.example"),
        ("email:h:0123456789abcdef", "this email address"),
        ("net:h:0123456789abcdef", "this sender's network"),
        ("scripts:cyrillic+latin", "mixed cyrillic and latin script"),
        ("name:words:4+", "4+ words in the name"),
        ("links:0", "no links"),
        ("unknown:thing", "unknown:thing"),
    ],
)
def test_features_read_as_phrases(feature: str, phrase: str) -> None:
    assert describe(feature) == phrase


@pytest.mark.parametrize(
    "text",
    [
        "a." * 32_000,  # took 38 s with a backtracking domain pattern
        "ab." * 21_000 + "com",
        "1." * 32_000,
        "a-b-c-d." * 8_000 + "com",
        "a.b+" * 16_000 + "@",
        "1-" * 32_000,
        "a'" * 32_000,
        "-" * 65_000,
    ],
)
def test_hostile_text_is_read_in_linear_time(text: str) -> None:
    started = time.perf_counter()
    features_of(text=text, author=text[:245], url="http://" + text[:190])
    assert time.perf_counter() - started < 0.25


def test_links_are_found_and_other_dotted_words_are_not() -> None:
    text = "see example.com, www.foo.org/x, https://a.b/c?d=1. e.g. file.txt 3.14 shop.ex.co.uk/p"
    assert find_links(text) == [
        "example.com",
        "www.foo.org/x",
        "https://a.b/c?d=1",
        "shop.ex.co.uk/p",
    ]


_TEXTS = st.lists(
    st.sampled_from(
        [
            *"aZ 09.,@:/-_'!\n\u00e9\u0416\u4e2d\u304b\u2019\U0001f600$\u20ac",
            "http://",
            "https://x.example/a-b",
            "www.",
            ".com",
            "a@b.example",
            "10.1.2.3",
        ]
    ),
    max_size=30,
).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_TEXTS)
def test_links_found_and_removed_in_one_pass_as_in_two(text: str) -> None:
    """The extractor finds and blanks links in one pass; the same as the two functions."""
    assert split_links(text) == (find_links(text), remove_links(text))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_TEXTS)
def test_script_shares_count_letters_as_one_by_one(text: str) -> None:
    """Letters are counted a character at a time in the reference: the same shares, in the
    same order (ties keep the order scripts first appear in)."""
    counts: Counter[str] = Counter()
    ascii_letters = sum(1 for c in text if c.isascii() and c.isalpha())
    if ascii_letters:
        counts["latin"] = ascii_letters
    for character in text:
        if not character.isascii() and character.isalpha():
            counts[script_of(character)] += 1
    letters = sum(counts.values())
    expected = [(script, count / letters) for script, count in counts.most_common()]
    assert script_shares(text) == (letters, expected)


def test_remembered_senders_and_words_give_the_features_of_a_first_meeting() -> None:
    """Senders' and words' features are remembered: a new extractor (nothing remembered)
    and one that met them before give the same features."""
    seasoned = FeatureExtractor(KEY)
    for _ in range(3):
        seasoned.extract(SPAMMY)
    reply = Submission(text="Ok 中文 Жж", author=SPAMMY.author, email=SPAMMY.email, is_reply=True)
    seasoned.extract(reply)
    assert seasoned.extract(SPAMMY) == FeatureExtractor(KEY).extract(SPAMMY)
    assert seasoned.extract(reply) == FeatureExtractor(KEY).extract(reply)
