"""What every public read shares: short shared caching, conditional answers on an opaque
version, and the absolute address of this service for markup served to other pages."""

from __future__ import annotations

from collections.abc import Callable

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
