"""The author's website as a key an index can search: its host, labels reversed.

``https://www.Example.com:8080/x`` is stored as ``com.example.www.``; a search for
``example.com`` is then the key range from ``com.example.`` up to ``com.example/`` (``/``
follows ``.`` in code-point order), which finds the host itself and every subdomain and
nothing else (not ``badexample.com``), with a plain b-tree on any database.
"""

from __future__ import annotations

from urllib.parse import urlsplit

#: The longest key kept (a host has at most 253 characters; the column holds 200).
MAX_KEY = 200


def host_of(address: str) -> str:
    """The lower-case host of a URL or of a bare host name (``""`` when there is none)."""
    address = address.strip()
    if not address:
        return ""
    if "://" not in address:
        address = "//" + address.lstrip("/")
    return hostname(address)


def hostname(url: str) -> str:
    """The lower-case host of an absolute or scheme-relative URL (``""`` when there is
    none, or when the URL is malformed)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.strip(".").lower()


def website_key(url: str) -> str:
    """The stored search key of a website: host labels reversed, each followed by a dot."""
    host = host_of(url)
    if not host:
        return ""
    return "".join(f"{label}." for label in reversed(host.split(".")))[:MAX_KEY]


def website_range(domain: str) -> tuple[str, str] | None:
    """The keys ``[low, high)`` of ``domain`` and its subdomains (``None``: no domain)."""
    low = website_key(domain)
    if not low:
        return None
    return low, low[:-1] + "/"
