"""One tenant's endpoint stored before the database checked secrets cannot stop the shared
dispatcher: that endpoint is disabled with the reason, logged, and every other tenant's webhook
is still delivered."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from pipeline.store import Repositories, Store
from pipeline.store.models import DeliveryStatus
from pipeline.webhooks import BAD_SECRET, Dispatcher, FakeClock, generate_secret
from tests.webhooks.receiver import Receiver, running_receiver

pytestmark = pytest.mark.integration

Admin = psycopg.Connection[tuple[object, ...]]
LEGACY_SECRET = "a-shared-password-from-before-whsec"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def _poison(admin: Admin, user: uuid.UUID, url: str) -> uuid.UUID:
    """An enabled endpoint with a non-whsec secret, as a database written before migration
    0010 may hold one: the check is dropped for the insert and put back unvalidated."""
    admin.execute(
        "alter table public.webhook_endpoints drop constraint webhook_endpoints_deliverable"
    )
    row = admin.execute(
        "insert into public.webhook_endpoints (user_id, url, secret) values (%s, %s, %s)"
        " returning id",
        (user, url, LEGACY_SECRET),
    ).fetchone()
    admin.execute(
        "alter table public.webhook_endpoints add constraint webhook_endpoints_deliverable check ("
        " not enabled or (public.is_webhook_secret(secret)"
        " and (previous_secret is null or public.is_webhook_secret(previous_secret))"
        " and public.is_webhook_url(url) and public.are_webhook_events(events))) not valid"
    )
    assert row is not None
    return uuid.UUID(str(row[0]))


def test_a_poisoned_endpoint_is_disabled_and_other_tenants_still_get_their_webhooks(
    store: Store,
    admin: Admin,
    user_a: uuid.UUID,
    user_b: uuid.UUID,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    repos = Repositories.postgres(store)
    poisoned = _poison(admin, user_a, receiver.url)
    healthy = repos.webhooks.create_endpoint(
        user_id=user_b, url=receiver.url, secret=generate_secret()
    )
    receiver.secrets = [healthy.secret.get_secret_value()]
    for user in (user_a, user_b):  # A cancels first, so A's delivery is due first
        job = repos.jobs.enqueue(user_id=user, kind="render")
        repos.jobs.cancel(job_id=job.id, user_id=user)

    with (
        caplog.at_level(logging.WARNING, logger="pipeline.webhooks.dispatcher"),
        httpx.Client(trust_env=False) as client,
    ):
        attempts = Dispatcher(repos.webhooks, client, FakeClock()).run_once()
        again = Dispatcher(repos.webhooks, client, FakeClock()).run_once()

    assert [a.status for a in attempts] == [DeliveryStatus.FAILED, DeliveryStatus.DELIVERED]
    assert again == []
    [got] = receiver.received
    assert got.verified and b'"type":"job.canceled"' in got.body
    [endpoint] = repos.webhooks.endpoints(user_id=user_a)
    assert (endpoint.id, endpoint.enabled, endpoint.disabled_reason) == (
        poisoned,
        False,
        BAD_SECRET,
    )
    [failed] = repos.webhooks.deliveries(user_id=user_a)
    assert (failed.status, failed.last_error) == (DeliveryStatus.FAILED, BAD_SECRET)
    assert f"webhook endpoint {poisoned} of user {user_a} disabled: {BAD_SECRET}" in caplog.text
    assert LEGACY_SECRET not in caplog.text


def test_its_owner_rotates_the_secret_and_re_enables_it(
    store: Store, admin: Admin, user_a: uuid.UUID, receiver: Receiver
) -> None:
    repos = Repositories.postgres(store)
    poisoned = _poison(admin, user_a, receiver.url)
    admin.execute("select public.disable_webhook_endpoint(%s, 'poisoned', now())", (poisoned,))

    rotated = repos.webhooks.rotate_secret(
        user_id=user_a, endpoint_id=poisoned, secret=generate_secret()
    )
    enabled = repos.webhooks.enable_endpoint(user_id=user_a, endpoint_id=poisoned)

    # The legacy secret never signs again, not even during the rotation's grace period.
    assert rotated.previous_secret_expires_at is None
    assert enabled.enabled
    signing = admin.execute(
        "select previous_secret from public.webhook_endpoints where id = %s", (poisoned,)
    ).fetchone()
    assert signing == (None,)
