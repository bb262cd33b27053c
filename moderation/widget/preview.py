"""``POST /w/<site>/preview?thread=KEY``: a comment rendered exactly as it would be
published (the site's format, the same sanitiser), without storing anything. Guarded like
a post: the site's origins only, and a per-address limit."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from moderation.domain.comments import clean_text
from moderation.domain.errors import FieldError, InvalidFields
from moderation.domain.rendering import render_text
from moderation.web.door import refuse_foreign_origin
from moderation.web.errors import Refusal, problem_response
from moderation.web.limits import limiter, public_posts_limit
from moderation.widget.views import load_site, thread_key_from_request

bp = Blueprint("preview", __name__)


@bp.post("/w/<site_slug>/preview")
@limiter.limit(public_posts_limit)
def preview_comment(site_slug: str) -> Response:
    """``{"html": ...}``: the form's ``comment`` as readers would see it once published."""
    site = load_site(site_slug)
    thread_key_from_request()  # a preview is for one page, like the post that follows it
    refuse_foreign_origin(site)
    try:
        text = clean_text(str(request.form.get("comment", "")))
    except FieldError as error:
        refusal = Refusal.of(InvalidFields({"comment": error}))
        return problem_response(refusal.status, refusal.body())
    response = jsonify(html=render_text(text, site.comment_format))
    response.headers["Cache-Control"] = "no-store"
    return response
