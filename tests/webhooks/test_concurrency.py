"""The dispatcher's loop against the in-memory repositories and MockTransport: attempts run side by
side, a slow endpoint holds only its own slots, the caps hold, new deliveries are claimed while
others are in flight, and stopping waits for the attempts in flight."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest

from pipeline.settings import WebhookSettings
from pipeline.store.memory import MemoryRepositories
from pipeline.store.models import DeliveryStatus
from pipeline.webhooks import Dispatcher, generate_secret
from pipeline.webhooks import dispatcher as dispatcher_module

WAIT = 5.0  # seconds a handler waits for what the test expects to happen meanwhile


class Endpoints:
    """A MockTransport handler standing in for every endpoint: per host, how many requests are
    in flight now and at most, and an optional behaviour run inside the request."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_flight: dict[str, int] = {}
        self.most: dict[str, int] = {}
        self.order: list[tuple[str, bytes]] = []
        self.behaviour: dict[str, Callable[[], None]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        with self.lock:
            self.in_flight[host] = self.in_flight.get(host, 0) + 1
            self.most[host] = max(self.most.get(host, 0), self.in_flight[host])
            self.order.append((host, request.content))
        try:
            self.behaviour.get(host, lambda: None)()
            return httpx.Response(204)
        finally:
            with self.lock:
                self.in_flight[host] -= 1


@contextmanager
def _client(handler: Endpoints) -> Iterator[httpx.Client]:
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        yield client


def _endpoint(repos: MemoryRepositories, user: uuid.UUID, host: str, *events: str) -> None:
    repos.webhooks.create_endpoint(
        user_id=user, url=f"https://{host}/hook", secret=generate_secret(), events=list(events)
    )


def _enqueue(repos: MemoryRepositories, user: uuid.UUID, count: int = 1) -> None:
    for n in range(count):
        repos.webhooks.enqueue(None, user_id=user, event_type="job.delivered", payload={"n": n})


def _statuses(repos: MemoryRepositories, *users: uuid.UUID) -> list[DeliveryStatus]:
    return [d.status for user in users for d in repos.webhooks.deliveries(user_id=user)]


def test_another_tenants_delivery_goes_out_while_a_slow_endpoint_holds_its_attempt() -> None:
    repos, endpoints = MemoryRepositories(), Endpoints()
    a, b = repos.add_user(), repos.add_user()
    _endpoint(repos, a, "slow.example")
    _endpoint(repos, b, "fast.example")
    _enqueue(repos, a, 3)  # due first
    _enqueue(repos, b)
    fast_arrived = threading.Event()
    waited: list[bool] = []
    endpoints.behaviour["slow.example"] = lambda: waited.append(fast_arrived.wait(WAIT))
    endpoints.behaviour["fast.example"] = fast_arrived.set

    with _client(endpoints) as client:
        attempts = Dispatcher(repos.webhooks, client).run_once()

    # Sent one at a time, the slow endpoint's first attempt would have waited in vain.
    assert waited == [True, True, True]
    assert [a.status for a in attempts] == [DeliveryStatus.DELIVERED] * 4
    assert endpoints.most == {"slow.example": 1, "fast.example": 1}


def test_one_endpoints_attempts_go_one_at_a_time_in_the_order_they_fell_due() -> None:
    repos, endpoints = MemoryRepositories(), Endpoints()
    a = repos.add_user()
    _endpoint(repos, a, "one.example")
    _enqueue(repos, a, 5)
    endpoints.behaviour["one.example"] = lambda: time.sleep(0.02)

    with _client(endpoints) as client:
        Dispatcher(repos.webhooks, client).run_once()

    assert endpoints.most == {"one.example": 1}
    sent = [body for _, body in endpoints.order]
    assert [b'"n":' + str(n).encode() in body for n, body in enumerate(sent)] == [True] * 5


def test_a_higher_per_endpoint_cap_runs_that_many_at_once() -> None:
    repos, endpoints = MemoryRepositories(), Endpoints()
    a = repos.add_user()
    _endpoint(repos, a, "wide.example")
    _enqueue(repos, a, 5)
    together = threading.Barrier(3, timeout=WAIT)  # broken unless three arrive together
    first_three = iter(range(3))
    endpoints.behaviour["wide.example"] = lambda: (
        together.wait() if next(first_three, None) is not None else None
    )
    limits = WebhookSettings(concurrency=8, per_tenant=3, per_endpoint=3)

    with _client(endpoints) as client:
        attempts = Dispatcher(repos.webhooks, client, limits=limits).run_once()

    assert [a.status for a in attempts] == [DeliveryStatus.DELIVERED] * 5
    assert endpoints.most == {"wide.example": 3}


def test_a_tenant_whose_endpoints_all_hang_holds_only_its_own_slots() -> None:
    """Five threads, four per tenant: A's six hanging endpoints get four, B the fifth."""
    repos, endpoints = MemoryRepositories(), Endpoints()
    a, b = repos.add_user(), repos.add_user()
    hosts = [f"hang{n}.example" for n in range(6)]
    for host in hosts:
        _endpoint(repos, a, host)
    _endpoint(repos, b, "b.example")
    _enqueue(repos, a)  # one delivery for each of A's six endpoints
    _enqueue(repos, b)
    released = threading.Event()
    waited: list[bool] = []
    for host in hosts:
        endpoints.behaviour[host] = lambda: waited.append(released.wait(WAIT))

    def a_in_flight() -> int:
        with endpoints.lock:
            return sum(endpoints.in_flight.get(h, 0) for h in hosts)

    def b_arrives() -> None:  # B lets A go once A holds its four
        deadline = time.monotonic() + WAIT
        while a_in_flight() < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        released.set()

    endpoints.behaviour["b.example"] = b_arrives
    limits = WebhookSettings(concurrency=5, per_tenant=4, per_endpoint=1)

    with _client(endpoints) as client:
        attempts = Dispatcher(repos.webhooks, client, limits=limits).run_once()

    # Had A taken the fifth thread, B would have arrived only after A's attempts gave up.
    assert waited == [True] * 6
    assert len(attempts) == 7
    assert _statuses(repos, a, b) == [DeliveryStatus.DELIVERED] * 7


def test_run_claims_what_falls_due_while_an_attempt_hangs_and_stopping_waits_for_it() -> None:
    repos, endpoints = MemoryRepositories(), Endpoints()
    a, b = repos.add_user(), repos.add_user()
    _endpoint(repos, a, "hang.example")
    _endpoint(repos, b, "b.example")
    _enqueue(repos, a, 2)
    hanging, release, b_arrived = threading.Event(), threading.Event(), threading.Event()
    endpoints.behaviour["hang.example"] = lambda: (hanging.set(), release.wait(WAIT))
    endpoints.behaviour["b.example"] = b_arrived.set
    stop = threading.Event()

    with _client(endpoints) as client:
        dispatcher = Dispatcher(repos.webhooks, client, poll_seconds=0.05)
        runner = threading.Thread(target=dispatcher.run, args=(stop,))
        runner.start()
        assert hanging.wait(WAIT)
        _enqueue(repos, b)  # falls due while A's attempt hangs
        assert b_arrived.wait(WAIT)
        stop.set()
        runner.join(0.5)
        assert runner.is_alive()  # still waiting for A's attempt in flight
        release.set()
        runner.join(WAIT)

    assert not runner.is_alive()
    # A's second delivery was never claimed (one at a time per endpoint): it waits, not lost.
    assert sorted(_statuses(repos, a, b)) == sorted(
        [DeliveryStatus.DELIVERED, DeliveryStatus.PENDING, DeliveryStatus.DELIVERED]
    )


def test_a_failing_claim_is_logged_and_the_loop_goes_on(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    repos, endpoints = MemoryRepositories(), Endpoints()
    a = repos.add_user()
    _endpoint(repos, a, "a.example")
    _enqueue(repos, a)
    claim, calls = repos.webhooks.claim, iter(range(1_000_000))
    arrived, stop = threading.Event(), threading.Event()
    endpoints.behaviour["a.example"] = arrived.set

    def flaky(**kwargs: object) -> object:
        if next(calls) == 0:
            raise ConnectionError("the database went away")
        return claim(**kwargs)

    monkeypatch.setattr(repos.webhooks, "claim", flaky)
    monkeypatch.setattr(dispatcher_module, "CLAIM_RETRY_SECONDS", 0.01)
    with _client(endpoints) as client, caplog.at_level(logging.ERROR):
        dispatcher = Dispatcher(repos.webhooks, client, poll_seconds=0.05)
        runner = threading.Thread(target=dispatcher.run, args=(stop,))
        runner.start()
        delivered = arrived.wait(WAIT)
        stop.set()
        runner.join(WAIT)

    assert delivered and not runner.is_alive()
    assert "claiming webhook deliveries failed" in caplog.text


def test_the_lease_must_outlast_an_attempt() -> None:
    repos = MemoryRepositories()
    with httpx.Client() as client, pytest.raises(ValueError, match="twice the 15 s timeout"):
        Dispatcher(repos.webhooks, client, lease_seconds=20)
