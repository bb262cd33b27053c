"""Features in words a moderator reads: "link to casino.example", "word 'viagra'"."""

from __future__ import annotations

#: The longest reason stored with a comment.
MAX_REASON = 500

_FLAGS = {
    "reply": "a reply",
    "toplevel": "not a reply",
    "html:a": "HTML link markup",
    "bbcode:url": "BBCode link markup",
    "linkkind:shortener": "a link through a URL shortener",
    "rep:link": "the same domain linked twice",
    "rep:char": "a character repeated many times",
    "rep:words": "the same words repeated",
    "caps:most": "mostly capital letters",
    "caps:words": "several words in capitals",
    "excl:many": "many exclamation marks",
    "money": "money amounts",
    "mixedword": "words mixing alphabets",
    "text:email": "an email address in the text",
    "text:ip": "an IP address in the text",
    "text:phone": "a phone number in the text",
    "site:none": "no website",
    "site:invalid": "an unreadable website",
    "siteflag:deep": "a website pointing to an inner page",
    "siteflag:linked": "the website also linked in the text",
    "siteflag:shortener": "a shortened website address",
    "siteflag:hyphens": "a keyword-stuffed website domain",
    "linkkind:hyphens": "a link to a keyword-stuffed domain",
    "name:none": "no name",
    "name:digits": "digits in the name",
    "name:url": "a web address in the name",
    "name:separators": "a name with separators",
    "name:caps": "a name in capitals",
    "name:long": "a very long name",
    "name:in_email": "the name in the email address",
    "name:in_site": "the name in the website",
    "email:none": "no email address",
    "email:freemail": "a free email provider",
    "email:custom": "an email on its own domain",
    "email:digits": "digits in the email address",
    "email:in_site": "the email on the website's domain",
    "emoji:some": "emoji",
    "emoji:many": "many emoji",
}

_VALUED = {
    "w": "word '{}'",
    "u": "'{}' in a link",
    "n": "name word '{}'",
    "link": "link to {}",
    "tld": "a .{} link",
    "links": "{} links",
    "site": "website {}",
    "sitetld": "a .{} website",
    "len": "length {} characters",
    "script": "{} script",
    "scripts": "mixed {} script",
    "num": "a {}-digit number",
    "long": "an unbroken string of {} characters",
    "name:words": "{} words in the name",
    "name:script": "a name in {} script",
}

_HASHED = {
    "email": "this email address",
    "emaildom": "this email domain",
    "net": "this sender's network",
}


def describe(feature: str) -> str:
    """A feature as a short phrase; unknown kinds are shown as they are."""
    if feature in _FLAGS:
        return _FLAGS[feature]
    kind, _, value = feature.partition(":")
    if value.startswith("h:") and kind in _HASHED:
        return _HASHED[kind]
    for prefix in ("name:words", "name:script"):
        if feature.startswith(prefix + ":"):
            return _VALUED[prefix].format(feature[len(prefix) + 1 :])
    if kind == "links" and value == "0":
        return "no links"
    if kind == "scripts":
        value = " and ".join(value.split("+"))
    template = _VALUED.get(kind)
    return template.format(value) if template else feature


def reason(score: float, phrases: list[str]) -> str:
    """ "classifier 0.97: link to casino.example, word 'viagra'", at most 500 characters."""
    text = f"classifier {score:.2f}"
    separator = ": "
    for phrase in phrases:
        candidate = f"{text}{separator}{phrase}"
        if len(candidate) > MAX_REASON - 3:  # room for ", …"
            return text + ", …" if separator == ", " else text
        text, separator = candidate, ", "
    return text
