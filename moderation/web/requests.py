"""The request class: parameters and cookies whose ``get`` of a missing name costs no
exception.

Werkzeug's ``MultiDict.get`` looks a name up through ``__getitem__``, which raises (and
builds) a ``BadRequestKeyError`` for every parameter a request does not carry; a widget
read asks for a dozen optional ones (theme, custom properties, origin, page, language),
and for the remembered-author cookie most readers do not have.
"""

from __future__ import annotations

from typing import Any

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict


class Parameters(ImmutableMultiDict[str, str]):
    """Query and form parameters; a missing name is answered without raising."""

    def get(self, key: Any, default: Any = None, type: Any = None) -> Any:  # type: ignore[override]
        """The first value of ``key`` (converted by ``type``), else ``default``."""
        if key not in self:
            return default
        return super().get(key, default, type)


class ServiceRequest(Request):
    """Flask's request with :class:`Parameters` (query, form and cookies)."""

    parameter_storage_class = Parameters
    dict_storage_class = Parameters
