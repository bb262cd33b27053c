"""Small in-process caches for public reads: rendered once, served many times.

Entries are keyed by what makes them current (a thread's version, say), so a stale entry
is never served for a newer state; it is only evicted. Each process has its own cache,
bounded in bytes so memory stays predictable.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import Flask, current_app

from moderation.metrics import count_render_cache_lookup

V = TypeVar("V")


class BoundedCache(Generic[V]):
    """A least-recently-used cache bounded by the total size of its values."""

    def __init__(
        self,
        max_bytes: int,
        size_of: Callable[[V], int] = len,  # type: ignore[assignment]
        on_lookup: Callable[[bool], None] | None = None,
    ) -> None:
        self._on_lookup = on_lookup
        self._entries: OrderedDict[Hashable, V] = OrderedDict()
        self._sizes: dict[Hashable, int] = {}
        self._total = 0
        self._max = max_bytes
        self._size_of = size_of
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        """The value, marked as recently used, or ``None``."""
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
        if self._on_lookup is not None:
            self._on_lookup(value is not None)
        return value

    @property
    def held(self) -> int:
        """The total size of the values kept."""
        return self._total

    def put(self, key: Hashable, value: V) -> V:
        """Keep ``value`` unless it alone is larger than the whole cache."""
        size = self._size_of(value)
        if size > self._max:
            return value
        with self._lock:
            if key in self._entries:
                self._total -= self._sizes.pop(key)
                del self._entries[key]
            self._entries[key] = value
            self._sizes[key] = size
            self._total += size
            while self._total > self._max:
                old, _ = self._entries.popitem(last=False)
                self._total -= self._sizes.pop(old)
        return value


#: Generations of every :class:`Freshness` in the process: caches made anew (a test, a
#: benchmark emptying them) never repeat a generation an answer was kept under.
_GENERATIONS = itertools.count(1)


class Freshness:
    """How long what a request read from the timed caches stays what they would answer.

    A request that asks (:meth:`watch`) learns the earliest moment one of the values it
    was given expires (``time.monotonic``), and how many rendered bodies it looked up; the
    :attr:`generation` moves whenever a value is forgotten (a change made in this
    process). An answer built only from those values is the answer the same request gets
    until that moment, while the generation stands (:mod:`moderation.web.replay`)."""

    def __init__(self) -> None:
        self._watching = threading.local()
        self.generation = next(_GENERATIONS)
        self._lock = threading.Lock()

    def watch(self) -> Watch:
        """Start noting, in this thread, what the request reads."""
        watch = Watch(self.generation)
        self._watching.current = watch
        return watch

    def stop(self) -> None:
        """Stop noting in this thread."""
        self._watching.current = None

    def read(self, expires_at: float) -> None:
        """A value valid until ``expires_at`` was handed out."""
        watch: Watch | None = getattr(self._watching, "current", None)
        if watch is not None and expires_at < watch.until:
            watch.until = expires_at

    def looked_up(self, hit: bool) -> None:
        """A rendered body was looked up, and found or not."""
        watch: Watch | None = getattr(self._watching, "current", None)
        if watch is not None:
            watch.lookups += 1
            watch.rendered = watch.rendered or not hit

    def changed(self) -> None:
        """Something was forgotten: every answer built before is out of date."""
        with self._lock:
            self.generation = next(_GENERATIONS)


@dataclass
class Watch:
    """What one request read: valid until ``until`` while ``generation`` stands."""

    generation: int
    until: float = float("inf")
    #: rendered bodies looked up
    lookups: int = 0
    #: one of them was rendered for this request (the next one finds them all)
    rendered: bool = False


class TimedCache(Generic[V]):
    """Values remembered for a few seconds (settings that change rarely), at most
    ``max_entries`` of them: when full, the least recently used entry makes room (never
    the whole cache, which anyone asking for many different keys could otherwise empty)."""

    def __init__(
        self, seconds: float, max_entries: int = 1024, freshness: Freshness | None = None
    ) -> None:
        self._seconds = seconds
        self._max = max_entries
        self._entries: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()
        self._freshness = freshness or Freshness()

    def get(self, key: Hashable, load: Callable[[], V]) -> V:
        """The remembered value, or ``load()``'s, remembered from now on."""
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(key)
            if found is not None and found[0] > now:
                self._entries.move_to_end(key)
                self._freshness.read(found[0])
                return found[1]
        value = load()
        with self._lock:
            self._entries[key] = (now + self._seconds, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        self._freshness.read(now + self._seconds)
        return value

    def forget(self, key: Hashable | None = None) -> None:
        """Drop one entry, or all."""
        with self._lock:
            if key is None:
                self._entries.clear()
            else:
                self._entries.pop(key, None)
        self._freshness.changed()

    def __len__(self) -> int:
        return len(self._entries)


#: Where the app keeps its caches (read through :func:`caches`).
EXTENSION_KEY = "moderation.caches"


@dataclass(frozen=True)
class Caches:
    """The per-process caches of the public read paths."""

    #: site settings by slug, for a few seconds
    site_info: TimedCache[Any]
    #: what a public read checks its cached rendering against (threads' versions, counts):
    #: remembered for at most PUBLIC_READ_STALENESS seconds; changes made in this process
    #: clear it at once
    public_state: TimedCache[Any]
    #: rendered bodies, in parts (a widget page is kept as the bytes before and after the
    #: reader's form token, so serving it copies nothing)
    rendered: BoundedCache[tuple[bytes, ...]]
    #: marks where each reader's form token goes in a cached widget page (unguessable, so
    #: no comment text can contain it)
    token_placeholder: str
    #: how long what a request read from ``site_info`` and ``public_state`` stays current
    freshness: Freshness


def caches() -> Caches:
    """The current app's caches."""
    found = current_app.extensions[EXTENSION_KEY]
    assert isinstance(found, Caches)
    return found


def cached_rendering(key: Hashable, render: Callable[[], tuple[bytes, ...]]) -> tuple[bytes, ...]:
    """The rendering kept under ``key`` (which names the version or ETag it renders and
    whatever else shapes it), or ``render()``'s, kept from now on."""
    known = caches()
    cache = known.rendered
    found = cache.get(key)
    known.freshness.looked_up(found is not None)
    if found is None:
        found = cache.put(key, render())
    return found


def init_app(app: Flask) -> None:
    """Give ``app`` its caches, sized by its settings."""
    freshness = Freshness()
    app.extensions[EXTENSION_KEY] = Caches(
        site_info=TimedCache(
            seconds=float(app.config["SITE_SETTINGS_STALENESS"]), freshness=freshness
        ),
        public_state=TimedCache(
            seconds=float(app.config["PUBLIC_READ_STALENESS"]),
            max_entries=4096,
            freshness=freshness,
        ),
        rendered=BoundedCache(
            int(app.config["RENDER_CACHE_BYTES"]),
            size_of=lambda parts: sum(map(len, parts)),
            on_lookup=count_render_cache_lookup,
        ),
        token_placeholder=f"form-token-{secrets.token_hex(16)}",
        freshness=freshness,
    )
