"""The circuit breaker: closed, open, half-open with one trial, thread safety and the registry."""

from __future__ import annotations

import threading

import pytest

from pipeline.providers.breaker import BreakerState, CircuitBreaker, breaker_for


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def tripped(clock: FakeClock, threshold: int = 3) -> CircuitBreaker:
    breaker = CircuitBreaker("acme", failure_threshold=threshold, reset_after=30.0, clock=clock)
    for _ in range(threshold):
        assert breaker.allow()
        breaker.record_failure()
    return breaker


def test_opens_after_threshold_consecutive_failures(clock: FakeClock) -> None:
    breaker = CircuitBreaker("acme", failure_threshold=3, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow()


def test_success_resets_the_consecutive_count(clock: FakeClock) -> None:
    breaker = CircuitBreaker("acme", failure_threshold=3, clock=clock)
    for _ in range(5):
        breaker.record_failure()
        breaker.record_failure()
        breaker.record_success()
    assert breaker.state is BreakerState.CLOSED


def test_stays_open_until_reset_after(clock: FakeClock) -> None:
    breaker = tripped(clock)
    clock.now += 29.9
    assert not breaker.allow()
    assert breaker.retry_in() == pytest.approx(0.1)


def test_half_open_lets_exactly_one_trial_through(clock: FakeClock) -> None:
    breaker = tripped(clock)
    clock.now += 30.0
    assert breaker.allow()
    assert breaker.state is BreakerState.HALF_OPEN
    assert not breaker.allow()


def test_trial_success_closes(clock: FakeClock) -> None:
    breaker = tripped(clock)
    clock.now += 30.0
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.allow()
    assert breaker.allow()


def test_trial_failure_reopens_for_another_reset_period(clock: FakeClock) -> None:
    breaker = tripped(clock)
    clock.now += 30.0
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    clock.now += 29.0
    assert not breaker.allow()
    clock.now += 1.0
    assert breaker.allow()


def test_an_unreported_trial_is_given_up_after_reset_after(clock: FakeClock) -> None:
    breaker = tripped(clock)
    clock.now += 30.0
    assert breaker.allow()
    clock.now += 30.0
    assert breaker.allow()
    assert not breaker.allow()


def test_concurrent_failures_are_all_counted() -> None:
    breaker = CircuitBreaker("acme", failure_threshold=800)
    barrier = threading.Barrier(8)

    def fail() -> None:
        barrier.wait()
        for _ in range(100):
            breaker.record_failure()

    threads = [threading.Thread(target=fail) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert breaker.state is BreakerState.OPEN


def test_concurrent_callers_get_one_half_open_trial(clock: FakeClock) -> None:
    breaker = tripped(clock)
    clock.now += 30.0
    barrier = threading.Barrier(16)
    allowed: list[bool] = []

    def ask() -> None:
        barrier.wait()
        allowed.append(breaker.allow())

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 1


def test_registry_gives_one_breaker_per_provider() -> None:
    assert breaker_for("test-registry-a") is breaker_for("test-registry-a")
    assert breaker_for("test-registry-a") is not breaker_for("test-registry-b")
    assert breaker_for("test-registry-a").name == "test-registry-a"


@pytest.mark.parametrize(("threshold", "reset"), [(0, 30.0), (1, -1.0)])
def test_rejects_nonsense_settings(threshold: int, reset: float) -> None:
    with pytest.raises(ValueError, match="must"):
        CircuitBreaker("acme", failure_threshold=threshold, reset_after=reset)
