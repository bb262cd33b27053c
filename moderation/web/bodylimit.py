"""``MAX_CONTENT_LENGTH`` for chunked request bodies too.

A body sent with ``Transfer-Encoding: chunked`` has no ``Content-Length`` for Werkzeug to
compare with the limit: it reads such a stream up to the limit and then stops, silently, so
an oversized body arrived cut short and was answered 400 (JSON that does not parse) or 401
(a webhook signature over the whole body) instead of 413. This middleware reads a chunked
body before the app does, at most one byte past the limit, and hands the app either the
whole body with its length or a declared length over the limit, which every door already
answers with 413, exactly as for a body that announced its size.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ChunkedBodyLimit:
    """WSGI middleware: give chunked bodies a length, or refuse them as too large."""

    def __init__(self, app: WSGIApp, config: Mapping[str, Any]) -> None:
        self.app = app
        self.config = config

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        limit = self.config.get("MAX_CONTENT_LENGTH")
        if (
            limit is not None
            and not environ.get("CONTENT_LENGTH")
            and environ.get("wsgi.input_terminated")  # the server decodes the chunks safely
            and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        ):
            body, complete = _read_at_most(environ["wsgi.input"], int(limit) + 1)
            environ["wsgi.input"] = io.BytesIO(b"" if len(body) > limit else body)
            # too large: declare one byte over the limit (413 wherever the body is read);
            # cut off by the client: declare more than arrived (Werkzeug answers 400)
            declared = int(limit) + 1 if len(body) > limit else len(body) + (not complete)
            environ["CONTENT_LENGTH"] = str(declared)
            environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.app(environ, start_response)


def _read_at_most(stream: Any, size: int) -> tuple[bytes, bool]:
    """Up to ``size`` bytes of ``stream``, and whether it ended normally (no error)."""
    chunks: list[bytes] = []
    remaining = size
    try:
        while remaining > 0:
            chunk = stream.read(min(remaining, 64 * 1024))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    except (OSError, ValueError):
        return b"".join(chunks), False
    return b"".join(chunks), True
