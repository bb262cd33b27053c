"""Reading a JSON request body: an object, or a refusal that says why."""

from __future__ import annotations

import json
from typing import Any

from moderation.domain.errors import N_, InvalidInput


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object, or a 400 with a readable reason."""
    try:
        payload = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidInput(N_("The body is not valid UTF-8.")) from None
    except (ValueError, RecursionError):
        raise InvalidInput(N_("The body is not valid JSON.")) from None
    if not isinstance(payload, dict):
        raise InvalidInput(N_("The body must be a JSON object."))
    return payload
