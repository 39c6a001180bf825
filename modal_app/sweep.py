"""The scheduled sweep: release orphan credit holds, dispatch runnable jobs, deliver due webhooks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

import httpx

from pipeline.store import Store
from pipeline.store.queries import query
from pipeline.webhooks import Dispatcher
from pipeline.worker import ModalExecutor, release_orphan_holds

__all__ = ["SweepReport", "runnable_jobs", "sweep"]

MAX_DISPATCH = 50  # jobs spawned per sweep; the rest wait for the next tick


@dataclass(frozen=True)
class SweepReport:
    released_holds: int
    dispatched_jobs: int
    webhook_attempts: int


def runnable_jobs(store: Store, *, limit: int = MAX_DISPATCH) -> list[UUID]:
    """Jobs a worker could claim now (queued and due, or whose lease expired)."""
    with store.as_service() as conn:
        return [row[0] for row in conn.execute(query("runnable_jobs"), {"limit": limit}).fetchall()]


def sweep(
    *,
    store: Store,
    spawn: Callable[[str], object],
    client: httpx.Client,
    worker: str,
    limit: int = MAX_DISPATCH,
) -> SweepReport:
    """One tick: one spawned render call per runnable job, then one webhook dispatch pass.

    A spawned call claims *some* runnable job, not necessarily the one it was spawned for; one
    call per runnable job still drains the queue.
    """
    released = release_orphan_holds(store=store)
    executor = ModalExecutor(spawn)
    jobs = runnable_jobs(store, limit=limit)
    for job_id in jobs:
        executor.submit(job_id)
    attempts = Dispatcher(store, client, worker=worker).run_once()
    return SweepReport(released, len(jobs), len(attempts))
