"""The application class: Flask, with this service's request class, its commands imported
on demand, and without Flask's per-request question whether each hook is a coroutine.

Flask asks ``ensure_sync`` of every before-, after- and teardown-request hook and of the
view, on every request, and each answer inspects the function's code flags; here about a
tenth of a public read's work. The answer never changes for a function, so it is kept.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import Flask

from moderation.commands.on_demand import CommandsOnDemand
from moderation.web.requests import ServiceRequest

#: More distinct functions than any app registers; past it, answers are not kept.
_MOST_KEPT = 4096


class ServiceFlask(Flask):
    """Flask with :class:`ServiceRequest`, ``ensure_sync`` answered once per function, and
    commands imported when they are used."""

    request_class = ServiceRequest

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cli = CommandsOnDemand(self.name)
        self._synchronous: dict[Callable[..., Any], Callable[..., Any]] = {}
        self._synchronous_lock = threading.Lock()

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Flask's answer for ``func`` (itself, or a wrapper for a coroutine), kept."""
        try:
            return self._synchronous[func]
        except KeyError:
            pass
        except TypeError:  # unhashable: ask every time
            return super().ensure_sync(func)
        answer = super().ensure_sync(func)
        with self._synchronous_lock:
            if len(self._synchronous) < _MOST_KEPT:
                self._synchronous[func] = answer
        return answer
