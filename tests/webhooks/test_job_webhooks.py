"""Job state changes write their webhook to the outbox in the same transaction, once."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from pipeline.store import Store, cancel_job, claim_job, complete_job, enqueue_job
from pipeline.webhooks import create_endpoint

pytestmark = pytest.mark.integration


def _deliveries(admin: psycopg.Connection[tuple[object, ...]]) -> list[tuple[object, ...]]:
    return admin.execute(
        "select event_type, webhook_id, payload->>'state' from public.webhook_deliveries order by id"
    ).fetchall()


def test_delivered_job_enqueues_one_webhook_with_a_stable_id(
    store: Store, admin: psycopg.Connection[tuple[object, ...]], user_a: uuid.UUID
) -> None:
    create_endpoint(
        store=store, user_id=user_a, url="https://example.com/hooks", events=["job.delivered"]
    )
    job = enqueue_job(store=store, user_id=user_a, kind="render", payload={})
    claimed = claim_job(store=store, worker="w1", lease_seconds=30)
    assert claimed is not None and claimed.id == job.id
    complete_job(store=store, job_id=job.id, worker="w1")
    rows = _deliveries(admin)
    assert rows == [("job.delivered", f"msg_job_{job.id.hex}_delivered", "delivered")]


def test_endpoints_only_get_the_events_they_subscribe_to(
    store: Store, admin: psycopg.Connection[tuple[object, ...]], user_a: uuid.UUID
) -> None:
    create_endpoint(
        store=store, user_id=user_a, url="https://example.com/a", events=["job.delivered"]
    )
    create_endpoint(store=store, user_id=user_a, url="https://example.com/all", events=[])
    job = enqueue_job(store=store, user_id=user_a, kind="render", payload={})
    cancel_job(store=store, job_id=job.id)
    assert _deliveries(admin) == [("job.canceled", f"msg_job_{job.id.hex}_canceled", "canceled")]


def test_a_rolled_back_state_change_sends_nothing(
    store: Store, admin: psycopg.Connection[tuple[object, ...]], user_a: uuid.UUID
) -> None:
    create_endpoint(store=store, user_id=user_a, url="https://example.com/hooks", events=[])
    job = enqueue_job(store=store, user_id=user_a, kind="render", payload={})

    def fail_then_crash() -> None:
        with store.as_service() as conn:
            conn.execute("update public.jobs set state = 'failed' where id = %s", (job.id,))
            raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        fail_then_crash()
    assert _deliveries(admin) == []
