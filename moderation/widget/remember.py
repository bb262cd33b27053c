""" "Save my name, email, and website…" on the standalone page (no frame, maybe no
JavaScript): a first-party cookie on the service's own page, set only when the box is
ticked and removed when it is not, read back only into that browser's own form.

In a frame the widget's script keeps them in the frame's storage instead (a cookie of a
cross-site frame is a third-party cookie: browsers refuse or partition it)."""

from __future__ import annotations

import json

from flask import request
from werkzeug.wrappers import Response

from moderation.domain.comments import strip_controls
from moderation.services.sites import SiteInfo

#: About a year, as WordPress keeps its commenter cookies.
MAX_AGE = 347 * 24 * 3600
FIELDS = ("author", "email", "url")


def cookie_name(site: SiteInfo) -> str:
    return f"moderation_author_{site.slug}"


def cookie_path(site: SiteInfo) -> str:
    return f"/w/{site.slug}"


def remembered_author(site: SiteInfo) -> dict[str, str]:
    """Name, email and website this browser asked the standalone page to keep (or nothing)."""
    raw = request.cookies.get(cookie_name(site), "")
    if not raw:
        return {}
    try:
        values = json.loads(raw)
    except ValueError:
        return {}
    if not isinstance(values, dict):
        return {}
    return {
        name: strip_controls(str(values.get(name, "")), single_line=True)[:245]
        for name in FIELDS
        if isinstance(values.get(name, ""), str)
    }


def keep_or_forget(site: SiteInfo, response: Response, framed: bool) -> Response:
    """After a comment was taken on the standalone page: keep the author's details when
    the box is ticked, forget them when it is not (in a frame: nothing, see above)."""
    if framed:
        return response
    name = cookie_name(site)
    if request.form.get("remember"):
        values = {field: request.form.get(field, "").strip()[:245] for field in FIELDS}
        response.set_cookie(
            name,
            json.dumps(values, separators=(",", ":")),
            max_age=MAX_AGE,
            path=cookie_path(site),
            secure=request.is_secure,
            httponly=True,
            samesite="Lax",
        )
    elif name in request.cookies:
        response.delete_cookie(name, path=cookie_path(site), secure=request.is_secure)
    return response
