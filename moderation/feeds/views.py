"""``GET /feeds/<site>.atom[?thread=KEY]``: the newest published comments as Atom (RFC 4287),
replies marked with the threading extension (RFC 4685). Public, cacheable, no email."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import get_locale, gettext

from moderation.domain.comments import strip_controls
from moderation.services import feeds
from moderation.web.public_reads import feed_url, public_cache, service_base, widget_page_url
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

    def entry_id(entry: feeds.FeedEntry, comment_id: int) -> str:
        # stable while the service keeps its address (a post's address may change)
        return f"{widget_page_url(base, site.slug, entry.thread_key)}#comment-{comment_id}"

    def entry_link(entry: feeds.FeedEntry) -> str:
        where = entry.thread_url or widget_page_url(base, site.slug, entry.thread_key)
        return f"{where}#comment-{entry.id}"

    body = render_template(
        "feeds/atom.xml",
        title=title,
        self_url=feed_url(base, site.slug, thread_key),
        alternate=alternate,
        updated=max((entry.updated_at for entry in entries), default=NEVER),
        entries=entries,
        entry_id=entry_id,
        entry_link=entry_link,
        language=str(get_locale()),
    ).encode()
    response = Response(body, mimetype=ATOM)
    response.set_etag(
        hashlib.sha256(current_app.config["SECRET_KEY"].encode() + body).hexdigest()[:32]
    )
    response.make_conditional(request)
    response.vary.add("Accept-Language")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return public_cache(response)
