"""Security headers on every response.

Each blueprint sets its own ``frame-ancestors``: the widget lists the site's origins, the
dashboard says ``'none'``. Everything else is never framed.
"""

from __future__ import annotations

from flask import Flask, Response, g

DEFAULT_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "base-uri 'none'; form-action 'self'; object-src 'none'"
)


def set_frame_ancestors(sources: list[str]) -> None:
    """Let the current response be framed by ``sources`` (exact origins) only."""
    g.frame_ancestors = sources


def add_security_headers(response: Response) -> Response:
    """nosniff, a strict referrer policy and a CSP with the right frame-ancestors."""
    ancestors = g.get("frame_ancestors") or ["'none'"]
    csp = g.get("content_security_policy", DEFAULT_CSP)
    response.headers.setdefault(
        "Content-Security-Policy", f"{csp}; frame-ancestors {' '.join(ancestors)}"
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if "'none'" in ancestors:
        response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def init_app(app: Flask) -> None:
    """Register the header hook."""
    app.after_request(add_security_headers)
