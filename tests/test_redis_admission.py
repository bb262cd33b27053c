"""The one-round-trip Redis check: the same limits and flood interval as the in-memory
path, counted atomically."""

from __future__ import annotations

import time
import uuid

import pytest

from moderation.ratelimit.redis_script import RedisAdmission
from tests.redis_dbs import LIMITS_DB, redis_url

pytestmark = pytest.mark.any_database

REDIS = redis_url(LIMITS_DB)


@pytest.fixture
def admission() -> RedisAdmission:
    return RedisAdmission(REDIS, f"test-{uuid.uuid4().hex[:8]}", {})


def test_a_limit_lets_its_amount_through_then_says_how_long(admission: RedisAdmission) -> None:
    checks = [("address", "3/minute", ("203.0.113.1",))]
    verdicts = [admission.admit(checks, [], 0) for _ in range(4)]
    assert [v.breach for v in verdicts[:3]] == [None, None, None]
    breach = verdicts[3].breach
    assert breach is not None
    assert (breach.scope, breach.limit) == ("address", "3 per 1 minute")
    assert 1 <= breach.retry_after <= 120
    # another address is another counter
    assert admission.admit([("address", "3/minute", ("203.0.113.2",))], [], 0).breach is None


def test_nothing_is_counted_unless_every_limit_passes(admission: RedisAdmission) -> None:
    loose = ("address", "10/minute", ("198.51.100.1",))
    tight = ("email", "1/minute", ("hash-of-an-email",))
    assert admission.admit([loose, tight], [], 0).breach is None
    for _ in range(5):
        assert admission.admit([loose, tight], [], 0).breach is not None
    # the refused attempts did not use up the loose limit: 9 more fit, then it refuses
    others = [admission.admit([loose], [], 0).breach for _ in range(10)]
    assert others[:9] == [None] * 9
    assert others[9] is not None


def test_the_window_slides(admission: RedisAdmission) -> None:
    checks = [("site", "2/2second", ("blog",))]
    assert [admission.admit(checks, [], 0).breach is None for _ in range(3)] == [
        True,
        True,
        False,
    ]
    time.sleep(4.1)  # two windows later nothing weighs any more
    assert admission.admit(checks, [], 0).breach is None


def test_the_flood_interval_is_exact(admission: RedisAdmission) -> None:
    keys = [("blog", "address", "203.0.113.9"), ("blog", "email", "hash")]
    assert admission.admit([], keys, 2).flood_wait is None
    wait = admission.admit([], keys, 2).flood_wait
    assert wait in (1, 2)
    # the same email from elsewhere waits too; someone else does not
    assert admission.admit(
        [], [("blog", "address", "203.0.113.10"), ("blog", "email", "hash")], 2
    ).flood_wait
    assert (
        admission.admit(
            [], [("blog", "address", "203.0.113.11"), ("blog", "email", "other")], 2
        ).flood_wait
        is None
    )
    time.sleep(2.1)
    assert admission.admit([], keys, 2).flood_wait is None
