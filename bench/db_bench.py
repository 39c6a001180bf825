"""Database benchmark: job claims and credit holds per second with concurrent clients on the
embedded PostgreSQL, with p50 and p95 latency per operation.

    python bench/db_bench.py                 # 8 clients, a fresh embedded server in a temp folder
    python bench/db_bench.py --clients 16 --ops 4000
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg

from pipeline.settings import StoreSettings
from pipeline.store import Repositories, Store, open_store


def _run(clients: int, ops: int, op: Callable[[int, int], None]) -> tuple[float, list[float]]:
    """Runs ``ops`` calls of ``op(client, i)`` spread over ``clients`` threads."""
    per_client = ops // clients

    def client(c: int) -> list[float]:
        latencies = []
        for i in range(per_client):
            started = time.perf_counter()
            op(c, i)
            latencies.append(time.perf_counter() - started)
        return latencies

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        latencies = [t for batch in pool.map(client, range(clients)) for t in batch]
    return time.perf_counter() - started, latencies


def _report(name: str, wall: float, latencies: list[float]) -> None:
    cuts = statistics.quantiles(latencies, n=100)
    print(
        f"{name:<34} {len(latencies) / wall:>8.0f}/s   p50 {cuts[49] * 1000:6.2f} ms"
        f"   p95 {cuts[94] * 1000:6.2f} ms   ({len(latencies)} ops, {wall:.2f} s)"
    )


def _users(store: Store, count: int) -> list[uuid.UUID]:
    users = [uuid.uuid4() for _ in range(count)]
    with store.as_service() as conn:
        for user in users:
            conn.execute("insert into auth.users (id) values (%s)", (user,))
    credits = Repositories.postgres(store).credits
    for user in users:
        credits.adjust(user_id=user, amount=10**8, reason="bench", idempotency_key="bench")
    return users


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--ops", type=int, default=4000, help="operations per measurement")
    parser.add_argument("--home", type=Path, help="REELFORGE_HOME (default: a temp folder)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="reelforge-bench-") as tmp:
        home = args.home or Path(tmp)
        started = time.perf_counter()
        settings = StoreSettings(home=home, pool_min_size=args.clients, pool_max_size=args.clients)
        with open_store(settings) as store:
            print(f"embedded server up and migrated in {time.perf_counter() - started:.2f} s")
            with store.as_service() as conn:
                row = conn.execute("show server_version").fetchone()
            print(
                f"PostgreSQL {row[0] if row else '?'}, psycopg {psycopg.__version__}, {args.clients} clients"
            )
            users = _users(store, args.clients)
            repos = Repositories.postgres(store)

            for i in range(args.ops):
                repos.jobs.enqueue(user_id=users[i % len(users)], kind="bench")
            claimed: list[tuple[uuid.UUID, str]] = []

            def claim(c: int, _: int) -> None:
                job = repos.jobs.claim(worker=f"w{c}")
                assert job is not None
                claimed.append((job.id, f"w{c}"))

            _report("claim_job", *_run(args.clients, args.ops, claim))

            def complete(c: int, i: int) -> None:
                job_id, worker = claimed[i * args.clients + c]
                repos.jobs.complete(job_id=job_id, worker=worker)

            _report("complete_job", *_run(args.clients, args.ops, complete))

            def hold_own(c: int, _: int) -> None:
                repos.credits.hold(user_id=users[c], amount=1)

            _report("hold_credits (one user/client)", *_run(args.clients, args.ops, hold_own))

            def hold_shared(_: int, __: int) -> None:
                repos.credits.hold(user_id=users[0], amount=1)

            _report("hold_credits (one shared user)", *_run(args.clients, args.ops, hold_shared))

            def enqueue(c: int, _: int) -> None:
                repos.jobs.enqueue(user_id=users[c], kind="bench")

            _report("enqueue_job", *_run(args.clients, args.ops, enqueue))
        if store.server is not None and args.home is None:
            store.server.stop()  # before its temp folder goes away


if __name__ == "__main__":
    main()
