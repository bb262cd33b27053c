"""What the JSON endpoints share: reading a JSON object and validating comment fields with
the widget's own form, so every door applies the same rules."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app
from flask_babel import gettext
from werkzeug.datastructures import MultiDict

from moderation.domain.comments import FIELDS
from moderation.domain.errors import InvalidInput
from moderation.widget.forms import CommentForm


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object of scalars, or a 400/422 with a readable reason."""
    try:
        payload = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidInput(gettext("The body is not valid UTF-8.")) from None
    except (ValueError, RecursionError):
        raise InvalidInput(gettext("The body is not valid JSON.")) from None
    if not isinstance(payload, dict):
        raise InvalidInput(gettext("The body must be a JSON object."))
    return payload


def comment_form(payload: dict[str, Any]) -> CommentForm:
    """Validate the comment fields with the widget's form (the same rules)."""
    errors: dict[str, str] = {}
    data: MultiDict[str, str] = MultiDict()
    for name in FIELDS:
        value = payload.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            errors[name] = gettext("This field must be text.")
            continue
        data[name] = str(value)
    form = CommentForm(formdata=data, meta={"csrf": False})
    form.check_deliverability = bool(current_app.config["EMAIL_CHECK_DELIVERABILITY"])
    if not form.validate() or errors:
        raise InvalidInput(
            gettext("Some fields need your attention."),
            field_errors={**form.field_errors(), **errors},
        )
    return form
