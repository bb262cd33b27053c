"""What every public read shares: short shared caching, conditional answers on an opaque
version, and the absolute address of this service for markup served to other pages."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from flask import Response, current_app, request


def public_cache(response: Response) -> Response:
    """Short shared caching for public reads; revalidation is cheap thanks to the ETag."""
    response.headers["Cache-Control"] = (
        f"public, max-age={int(current_app.config['PUBLIC_CACHE_SECONDS'])}"
    )
    return response


def conditional(version: str, render: Callable[[], bytes], mimetype: str) -> Response:
    """``304`` when the reader holds ``version`` already, else the rendered body; either way
    with ``version`` as a weak ETag and public caching."""
    if request.if_none_match.contains_weak(version):
        response = Response(status=304)
    else:
        response = Response(render(), mimetype=mimetype)
    response.set_etag(version, weak=True)
    return public_cache(response)


def service_base() -> str:
    """This service's address for links in markup other pages include (a fragment, a
    feed): ``PUBLIC_URL`` when set, else the address the request came to."""
    configured = str(current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    return configured or request.host_url.rstrip("/")


def widget_page_url(base: str, site_slug: str, thread_key: str, **extra: object) -> str:
    """The widget page of ``thread_key`` on its own (absolute), with ``extra`` parameters."""
    query = urlencode({"thread": thread_key, **{k: v for k, v in extra.items() if v}})
    return f"{base}/w/{site_slug}?{query}"


def feed_url(base: str, site_slug: str, thread_key: str | None = None) -> str:
    """The address of a site's Atom feed, or of one thread's."""
    query = f"?{urlencode({'thread': thread_key})}" if thread_key is not None else ""
    return f"{base}/feeds/{site_slug}.atom{query}"
