"""Server-Sent Events of a job: every event in order, resumable with Last-Event-ID, live until
the job ends, with heartbeats."""

from __future__ import annotations

import json
import uuid
from typing import Any

import anyio
import pytest

from pipeline.api.events import event_stream
from pipeline.store import JobState, Repositories, Store
from pipeline.store.jobs import Jobs
from tests.api.conftest import ApiClient
from tests.api.test_jobs import Admin, Auth, problem

pytestmark = pytest.mark.integration


def _frames(text: str) -> list[dict[str, Any]]:
    """The events of an SSE body (comments and the retry hint left out)."""
    events = []
    for block in text.split("\n\n"):
        fields: dict[str, Any] = {}
        for line in block.splitlines():
            if line.startswith(":") or not line:
                continue
            name, _, value = line.partition(": ")
            fields[name] = value
        if "id" in fields:
            fields["data"] = json.loads(fields["data"])
            events.append(fields)
    return events


def _run(store: Store, user_id: uuid.UUID) -> uuid.UUID:
    job = Jobs(store).enqueue(user_id=user_id, kind="render")
    assert Jobs(store).claim(worker="w1") is not None
    Jobs(store).heartbeat(job_id=job.id, worker="w1", progress=0.2)
    Jobs(store).advance(job_id=job.id, worker="w1", state=JobState.GENERATING, progress=0.5)
    Jobs(store).complete(job_id=job.id, worker="w1")
    return job.id


def _ids(admin: Admin, job_id: uuid.UUID) -> list[int]:
    rows = admin.execute(
        "select id from public.job_events where job_id = %s order by id", (job_id,)
    ).fetchall()
    return [int(str(r[0])) for r in rows]


def test_the_stream_sends_every_event_in_order_then_ends(
    client: ApiClient, user_a: uuid.UUID, auth: Auth, admin: Admin, store: Store
) -> None:
    job_id = _run(store, user_a)
    response = client.get(f"/v1/jobs/{job_id}/events", headers=auth(user_a))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    events = _frames(response.text)
    assert [int(e["id"]) for e in events] == _ids(admin, job_id)
    assert [e["event"] for e in events] == ["state", "claimed", "progress", "state", "state"]
    assert [e["data"]["state"] for e in events][-1] == "delivered"
    assert events[2]["data"]["progress"] == pytest.approx(0.2)
    assert all(int(e["id"]) == e["data"]["id"] for e in events)


def test_last_event_id_resumes_right_after_it(
    client: ApiClient, user_a: uuid.UUID, auth: Auth, admin: Admin, store: Store
) -> None:
    job_id = _run(store, user_a)
    ids = _ids(admin, job_id)
    url = f"/v1/jobs/{job_id}/events"
    for cut in range(len(ids)):
        headers = auth(user_a) | {"Last-Event-ID": str(ids[cut])}
        rest = _frames(client.get(url, headers=headers).text)
        assert [int(e["id"]) for e in rest] == ids[cut + 1 :]
    bad = client.get(url, headers=auth(user_a) | {"Last-Event-ID": "seven"})
    assert problem(bad, 422)["field"] == "Last-Event-ID"


def test_new_events_stream_live_until_the_job_ends(
    user_a: uuid.UUID, admin: Admin, store: Store
) -> None:
    job = Jobs(store).enqueue(user_id=user_a, kind="render")

    async def consume() -> list[str]:
        frames: list[str] = []
        stream = event_stream(
            repos=Repositories.postgres(store),
            user_id=user_a,
            job_id=job.id,
            after_id=0,
            poll_seconds=0.01,
            heartbeat_seconds=0,
        )
        with anyio.fail_after(20):
            async for frame in stream:
                frames.append(frame)
                events = _frames("".join(frames))
                if len(events) == 1 and frame.startswith(": heartbeat"):
                    # The stream is waiting: a worker takes the job, then it is canceled.
                    assert Jobs(store).claim(worker="w1") is not None
                    Jobs(store).heartbeat(job_id=job.id, worker="w1", progress=0.3)
                if len(events) == 3 and frame.startswith("id:"):
                    Jobs(store).cancel(job_id=job.id, user_id=user_a)
        return frames

    frames = anyio.run(consume)
    events = _frames("".join(frames))
    assert [int(e["id"]) for e in events] == _ids(admin, job.id)
    assert [e["event"] for e in events] == ["state", "claimed", "progress", "state"]
    assert events[-1]["data"]["state"] == "canceled"
    assert any(f.startswith(": heartbeat") for f in frames)
