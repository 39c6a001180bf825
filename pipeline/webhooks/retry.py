"""The outbound retry policy: the delay schedule with jitter, and when an endpoint is disabled."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

__all__ = ["DEFAULT_SCHEDULE", "RetryPolicy"]

SECONDS = 1
MINUTES = 60 * SECONDS
HOURS = 60 * MINUTES

# Delay before each attempt: the first goes out immediately, the last 24 h after the ninth.
DEFAULT_SCHEDULE: tuple[float, ...] = (
    0,
    5 * SECONDS,
    5 * MINUTES,
    30 * MINUTES,
    2 * HOURS,
    5 * HOURS,
    10 * HOURS,
    14 * HOURS,
    20 * HOURS,
    24 * HOURS,
)


@dataclass(frozen=True)
class RetryPolicy:
    """When to try a failed delivery again, and how many failed deliveries disable an endpoint.

    ``schedule[n]`` is the delay before attempt ``n + 1``; each delay is moved by a random
    ``min_jitter`` to ``max_jitter`` fraction, earlier or later, so failed receivers are not
    hit by synchronized bursts.
    """

    schedule: tuple[float, ...] = DEFAULT_SCHEDULE
    min_jitter: float = 0.1
    max_jitter: float = 0.2
    disable_after: int = 5

    def __post_init__(self) -> None:
        if not self.schedule or any(d < 0 for d in self.schedule):
            raise ValueError("the schedule needs at least one non-negative delay")
        if not 0 <= self.min_jitter <= self.max_jitter < 1:
            raise ValueError("jitter must satisfy 0 <= min_jitter <= max_jitter < 1")
        if self.disable_after < 1:
            raise ValueError("disable_after must be at least 1")

    @property
    def max_attempts(self) -> int:
        return len(self.schedule)

    def delay_after(self, attempts: int, rng: random.Random) -> timedelta | None:
        """The delay before the next attempt after ``attempts`` failed ones; None when exhausted."""
        if attempts >= self.max_attempts:
            return None
        base = self.schedule[max(attempts, 0)]
        factor = rng.uniform(self.min_jitter, self.max_jitter) * rng.choice((-1, 1))
        return timedelta(seconds=base * (1 + factor))
