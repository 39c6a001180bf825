"""Job state changes write their webhook to the outbox in the same transaction, once."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from pipeline.store import Store
from pipeline.store.jobs import Jobs
from pipeline.store.webhooks import Webhooks
from pipeline.webhooks import generate_secret

pytestmark = pytest.mark.integration


def _deliveries(admin: psycopg.Connection[tuple[object, ...]]) -> list[tuple[object, ...]]:
    return admin.execute(
        "select event_type, webhook_id, payload->>'state' from public.webhook_deliveries order by id"
    ).fetchall()


def test_delivered_job_enqueues_one_webhook_with_a_stable_id(
    store: Store, admin: psycopg.Connection[tuple[object, ...]], user_a: uuid.UUID
) -> None:
    Webhooks(store).create_endpoint(
        secret=generate_secret(),
        user_id=user_a,
        url="https://example.com/hooks",
        events=["job.delivered"],
    )
    job = Jobs(store).enqueue(user_id=user_a, kind="render", payload={})
    claimed = Jobs(store).claim(worker="w1", lease_seconds=30)
    assert claimed is not None and claimed.id == job.id
    Jobs(store).complete(job_id=job.id, worker="w1")
    rows = _deliveries(admin)
    assert rows == [("job.delivered", f"msg_job_{job.id.hex}_delivered", "delivered")]


def test_endpoints_only_get_the_events_they_subscribe_to(
    store: Store, admin: psycopg.Connection[tuple[object, ...]], user_a: uuid.UUID
) -> None:
    Webhooks(store).create_endpoint(
        secret=generate_secret(),
        user_id=user_a,
        url="https://example.com/a",
        events=["job.delivered"],
    )
    Webhooks(store).create_endpoint(
        secret=generate_secret(), user_id=user_a, url="https://example.com/all", events=[]
    )
    job = Jobs(store).enqueue(user_id=user_a, kind="render", payload={})
    Jobs(store).cancel(job_id=job.id)
    assert _deliveries(admin) == [("job.canceled", f"msg_job_{job.id.hex}_canceled", "canceled")]


def test_a_rolled_back_state_change_sends_nothing(
    store: Store, admin: psycopg.Connection[tuple[object, ...]], user_a: uuid.UUID
) -> None:
    Webhooks(store).create_endpoint(
        secret=generate_secret(), user_id=user_a, url="https://example.com/hooks", events=[]
    )
    job = Jobs(store).enqueue(user_id=user_a, kind="render", payload={})

    def fail_then_crash() -> None:
        with store.as_service() as conn:
            conn.execute(
                "update public.jobs set state = 'failed', finished_at = now() where id = %s",
                (job.id,),
            )
            raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        fail_then_crash()
    assert _deliveries(admin) == []
