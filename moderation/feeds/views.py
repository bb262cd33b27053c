"""``GET /feeds/<site>.atom[?thread=KEY]``: the newest published comments as Atom (RFC 4287),
replies marked with the threading extension (RFC 4685). Public, cacheable, no email."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import gettext

from moderation.domain.comments import strip_controls
from moderation.services import feeds
from moderation.web.public_reads import feed_url, public_cache, service_base, widget_page_url
from moderation.web.templating import reader_language
from moderation.widget.views import load_site

bp = Blueprint("feeds", __name__)

ATOM = "application/atom+xml"
#: An empty feed's ``updated``: a fixed moment keeps its ETag stable.
NEVER = datetime(1970, 1, 1, tzinfo=UTC)


def optional_thread_key() -> str | None:
    """``?thread=KEY`` when given (then one line of 1 to 255 characters), else ``None``."""
    if "thread" not in request.args:
        return None
    key = strip_controls(request.args.get("thread", ""), single_line=True)
    if not key or len(key) > 255:
        abort(400, description=gettext("The page must name its comment thread (?thread=...)."))
    return key


@dataclass(frozen=True)
class FeedItem:
    """An entry with its addresses and title made for the feed."""

    entry: feeds.FeedEntry
    id: str
    title: str
    link: str
    in_reply_to: str


@bp.get("/feeds/<site_slug>.atom")
def show_feed(site_slug: str) -> Response:
    """The site's (or one thread's) newest published comments, newest first."""
    site = load_site(site_slug)
    thread_key = optional_thread_key()
    entries = feeds.latest_comments(site, thread_key)
    base = service_base()
    if thread_key is None:
        title = gettext("Comments on %(name)s", name=site.name)
        alternate = site.origins[0] if site.origins else base
    else:
        post_title = entries[0].thread_title if entries else ""
        title = gettext("Comments on %(name)s", name=post_title or thread_key)
        post_url = entries[0].thread_url if entries else ""
        alternate = post_url or widget_page_url(base, site.slug, thread_key)

    pages: dict[str, str] = {}  # each thread's page address, built once

    def page_of(key: str) -> str:
        if key not in pages:
            pages[key] = widget_page_url(base, site.slug, key)
        return pages[key]

    # one translation for every entry's title (50 lookups cost more than the rest)
    entry_title = gettext("%(author)s on %(title)s")
    shown = [
        FeedItem(
            entry=entry,
            # stable while the service keeps its address (a post's address may change)
            id=f"{page_of(entry.thread_key)}#comment-{entry.id}",
            title=entry_title
            % {"author": entry.author, "title": entry.thread_title or entry.thread_key},
            link=f"{entry.thread_url or page_of(entry.thread_key)}#comment-{entry.id}",
            in_reply_to=(
                f"{page_of(entry.thread_key)}#comment-{entry.parent_id}" if entry.parent_id else ""
            ),
        )
        for entry in entries
    ]
    body = render_template(
        "feeds/atom.xml",
        title=title,
        self_url=feed_url(base, site.slug, thread_key),
        alternate=alternate,
        updated=max((entry.updated_at for entry in entries), default=NEVER),
        items=shown,
        language=reader_language().tag,
    ).encode()
    response = Response(body, mimetype=ATOM)
    response.set_etag(
        hashlib.sha256(current_app.config["SECRET_KEY"].encode() + body).hexdigest()[:32]
    )
    response.make_conditional(request)
    response.vary.add("Accept-Language")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return public_cache(response)
