"""Asynchronous provider tasks: submit once, then wait for the result by callback or by polling.

A generation at Kling, fal or HeyGen is a task: submitted, then finished minutes later. The
service gives the provider a ``callback_url`` when it is reachable from the internet; the
provider's callback lands in ``provider_events`` (pipeline/api/routes/providers.py). Polling runs
either way, so a callback that never arrives only costs time. Both paths produce a
:class:`TaskStatus` and meet in :func:`run_task`, which acts on the first final one it sees
(idempotent: the result is fetched into the cache once, under its key).

A crash after submit and before the result must not pay twice: the task id is written to the
job's :class:`TaskJournal` (in the job's work folder, which outlives an attempt) right after the
submit returns, and a resumed attempt picks up that task instead of submitting again.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from pipeline.providers.errors import ProviderError, ProviderRejected

__all__ = [
    "CallbackInbox",
    "NoInbox",
    "TaskFailed",
    "TaskJournal",
    "TaskProvider",
    "TaskState",
    "TaskStatus",
    "TaskTimeout",
    "run_task",
]


class TaskState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class TaskStatus(BaseModel):
    """A provider task as reelforge understands it, from a status poll or a callback."""

    model_config = ConfigDict(frozen=True)

    task_id: str
    state: TaskState
    result_url: str | None = None  # the asset to download when SUCCEEDED
    duration: float | None = None  # seconds of video, when the provider says
    error: str | None = None  # the provider's reason, in its words, when FAILED
    refused: bool = False  # FAILED because of the provider's content policy

    @property
    def final(self) -> bool:
        return self.state in (TaskState.SUCCEEDED, TaskState.FAILED)


class TaskProvider(Protocol):
    """One asynchronous generation API (Kling, fal's queue, HeyGen)."""

    name: str

    async def status(self, task_id: str) -> TaskStatus:
        """Polls the task."""
        ...

    def from_callback(self, payload: Mapping[str, Any]) -> TaskStatus | None:
        """The status a callback body reports; None if it is not about a task of ours."""
        ...


class TaskFailed(ProviderError):
    """The provider finished the task without a result (its reason in ``provider_message``)."""


class TaskTimeout(ProviderError):
    """The task did not finish within the deadline."""


class CallbackInbox(Protocol):
    def payloads(self, provider: str, task_id: str) -> list[dict[str, Any]]:
        """Callback bodies received for ``task_id``, oldest first."""
        ...


class NoInbox:
    """No service to receive callbacks (the CLI): polling alone."""

    def payloads(self, provider: str, task_id: str) -> list[dict[str, Any]]:
        return []


class TaskJournal:
    """Submitted task ids by cache key, in one JSON file written atomically.

    Lives in the job's work folder, so every attempt of a job shares it; ``on_write`` is told
    after every change (a container with no shared disk copies the file to the blob store, so
    the next attempt anywhere resumes the same tasks instead of paying for new ones).
    """

    def __init__(self, path: Path, *, on_write: Callable[[Path], None] | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._on_write = on_write

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            return self._read().get(key)

    def put(self, key: str, *, provider: str, task_id: str, **extra: Any) -> None:
        with self._lock:
            data = self._read()
            data[key] = {"provider": provider, "task_id": task_id, "at": time.time(), **extra}
            self._write(data)

    def forget(self, key: str) -> None:
        """A task that failed: the next attempt submits a new one."""
        with self._lock:
            data = self._read()
            if data.pop(key, None) is None:
                return
            self._write(data)

    def _write(self, data: dict[str, dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".journal.", suffix=".part")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(tmp, self.path)
        if self._on_write is not None:
            self._on_write(self.path)


async def run_task(
    provider: TaskProvider,
    key: str,
    submit: Callable[[], Awaitable[str]],
    *,
    journal: TaskJournal | None,
    inbox: CallbackInbox,
    poll_interval: float = 5.0,
    max_interval: float = 30.0,
    deadline: float = 900.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> TaskStatus:
    """Submits (unless the journal has this key's task already) and waits for a final status.

    Each round reads the callback inbox first, then polls; the first final status wins. Raises
    TaskFailed (the provider's reason; ``refused`` marks a content-policy refusal as a
    ProviderRejected) or TaskTimeout after ``deadline`` seconds of waiting.
    """
    known = journal.get(key) if journal else None
    if known is not None and known.get("provider") == provider.name:
        task_id = str(known["task_id"])
    else:
        task_id = await submit()
        if journal is not None:
            journal.put(key, provider=provider.name, task_id=task_id)
    started = clock()
    interval = poll_interval
    while True:
        # the inbox reads the database: off the event loop, so other scenes keep polling
        received = await asyncio.to_thread(_from_inbox, provider, inbox, task_id)
        status = received or await provider.status(task_id)
        if status.final:
            if status.state is TaskState.FAILED:
                if journal is not None:
                    journal.forget(key)
                reason = status.error or "no reason given"
                error = ProviderRejected if status.refused else TaskFailed
                raise error(
                    provider.name,
                    f"task {task_id} failed: {reason}",
                    provider_message=status.error,
                )
            return status
        if clock() - started >= deadline:
            raise TaskTimeout(
                provider.name, f"task {task_id} did not finish within {deadline:.0f}s"
            )
        await sleep(interval)
        interval = min(interval * 1.5, max_interval)


def _from_inbox(provider: TaskProvider, inbox: CallbackInbox, task_id: str) -> TaskStatus | None:
    for payload in reversed(inbox.payloads(provider.name, task_id)):
        status = provider.from_callback(payload)
        if status is not None and status.task_id == task_id and status.final:
            return status
    return None
