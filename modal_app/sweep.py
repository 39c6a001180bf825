"""The scheduled sweep: release orphan credit holds, dispatch runnable jobs, deliver webhooks,
purge Idempotency-Keys past their retention."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from pipeline.settings import WebhookSettings
from pipeline.storage import BlobStore
from pipeline.store import Repositories
from pipeline.webhooks import Dispatcher
from pipeline.worker import ModalExecutor

__all__ = ["WEBHOOK_SECONDS", "SweepReport", "sweep"]

MAX_DISPATCH = 50  # jobs spawned per sweep; the rest wait for the next tick
# How long a sweep keeps claiming webhooks as they fall due; with the attempts in flight it
# then waits for (15 s at most), a sweep ends within the minute to the next one.
WEBHOOK_SECONDS = 40.0
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
    webhooks: WebhookSettings | None = None,
    webhook_seconds: float = WEBHOOK_SECONDS,
    key_retention_seconds: int = KEY_RETENTION,
) -> SweepReport:
    """One tick: one spawned render call per runnable job, then ``webhook_seconds`` of webhook
    delivery (one claim at least).

    A spawned call claims *some* runnable job, not necessarily the one it was spawned for; one
    call per runnable job still drains the queue. Webhooks go out as ``reelforge serve`` sends
    them, concurrently within the ``webhooks`` caps, so one slow endpoint cannot use up the
    sweep; those falling due while it runs go within about a second. ``blobs``: where delivered
    outputs live, so their webhooks carry freshly signed links. Idempotency-Keys older than
    ``key_retention_seconds`` are deleted (an index range on their creation time).
    """
    released = repos.credits.release_orphans()
    executor = ModalExecutor(spawn)
    jobs = repos.jobs.runnable(limit=limit)
    for job_id in jobs:
        executor.submit(job_id)
    dispatcher = Dispatcher(repos.webhooks, client, worker=worker, blobs=blobs, limits=webhooks)
    attempts = dispatcher.run(threading.Event(), seconds=webhook_seconds)
    purged = repos.idempotency.cleanup(retention_seconds=key_retention_seconds)
    return SweepReport(released, len(jobs), attempts, purged)
