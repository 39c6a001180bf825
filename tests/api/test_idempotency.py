"""Idempotency-Key on job creation: replay, mismatch, in progress, per user, expiry, concurrency."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from psycopg.types.json import Jsonb

from pipeline.api import idempotency
from pipeline.api.app import create_app
from pipeline.api.jobs import JobIn
from pipeline.serve import KeyPurge
from pipeline.settings import ApiSettings, Settings
from pipeline.store import Store
from pipeline.store.idempotency import Idempotency
from pipeline.store.memory import ManualClock, MemoryRepositories
from tests.api.conftest import ApiClient
from tests.api.test_jobs import Admin, Auth, make_project, problem, start

pytestmark = pytest.mark.integration


def _jobs(admin: Admin) -> int:
    row = admin.execute("select count(*) from public.jobs").fetchone()
    assert row is not None
    return int(str(row[0]))


def _hash(project_id: uuid.UUID, body: dict[str, Any] | None = None) -> str:
    canonical = JobIn.model_validate(body or {}).model_dump(mode="json")
    return idempotency.request_hash("POST", f"/v1/projects/{project_id}/jobs", canonical)


def test_same_key_same_body_replays_the_first_response(
    client: ApiClient, user_a: uuid.UUID, auth: Auth, admin: Admin, settings: ApiSettings
) -> None:
    project_id = make_project(admin, settings, user_a)
    first = start(client, auth(user_a), project_id, {"preview": True}, key="k-1")
    again = start(client, auth(user_a), project_id, {"preview": True}, key="k-1")
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers[idempotency.REPLAYED_HEADER] == "true"
    assert idempotency.REPLAYED_HEADER not in first.headers
    assert _jobs(admin) == 1


def test_errors_are_replayed_too(
    client: ApiClient, user_a: uuid.UUID, auth: Auth, admin: Admin, settings: ApiSettings
) -> None:
    project_id = make_project(admin, settings, user_a)
    (settings.uploads(user_a) / "coffee.png").unlink()
    first = start(client, auth(user_a), project_id, key="k-err")
    problem(first, 422)
    make_project(admin, settings, user_a)  # the photo is back
    again = start(client, auth(user_a), project_id, key="k-err")
    assert again.status_code == 422
    assert again.content == first.content
    assert again.headers["content-type"] == "application/problem+json"
    assert _jobs(admin) == 0
    assert start(client, auth(user_a), project_id, key="k-new").status_code == 201


def test_same_key_other_body_is_a_422(
    client: ApiClient, user_a: uuid.UUID, auth: Auth, admin: Admin, settings: ApiSettings
) -> None:
    project_id = make_project(admin, settings, user_a)
    assert start(client, auth(user_a), project_id, {"preview": True}, key="k").status_code == 201
    other = problem(start(client, auth(user_a), project_id, {"preview": False}, key="k"), 422)
    assert other["field"] == "Idempotency-Key"
    other_project = make_project(admin, settings, user_a)
    assert problem(start(client, auth(user_a), other_project, {"preview": True}, key="k"), 422)
    assert _jobs(admin) == 1


def test_a_running_key_is_a_409_until_its_lock_lapses(
    client: ApiClient, user_a: uuid.UUID, auth: Auth, admin: Admin, settings: ApiSettings
) -> None:
    project_id = make_project(admin, settings, user_a)
    admin.execute(
        "insert into public.idempotency_keys (user_id, key, request_hash, locked_until)"
        " values (%s, 'busy', %s, now() + interval '1 hour')",
        (user_a, _hash(project_id)),
    )
    busy = problem(start(client, auth(user_a), project_id, key="busy"), 409)
    assert "still running" in busy["detail"]
    # Another body under a running key is still a mismatch.
    assert problem(start(client, auth(user_a), project_id, {"preview": True}, key="busy"), 422)
    # The first request died: once its lock lapses the same request takes the key over.
    admin.execute("update public.idempotency_keys set locked_until = now() - interval '1 second'")
    assert start(client, auth(user_a), project_id, key="busy").status_code == 201
    assert start(client, auth(user_a), project_id, key="busy").status_code == 201
    assert _jobs(admin) == 1


def test_keys_are_scoped_per_user(
    client: ApiClient,
    user_a: uuid.UUID,
    user_b: uuid.UUID,
    auth: Auth,
    admin: Admin,
    settings: ApiSettings,
) -> None:
    a = start(client, auth(user_a), make_project(admin, settings, user_a), key="shared")
    b = start(client, auth(user_b), make_project(admin, settings, user_b), key="shared")
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]
    assert idempotency.REPLAYED_HEADER not in b.headers
    assert _jobs(admin) == 2


def test_an_expired_key_is_new_and_cleanup_deletes_it(
    client: ApiClient,
    user_a: uuid.UUID,
    auth: Auth,
    admin: Admin,
    settings: ApiSettings,
    store: Store,
) -> None:
    project_id = make_project(admin, settings, user_a)
    admin.execute(
        "insert into public.idempotency_keys (user_id, key, request_hash, state,"
        " response_status, response_body, created_at)"
        " values (%s, 'old', 'other', 'done', 500, %s, now() - interval '25 hours'),"
        " (%s, 'older', 'other', 'done', 500, %s, now() - interval '30 hours')",
        (user_a, Jsonb({"stale": True}), user_a, Jsonb({"stale": True})),
    )
    fresh = start(client, auth(user_a), project_id, key="old")
    assert fresh.status_code == 201, fresh.text
    assert idempotency.REPLAYED_HEADER not in fresh.headers
    assert _jobs(admin) == 1
    cleanup = Idempotency(store).cleanup
    assert cleanup(retention_seconds=idempotency.RETENTION_SECONDS) == 1
    assert admin.execute("select key from public.idempotency_keys").fetchall() == [("old",)]


def test_the_retention_is_a_setting_and_keys_live_that_long(
    settings: Settings, store: Store, user_a: uuid.UUID, auth: Auth, admin: Admin
) -> None:
    service = settings.service.model_copy(update={"idempotency_retention_hours": 48})
    client = ApiClient(
        create_app(settings=settings.model_copy(update={"service": service}), store=store)
    )
    project_id = make_project(admin, settings, user_a)
    admin.execute(
        "insert into public.idempotency_keys (user_id, key, request_hash, state,"
        " response_status, response_body, created_at)"
        " values (%s, 'day-old', %s, 'done', 201, %s, now() - interval '30 hours')",
        (user_a, _hash(project_id), Jsonb({"from": "yesterday"})),
    )

    again = start(client, auth(user_a), project_id, key="day-old")

    assert again.headers[idempotency.REPLAYED_HEADER] == "true"  # 30 h < 48 h: replayed
    assert again.json() == {"from": "yesterday"} and _jobs(admin) == 0


def test_the_background_purge_deletes_keys_past_the_retention_every_so_often() -> None:
    clock = ManualClock(step=timedelta(0))
    repos = MemoryRepositories(clock=clock)
    user = repos.add_user()
    ticks = [0.0]
    purge = KeyPurge(repos, retention_seconds=24 * 3600, every=600, clock=lambda: ticks[0])
    keep = {"lock_seconds": 60, "retention_seconds": 24 * 3600}
    assert repos.idempotency.claim(user_id=user, key="old", request_hash="h", **keep).claimed
    clock.advance(23 * 3600)
    assert repos.idempotency.claim(user_id=user, key="new", request_hash="h", **keep).claimed
    repos.idempotency.complete(user_id=user, key="new", status=201, body={})

    assert purge() == 0  # the oldest is 23 h old
    clock.advance(2 * 3600)
    ticks[0] = 599.0
    assert purge() == 0  # not due: at most one purge per 600 s
    ticks[0] = 600.0
    assert purge() == 1  # "old" (25 h); "new" (2 h) stays
    assert not repos.idempotency.claim(user_id=user, key="new", request_hash="h", **keep).claimed


@pytest.mark.parametrize("key", [None, "", "has space", "tab\tkey", "x" * 256])
def test_a_missing_or_malformed_key_is_a_400(
    client: ApiClient,
    user_a: uuid.UUID,
    auth: Auth,
    admin: Admin,
    settings: ApiSettings,
    key: str | None,
) -> None:
    project_id = make_project(admin, settings, user_a)
    headers = auth(user_a) | ({} if key is None else {"Idempotency-Key": key})
    response = client.post(f"/v1/projects/{project_id}/jobs", json={}, headers=headers)
    assert "Idempotency-Key" in problem(response, 400)["detail"]
    assert _jobs(admin) == 0


def test_50_concurrent_requests_with_one_key_make_one_job(
    client: ApiClient, user_a: uuid.UUID, auth: Auth, admin: Admin, settings: ApiSettings
) -> None:
    project_id = make_project(admin, settings, user_a)
    headers = auth(user_a)

    def post(_: int) -> Any:
        return start(client, headers, project_id, {"formats": ["1x1"]}, key="burst")

    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(post, range(50)))
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, statuses
    created = [r for r in responses if r.status_code == 201]
    assert len({r.content for r in created}) == 1
    assert len([r for r in created if idempotency.REPLAYED_HEADER not in r.headers]) == 1
    assert _jobs(admin) == 1
    # Afterwards, everyone gets the replay.
    assert post(0).content == created[0].content
