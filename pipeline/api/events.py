"""A job's events as Server-Sent Events: everything after the client's Last-Event-ID, then new
events as they are written, until the job ends."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from functools import partial
from typing import Final
from uuid import UUID

import anyio
from starlette.exceptions import HTTPException

from pipeline.api.models import JobEventOut
from pipeline.store import JobEvent, JobState, Repositories

__all__ = ["TERMINAL", "event_stream", "parse_last_event_id"]

TERMINAL: Final = frozenset({JobState.DELIVERED, JobState.FAILED, JobState.CANCELED})


def parse_last_event_id(value: str | None) -> int:
    """The event id to resume after (0: from the start); 400 if it is not one of ours."""
    if value is None or not value.strip():
        return 0
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        raise HTTPException(400, "Last-Event-ID must be an event id sent by this stream")
    return int(text)


def _sse(event: JobEvent) -> str:
    data = JobEventOut.model_validate(event.model_dump()).model_dump_json()
    return f"id: {event.id}\nevent: {event.kind}\ndata: {data}\n\n"


async def event_stream(
    *,
    repos: Repositories,
    user_id: UUID,
    job_id: UUID,
    after_id: int,
    poll_seconds: float = 0.5,
    heartbeat_seconds: float = 15.0,
    batch: int = 500,
) -> AsyncIterator[str]:
    """The job's events after ``after_id`` as SSE frames, then new ones until the job ends.

    The job is read before its events: its final state is committed with its last event, so a
    terminal state read first means every event is already visible.
    """
    yield f"retry: {round(poll_seconds * 4000)}\n\n"
    last_sent = time.monotonic()
    while True:
        job = await anyio.to_thread.run_sync(
            partial(repos.jobs.get, job_id=job_id, user_id=user_id)
        )
        events = await anyio.to_thread.run_sync(
            partial(
                repos.jobs.events, user_id=user_id, job_id=job_id, after_id=after_id, limit=batch
            )
        )
        for event in events:
            yield _sse(event)
            after_id = event.id
            last_sent = time.monotonic()
        if len(events) == batch:
            continue
        if job is None or job.state in TERMINAL:
            return
        if time.monotonic() - last_sent >= heartbeat_seconds:
            yield ": heartbeat\n\n"
            last_sent = time.monotonic()
        await anyio.sleep(poll_seconds)
