"""The widget's look as a website sets it: a theme and a few CSS custom properties.

A site passes them from its embed snippet (``data-theme`` and ``--comments-*`` properties on
the container, which ``embed.js`` forwards as query parameters). Each value must match a
strict pattern for its kind, so none can carry ``url(...)``, a ``;`` or anything else than a
colour, a font list or a length; values that do not match are dropped, never echoed. The
widget applies what is left through the CSSOM, which the page's CSP (``style-src 'self'``)
allows: no inline style is ever needed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

THEMES = ("light", "dark", "auto")
DEFAULT_THEME = "auto"

_HEX = r"#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})"
_NUMBER = r"-?\d{1,3}(?:\.\d{1,4})?(?:%|deg)?"
_FUNCTION = rf"(?:rgba?|hsla?)\(\s*{_NUMBER}(?:\s*[,/ ]\s*{_NUMBER}){{2,3}}\s*\)"
_COLOR = re.compile(rf"{_HEX}|{_FUNCTION}|[a-zA-Z]{{3,20}}")
_FONT = re.compile(r"[A-Za-z0-9 ,\-]{1,120}")
_LENGTH = re.compile(r"0|\d{1,3}(?:\.\d{1,3})?(?:px|rem|em|%)")

#: The documented properties (``--comments-NAME`` on the host page) and their patterns.
PROPERTIES: dict[str, re.Pattern[str]] = {
    "accent": _COLOR,
    "text": _COLOR,
    "muted": _COLOR,
    "background": _COLOR,
    "font": _FONT,
    "radius": _LENGTH,
}


@dataclass(frozen=True)
class Look:
    """A validated theme and the custom properties that passed their pattern."""

    theme: str = DEFAULT_THEME
    properties: dict[str, str] = field(default_factory=dict)

    def as_params(self) -> dict[str, str]:
        """Query parameters that carry this look to the next page of the widget."""
        params = {"theme": self.theme} if self.theme != DEFAULT_THEME else {}
        params.update(self.properties)
        return params


def read_look(params: Mapping[str, str]) -> Look:
    """The look named by ``params`` (``theme`` and one parameter per property); anything
    not matching its pattern is left out."""
    theme = params.get("theme", "")
    properties = {
        name: value.strip()
        for name, pattern in PROPERTIES.items()
        if (value := params.get(name, "")) and pattern.fullmatch(value.strip())
    }
    return Look(theme if theme in THEMES else DEFAULT_THEME, properties)
