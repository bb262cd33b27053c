"""One limit, one count, whatever holds the counters: the gate's Redis script, and the
memory and SQLite counters it falls back on or runs on, agree where a window turns over."""

from __future__ import annotations

import itertools
import math
import time
import uuid
from pathlib import Path

import pytest
from limits.storage import Storage, storage_from_string

from moderation.ratelimit import RateGate
from moderation.ratelimit.redis_script import RedisAdmission
from tests.redis_dbs import WINDOWS_DB, redis_url

pytestmark = pytest.mark.any_database

REDIS = redis_url(WINDOWS_DB)


def gate_on(uri: str) -> RateGate:
    storage = storage_from_string(uri)
    assert isinstance(storage, Storage)
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    redis = RedisAdmission(uri, prefix, {}) if uri.startswith("redis://") else None
    return RateGate(storage, prefix, redis)


def test_a_sixth_hit_just_after_a_window_turned_over_is_refused_everywhere(
    tmp_path: Path,
) -> None:
    """Five hits, then the window turns over, then a sixth: the five still weigh 4.99...,
    so ``5 per window`` refuses it. The memory and SQLite counters rounded that down to 4
    and let it through (seen as six accepted comments of seven from one email while Redis
    was away, in the system suite), where the Redis script refused it."""
    gates = {
        "redis": gate_on(REDIS),
        "memory": gate_on("moderation-memory://"),
        "sqlite": gate_on(f"moderation-sqlite://{tmp_path / 'ratelimits.db'}"),
    }
    # a window of many years whose second turnover comes in half a second to two seconds
    # (the first would be window 0's: ``limits`` takes window 0 for its own previous one);
    # the five hits fall before it (should one fall after, the sixth is refused all the same)
    end = next(t for t in itertools.count(math.ceil(time.time() + 0.5)) if t % 2 == 0)
    window = end // 2
    checks = [("email", f"5 per {window} second", ("a-keyed-hash",))]
    before = {
        name: [gate.admit(checks, [], 0).breach for _ in range(5)] for name, gate in gates.items()
    }
    time.sleep(max(0.0, end - time.time()) + 0.05)
    after = {name: gate.admit(checks, [], 0).breach for name, gate in gates.items()}
    assert before == {name: [None] * 5 for name in gates}
    assert {name: breach and breach.scope for name, breach in after.items()} == dict.fromkeys(
        gates, "email"
    )
