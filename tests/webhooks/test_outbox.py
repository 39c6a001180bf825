"""The outbox: endpoints per tenant, deliveries that commit or roll back with the state change,
one stable webhook-id per event, and leases that keep two dispatchers off one delivery."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from pipeline.store import LeaseLost, NotFound, Store, StoreInputError
from pipeline.store.webhooks import Webhooks
from pipeline.webhooks import (
    DeliveryStatus,
    generate_secret,
)

pytestmark = pytest.mark.integration


def _count(admin: psycopg.Connection[Any], table: str) -> int:
    row = admin.execute(f"select count(*) from public.{table}").fetchone()
    assert row is not None
    return int(row[0])


class StateChangeFailed(Exception):
    pass


def test_the_outbox_row_commits_and_rolls_back_with_the_state_change(
    store: Store, user_a: uuid.UUID, admin: psycopg.Connection[Any]
) -> None:
    Webhooks(store).create_endpoint(
        secret=generate_secret(), user_id=user_a, url="https://example.com/hook"
    )
    change = "insert into public.projects (user_id, name, brief) values (%s, 'p', '{}')"

    def change_then_fail() -> None:
        with store.as_service() as conn:
            conn.execute(change, (user_a,))
            sent = Webhooks(store).enqueue(
                conn=conn, user_id=user_a, event_type="project.created", payload={}
            )
            assert len(sent) == 1
            raise StateChangeFailed

    with pytest.raises(StateChangeFailed):
        change_then_fail()
    assert (_count(admin, "projects"), _count(admin, "webhook_deliveries")) == (0, 0)

    with store.as_service() as conn:
        conn.execute(change, (user_a,))
        Webhooks(store).enqueue(conn=conn, user_id=user_a, event_type="project.created", payload={})
    assert (_count(admin, "projects"), _count(admin, "webhook_deliveries")) == (1, 1)


def test_an_event_goes_to_each_subscribed_enabled_endpoint_with_one_webhook_id(
    store: Store, user_a: uuid.UUID, user_b: uuid.UUID
) -> None:
    every = Webhooks(store).create_endpoint(
        secret=generate_secret(), user_id=user_a, url="https://a.example/all"
    )
    jobs = Webhooks(store).create_endpoint(
        secret=generate_secret(),
        user_id=user_a,
        url="https://a.example/jobs",
        events=["job.delivered"],
    )
    Webhooks(store).create_endpoint(
        secret=generate_secret(), user_id=user_a, url="https://a.example/x", events=["x.y"]
    )
    Webhooks(store).create_endpoint(
        secret=generate_secret(), user_id=user_b, url="https://b.example/all"
    )

    with store.as_service() as conn:
        sent = Webhooks(store).enqueue(
            conn=conn, user_id=user_a, event_type="job.delivered", payload={"a": 1}
        )
        again = Webhooks(store).enqueue(
            conn=conn,
            user_id=user_a,
            event_type="job.delivered",
            payload={"a": 1},
            webhook_id=sent[0].webhook_id,
        )

    assert {d.endpoint_id for d in sent} == {every.id, jobs.id}
    assert len({d.webhook_id for d in sent}) == 1
    assert sent[0].webhook_id.startswith("msg_")
    assert again == []  # the same webhook-id is not queued twice (a retried job step)
    assert Webhooks(store).deliveries(user_id=user_b) == []


def test_a_bad_event_type_is_refused(store: Store, user_a: uuid.UUID) -> None:
    with pytest.raises(StoreInputError, match="event type"), store.as_service() as conn:
        Webhooks(store).enqueue(conn=conn, user_id=user_a, event_type="Job Delivered!", payload={})


def test_tenants_see_and_delete_only_their_own_endpoints(
    store: Store, user_a: uuid.UUID, user_b: uuid.UUID
) -> None:
    mine = Webhooks(store).create_endpoint(
        secret=generate_secret(), user_id=user_a, url="https://a.example/hook"
    )
    assert mine.secret.get_secret_value().startswith("whsec_")
    assert "whsec_" not in repr(mine)
    assert Webhooks(store).endpoints(user_id=user_b) == []
    with pytest.raises(NotFound):
        Webhooks(store).delete_endpoint(user_id=user_b, endpoint_id=mine.id)
    with pytest.raises(NotFound):
        Webhooks(store).rotate_secret(secret=generate_secret(), user_id=user_b, endpoint_id=mine.id)
    Webhooks(store).delete_endpoint(user_id=user_a, endpoint_id=mine.id)
    assert Webhooks(store).endpoints(user_id=user_a) == []


def test_rotation_keeps_the_old_secret_signing_during_the_grace_period(
    store: Store, user_a: uuid.UUID
) -> None:
    endpoint = Webhooks(store).create_endpoint(
        secret=generate_secret(), user_id=user_a, url="https://a.example/hook"
    )
    rotated = Webhooks(store).rotate_secret(
        secret=generate_secret(), user_id=user_a, endpoint_id=endpoint.id, grace_seconds=3600
    )
    assert rotated.secret != endpoint.secret
    with store.as_service() as conn:
        Webhooks(store).enqueue(conn=conn, user_id=user_a, event_type="a.b", payload={})
    now = datetime.now(UTC)
    [claimed] = Webhooks(store).claim(worker="w", now=now)
    assert claimed.signing_secrets == [
        rotated.secret.get_secret_value(),
        endpoint.secret.get_secret_value(),
    ]
    Webhooks(store).record_attempt(
        delivery_id=claimed.id,
        worker="w",
        now=now,
        status_code=500,
        error="HTTP 500",
        next_attempt_at=now + timedelta(hours=2),
    )
    [later] = Webhooks(store).claim(worker="w", now=now + timedelta(hours=2, seconds=1))
    assert later.signing_secrets == [rotated.secret.get_secret_value()]


def test_a_lease_keeps_a_delivery_from_a_second_dispatcher_until_it_expires(
    store: Store, user_a: uuid.UUID
) -> None:
    Webhooks(store).create_endpoint(
        secret=generate_secret(), user_id=user_a, url="https://a.example/hook"
    )
    with store.as_service() as conn:
        Webhooks(store).enqueue(conn=conn, user_id=user_a, event_type="a.b", payload={})
    now = datetime.now(UTC)
    [first] = Webhooks(store).claim(worker="w1", now=now, lease_seconds=30)
    assert Webhooks(store).claim(worker="w2", now=now + timedelta(seconds=29)) == []
    [second] = Webhooks(store).claim(worker="w2", now=now + timedelta(seconds=31))
    assert (second.id, second.webhook_id, second.attempts) == (first.id, first.webhook_id, 2)
    with pytest.raises(LeaseLost):
        Webhooks(store).record_attempt(
            delivery_id=first.id,
            worker="w1",
            now=now,
            status_code=200,
            error=None,
            next_attempt_at=None,
        )
    done = Webhooks(store).record_attempt(
        delivery_id=second.id,
        worker="w2",
        now=now,
        status_code=204,
        error=None,
        next_attempt_at=None,
    )
    assert done.status is DeliveryStatus.DELIVERED
