"""Security headers on every response.

The widget lists the site's origins as its ``frame-ancestors``
(:func:`set_frame_ancestors`); every other answer, the dashboard's included, is never
framed.
"""

from __future__ import annotations

from flask import Flask, Response, abort, g, request
from flask_babel import gettext

from moderation.domain.errors import N_

DEFAULT_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "base-uri 'none'; form-action 'self'; object-src 'none'"
)


def set_frame_ancestors(sources: list[str]) -> None:
    """Let the current response be framed by ``sources`` (exact origins) only."""
    g.frame_ancestors = sources


#: The headers of a response that may not be framed at all, built once.
NEVER_FRAMED = [
    ("Content-Security-Policy", f"{DEFAULT_CSP}; frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Frame-Options", "DENY"),
]


def add_security_headers(response: Response) -> Response:
    """nosniff, a strict referrer policy and a CSP with the right frame-ancestors."""
    ancestors = g.get("frame_ancestors")
    headers = response.headers
    if not ancestors:
        # one pass over the headers (each ``in`` or ``[]=`` would be one per name)
        present = {name.lower() for name in headers.keys()}  # noqa: SIM118 - Headers iterate as pairs
        for name, value in NEVER_FRAMED:
            if name.lower() not in present:
                headers.add(name, value)
        return response
    headers.setdefault(
        "Content-Security-Policy", f"{DEFAULT_CSP}; frame-ancestors {' '.join(ancestors)}"
    )
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    return response


def keep_private(response: Response) -> Response:
    """For pages whose URL holds a credential or whose answer is personal: no caches, no
    Referer header carrying the URL away, no search index (an ``after_request`` hook)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


#: Why a request with a NUL character is refused (in the reader's language).
NUL_REFUSAL = N_("The request contains a NUL character, which is never valid here.")


def refuse_nul_bytes() -> None:
    """No path or query parameter may hold a NUL character, nor a dashboard form field.

    (Comment fields are cleaned by the domain rules instead, so a visitor who pasted one
    by accident keeps their comment.)
    """
    # the query string as sent: a NUL in any parameter is there as %00 (or raw), so most
    # requests are cleared without parsing their parameters
    query = request.query_string
    if "\x00" in request.path or (
        (b"%00" in query or b"\x00" in query)
        and any("\x00" in key or "\x00" in value for key, value in request.args.items(multi=True))
    ):
        abort(400, description=gettext(NUL_REFUSAL))
    if (
        request.method == "POST"
        and request.path.startswith("/dashboard")
        and any("\x00" in key or "\x00" in value for key, value in request.form.items(multi=True))
    ):
        abort(400, description=NUL_REFUSAL)  # the dashboard is English


def init_app(app: Flask) -> None:
    """Register the header hook and the request checks."""
    app.before_request(refuse_nul_bytes)
    app.after_request(add_security_headers)
