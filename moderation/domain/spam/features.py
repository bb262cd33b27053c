"""A submission's features: the short strings the classifier counts and scores.

A feature is a prefix and a value ("w:viagra", "link:casino.example", "name:digits"). Each
submission yields a *set* of them (a feature counts once per comment, as in SpamBayes),
at most :data:`MAX_FEATURES`, each at most :data:`MAX_FEATURE_LENGTH` characters, so a
store can keep them in a fixed-width column.

Personal data never appears in clear. The email address, its domain and the sender's
network become keyed hashes (HMAC-SHA256 with the key given to :class:`FeatureExtractor`,
cut to 64 bits): the classifier can learn that *this* address sent spam before without
storing it, and nobody without the key can test an address against the counts. Emails,
IP addresses and phone numbers written inside the comment become presence flags
("text:email"); digits in words become their length ("num:7"). Author names and
websites are public on every approved comment, so their words and domains are kept.

Change :data:`FEATURE_VERSION` whenever the same input would give different features:
counts learned under another version no longer match what scoring extracts.
"""

from __future__ import annotations

import hmac
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain

from moderation.domain.spam import text as measure

#: Bump when extraction changes; stored counts are only comparable within one version.
FEATURE_VERSION = 1
#: A store may size its feature column to this.
MAX_FEATURE_LENGTH = 64
#: A bound on the work and storage one (possibly 65,525-character) comment costs.
MAX_FEATURES = 400
#: Word features come from the first this many characters of the comment.
MAX_SCANNED_CHARACTERS = 12_000
#: Emoji and pictographs: every character from here on (U+1F300 to the last code point).
_FIRST_EMOJI = "\U0001f300"
_MAX_WORD = 30
_MAX_NAME_WORDS = 6
_MAX_LINK_WORDS = 24
_CAPITAL_WORD = re.compile(r"\b[A-Z]{3,}\b")
_CURRENCY_SYMBOLS = "$€£¥₹₽"
#: Currency words (lower-case ASCII). A text case-folded holds one wherever ``_MONEY`` can
#: match it: the letters it matches ignoring case (u and U, s, S and the long s, …) all
#: fold to the lower-case ASCII letter, so a text without these substrings has none.
_CURRENCY_WORDS = ("usd", "eur", "btc", "usdt")
_MONEY = re.compile(
    f"[{re.escape(_CURRENCY_SYMBOLS)}]|\\b(?:{'|'.join(_CURRENCY_WORDS)})\\b", re.IGNORECASE
)
_NAME_SEPARATORS = re.compile(r"[|:/@#]|\s-\s")
_DIGIT_RUN = re.compile(r"\d{3,}")
_ASCII_DIGITS = "0123456789"
_NOT_ASCII_UPPER = bytes(b for b in range(256) if not 0x41 <= b <= 0x5A)
#: Senders (website, name, email, network) whose features are remembered: commenters come
#: back, and an import of a million comments meets the same few thousand again and again.
_REMEMBERED_SENDERS = 2048
#: Words whose features are remembered (a word gives the same ones in every comment).
_REMEMBERED_WORDS = 32_768
#: Longer words are worked out each time: a comment may hold a 12,000-character "word",
#: and 32,768 of them remembered would hold a web process's memory hostage.
_LONGEST_REMEMBERED_WORD = 64

#: Address domains anyone can sign up on: the kind, not the address, is the feature.
FREEMAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "ymail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "aol.com",
        "icloud.com",
        "me.com",
        "mail.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "proton.me",
        "protonmail.com",
        "yandex.ru",
        "yandex.com",
        "mail.ru",
        "bk.ru",
        "inbox.ru",
        "list.ru",
        "rambler.ru",
        "qq.com",
        "163.com",
        "126.com",
        "sina.com",
        "naver.com",
        "zoho.com",
        "tutanota.com",
    }
)


@dataclass(frozen=True)
class Submission:
    """What the classifier looks at: the fields of a comment, named as in ``CommentDraft``.

    ``network`` is the sender's address already truncated (``truncate_ip``), or "".
    """

    text: str
    author: str = ""
    email: str = ""
    url: str = ""
    is_reply: bool = False
    network: str = ""


def _bucket(value: int, edges: tuple[int, ...]) -> str:
    """The first edge ``value`` is below ("<20"), or the last edge and above ("2000+")."""
    for edge in edges:
        if value < edge:
            return f"<{edge}"
    return f"{edges[-1]}+"


def _flag_and_remove(pattern: re.Pattern[str], flag: str, text: str, features: list[str]) -> str:
    """Add ``flag`` if ``pattern`` occurs, and blank out what it matched."""
    replaced, found = pattern.subn(" ", text)
    if not found:
        return text
    features.append(flag)
    return replaced


def _domain_features(host: str, domain: str, name: str, tld: str, kind: str) -> list[str]:
    """A linked domain (a link's or the website field's), its top-level domain, and whether
    it is a URL shortener or a keyword domain ("dallas-roofing-pros"), each feature named
    with the given prefix."""
    found = [name + domain]
    if domain != "ip":
        found.append(tld + domain.rpartition(".")[2])
    if host in measure.URL_SHORTENERS or domain in measure.URL_SHORTENERS:
        found.append(kind + "shortener")
    if domain.partition(".")[0].count("-") >= 2:
        found.append(kind + "hyphens")
    return found


def _normalise(value: str) -> str:
    """NFKC (full-width letters, ligatures and fancy digits fold to plain ones), lower case."""
    return unicodedata.normalize("NFKC", value).casefold()


class FeatureExtractor:
    """Turns a :class:`Submission` into features; deterministic for one key."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the feature key must be at least 16 bytes")
        self._secret = secret
        # each part of a sender remembered on its own: websites, names and networks repeat
        # far more than the four together do (a network is shared by many senders)
        self._site = lru_cache(maxsize=_REMEMBERED_SENDERS)(self._website_features)
        self._named = lru_cache(maxsize=_REMEMBERED_SENDERS)(self._name_features)
        self._addressed = lru_cache(maxsize=_REMEMBERED_SENDERS)(self._email_features)
        self._network = lru_cache(maxsize=_REMEMBERED_SENDERS)(self._network_feature)
        # an import meets a new address in almost every comment, but few domains
        self._email_domain = lru_cache(maxsize=_REMEMBERED_SENDERS)(self._email_domain_feature)

    @property
    def key(self) -> bytes:
        """The key of the hashes (to make the same extractor in another process)."""
        return self._secret

    def keyed(self, kind: str, value: str) -> str:
        """A keyed hash of a personal value, as a feature ("email:h:3f9a…")."""
        digest = hmac.digest(self._secret, f"{kind}:{value}".encode(), "sha256")
        return f"{kind}:h:{digest.hex()[:16]}"

    def personal_features(self, email: str) -> frozenset[str]:
        """The features derived from one address, so erasing a person can drop them."""
        address = _normalise(email.strip())
        domain = address.rpartition("@")[2]
        return frozenset({self.keyed("email", address), self._email_domain(domain)})

    def extract(self, submission: Submission) -> frozenset[str]:
        """Every feature of one submission (the author's first, so a cap cuts only words)."""
        head, site_domain = self._sender_features(
            submission.url, submission.author, submission.email, submission.network
        )
        head.append("reply" if submission.is_reply else "toplevel")
        body: list[str] = []
        link_domains = self._body(submission.text, body)
        if site_domain and site_domain in link_domains:
            head.append("siteflag:linked")
        every = head + body
        if max(map(len, every)) > MAX_FEATURE_LENGTH:
            every = [feature[:MAX_FEATURE_LENGTH] for feature in every]
        found = frozenset(every)
        if len(found) <= MAX_FEATURES:
            return found
        # too many: the first ones (in order, each once) are kept
        return frozenset(list(dict.fromkeys(every))[:MAX_FEATURES])

    def _sender_features(
        self, url: str, author: str, email: str, network: str
    ) -> tuple[list[str], str]:
        """The features of who sent a comment (website, name, email, network), and the
        website's domain. Each part is remembered on its own (commenters come back)."""
        site_features, site_domain = self._site(url)
        features = list(site_features)
        name_features, first = self._named(author)
        features.extend(name_features)
        address = _normalise(email.strip()) if email else ""
        if first:
            if first in address.partition("@")[0]:
                features.append("name:in_email")
            if site_domain and first in site_domain:
                features.append("name:in_site")
        features.extend(self._addressed(address, site_domain))
        if network:
            features.append(self._network(network))
        return features, site_domain

    def _website_features(self, url: str) -> tuple[tuple[str, ...], str]:
        """The website's features and its domain."""
        features: list[str] = []
        domain = self._website(url, features)
        return tuple(features), domain

    def _name_features(self, author: str) -> tuple[tuple[str, ...], str]:
        """The name's features, and its first word when that is long enough to look for
        in the email and the website ("name:in_email", "name:in_site")."""
        features: list[str] = []
        first = self._name(author, features)
        return tuple(features), first if len(first) >= 3 else ""

    def _email_features(self, address: str, site_domain: str) -> tuple[str, ...]:
        """The normalised address's features (keyed hashes and its kind)."""
        features: list[str] = []
        self._email(address, site_domain, features)
        return tuple(features)

    def _email_domain_feature(self, domain: str) -> str:
        """The keyed hash of an address's domain (the same for all its addresses)."""
        return self.keyed("emaildom", domain)

    def _network_feature(self, network: str) -> str:
        return self.keyed("net", network.strip().lower())

    def _body(self, raw: str, features: list[str]) -> set[str]:
        """Features of the comment text; returns the domains it links to."""
        text = unicodedata.normalize("NFKC", raw)
        features.append("len:" + _bucket(len(text), (20, 50, 100, 200, 500, 1000, 2000)))
        text = text[:MAX_SCANNED_CHARACTERS]
        # personal data written in the text is a presence flag, never the value; emails go
        # first (their domain would read as a link), numbers after links (paths have digits)
        # (the patterns only match around an "@" or a digit: texts without skip them)
        if "@" in text:
            text = _flag_and_remove(measure.EMAIL_PATTERN, "text:email", text, features)
        domains, text = self._links(text, features)
        # each non-ASCII character counted once, for digits, scripts, capitals and emoji
        others = measure.other_characters(text)
        if _has_digit(text, others):
            text = _flag_and_remove(measure.IPV4_PATTERN, "text:ip", text, features)
            text = _flag_and_remove(measure.PHONE_PATTERN, "text:phone", text, features)
            others = measure.other_characters(text)  # a number blanked out may have had some
        folded = text.casefold()
        self._shape(text, folded, others, features)
        self._words(folded, features)
        return domains

    def _links(self, text: str, features: list[str]) -> tuple[set[str], str]:
        """Links: their domains, top-level domains, count, kind and words; the domains,
        and the text with the links blanked out."""
        links, text_without = measure.split_links(text)
        features.append("links:" + ("3+" if len(links) >= 3 else str(len(links))))
        lowered = text.lower()
        if "<a " in lowered and "href" in lowered:
            features.append("html:a")
        if "[url" in lowered:
            features.append("bbcode:url")
        if not links:
            return set(), text_without
        domains: list[str] = []
        link_words: list[str] = []
        for link in links:
            host = measure.host_of(link)
            if not host:
                continue
            domain = measure.registered_domain(host)
            domains.append(domain)
            features.extend(_domain_features(host, domain, "link:", "tld:", "linkkind:"))
            link_words.extend(measure.path_words(link))
        if len(domains) > len(set(domains)):
            features.append("rep:link")
        features.extend("u:" + word[:_MAX_WORD] for word in link_words[:_MAX_LINK_WORDS])
        return set(domains), text_without

    def _shape(self, text: str, folded: str, others: Counter[str], features: list[str]) -> None:
        """Script mix, capitals, repetition, punctuation, emoji (``folded``: the text
        case-folded; ``others``: its non-ASCII characters counted)."""
        letters, shares = measure.script_shares(text, others)
        if shares:
            features.append("script:" + shares[0][0])
            if len(shares) > 1 and shares[1][1] >= 0.1:
                mix = "+".join(sorted((shares[0][0], shares[1][0])))
                features.append("scripts:" + mix)
        # A-Z counted in bytes (UTF-8 writes every other character with bytes >= 0x80);
        # the other characters, usually few, one by one
        ascii_upper = len(text.encode("utf-8", "surrogatepass").translate(None, _NOT_ASCII_UPPER))
        # (only when every other character being a capital could make most letters ones)
        if letters >= 12 and (ascii_upper + others.total()) / letters > 0.6:
            upper = ascii_upper + sum(
                count for character, count in others.items() if character.isupper()
            )
            if upper / letters > 0.6:
                features.append("caps:most")
        # three capital words need at least nine capitals
        if ascii_upper >= 9 and len(_CAPITAL_WORD.findall(text)) >= 3:
            features.append("caps:words")
        if measure.REPEATED_CHARACTER.search(text):
            features.append("rep:char")
        if text.count("!") >= 3:
            features.append("excl:many")
        if _names_money(text, folded):
            features.append("money")
        emoji = 0
        if others and max(others) >= _FIRST_EMOJI:
            emoji = sum(count for character, count in others.items() if character >= _FIRST_EMOJI)
        if emoji:
            features.append("emoji:" + ("many" if emoji >= 5 else "some"))

    def _words(self, folded: str, features: list[str]) -> None:
        """Lower-cased words (of the text ``folded``); numbers as their length; unspaced
        scripts as character pairs."""
        words = measure.words_of(folded)
        distinct = dict.fromkeys(words)  # each word once, in order: a feature counts once
        if len(words) >= 8 and len(distinct) / len(words) < 0.5:
            features.append("rep:words")
        features.extend(chain.from_iterable(map(_word_features, distinct)))

    def _website(self, url: str, features: list[str]) -> str:
        """The website field: its domain, top-level domain, and whether it points deep."""
        if not url.strip():
            features.append("site:none")
            return ""
        host = measure.host_of(url.strip())
        domain = measure.registered_domain(host) if host else ""
        if not domain:
            features.append("site:invalid")
            return ""
        features.extend(_domain_features(host, domain, "site:", "sitetld:", "siteflag:"))
        rest = url.strip().split("://", 1)[-1].partition("/")[2]
        if rest.strip("/"):
            features.append("siteflag:deep")
        features.extend("u:" + word[:_MAX_WORD] for word in measure.path_words(url)[:8])
        return domain

    def _name(self, raw: str, features: list[str]) -> str:
        """Name patterns: digits, a URL, many words, all capitals, its words and script;
        returns the name's first word."""
        name = unicodedata.normalize("NFKC", raw).strip()
        if not name:
            features.append("name:none")
            return ""
        folded = name.casefold()
        words = measure.words_of(folded)
        features.append("name:words:" + ("4+" if len(words) >= 4 else str(len(words))))
        features.extend(
            "n:" + word[:_MAX_WORD] for word in words[:_MAX_NAME_WORDS] if not word.isdigit()
        )
        if any(map(str.isdigit, name)):
            features.append("name:digits")
        if measure.find_links(name) or "http" in folded:
            features.append("name:url")
        if _NAME_SEPARATORS.search(name):
            features.append("name:separators")
        letters = list(filter(str.isalpha, name))
        if len(letters) >= 4 and all(map(str.isupper, letters)):
            features.append("name:caps")
        if len(name) > 30:
            features.append("name:long")
        _, shares = measure.script_shares(name)
        if shares:
            features.append("name:script:" + shares[0][0])
        return words[0] if words else ""

    def _email(self, address: str, site_domain: str, features: list[str]) -> None:
        """The address (normalised) as keyed hashes, plus its kind; never the address."""
        if "@" not in address:
            features.append("email:none")
            return
        features.extend(sorted(self.personal_features(address)))
        local, _, domain = address.rpartition("@")
        features.append("email:freemail" if domain in FREEMAIL_DOMAINS else "email:custom")
        if _DIGIT_RUN.search(local):
            features.append("email:digits")
        if site_domain and measure.registered_domain(domain) == site_domain:
            features.append("email:in_site")


def _has_digit(text: str, others: Counter[str]) -> bool:
    """Whether ``text`` holds a decimal digit (what ``\\d`` matches), ``others`` its
    non-ASCII characters counted: ten substring tests and the few other characters are
    faster than a pattern trying every position."""
    return any(digit in text for digit in _ASCII_DIGITS) or any(map(str.isdecimal, others))


def _names_money(text: str, folded: str) -> bool:
    """Whether ``_MONEY`` matches ``text`` (``folded``: the text case-folded); most texts
    hold neither a currency sign nor one of its words, which two substring tests tell."""
    if any(symbol in text for symbol in _CURRENCY_SYMBOLS) or any(
        word in folded for word in _CURRENCY_WORDS
    ):
        return _MONEY.search(text) is not None
    return False


def _word_features(word: str) -> tuple[str, ...]:
    """What one lower-cased word adds (remembered unless longer than a word can be)."""
    if len(word) > _LONGEST_REMEMBERED_WORD:
        return _features_of_word(word)
    return _remembered_word_features(word)


def _features_of_word(word: str) -> tuple[str, ...]:
    """What one lower-cased word adds: itself, its length when a number, its character
    pairs in an unspaced script, "mixedword" when it mixes scripts."""
    features: list[str] = []
    scripts = measure.token_scripts(word)
    if len(scripts - {"other"}) > 1 and not scripts & measure.UNSPACED_SCRIPTS:
        features.append("mixedword")  # a Latin word with a Cyrillic letter
    if word.isdigit():
        features.append("num:" + ("9+" if len(word) >= 9 else str(len(word))))
    elif scripts & measure.UNSPACED_SCRIPTS:
        pairs = [word[index : index + 2] for index in range(max(1, len(word) - 1))]
        features.extend("w:" + pair for pair in pairs)
    elif len(word) > _MAX_WORD:
        features.append("long:" + _bucket(len(word), (40, 80)))
    elif len(word) >= 2:
        features.append("w:" + word)
    return tuple(features)


_remembered_word_features = lru_cache(maxsize=_REMEMBERED_WORDS)(_features_of_word)
