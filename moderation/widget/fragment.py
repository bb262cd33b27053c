"""``GET /w/<site>/fragment?thread=KEY``: a thread's published comments as an HTML fragment
for other pages to include (a server-side include, a static-site build): no form, no token,
no email, absolute links, schema.org ``Comment`` JSON-LD, cacheable like the JSON read.

The fragment's root is the embed container itself (``<div id="comments" data-site
data-thread>``): ``embed.js`` finds it, keeps it as the comment list and adds the form
beside it (the frame's ``?fragment=1`` leaves its own list out)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import get_locale

from moderation.cache import cached_rendering
from moderation.clock import utcnow
from moderation.domain.numbers import parse_page
from moderation.domain.privacy import public_version
from moderation.domain.structured import comments_json_ld
from moderation.services import threads
from moderation.services.sites import SiteInfo
from moderation.web.public_reads import conditional, feed_url, service_base, widget_page_url
from moderation.widget.views import load_site, thread_key_from_request

bp = Blueprint("fragment", __name__)


@bp.get("/w/<site_slug>/fragment")
def show_fragment(site_slug: str) -> Response:
    """The published comments of one page of the thread (``?page=N``), as HTML."""
    site = load_site(site_slug)
    thread_key = thread_key_from_request()
    thread = threads.public_thread_state(site.id, thread_key)
    page_number = threads.last_page_bound(site, thread, parse_page(request.args.get("page", "1")))
    # the post is named only once something on it is public (a held comment's page title
    # would tell that someone commented)
    post = threads.public_post_of(thread) if thread and thread.approved_count else None
    base = service_base()
    locale = str(get_locale())
    # open at this moment: closing by age turns a thread's answers over without a write
    state = threads.public_state(site, thread, utcnow())
    version = public_version(
        current_app.config["SECRET_KEY"].encode(),
        "fragment",
        site.id,
        site.page_size,
        site.max_depth,
        site.sort.value,
        *state,
        page_number,
        locale,
        base,
        post,
    )
    response = conditional(
        version,
        # rendered once while the thread is unchanged
        lambda: cached_rendering(
            ("fragment", version, thread_key),
            lambda: (
                _fragment_html(
                    site, thread_key, thread, page_number, post, base, version, closed=not state[1]
                ),
            ),
        )[0],
        "text/html",
    )
    # the language follows Accept-Language unless ?lang= names one
    response.vary.add("Accept-Language")
    # public by nature: any page (embed.js refreshing an included copy) may read it
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _fragment_html(
    site: SiteInfo,
    thread_key: str,
    thread: threads.ThreadState | None,
    page_number: int,
    post: threads.ThreadPost | None,
    base: str,
    version: str,
    closed: bool,
) -> bytes:
    """The rendered fragment."""
    page = threads.read_page(site, thread, page_number, current_app.config["SECRET_KEY"].encode())
    post_url = post.url if post else ""

    def permalink(comment_id: int) -> str:
        anchor = f"#comment-{comment_id}"
        return (
            f"{post_url}{anchor}"
            if post_url
            else widget_page_url(base, site.slug, thread_key) + anchor
        )

    html = render_template(
        "widget/fragment.html",
        site=site,
        thread_key=thread_key,
        page=page,
        closed=closed,
        base=base,
        version=version,
        permalink=permalink,
        standalone=lambda **extra: widget_page_url(base, site.slug, thread_key, **extra),
        feed=feed_url(base, site.slug, thread_key),
        json_ld=comments_json_ld(
            page.comments, page.total, permalink, post_url, post.title if post else ""
        ),
    )
    return html.encode()
