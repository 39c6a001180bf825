"""The scheduled sweep: release orphan credit holds, dispatch runnable jobs, deliver due webhooks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx

from pipeline.storage import BlobStore
from pipeline.store import Repositories
from pipeline.webhooks import Dispatcher
from pipeline.worker import ModalExecutor

__all__ = ["SweepReport", "sweep"]

MAX_DISPATCH = 50  # jobs spawned per sweep; the rest wait for the next tick


@dataclass(frozen=True)
class SweepReport:
    released_holds: int
    dispatched_jobs: int
    webhook_attempts: int


def sweep(
    *,
    repos: Repositories,
    spawn: Callable[[str], object],
    client: httpx.Client,
    worker: str,
    limit: int = MAX_DISPATCH,
    blobs: BlobStore | None = None,
) -> SweepReport:
    """One tick: one spawned render call per runnable job, then one webhook dispatch pass.

    A spawned call claims *some* runnable job, not necessarily the one it was spawned for; one
    call per runnable job still drains the queue. ``blobs``: where delivered outputs live,
    so their webhooks carry freshly signed links.
    """
    released = repos.credits.release_orphans()
    executor = ModalExecutor(spawn)
    jobs = repos.jobs.runnable(limit=limit)
    for job_id in jobs:
        executor.submit(job_id)
    attempts = Dispatcher(repos.webhooks, client, worker=worker, blobs=blobs).run_once()
    return SweepReport(released, len(jobs), len(attempts))
