"""Claiming a paid generation: the holder generates and settles its claim; the others wait for
its asset, take over a failed or abandoned claim, and give up after the wait, never paying
while another holds the claim."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest

from pipeline.claims import ClaimError, ClaimsUnavailable
from pipeline.providers.claimant import ClaimPolicy, ClaimTimeout, claimed
from pipeline.store.memory import ManualClock, MemoryRepositories

KEY = hashlib.sha256(b"a clip").hexdigest()
QUICK = ClaimPolicy(lease_seconds=60, wait_seconds=5.0, first_poll=0.01, max_poll=0.05)


def _memory(clock: ManualClock | None = None) -> MemoryRepositories:
    return MemoryRepositories(clock=clock or ManualClock(step=timedelta(milliseconds=1)))


def _row(repos: MemoryRepositories) -> tuple[str, str, int, str | None]:
    row = repos._state.claims[KEY]
    return row.owner, row.state, row.attempts, row.error


def test_the_holder_generates_and_its_claim_is_marked_done() -> None:
    repos = _memory()

    async def run() -> bool:
        async with claimed(
            repos.claims, KEY, owner="a", provider="kling", found=lambda: False, policy=QUICK
        ) as held:
            assert not repos.claims.acquire(KEY, owner="b", lease_seconds=60), "held meanwhile"
            return held

    assert asyncio.run(run()) is True
    assert _row(repos) == ("a", "done", 1, None)


def test_a_failed_generation_releases_the_claim_with_its_error() -> None:
    repos = _memory()

    async def run() -> None:
        async with claimed(
            repos.claims, KEY, owner="a", provider="kling", found=lambda: False, policy=QUICK
        ):
            raise RuntimeError("the task failed")

    with pytest.raises(RuntimeError, match="the task failed"):
        asyncio.run(run())
    assert _row(repos) == ("a", "failed", 1, "RuntimeError: the task failed")
    assert repos.claims.acquire(KEY, owner="b", lease_seconds=60), "free for another at once"


def _waiter(
    repos: MemoryRepositories, found: Callable[[], bool], policy: ClaimPolicy = QUICK
) -> tuple[threading.Thread, list[object]]:
    """A second job waiting for the claim in its own thread; what it got lands in the list."""
    outcome: list[object] = []

    async def wait() -> None:
        async with claimed(
            repos.claims, KEY, owner="b", provider="kling", found=found, policy=policy
        ) as held:
            outcome.append(held)

    def run() -> None:
        try:
            asyncio.run(wait())
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_a_waiter_reads_the_holders_asset_and_claims_nothing() -> None:
    repos = _memory()
    asset = threading.Event()
    assert repos.claims.acquire(KEY, owner="a", lease_seconds=60)
    thread, outcome = _waiter(repos, asset.is_set)
    time.sleep(0.2)
    assert outcome == [], "it waits while the holder generates"
    asset.set()  # the holder's asset lands in the cache; the holder has not even finished yet
    thread.join(10)
    assert outcome == [False]
    assert _row(repos)[:2] == ("a", "pending")


def test_a_waiter_takes_over_a_failed_claim() -> None:
    repos = _memory()
    assert repos.claims.acquire(KEY, owner="a", lease_seconds=60)
    thread, outcome = _waiter(repos, lambda: False)
    time.sleep(0.2)
    assert outcome == []
    assert repos.claims.fail(KEY, owner="a", error="kling: task failed")
    thread.join(10)
    assert outcome == [True]
    assert _row(repos) == ("b", "done", 2, None)


def test_a_waiter_takes_over_when_a_dead_holders_lease_runs_out() -> None:
    clock = ManualClock(step=timedelta(milliseconds=1))
    repos = _memory(clock)
    assert repos.claims.acquire(KEY, owner="dead", lease_seconds=60)
    thread, outcome = _waiter(repos, lambda: False)
    time.sleep(0.2)
    assert outcome == [], "a live lease is waited for"
    clock.advance(61)  # the holder's container died: nobody renews its lease
    thread.join(10)
    assert outcome == [True]
    assert _row(repos) == ("b", "done", 2, None)
    assert not repos.claims.finish(KEY, owner="dead")


def test_of_two_waiters_on_a_dead_holder_one_takes_over_and_the_other_reads_its_asset() -> None:
    clock = ManualClock(step=timedelta(milliseconds=1))
    repos = _memory(clock)
    asset = threading.Event()
    assert repos.claims.acquire(KEY, owner="dead", lease_seconds=60)
    outcome: list[object] = []

    async def wait(name: str) -> None:
        async with claimed(
            repos.claims, KEY, owner=name, provider="kling", found=asset.is_set, policy=QUICK
        ) as held:
            outcome.append(held)
            if held:
                await asyncio.sleep(0.2)  # generating: the other keeps waiting meanwhile
                asset.set()

    threads = [threading.Thread(target=asyncio.run, args=(wait(n),)) for n in ("b", "c")]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    assert outcome == [], "both wait for the live lease"
    clock.advance(61)
    for thread in threads:
        thread.join(10)
    assert sorted(outcome, key=str) == [False, True], "one more generation, not two"
    assert _row(repos)[1:3] == ("done", 2)


def test_a_holder_renews_its_lease_while_it_generates() -> None:
    repos = MemoryRepositories()  # real time: a 1 s lease, renewed every third of a second
    policy = ClaimPolicy(lease_seconds=1, wait_seconds=5.0, first_poll=0.01, max_poll=0.05)
    refused: list[bool] = []

    async def run() -> None:
        async with claimed(
            repos.claims, KEY, owner="a", provider="kling", found=lambda: False, policy=policy
        ):
            for _ in range(5):
                await asyncio.sleep(0.4)  # 2 s in all: twice the lease
                refused.append(not repos.claims.acquire(KEY, owner="b", lease_seconds=1))

    asyncio.run(run())
    assert refused == [True] * 5
    assert _row(repos)[:2] == ("a", "done")


def test_a_waiter_gives_up_after_the_wait_without_paying() -> None:
    clock = [0.0]

    async def sleep(seconds: float) -> None:
        clock[0] += seconds

    repos = _memory()
    assert repos.claims.acquire(KEY, owner="a", lease_seconds=3600)
    policy = ClaimPolicy(lease_seconds=60, wait_seconds=600.0, first_poll=1.0, max_poll=30.0)

    async def wait() -> None:
        async with claimed(
            repos.claims, KEY, owner="b", provider="kling", found=lambda: False, policy=policy,
            sleep=sleep, clock=lambda: clock[0],
        ):  # fmt: skip
            raise AssertionError("it must not generate")

    with pytest.raises(ClaimTimeout, match=r"kling: waited 600s .*another job was still"):
        asyncio.run(wait())
    assert 600 <= clock[0] <= 600 + 30
    assert _row(repos)[:2] == ("a", "pending")


class Flaky:
    """Claims whose first ``failures`` calls fail as a network would, then work."""

    def __init__(self, inner: MemoryRepositories, failures: int) -> None:
        self.inner, self.failures, self.calls = inner.claims, failures, 0

    def acquire(self, key: str, *, owner: str, lease_seconds: int) -> bool:
        self.calls += 1
        if self.calls <= self.failures:
            raise ClaimsUnavailable("claim: network error (ConnectError)")
        return self.inner.acquire(key, owner=owner, lease_seconds=lease_seconds)

    def renew(self, key: str, *, owner: str, lease_seconds: int) -> bool:
        return self.inner.renew(key, owner=owner, lease_seconds=lease_seconds)

    def finish(self, key: str, *, owner: str) -> bool:
        raise ClaimsUnavailable("claim: network error (ConnectError)")

    def fail(self, key: str, *, owner: str, error: str) -> bool:
        return self.inner.fail(key, owner=owner, error=error)


def test_claims_out_of_reach_are_tried_again_and_an_unsettled_claim_is_left_to_its_lease(
    caplog: pytest.LogCaptureFixture,
) -> None:
    repos = _memory()
    flaky = Flaky(repos, failures=3)

    async def run() -> bool:
        async with claimed(
            flaky, KEY, owner="a", provider="kling", found=lambda: False, policy=QUICK
        ) as held:
            return held

    assert asyncio.run(run()) is True
    assert flaky.calls == 4
    assert _row(repos)[:2] == ("a", "pending"), "finish failed: the lease will run out"
    assert "its lease will run out" in caplog.text


def test_a_refusal_of_the_claims_is_not_waited_out() -> None:
    class Refusing(Flaky):
        def acquire(self, key: str, *, owner: str, lease_seconds: int) -> bool:
            raise ClaimError("claim: the API answered 403: the storage grant is expired")

    async def run() -> None:
        async with claimed(
            Refusing(_memory(), 0), KEY, owner="a", provider="kling", found=lambda: False,
            policy=QUICK,
        ):  # fmt: skip
            raise AssertionError("unreachable")

    with pytest.raises(ClaimError, match="403"):
        asyncio.run(run())
