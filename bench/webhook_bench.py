"""Webhook fairness benchmark: how long after falling due a healthy endpoint gets its webhook,
alone, beside another tenant's endpoint that hangs, and beside one that fails slowly with 500s,
with the dispatcher ``reelforge serve`` runs, on the embedded PostgreSQL and real local HTTP.

    python bench/webhook_bench.py                        # 10 webhooks per case, a 14 s hang
    python bench/webhook_bench.py --webhooks 20 --hang 14 --one-at-a-time

``--one-at-a-time`` adds the same cases with a dispatcher that sends one webhook at a time, as
reelforge did before fair delivery (slow: each of the hanging endpoint's deliveries holds the
healthy one back for the whole hang). Figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from pipeline.settings import StoreSettings, WebhookSettings
from pipeline.store import Repositories, Store, open_store
from pipeline.store.webhooks import Webhooks
from pipeline.webhooks import Dispatcher, generate_secret
from pipeline.webhooks.transport import TIMEOUT_SECONDS, delivery_transport


@dataclass
class Endpoint:
    """A local HTTP endpoint: waits ``delay`` seconds, then answers ``status``."""

    delay: float = 0.0
    status: int = 204
    received: list[float] = field(default_factory=list)
    url: str = ""


@contextmanager
def _serving(endpoint: Endpoint) -> Iterator[Endpoint]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            endpoint.received.append(time.time())
            time.sleep(endpoint.delay)
            try:
                self.send_response(endpoint.status)
                self.send_header("content-length", "0")
                self.end_headers()
            except OSError:  # the dispatcher gave up waiting first
                pass

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    endpoint.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield endpoint
    finally:
        server.shutdown()
        server.server_close()


def _user(repos: Repositories) -> uuid.UUID:
    user = uuid.uuid4()
    repos.users.ensure_local(user_id=user, email=f"{user.hex[:12]}@bench.example")
    return user


def _enqueue(store: Store, user: uuid.UUID) -> float:
    with store.as_service() as conn:
        made = Webhooks(store).enqueue(conn, user_id=user, event_type="bench.ping", payload={})
    return made[0].next_attempt_at.timestamp()


@contextmanager
def _dispatching(store: Store, limits: WebhookSettings) -> Iterator[None]:
    """The dispatcher as ``reelforge serve`` runs it, in a thread."""
    stop = threading.Event()
    transport = delivery_transport(local_receivers=True)
    with httpx.Client(transport=transport, timeout=TIMEOUT_SECONDS) as client:
        dispatcher = Dispatcher(Webhooks(store), client, limits=limits)
        runner = threading.Thread(target=dispatcher.run, args=(stop,), daemon=True)
        runner.start()
        try:
            yield
        finally:
            stop.set()
            runner.join(TIMEOUT_SECONDS + 5)


def _delays(store: Store, healthy: Endpoint, user: uuid.UUID, count: int) -> list[float]:
    """Enqueues ``count`` webhooks one after another, each after a random pause (so each falls
    due at a random point of the dispatcher's poll); how late each arrived after falling due."""
    delays, rng = [], random.Random(12)
    for _ in range(count):
        time.sleep(rng.uniform(0.0, 1.0))
        seen = len(healthy.received)
        due = _enqueue(store, user)
        deadline = time.monotonic() + 600
        while len(healthy.received) == seen and time.monotonic() < deadline:
            time.sleep(0.002)
        delays.append(healthy.received[seen] - due)
    return delays


def _case(
    store: Store,
    repos: Repositories,
    limits: WebhookSettings,
    count: int,
    bad: Endpoint | None,
    backlog: int,
) -> list[float]:
    """The healthy tenant's delays, with ``bad`` (if any) another tenant's endpoint holding
    ``backlog`` due deliveries when the measurement starts."""
    healthy_user = _user(repos)
    with _serving(Endpoint()) as healthy:
        Webhooks(store).create_endpoint(
            user_id=healthy_user, url=healthy.url, secret=generate_secret()
        )
        with _bad_tenant(store, repos, bad, backlog), _dispatching(store, limits):
            return _delays(store, healthy, healthy_user, count)


@contextmanager
def _bad_tenant(
    store: Store, repos: Repositories, bad: Endpoint | None, backlog: int
) -> Iterator[None]:
    if bad is None:
        yield
        return
    user = _user(repos)
    with _serving(bad):
        Webhooks(store).create_endpoint(user_id=user, url=bad.url, secret=generate_secret())
        for _ in range(backlog):
            _enqueue(store, user)
        yield


def _print(name: str, delays: list[float], alone: list[float] | None) -> None:
    """The case's median and largest delay, each also as a ratio to the case alone."""
    median, most = statistics.median(delays), max(delays)
    ratios = ("", "")
    if alone:
        ratios = (f" ({median / statistics.median(alone):.1f}x)", f" ({most / max(alone):.1f}x)")
    print(
        f"{name:<44} median {median:7.3f} s{ratios[0]:<9} max {most:7.3f} s{ratios[1]:<10}"
        f" {len(delays)} webhooks"
    )


def _limits(one_at_a_time: bool) -> WebhookSettings:
    if one_at_a_time:  # below the settings' minimum on purpose: the old dispatcher's behaviour
        return WebhookSettings.model_construct(concurrency=1, per_tenant=1, per_endpoint=1)
    return WebhookSettings()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--webhooks", type=int, default=10, help="healthy webhooks per case")
    parser.add_argument("--hang", type=float, default=14.0, help="seconds the bad endpoint hangs")
    parser.add_argument("--backlog", type=int, default=5, help="bad endpoint's due deliveries")
    parser.add_argument("--one-at-a-time", action="store_true", help="also the old dispatcher")
    parser.add_argument("--home", type=Path, help="REELFORGE_HOME (default: a temp folder)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="reelforge-bench-") as tmp:
        settings = StoreSettings(home=args.home or Path(tmp))
        with open_store(settings) as store:
            repos = Repositories.postgres(store)
            modes = [False, True] if args.one_at_a_time else [False]
            for one_at_a_time in modes:
                limits = _limits(one_at_a_time)
                label = "one at a time" if one_at_a_time else "fair"
                print(f"{label}: concurrency {limits.concurrency}, per tenant "
                      f"{limits.per_tenant}, per endpoint {limits.per_endpoint}")  # fmt: skip
                cases: list[tuple[str, Callable[[], Endpoint | None]]] = [
                    ("alone", lambda: None),
                    (f"beside an endpoint hanging {args.hang:g} s", lambda: Endpoint(args.hang)),
                    ("beside one failing with 500 after 2 s", lambda: Endpoint(2.0, 500)),
                ]
                alone: list[float] | None = None
                for name, bad in cases:
                    delays = _case(store, repos, limits, args.webhooks, bad(), args.backlog)
                    _print(f"  {name}", delays, alone)
                    alone = alone or delays


if __name__ == "__main__":
    main()
