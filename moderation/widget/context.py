"""The reader's context a widget link keeps: the thread, the language, the page that embeds
the frame (its origin, address and title), the look it asked for and the reader's order."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import request, url_for

from moderation.domain.comments import strip_controls
from moderation.domain.sites import reader_order
from moderation.domain.themes import Look, read_look
from moderation.services.sites import SiteInfo
from moderation.web.origins import normalise, site_allows
from moderation.web.templating import reader_language


def host_origin(site: SiteInfo) -> str:
    """``?origin=``, the page embedding the widget, when it is one of the site's origins;
    otherwise nothing (any other value would only make one more cached page)."""
    origin = normalise(request.args.get("origin", ""))
    return origin if origin is not None and site_allows(site, origin) else ""


def reader_look() -> Look:
    """The theme and custom properties the embedding page asked for (validated)."""
    return read_look(request.args)


def page_params(site: SiteInfo, thread_key: str, **extra: Any) -> dict[str, Any]:
    """Query parameters that keep the reader's thread, language and host page."""
    params: dict[str, Any] = {"thread": thread_key}
    if request.args.get("lang"):
        # the language chosen (one code), not every ``lang`` embed.js offered
        params["lang"] = reader_language().code
    if origin := host_origin(site):
        params["origin"] = origin
    if url := thread_url(site):
        # the post's address and title travel with the form, to be stored with the thread
        params["url"] = url
        if title := strip_controls(request.args.get("title", ""), single_line=True)[:300]:
            params["title"] = title
    if beside_fragment():
        params["fragment"] = "1"
    params.update(reader_look().as_params())
    if order := reader_order(request.args.get("sort")):
        params["sort"] = order.value  # the reader's choice follows their links
    params.update({name: value for name, value in extra.items() if value not in (None, "")})
    return params


def beside_fragment() -> bool:
    """``?fragment=1``: the host page shows the published comments already (an included
    fragment that ``embed.js`` enhanced), so the frame leaves its own list out."""
    return request.args.get("fragment") == "1"


def widget_url(site: SiteInfo, thread_key: str, fragment: str = "", **extra: Any) -> str:
    """A link to this widget page with the reader's context kept."""
    url = f"{url_for('widget.show_widget', site_slug=site.slug)}?{urlencode(page_params(site, thread_key, **extra))}"
    return f"{url}#{fragment}" if fragment else url


def thread_url(site: SiteInfo) -> str:
    """The host page's address, kept only when it is on one of the site's origins."""
    url = strip_controls(request.args.get("url", ""), single_line=True)
    return url if site_allows(site, normalise(url)) else ""
