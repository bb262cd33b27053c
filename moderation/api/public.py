"""The public JSON API websites call: approved comments, submissions, counts, form tokens.

JSON in, JSON out: submissions must be ``application/json`` (a form cannot forge one
cross-site), come from one of the site's origins, and carry a form token like the widget.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, current_app, g, jsonify, request
from flask_babel import gettext, ngettext

from moderation.api.json_body import parse_json_object
from moderation.cache import cached_rendering, caches
from moderation.clock import utcnow
from moderation.domain.comments import strip_controls
from moderation.domain.errors import DomainError, InvalidInput
from moderation.domain.numbers import parse_page
from moderation.domain.privacy import public_version
from moderation.extensions import csrf
from moderation.services import form_tokens, threads
from moderation.services.sites import SiteInfo, site_info
from moderation.web.door import submit_from_browser
from moderation.web.errors import domain_problem, problem
from moderation.web.limits import limiter, public_posts_limit
from moderation.web.origins import request_origin, site_allows
from moderation.web.public_reads import conditional, public_cache
from moderation.web.replay import may_replay

bp = Blueprint("public_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

MAX_COUNT_THREADS = 100


@bp.errorhandler(DomainError)
def handle_domain_error(error: DomainError) -> Response:
    """Refusals from the services as problem+json."""
    return domain_problem(error)


def thread_key_argument() -> str:
    """``?thread=KEY``, required."""
    key = strip_controls(request.args.get("thread", ""), single_line=True)
    if not key or len(key) > 255:
        raise InvalidInput(gettext("The request must name its comment thread (?thread=...)."))
    return key


def load_site(slug: str) -> SiteInfo:
    """The site of this request, remembered for the CORS answer."""
    site = site_info(slug)
    g.api_site = site
    return site


@bp.after_request
def allow_cors(response: Response) -> Response:
    """Let the site's own origins read every answer about it, errors included (and only
    them): a front end must be able to show field errors and Retry-After."""
    response.headers["Vary"] = "Origin"
    site: SiteInfo | None = g.get("api_site")
    if site is None or "Origin" not in request.headers:
        return response  # (never a database query here: this runs after errors too)
    origin = request_origin()
    if origin and site_allows(site, origin):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "GET, POST"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Expose-Headers"] = "Retry-After, ETag"
        response.headers["Access-Control-Max-Age"] = "600"
    return response


def json_fields() -> dict[str, object]:
    """The submitted fields: a JSON object (a form cannot forge one cross-site)."""
    if not request.is_json:
        abort(
            415, description=gettext("Send the comment as JSON (Content-Type: application/json).")
        )
    return parse_json_object(request.get_data(cache=False))


@bp.get("/sites/<site_slug>/comments", provide_automatic_options=False)
def list_comments(site_slug: str) -> Response:
    """Approved comments of a thread, public fields only, with an ETag."""
    site = load_site(site_slug)
    key = thread_key_argument()
    thread = threads.public_thread_state(site.id, key)
    # open at this moment: closing by age turns a thread's answers over without a write
    now = utcnow()
    state = threads.public_state(site, thread, now)
    may_replay(until=threads.closes_by_age_at(site, thread, now))
    page_number = threads.last_page_bound(site, thread, parse_page(request.args.get("page", "1")))
    # from public state only: a thread whose comments are all held answers exactly as one
    # that does not exist (the same ETag on the same URL), and no id appears
    version = public_version(
        current_app.config["SECRET_KEY"].encode(),
        site.id,
        site.page_size,
        site.max_depth,
        site.sort.value,
        *state,
        page_number,
    )
    return conditional(
        version,
        lambda: thread_json(site, key, thread, page_number, version, is_open=state[1]),
        "application/json",
    )


def thread_json(
    site: SiteInfo,
    key: str,
    thread: threads.ThreadState | None,
    page_number: int,
    version: str,
    is_open: bool,
) -> bytes:
    """The serialised page, from the render cache while the thread is unchanged."""

    def render() -> tuple[bytes]:
        secret = current_app.config["SECRET_KEY"].encode()
        page = threads.read_page(site, thread, page_number, secret)
        body = {
            "site": site.slug,
            "thread": key,
            "open": is_open,
            "count": page.total,
            "page": page.page,
            "pages": page.pages,
            "comments": [comment.to_json() for comment in page.comments],
        }
        return (json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(),)

    return cached_rendering(("json", version, key), render)[0]


@bp.get("/sites/<site_slug>/counts")
def count_comments(site_slug: str) -> Response:
    """Approved-comment counts for many threads: ``?thread=A&thread=B``. The answer is
    remembered as the counts are (a moment, forgotten at once on a change made in this
    process), by the query as sent: a repeated read parses and labels nothing."""
    site = load_site(site_slug)
    labels = b"labels=" in request.query_string
    language = request.headers.get("Accept-Language", "") if labels else ""
    answer: bytes = caches().public_state.get(
        ("counts-answer", site.id, request.query_string, language), lambda: counts_answer(site)
    )
    may_replay()
    response = public_cache(Response(answer, mimetype="application/json"))
    if labels:
        response.vary.add("Accept-Language")
    return response


def counts_answer(site: SiteInfo) -> bytes:
    """The counts (and labels, if asked) of the threads this request names."""
    keys = [strip_controls(key, single_line=True)[:255] for key in request.args.getlist("thread")]
    keys = list(dict.fromkeys(key for key in keys if key))
    if not keys:
        raise InvalidInput(gettext("Name at least one thread (?thread=A&thread=B)."))
    if len(keys) > MAX_COUNT_THREADS:
        raise InvalidInput(gettext("At most %(max)d threads per request.", max=MAX_COUNT_THREADS))
    counts = threads.public_counts(site, keys)
    answer: dict[str, dict[str, Any]] = {"counts": counts}
    if request.args.get("labels"):
        # what embed.js writes into a page's count placeholders, in the page's language
        # (translated once per count: an index page's threads share a few counts)
        labels = {
            count: ngettext("%(num)d Comment", "%(num)d Comments", count)
            for count in set(counts.values())
        }
        answer["labels"] = {key: labels[count] for key, count in counts.items()}
    return json.dumps(answer, ensure_ascii=False).encode()


@bp.get("/sites/<site_slug>/form-token")
def issue_form_token(site_slug: str) -> Response:
    """A fresh single-use token for a custom front end's comment form."""
    site = load_site(site_slug)
    key = thread_key_argument()
    config = current_app.config
    response = jsonify(
        form_token=form_tokens.issue(config["SECRET_KEY"], site.slug, key, utcnow()),
        min_age=config["FORM_TOKEN_MIN_AGE"],
        expires_in=config["FORM_TOKEN_MAX_AGE"],
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/sites/<site_slug>/comments", methods=["OPTIONS"])
def preflight(site_slug: str) -> Response:
    """CORS preflight: only the site's origins may post JSON."""
    site = load_site(site_slug)
    origin = request_origin()
    if not site_allows(site, origin):
        return problem(403, gettext("This origin may not call this site's API."))
    return Response(status=204)


@bp.post("/sites/<site_slug>/comments", provide_automatic_options=False)
@limiter.limit(public_posts_limit)
def submit_comment(site_slug: str) -> tuple[Response, int]:
    """A JSON submission; 202 with the pending status (201 when published at once)."""
    site = load_site(site_slug)
    key = thread_key_argument()
    result = submit_from_browser(site, key, json_fields, "json")
    comment = result.comment
    status_code = 201 if result.public_status == "approved" else 202
    body = {
        "id": comment.id,
        "status": result.public_status,
        "thread": key,
        "parent": comment.parent_id,
        "author": comment.author,
        "url": comment.url or None,
        "html": comment.html,
        "created_at": comment.created_at.isoformat().replace("+00:00", "Z"),
        "message": gettext("Your comment is awaiting moderation.")
        if status_code == 202
        else gettext("Your comment is published."),
    }
    return jsonify(body), status_code
