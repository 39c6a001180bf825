"""The worker's side of a render on Modal: it keeps the lease, the credits and the record, and
hands the render to ``render_media`` in a container without secrets.

The render gets a storage grant for exactly what it needs: reading the user's uploads and the
job's prefix, writing the job's prefix and the shared provider cache. While it runs, the worker
replays its stage events (``<prefix>/progress.json``) into the job's state, and cancels it the
moment the job is canceled or the lease is lost.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from modal_app.media import PROGRESS, RenderOutcome, RenderTask
from pipeline.manifest import Manifest
from pipeline.providers.cache import SHARED_PREFIX
from pipeline.render import RenderResult
from pipeline.settings import Settings
from pipeline.stages import Reporter
from pipeline.storage import BlobNotFound, BlobStore
from pipeline.storage.grant import GRANT_PURPOSE, Grant, sign_grant
from pipeline.usage import UsageLog
from pipeline.wiring import signing_key
from pipeline.wiring.runtime import USAGE_LOG
from pipeline.worker.control import JobAborted
from pipeline.worker.renderer import RenderCall

__all__ = ["GRANT_SECONDS", "FunctionCall", "ModalRenderer"]

GRANT_SECONDS = 3 * 3600  # longer than a render may run (render_media's timeout is an hour)


class FunctionCall(Protocol):
    """What ``Function.spawn`` returns: ``get`` raises TimeoutError while the call runs."""

    def get(self, timeout: float | None = None) -> Any: ...
    def cancel(self) -> None: ...


class ModalRenderer:
    """The JobContext's renderer in ``render_job``: ``spawn`` is ``render_media.spawn``."""

    def __init__(
        self,
        spawn: Callable[[RenderTask], FunctionCall],
        *,
        blobs: BlobStore,
        settings: Settings,
        poll_seconds: float = 1.0,
    ) -> None:
        self._spawn, self._blobs, self._settings = spawn, blobs, settings
        self._poll = poll_seconds

    def _task(self, call: RenderCall) -> RenderTask:
        job, prefix = call.job, f"work/{call.job.id}"
        grant = Grant(
            read=(f"{job.user_id}/uploads/", f"{prefix}/", SHARED_PREFIX),
            write=(f"{prefix}/", SHARED_PREFIX),
            expires=int(time.time()) + GRANT_SECONDS,
        )
        return RenderTask(
            payload=job.payload, user=str(job.user_id), job=str(job.id), prefix=prefix,
            grant=sign_grant(grant, signing_key(self._settings, GRANT_PURPOSE)),
            api_url=self._settings.require_public_url(),
        )  # fmt: skip

    def render(self, call: RenderCall) -> tuple[RenderResult, UsageLog | None]:
        task = self._task(call)
        handle = self._spawn(task)
        try:
            outcome: RenderOutcome = self._wait(handle, call, task["prefix"])
        finally:
            self._fetch_usage(task["prefix"], call)
        return self._download(outcome, call), None

    def _wait(self, handle: FunctionCall, call: RenderCall, prefix: str) -> RenderOutcome:
        """The render's outcome; its stage events replayed as they come, and the call canceled
        as soon as the job is stopped."""
        seen = 0
        while True:
            try:
                outcome: RenderOutcome = handle.get(timeout=self._poll)
            except TimeoutError:
                try:
                    seen = self._replay(prefix, call.reporter, seen)
                    call.control.check()
                except JobAborted:
                    handle.cancel()
                    raise
                continue
            self._replay(prefix, call.reporter, seen)
            return outcome

    def _replay(self, prefix: str, reporter: Reporter, seen: int) -> int:
        with tempfile.TemporaryDirectory(prefix="reelforge-progress-") as scratch:
            try:
                path = self._blobs.get(f"{prefix}/{PROGRESS}", Path(scratch) / PROGRESS)
            except BlobNotFound:
                return seen
            events: list[list[Any]] = json.loads(path.read_text(encoding="utf-8"))
        for event in events[seen:]:
            name, stage = str(event[0]), str(event[1])
            if name == "started":
                reporter.started(stage)
            elif name == "advanced":
                reporter.advanced(stage, float(event[2]))
            else:
                reporter.finished(stage, float(event[2]))
        return len(events)

    def _fetch_usage(self, prefix: str, call: RenderCall) -> None:
        """What the render paid providers, into the job's work folder (the worker settles it)."""
        work_dir = call.request.work_dir
        assert work_dir is not None
        work_dir.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(BlobNotFound):
            self._blobs.get(f"{prefix}/{USAGE_LOG}", work_dir / USAGE_LOG)

    def _download(self, outcome: RenderOutcome, call: RenderCall) -> RenderResult:
        manifest = Manifest.model_validate(outcome["manifest"])
        out_dir = call.out_root / manifest.sku
        for name, key in outcome["files"].items():
            self._blobs.get(key, out_dir / Path(name).name)
        return RenderResult(out_dir=out_dir, manifest=manifest)
