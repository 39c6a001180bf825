"""The scheduled sweep: release orphan credit holds, dispatch runnable jobs, deliver due webhooks,
purge Idempotency-Keys past their retention."""

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
KEY_RETENTION = 24 * 3600  # REELFORGE_IDEMPOTENCY_RETENTION_HOURS' default


@dataclass(frozen=True)
class SweepReport:
    released_holds: int
    dispatched_jobs: int
    webhook_attempts: int
    purged_keys: int = 0


def sweep(
    *,
    repos: Repositories,
    spawn: Callable[[str], object],
    client: httpx.Client,
    worker: str,
    limit: int = MAX_DISPATCH,
    blobs: BlobStore | None = None,
    key_retention_seconds: int = KEY_RETENTION,
) -> SweepReport:
    """One tick: one spawned render call per runnable job, then one webhook dispatch pass.

    A spawned call claims *some* runnable job, not necessarily the one it was spawned for; one
    call per runnable job still drains the queue. ``blobs``: where delivered outputs live,
    so their webhooks carry freshly signed links. Idempotency-Keys older than
    ``key_retention_seconds`` are deleted (an index range on their creation time).
    """
    released = repos.credits.release_orphans()
    executor = ModalExecutor(spawn)
    jobs = repos.jobs.runnable(limit=limit)
    for job_id in jobs:
        executor.submit(job_id)
    attempts = Dispatcher(repos.webhooks, client, worker=worker, blobs=blobs).run_once()
    purged = repos.idempotency.cleanup(retention_seconds=key_retention_seconds)
    return SweepReport(released, len(jobs), len(attempts), purged)
