"""Every limit and the flood interval of one submission in a single Redis round trip.

The per-key strategies of ``limits`` cost a round trip per limit (five or more per
comment); under load those round trips, not the checks, were the price. This script
applies the same sliding-window counters (and the exact flood interval) atomically: the
limits are only counted when all of them let the comment through.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from limits import RateLimitItem

from moderation.ratelimit.admission import Admission, Breach, Check, Key, parse_limits

#: KEYS: one per limit, then one per flood key.
#: ARGV: number of limits, then (amount, window seconds) per limit, then the flood interval.
#: Returns {index of the breached limit (1-based) or 0, its retry-after, the flood wait}.
SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local limits = tonumber(ARGV[1])
local currents = {}
for i = 1, limits do
  local amount = tonumber(ARGV[2 * i])
  local window = tonumber(ARGV[2 * i + 1])
  local index = math.floor(now / window)
  local elapsed = now - index * window
  local current_key = KEYS[i] .. ':' .. index
  local current = tonumber(redis.call('GET', current_key)) or 0
  local previous = tonumber(redis.call('GET', KEYS[i] .. ':' .. (index - 1))) or 0
  local weighted = previous * (window - elapsed) / window + current
  if weighted + 1 > amount then
    local wait
    if current + 1 > amount then
      wait = (window - elapsed) + window * (1 - (amount - 1) / current)
    else
      wait = window - window * (amount - 1 - current) / previous - elapsed
    end
    return {i, math.max(1, math.ceil(wait)), 0}
  end
  currents[i] = {current_key, window}
end
for i = 1, limits do
  if redis.call('INCR', currents[i][1]) == 1 then
    redis.call('EXPIRE', currents[i][1], currents[i][2] * 2)
  end
end
local interval = tonumber(ARGV[2 * limits + 2])
local wait = 0
if interval > 0 then
  for i = limits + 1, #KEYS do
    local last = tonumber(redis.call('GET', KEYS[i]))
    if last and now - last < interval then
      wait = math.max(wait, math.ceil(interval - (now - last)))
    end
  end
  if wait == 0 then
    for i = limits + 1, #KEYS do
      redis.call('SET', KEYS[i], tostring(now), 'EX', interval)
    end
  end
end
return {0, 0, wait}
"""


class RedisAdmission:
    """The combined check, against the Redis the service is configured with."""

    def __init__(self, url: str, prefix: str, options: dict[str, Any]) -> None:
        # here, not at the top: a process on the embedded SQLite limits never needs the
        # client library (30 ms of every start)
        import redis

        self._client = redis.Redis.from_url(url, **options)
        self._script = self._client.register_script(SCRIPT)
        self._prefix = prefix

    def forget(self, checks: Sequence[Check], flood_keys: Sequence[Key]) -> None:
        """Delete the counters (every window) of ``checks`` and the flood keys."""
        for scope, limit_text, key in checks:
            for item in parse_limits(limit_text):
                base = f"{self._prefix}:{scope}:{item.amount}/{item.get_expiry()}:{':'.join(key)}"
                stale = list(self._client.scan_iter(match=f"{base}:*", count=100))
                if stale:
                    self._client.delete(*stale)
        if flood_keys:
            self._client.delete(*(f"{self._prefix}:flood:{':'.join(key)}" for key in flood_keys))

    def admit(
        self, checks: Sequence[Check], flood_keys: Sequence[Key], flood_seconds: int
    ) -> Admission:
        """Count the submission against every limit, then claim the flood interval."""
        items: list[tuple[str, RateLimitItem]] = []
        keys: list[str] = []
        for scope, limit_text, key in checks:
            for item in parse_limits(limit_text):
                items.append((scope, item))
                keys.append(
                    f"{self._prefix}:{scope}:{item.amount}/{item.get_expiry()}:{':'.join(key)}"
                )
        arguments: list[int] = [len(items)]
        for _scope, item in items:
            arguments += [item.amount, item.get_expiry()]
        arguments.append(max(0, flood_seconds))
        keys += [f"{self._prefix}:flood:{':'.join(key)}" for key in flood_keys]
        breached_index, retry_after, flood_wait = (
            int(v) for v in self._script(keys=keys, args=arguments)
        )
        if breached_index:
            scope, item = items[breached_index - 1]
            return Admission(Breach(str(item), scope, retry_after))
        return Admission(flood_wait=flood_wait or None)
