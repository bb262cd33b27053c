"""Cheap text measurements the spam features are made of: scripts, links, domains.

Everything here is a pure function of a string, uses only the standard library, and is
fast enough to run on every submission (no per-character ``unicodedata.name`` calls: the
writing system of a letter comes from a sorted table of code-point ranges).
"""

from __future__ import annotations

import bisect
import ipaddress
import re
from collections import Counter
from functools import lru_cache
from operator import itemgetter
from urllib.parse import urlsplit

from moderation.domain.websites import hostname

#: (first code point, last code point, script) for the writing systems spam and ham
#: differ on; letters outside these ranges count as "other".
_SCRIPT_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x005A, "latin"),
    (0x0061, 0x007A, "latin"),
    (0x00C0, 0x024F, "latin"),
    (0x0370, 0x03FF, "greek"),
    (0x0400, 0x052F, "cyrillic"),
    (0x0530, 0x058F, "armenian"),
    (0x0590, 0x05FF, "hebrew"),
    (0x0600, 0x06FF, "arabic"),
    (0x0750, 0x077F, "arabic"),
    (0x0900, 0x097F, "devanagari"),
    (0x0980, 0x09FF, "bengali"),
    (0x0E00, 0x0E7F, "thai"),
    (0x10A0, 0x10FF, "georgian"),
    (0x1100, 0x11FF, "hangul"),
    (0x1E00, 0x1EFF, "latin"),
    (0x3040, 0x30FF, "kana"),
    (0x3130, 0x318F, "hangul"),
    (0x3400, 0x4DBF, "han"),
    (0x4E00, 0x9FFF, "han"),
    (0xAC00, 0xD7AF, "hangul"),
    (0xF900, 0xFAFF, "han"),
    (0xFB50, 0xFDFF, "arabic"),
    (0xFE70, 0xFEFF, "arabic"),
    (0x20000, 0x2FA1F, "han"),
)
_RANGE_STARTS = [start for start, _, _ in _SCRIPT_RANGES]

#: Scripts written without spaces between words: tokenised as character pairs.
UNSPACED_SCRIPTS = frozenset({"han", "kana", "thai"})

#: Hosts that only redirect elsewhere: a link through one hides where it goes.
URL_SHORTENERS = frozenset(
    {
        "bit.ly",
        "bitly.com",
        "tinyurl.com",
        "t.co",
        "goo.gl",
        "ow.ly",
        "is.gd",
        "buff.ly",
        "cutt.ly",
        "rebrand.ly",
        "shorturl.at",
        "t.ly",
        "rb.gy",
        "tiny.cc",
        "s.id",
        "v.gd",
        "clck.ru",
        "linktr.ee",
    }
)

#: Second-level labels under which registrations happen one level deeper
#: ("example.co.uk", not "co.uk"): a short list covers most comment spam and ham.
_SECOND_LEVEL = frozenset(
    {"co", "com", "net", "org", "gov", "edu", "ac", "or", "ne", "go", "gob", "nic", "mil", "web"}
)

#: Top-level domains common enough to recognise a bare "example.com" in text.
_BARE_TLDS = (
    "com|net|org|info|biz|ru|su|ua|xyz|top|online|site|shop|store|club|io|co|me|cc|tk|ml|ga|cf|"
    "gq|pw|ws|in|uk|de|fr|es|it|nl|pl|br|id|my|cn|jp|kr|vn|au|ca|us|eu|app|dev|live|pro|link|"
    "click|win|bid|loan|vip|bet|casino|today|best|fun|space|website|example"
)
_BARE_TLD_SET = frozenset(_BARE_TLDS.split("|"))
# Every pattern here runs on untrusted text of up to 12,000 characters, so none may
# backtrack: a look-behind starts a match only where a run starts, and possessive
# quantifiers (++, {m,n}+) never give back what they took. A bare "name.tld" is a
# candidate here and a link only if its top-level domain is a known one (find_links).
URL_PATTERN = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'\[\]{}|\\^`]++"
    r"|(?<![\w.@-])(?:[a-z0-9-]++\.)++(?P<tld>[a-z]{2,}+)(?![\w-])(?:/[^\s<>\"']*+)?",
    re.IGNORECASE,
)
EMAIL_PATTERN = re.compile(r"(?<![\w.+-])[\w.+-]++@[\w-]+(?:\.[\w-]+)+")
IPV4_PATTERN = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
PHONE_PATTERN = re.compile(r"(?<![\d+])\+?\d(?:[ ().-]{0,3}+\d){7,15}+")
#: What joins two parts of one word ("don't", "don\u2019t").
_APOSTROPHES = "'\u2019"
WORD_PATTERN = re.compile(f"[^\\W_]+(?:[{_APOSTROPHES}][^\\W_]+)*")
#: ``WORD_PATTERN`` in a text without an underscore or an apostrophe (found faster).
_PLAIN_WORD = re.compile(r"\w+")
#: Five of a character in a row ("!!!!!", "sooooo"); a presence test: five and no more is
#: the same answer, found faster than "four or more repeats" (no repeat to extend).
REPEATED_CHARACTER = re.compile(r"(.)\1\1\1\1")
_ASCII_LETTER = re.compile(r"[A-Za-z]")
_NOT_ASCII_LETTERS = bytes(b for b in range(256) if not chr(b).isascii() or not chr(b).isalpha())
_ASCII_RUN = re.compile(r"[\x00-\x7f]+")
_TRAILING_PUNCTUATION = ".,;:!?)]}>'\""


def script_of(character: str) -> str:
    """The writing system of one letter ("latin", "cyrillic", "han", …, or "other")."""
    code = ord(character)
    index = bisect.bisect_right(_RANGE_STARTS, code) - 1
    if index >= 0:
        start, end, script = _SCRIPT_RANGES[index]
        if start <= code <= end:
            return script
    return "other"


@lru_cache(maxsize=4096)  # a text's letters come from a small alphabet
def _letter_script(character: str) -> str:
    """``script_of`` a letter, "" for any other character."""
    return script_of(character) if character.isalpha() else ""


def other_characters(text: str) -> Counter[str]:
    """How often each non-ASCII character occurs in ``text``, in order of first appearance
    (what :func:`script_shares` and a caller's other counts of them can share)."""
    return Counter() if text.isascii() else Counter(_ASCII_RUN.sub("", text))


def script_shares(
    text: str, others: Counter[str] | None = None
) -> tuple[int, list[tuple[str, float]]]:
    """The number of letters and each script's share of them, largest first; ``others``:
    ``other_characters(text)``, when the caller has it already."""
    # UTF-8 writes every other character with bytes >= 0x80: what is left is A-Z and a-z
    ascii_letters = len(text.encode("utf-8", "surrogatepass").translate(None, _NOT_ASCII_LETTERS))
    if text.isascii():  # (most names, many comments): Latin or no letters
        return (ascii_letters, [("latin", 1.0)]) if ascii_letters else (0, [])
    if others is None:
        others = other_characters(text)
    counts = {"latin": ascii_letters} if ascii_letters else {}
    # each distinct character once, in order of first appearance: scripts then enter the
    # counts in the same order as letter by letter (ties keep that order)
    for character, count in others.items():
        script = _letter_script(character)
        if script:
            counts[script] = counts.get(script, 0) + count
    letters = sum(counts.values())
    if not letters:
        return 0, []
    # largest first, ties in the order counted (as Counter.most_common sorts)
    ranked = sorted(counts.items(), key=itemgetter(1), reverse=True)
    return letters, [(script, count / letters) for script, count in ranked]


def words_of(text: str) -> list[str]:
    """``WORD_PATTERN.findall(text)``: without an underscore there is no word character
    to leave out, and without an apostrophe no words to join, so a word is then any run
    of word characters."""
    if "_" in text or any(apostrophe in text for apostrophe in _APOSTROPHES):
        return WORD_PATTERN.findall(text)
    return _PLAIN_WORD.findall(text)


def token_scripts(token: str) -> set[str]:
    """The scripts one word is written in (more than one in a letter-mixing disguise)."""
    if token.isascii():
        return {"latin"} if _ASCII_LETTER.search(token) else set()
    return {script_of(character) for character in token if character.isalpha()}


def _is_link(match: re.Match[str]) -> bool:
    """Whether a URL-shaped match is a link: a scheme or "www.", or a known top level."""
    tld = match.group("tld")
    return tld is None or tld.lower() in _BARE_TLD_SET


def find_links(text: str) -> list[str]:
    """The URLs and bare domains in a comment, in order, trailing punctuation removed."""
    if "." not in text and "://" not in text:
        return []  # every link has a scheme or a dot: none here
    return [
        match.group(0).rstrip(_TRAILING_PUNCTUATION)
        for match in URL_PATTERN.finditer(text)
        if _is_link(match)
    ]


def split_links(text: str) -> tuple[list[str], str]:
    """``find_links(text)`` and ``remove_links(text)`` in one pass over the text."""
    if "." not in text and "://" not in text:
        return [], text  # every link has a scheme or a dot: none here
    links: list[str] = []
    kept: list[str] = []
    end = 0
    for match in URL_PATTERN.finditer(text):
        if _is_link(match):
            links.append(match.group(0).rstrip(_TRAILING_PUNCTUATION))
            kept.append(text[end : match.start()])
            kept.append(" ")
            end = match.end()
    if not links:
        return links, text
    kept.append(text[end:])
    return links, "".join(kept)


def remove_links(text: str) -> str:
    """The text with every link blanked out (what ``find_links`` found)."""
    return URL_PATTERN.sub(lambda match: " " if _is_link(match) else match.group(0), text)


def host_of(link: str) -> str:
    """The lower-case host of a URL, bare domain or "www." address ("" if none)."""
    return hostname(link if "://" in link else "http://" + link)


def is_ip_host(host: str) -> bool:
    """Whether a host is an IP literal rather than a name."""
    address = host.strip("[]")
    if ":" not in address and not address.replace(".", "").isdecimal():
        return False  # no IPv6 address without a colon, no IPv4 one with a non-digit
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def registered_domain(host: str) -> str:
    """The part of a host someone registered: "shop.example.co.uk" → "example.co.uk".

    Links, websites and addresses name the same domains again: hosts are remembered, up
    to the longest name DNS allows (a link in a comment may carry a host of thousands of
    characters: 4,096 of those would hold a web process's memory hostage)."""
    if len(host) > _LONGEST_HOST:
        return _registered_part(host)
    return _remembered_registered_part(host)


def _registered_part(host: str) -> str:
    """:func:`registered_domain`, worked out."""
    if is_ip_host(host):
        return "ip"
    labels = [label for label in host.split(".") if label]
    if labels and labels[0] == "www":
        labels = labels[1:]
    if len(labels) <= 2:
        return ".".join(labels)
    keep = 3 if labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2 else 2
    return ".".join(labels[-keep:])


#: The longest host name DNS allows (RFC 1035).
_LONGEST_HOST = 253
_remembered_registered_part = lru_cache(maxsize=4096)(_registered_part)


def path_words(link: str) -> list[str]:
    """The words in a link's host and path ("cheap-pills-online.example/buy" → cheap, …)."""
    candidate = link if "://" in link else "http://" + link
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return []
    host = (parts.hostname or "").rpartition(".")[0]  # the top-level domain is its own feature
    words = re.findall(r"[^\W\d_]{3,}", f"{host} {parts.path} {parts.query}")
    return [word.lower() for word in words if word.lower() not in ("www", "http", "https")]
