"""Widget views: parse the request, call a service, render. Rules live in domain/ and
services/; a post's protection (origin, form token) is the browser door's
(``moderation.web.door``), and each page names the origins that may frame it."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, gettext
from flask_limiter import RateLimitExceeded
from itsdangerous import BadSignature, URLSafeTimedSerializer
from markupsafe import Markup

from moderation.cache import cached_rendering, caches
from moderation.clock import utcnow
from moderation.domain.comments import strip_controls
from moderation.domain.errors import DomainError, NotFound
from moderation.domain.identicon import identicon_svg
from moderation.domain.numbers import parse_id, parse_page
from moderation.domain.privacy import PREVIEW_AVATAR, PublicComment
from moderation.domain.sites import CommentOrder, reader_order
from moderation.domain.status import AWAITING_FOR_THE_AUTHOR, CommentStatus
from moderation.extensions import db
from moderation.models import Comment
from moderation.services import form_tokens, threads
from moderation.services.form_tokens import FormTokenRefused
from moderation.services.sites import SiteInfo, site_info
from moderation.web.door import submit_from_browser
from moderation.web.errors import Refusal, handle_http_exception, route_limit_refusal
from moderation.web.limits import limiter, public_posts_limit
from moderation.web.origins import normalise, own_origin, site_allows
from moderation.web.replay import may_replay
from moderation.web.security import set_frame_ancestors
from moderation.widget import remember
from moderation.widget.context import (
    beside_fragment,
    host_origin,
    page_params,
    reader_look,
    thread_url,
    widget_url,
)
from moderation.widget.edit_keys import edit_key, edit_offer, edit_page_url
from moderation.widget.forms import CommentForm

bp = Blueprint("widget", __name__)

PREVIEW_SALT = "moderation.comment-preview"
PREVIEW_MAX_AGE = 24 * 3600


def load_site(slug: str) -> SiteInfo:
    """The site or a 404 page."""
    try:
        return site_info(slug)
    except NotFound:
        abort(404, description=gettext("This site is not registered here."))


def thread_key_from_request() -> str:
    """``?thread=KEY``: required, one line, at most 255 characters."""
    key = strip_controls(request.args.get("thread", ""), single_line=True)
    if not key or len(key) > 255:
        abort(400, description=gettext("The page must name its comment thread (?thread=...)."))
    return key


def reader_sort(site: SiteInfo) -> CommentOrder:
    """The order the reader chose (``?sort=``), else the site's."""
    return reader_order(request.args.get("sort")) or site.sort


def preview_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=PREVIEW_SALT)


def load_preview(thread_id: int | None) -> PublicComment | None:
    """The author's own comment awaiting moderation, when the link carries its signed hash."""
    wanted = parse_id(request.args.get("unapproved", ""))
    preview = preview_of(request.args.get("moderation-hash", ""), thread_id)
    return preview if preview is not None and preview.id == wanted else None


def preview_of(signature: str, thread_id: int | None) -> PublicComment | None:
    """The comment a preview key (its signed id) names, while it awaits moderation for
    its author on ``thread_id``; ``None`` for a bad, expired or foreign key."""
    if not signature or thread_id is None:
        return None
    try:
        signed_id = preview_serializer().loads(signature, max_age=PREVIEW_MAX_AGE)
    except BadSignature:
        return None
    comment = db.session.get(Comment, signed_id) if isinstance(signed_id, int) else None
    if (
        comment is None
        or comment.thread_id != thread_id
        or comment.status not in AWAITING_FOR_THE_AUTHOR
    ):
        return None
    return PublicComment(
        id=comment.id,
        parent_id=comment.parent_id,
        author=comment.author,
        url=comment.url,
        avatar=PREVIEW_AVATAR,  # never derived from the email just typed (an oracle)
        html=comment.html,
        created_at=comment.created_at,
        depth=1,
        by_moderator=False,
        edited=comment.edited_at is not None,
    )


def render_widget(
    site: SiteInfo,
    thread_key: str,
    form: CommentForm | None = None,
    status: int = 200,
    notice: str = "",
    headers: dict[str, str] | None = None,
    challenge: dict[str, Any] | None = None,
) -> Response:
    """The widget page: approved comments (rendered once per thread version), the
    author's preview, and the form (fresh for every reader: it carries their token;
    with ``challenge``, the proof-of-work a suspicious submission was asked for)."""
    config = current_app.config
    framed = bool(host_origin(site))
    # the standalone page's remembered author fills this browser's own form (never cached)
    author = {} if framed else remember.remembered_author(site)
    plain = (
        form is None
        and not author
        and not notice
        and not ({"replytocom", "unapproved", "moderation-hash", "edit-key"} & request.args.keys())
    )
    # a reader's plain view may be a moment old; a form answer sees the thread as it is
    lookup = threads.public_thread_state if plain else threads.thread_state
    thread = lookup(site.id, thread_key)
    # pages past the last all show the last one: one cache entry for all of them
    page_number = threads.last_page_bound(site, thread, parse_page(request.args.get("cpage", "1")))
    set_frame_ancestors(list(site.origins))
    # on its own (not framed), the page names the post it belongs to and links back
    post = None if framed else threads.post_of(thread)
    now = utcnow()
    closed = threads.is_closed(site, thread, now)
    token = form_tokens.issue(config["SECRET_KEY"], site.slug, thread_key, now)
    if plain:
        # the common case, a reader opening the page: rendered once per thread version
        # with a placeholder where each reader's own token goes
        placeholder = caches().token_placeholder

        def render() -> tuple[bytes, ...]:
            empty = CommentForm(formdata=None)
            empty.form_token.data = placeholder
            page = _page(site, thread_key, thread, closed, page_number, empty, post=post).encode()
            # kept as the parts around the placeholder (one part when there is no form)
            return tuple(page.split(placeholder.encode(), 1))

        key = (
            "page",
            site,
            thread,
            page_number,
            str(get_locale()),
            tuple(sorted(page_params(site, thread_key).items())),
            post,
            closed,
        )
        cached = cached_rendering(key, render)
        # sent as it lies in the cache, the reader's token between (no 200 KB copy per read)
        parts = list(cached)
        if len(parts) == 2:
            parts.insert(1, token.encode())
        body: list[bytes] | str = parts
        preview = None
        if status == 200 and not headers:
            secret, slug = config["SECRET_KEY"], site.slug
            may_replay(
                token_sent=token if len(parts) == 3 else None,
                token=(lambda: form_tokens.issue(secret, slug, thread_key, utcnow()))
                if len(parts) == 3
                else None,
                until=threads.closes_by_age_at(site, thread, now),
            )
    else:
        if form is None:
            form = CommentForm(formdata=None, data=author, remember=bool(author))
        if not form.form_token.data:
            form.form_token.data = token
        preview = load_preview(thread.id if thread else None)
        body = _page(
            site, thread_key, thread, closed, page_number, form, notice, preview, post, challenge
        )
    response = Response(body, status=status, mimetype="text/html")
    fresh = plain or not (preview or (form and form.errors) or notice or author)
    response.headers["Cache-Control"] = "private, no-cache" if fresh else "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _page(
    site: SiteInfo,
    thread_key: str,
    thread: threads.ThreadState | None,
    closed: bool,
    page_number: int,
    form: CommentForm,
    notice: str = "",
    preview: PublicComment | None = None,
    post: threads.ThreadPost | None = None,
    challenge: dict[str, Any] | None = None,
) -> str:
    """The page's HTML around the (cached) comment list."""
    reply_to = _reply_target(thread.id if thread else None, form)
    links = lambda fragment="", **extra: widget_url(site, thread_key, fragment, **extra)  # noqa: E731
    return render_template(
        "widget/page.html",
        site=site,
        thread_key=thread_key,
        thread_html=""
        if beside_fragment()
        else Markup(thread_html(site, thread_key, thread, page_number, closed, links)),  # noqa: S704
        beside_fragment=beside_fragment(),
        form=form,
        reply_to=reply_to,
        previews=[preview] if preview else [],
        preview_keys={preview.id: request.args["moderation-hash"]} if preview else {},
        approved_total=thread.approved_count if thread else 0,
        post=post,
        notice=notice,
        widget_url=links,
        post_url=widget_url(site, thread_key),
        parent_origin=host_origin(site),
        closed=closed,
        look=reader_look(),
        challenge=challenge,
        order=reader_sort(site),
        edit_offer=edit_offer(site, thread_key, thread.id if thread else None),
        edit_url=edit_page_url(site, thread_key),
    )


def thread_html(
    site: SiteInfo,
    thread_key: str,
    thread: threads.ThreadState | None,
    page_number: int,
    closed: bool,
    links: Callable[..., str],
) -> str:
    """The comment list of one page, from the render cache when the thread has not changed."""
    key = (
        "widget",
        site.id,
        site.max_depth,
        reader_sort(site),
        thread.id if thread else 0,
        thread.version if thread else 0,
        page_number,
        str(get_locale()),
        tuple(sorted(page_params(site, thread_key).items())),
        closed,
    )

    def render() -> tuple[bytes]:
        order = reader_sort(site)
        secret = current_app.config["SECRET_KEY"].encode()
        page = threads.read_page(site, thread, page_number, secret, order)
        html = render_template(
            "widget/_thread.html",
            site=site,
            page=page,
            closed=closed,
            widget_url=links,
            reply_url=reply_links(links, page.page),
            order=order,
            orders=list(CommentOrder),
        )
        return (html.encode(),)

    return cached_rendering(key, render)[0].decode()


#: Stands for a comment's id in the reply link :func:`reply_links` builds.
_ID_MARK = "comment-id-here"


def reply_links(links: Callable[..., str], page: int) -> Callable[[int], str]:
    """The "Reply" link of each comment on ``page``, as ``links("respond",
    replytocom=ID, cpage=page)`` writes it: built once for the page, since only the id
    differs (the reader's context in every link took most of a page's rendering). The
    mark is the last thing in the query before ``cpage``, so its last occurrence is it."""
    before, after = links("respond", replytocom=_ID_MARK, cpage=page if page > 1 else "").rsplit(
        _ID_MARK, 1
    )
    return lambda comment_id: f"{before}{comment_id}{after}"


def _reply_target(thread_id: int | None, form: CommentForm) -> Comment | None:
    """The approved comment being answered (``?replytocom=ID`` or the posted parent)."""
    raw = request.args.get("replytocom") or (form.comment_parent.raw_data or [""])[0]
    wanted = parse_id(raw)
    if wanted is None or thread_id is None:
        return None
    comment = db.session.get(Comment, wanted)
    if (
        comment is None
        or comment.thread_id != thread_id
        or comment.status is not CommentStatus.APPROVED
    ):
        return None
    form.comment_parent.data = str(comment.id)
    return comment


@lru_cache(maxsize=1)
def embed_source() -> bytes:
    """The loader script, read once."""
    return (Path(__file__).parent.parent / "static" / "embed.js").read_bytes()


@bp.get("/embed.js")
def embed_script() -> Response:
    """The loader websites include: turns ``#comments`` into an auto-sizing iframe."""
    response = Response(embed_source(), mimetype="text/javascript")
    response.add_etag()
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    response.make_conditional(request)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/avatar/<key>.svg")
def avatar(key: str) -> Response:
    """The identicon of a keyed hash; the same key always draws the same picture."""
    if not re.fullmatch(r"[0-9a-f]{32}", key):
        abort(404)
    response = Response(identicon_svg(key), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@bp.get("/w/<site_slug>")
def show_widget(site_slug: str) -> Response:
    """Approved comments and the form; works standalone, without JavaScript."""
    site = load_site(site_slug)
    return render_widget(site, thread_key_from_request())


@bp.get("/w/<site_slug>/embed-check")
def embed_check(site_slug: str) -> Response:
    """Why a frame stayed empty, for ``embed.js`` to tell the site owner on the page: an
    unknown site, or a page whose origin (the browser's ``Origin`` header) is not allowed.
    The frame's own checks stay as strict; this only explains them (a site's origins are
    public anyway, in its frame-ancestors)."""
    origin = normalise(request.headers.get("Origin", ""))
    service = own_origin()
    try:
        site: SiteInfo | None = site_info(site_slug)
    except NotFound:
        site = None
    if site is None:
        detail = gettext(
            'Comments could not load: no site "%(site)s" is registered on %(service)s. '
            "Check data-site in the embed snippet (the dashboard's Sites page lists them).",
            site=site_slug,
            service=service,
        )
    elif not site_allows(site, origin):
        detail = gettext(
            'Comments could not load: %(origin)s is not an allowed origin of site "%(site)s". '
            "Add it in the dashboard (Sites, %(site)s) or with: moderation sites update "
            "%(site)s --origin %(origin)s (repeat --origin for each origin to keep).",
            origin=origin or "?",
            site=site_slug,
        )
    else:
        detail = ""
    response = jsonify({"ok": not detail, "detail": detail})
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/w/<site_slug>/pending")
def pending_previews(site_slug: str) -> Response:
    """The reader's own comments awaiting moderation, named by the preview keys the widget
    kept (``?key=`` repeated, at most 20): the block the widget shows them in, keys that
    no longer name such a comment left out (so the widget forgets them)."""
    site = load_site(site_slug)
    thread_key = thread_key_from_request()
    thread = threads.thread_state(site.id, thread_key)
    keys = list(dict.fromkeys(request.args.getlist("key")))[:20]
    found = [(key, preview_of(key, thread.id if thread else None)) for key in keys]
    previews = [preview for _key, preview in found if preview is not None]
    links = lambda fragment="", **extra: widget_url(site, thread_key, fragment, **extra)  # noqa: E731
    html = render_template(
        "widget/_previews.html",
        site=site,
        previews=previews,
        preview_keys={preview.id: key for key, preview in found if preview is not None},
        approved_total=thread.approved_count if thread else 0,
        widget_url=links,
        closed=False,
    )
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/w/<site_slug>")
@limiter.limit(public_posts_limit)
def post_comment(site_slug: str) -> ResponseReturnValue:
    """The form post: 303 back to the page with the author's preview, or the form again."""
    site = load_site(site_slug)
    thread_key = thread_key_from_request()
    try:
        result = submit_from_browser(
            site,
            thread_key,
            lambda: request.form,
            "form",
            # both only from a page on one of the site's origins (never another's words)
            thread_title=page_params(site, thread_key).get("title", ""),
            thread_url=thread_url(site),
        )
    except DomainError as error:
        return form_again(site, thread_key, Refusal.of(error), keep_token=_keeps_token(error))
    comment = result.comment
    extra: dict[str, Any] = {}
    if comment.status is not CommentStatus.APPROVED:
        extra = {
            "unapproved": comment.id,
            "moderation-hash": preview_serializer().dumps(comment.id),
        }
    if site.edit_minutes:
        extra["edit-key"] = edit_key(comment.id)
    extra["posted"] = comment.id  # the widget moves focus to the result and announces it
    answer = redirect(widget_url(site, thread_key, f"comment-{comment.id}", **extra), code=303)
    return remember.keep_or_forget(site, answer, framed=bool(host_origin(site)))


def form_again(
    site: SiteInfo, thread_key: str, refusal: Refusal, keep_token: bool = True
) -> Response:
    """The page again with what the person typed, each field's message (or the reason),
    and the status and headers of the one error table."""
    form = CommentForm(formdata=request.form)
    form.show_errors(refusal.field_errors)
    if not keep_token:
        form.form_token.data = ""  # a fresh one is issued with the page
    notice = "" if refusal.field_errors else refusal.detail
    return render_widget(
        site,
        thread_key,
        form,
        refusal.status,
        notice,
        refusal.headers,
        refusal.extra.get("challenge"),
    )


def _keeps_token(error: DomainError) -> bool:
    """A refused token is replaced, unless it was only too fresh (it becomes valid)."""
    return not isinstance(error, FormTokenRefused) or error.keep_token


@bp.errorhandler(RateLimitExceeded)
def too_many_posts(error: RateLimitExceeded) -> ResponseReturnValue:
    """The route's own limit: the friendly, translated answer in the widget, input kept
    (without a widget to show it in, the translated error page)."""
    try:
        site = site_info(str((request.view_args or {}).get("site_slug", "")))
    except DomainError:
        return handle_http_exception(error)
    thread_key = strip_controls(request.args.get("thread", ""), single_line=True)
    if not thread_key or len(thread_key) > 255:
        return handle_http_exception(error)
    return form_again(site, thread_key, route_limit_refusal())


@bp.get("/")
def home() -> Response:
    """A small landing page: where to go first (the demo, the dashboard, the docs), in the
    reader's language (``?lang=``, else the browser's)."""
    response = Response(render_template("home.html"), mimetype="text/html")
    response.headers["Cache-Control"] = "public, max-age=300"
    response.vary.add("Accept-Language")
    return response


@bp.get("/demo")
def demo() -> Response:
    """A page embedding the widget of the ``demo`` site, to see the whole flow at once.

    Its snippet names the origin the browser asked for (the ``Host`` header): never stored
    by a shared cache, which anyone could otherwise fill with a snippet naming their host."""
    response = Response(render_template("demo.html", own_origin=own_origin()), mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response
