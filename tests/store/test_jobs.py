"""The job queue: one claim per job, leases that expire and are reclaimed, attempts that run out,
dedupe keys, wake-ups on enqueue and an event for every state change."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from pipeline.store import (
    JobState,
    LeaseLost,
    NotFound,
    Store,
    UnknownUser,
)
from pipeline.store.jobs import Jobs

pytestmark = pytest.mark.integration


def _expire_lease(admin: psycopg.Connection[Any], job_id: uuid.UUID) -> None:
    # Stands in for a worker killed mid-job: its lease simply runs out.
    admin.execute(
        "update public.jobs set lease_expires_at = now() - interval '1 second' where id = %s",
        (job_id,),
    )


def test_two_workers_claiming_one_job_get_one_claim(store: Store, user_a: uuid.UUID) -> None:
    job = Jobs(store).enqueue(user_id=user_a, kind="render")
    barrier = threading.Barrier(2)

    def claim(worker: str) -> uuid.UUID | None:
        barrier.wait(timeout=10)
        claimed = Jobs(store).claim(worker=worker)
        return claimed.id if claimed else None

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(claim, ["w1", "w2"]))

    assert sorted(results, key=str) == sorted([job.id, None], key=str)


def test_many_workers_drain_a_queue_without_double_claims(store: Store, user_a: uuid.UUID) -> None:
    jobs = {Jobs(store).enqueue(user_id=user_a, kind="render").id for _ in range(40)}

    def drain(worker: str) -> list[uuid.UUID]:
        mine = []
        while (job := Jobs(store).claim(worker=worker)) is not None:
            mine.append(job.id)
        return mine

    with ThreadPoolExecutor(max_workers=6) as pool:
        claims = [job for batch in pool.map(drain, [f"w{i}" for i in range(6)]) for job in batch]

    assert sorted(claims, key=str) == sorted(jobs, key=str)


def test_an_expired_lease_is_reclaimed_by_another_worker(
    store: Store, user_a: uuid.UUID, admin: psycopg.Connection[Any]
) -> None:
    job = Jobs(store).enqueue(user_id=user_a, kind="render")
    first = Jobs(store).claim(worker="w1", lease_seconds=60)
    assert first is not None
    Jobs(store).advance(
        job_id=job.id, worker="w1", state=JobState.GENERATING, checkpoint={"plan": 1}
    )
    assert Jobs(store).claim(worker="w2") is None  # the lease still holds

    _expire_lease(admin, job.id)
    second = Jobs(store).claim(worker="w2")

    assert second is not None
    assert (second.id, second.lease_owner, second.attempts) == (job.id, "w2", 2)
    assert second.state == JobState.GENERATING  # resumes where it stopped
    assert second.checkpoints == {"planning": {"plan": 1}}
    with pytest.raises(LeaseLost, match="w1 does not hold the lease"):
        Jobs(store).heartbeat(job_id=job.id, worker="w1")
    assert Jobs(store).heartbeat(job_id=job.id, worker="w2", progress=0.5).progress == 0.5


def test_a_job_past_max_attempts_fails_with_its_reason(store: Store, user_a: uuid.UUID) -> None:
    job = Jobs(store).enqueue(user_id=user_a, kind="render", max_attempts=2)
    for _ in range(2):
        claimed = Jobs(store).claim(worker="w1")
        assert claimed is not None
        failed = Jobs(store).fail(job_id=job.id, worker="w1", error="provider timed out")

    assert failed.state == JobState.FAILED
    assert failed.error == "attempt 2 of 2 failed: provider timed out"
    assert Jobs(store).claim(worker="w1") is None


def test_a_lease_expiring_on_the_last_attempt_fails_the_job(
    store: Store, user_a: uuid.UUID, admin: psycopg.Connection[Any]
) -> None:
    job = Jobs(store).enqueue(user_id=user_a, kind="render", max_attempts=1)
    assert Jobs(store).claim(worker="w1") is not None
    _expire_lease(admin, job.id)

    assert Jobs(store).claim(worker="w2") is None
    final = Jobs(store).get(job_id=job.id)
    assert final is not None
    assert final.state == JobState.FAILED
    assert final.error == "lease of w1 expired on attempt 1 of 1"


def test_a_dedupe_key_returns_the_active_job(store: Store, user_a: uuid.UUID) -> None:
    first = Jobs(store).enqueue(user_id=user_a, kind="render", dedupe_key="brief-1")
    same = Jobs(store).enqueue(user_id=user_a, kind="render", dedupe_key="brief-1")
    assert same.id == first.id

    assert Jobs(store).claim(worker="w1") is not None
    Jobs(store).complete(job_id=first.id, worker="w1")
    after = Jobs(store).enqueue(user_id=user_a, kind="render", dedupe_key="brief-1")

    assert after.id != first.id


def test_enqueue_wakes_a_listening_worker(store: Store, user_a: uuid.UUID) -> None:
    with Jobs(store).wakeups() as wakeups:
        job = Jobs(store).enqueue(user_id=user_a, kind="render")
        woken = wakeups.wait(timeout=5)

    assert woken == job.id


def test_every_state_change_appends_an_event_the_tenant_can_read(
    store: Store, user_a: uuid.UUID, user_b: uuid.UUID
) -> None:
    job = Jobs(store).enqueue(user_id=user_a, kind="render")
    assert Jobs(store).claim(worker="w1") is not None
    for state in (JobState.GENERATING, JobState.COMPOSING, JobState.QC):
        Jobs(store).advance(job_id=job.id, worker="w1", state=state)
    Jobs(store).complete(job_id=job.id, worker="w1", state=JobState.AWAITING_REVIEW)

    events = Jobs(store).events(user_id=user_a, job_id=job.id)
    later = Jobs(store).events(user_id=user_a, job_id=job.id, after_id=events[2].id)

    assert [(e.kind, e.state) for e in events] == [
        ("state", JobState.QUEUED),
        ("claimed", JobState.PLANNING),
        ("state", JobState.GENERATING),
        ("state", JobState.COMPOSING),
        ("state", JobState.QC),
        ("state", JobState.AWAITING_REVIEW),
    ]
    assert later == events[3:]
    assert Jobs(store).events(user_id=user_b, job_id=job.id) == []


def test_tenants_cancel_only_their_own_jobs(
    store: Store, user_a: uuid.UUID, user_b: uuid.UUID
) -> None:
    job = Jobs(store).enqueue(user_id=user_a, kind="render")

    with pytest.raises(NotFound, match="unknown job"):
        Jobs(store).cancel(job_id=job.id, user_id=user_b)
    canceled = Jobs(store).cancel(job_id=job.id, user_id=user_a)

    assert canceled.state == JobState.CANCELED
    assert Jobs(store).claim(worker="w1") is None


def test_enqueue_for_an_unknown_user_is_named(store: Store) -> None:
    stranger = uuid.uuid4()
    with pytest.raises(UnknownUser, match=str(stranger)):
        Jobs(store).enqueue(user_id=stranger, kind="render")


def test_claim_by_id_takes_the_named_job_not_the_oldest(store: Store, user_a: uuid.UUID) -> None:

    older = Jobs(store).enqueue(user_id=user_a, kind="render")
    named = Jobs(store).enqueue(user_id=user_a, kind="render")
    claimed = Jobs(store).claim_by_id(job_id=named.id, worker="modal-1", lease_seconds=30)
    assert claimed is not None and claimed.id == named.id and claimed.attempts == 1
    # Taken: a second container spawned for the same job finds nothing to do.
    assert Jobs(store).claim_by_id(job_id=named.id, worker="modal-2") is None
    assert Jobs(store).claim_by_id(job_id=uuid.uuid4(), worker="modal-3") is None
    leftover = Jobs(store).claim(worker="w")
    assert leftover is not None and leftover.id == older.id


def test_claim_by_id_reclaims_an_expired_lease(
    store: Store, admin: psycopg.Connection[tuple[object, ...]], user_a: uuid.UUID
) -> None:

    job = Jobs(store).enqueue(user_id=user_a, kind="render")
    assert Jobs(store).claim_by_id(job_id=job.id, worker="dead", lease_seconds=30) is not None
    admin.execute(
        "update public.jobs set lease_expires_at = now() - interval '1 second' where id = %s",
        (job.id,),
    )
    again = Jobs(store).claim_by_id(job_id=job.id, worker="alive", lease_seconds=30)
    assert again is not None and again.lease_owner == "alive" and again.attempts == 2
