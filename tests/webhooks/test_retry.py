"""The retry schedule: immediately, 5 s, 5 min ... 24 h, each moved by 10-20% jitter, then none."""

from __future__ import annotations

import random

import pytest

from pipeline.webhooks import DEFAULT_SCHEDULE, RetryPolicy


def test_default_schedule_is_the_documented_one() -> None:
    assert DEFAULT_SCHEDULE == (0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)


def test_each_delay_is_jittered_by_10_to_20_percent_either_way() -> None:
    policy = RetryPolicy()
    rng = random.Random(7)
    for attempts in range(1, policy.max_attempts):
        base = DEFAULT_SCHEDULE[attempts]
        seen = [policy.delay_after(attempts, rng) for _ in range(200)]
        ratios = [d.total_seconds() / base - 1 for d in seen if d is not None]
        assert len(ratios) == 200
        assert all(0.1 - 1e-9 <= abs(r) <= 0.2 + 1e-9 for r in ratios)
        assert min(ratios) < 0 < max(ratios)


def test_no_delay_once_the_schedule_is_exhausted() -> None:
    policy = RetryPolicy()
    assert policy.delay_after(policy.max_attempts, random.Random()) is None


def test_invalid_policies_are_refused() -> None:
    with pytest.raises(ValueError, match="jitter"):
        RetryPolicy(min_jitter=0.3, max_jitter=0.2)
    with pytest.raises(ValueError, match="disable_after"):
        RetryPolicy(disable_after=0)
