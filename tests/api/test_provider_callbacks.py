"""Provider callbacks: signed Standard Webhooks requests, the rejection matrix, and dedup."""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi import FastAPI

from pipeline.api.routes.providers import provider_secrets
from pipeline.settings import ProviderSettings
from pipeline.store import Store
from pipeline.store.jobs import Jobs
from pipeline.webhooks import generate_secret, webhook_headers
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.integration

Admin = psycopg.Connection[tuple[object, ...]]
SECRET = generate_secret()
OTHER_SECRET = generate_secret()
URL = "/v1/providers/fal/callback"


@pytest.fixture
def provider_app(app: FastAPI) -> FastAPI:
    app.state.provider_secrets = {"fal": SECRET}
    return app


def signed(
    payload: dict[str, Any] | None = None,
    *,
    msg_id: str | None = None,
    timestamp: int | None = None,
    secret: str = SECRET,
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload if payload is not None else {"task_id": "t1"}).encode()
    headers = webhook_headers(
        secrets=[secret],
        msg_id=msg_id or f"msg_{uuid.uuid4().hex}",
        timestamp=timestamp if timestamp is not None else int(time.time()),
        body=body,
    )
    return body, headers


def post(
    client: ApiClient, body: bytes, headers: dict[str, str], job: uuid.UUID | None = None
) -> httpx.Response:
    """POST to the callback URL; with ``job``, the URL reelforge gives that job's tasks."""
    from pipeline.providers.callbacks import callback_token

    url = URL if job is None else f"{URL}?job_id={job}&token={callback_token(SECRET, 'fal', str(job))}"
    return client.post(url, content=body, headers=headers)


def events(admin: Admin) -> list[tuple[object, ...]]:
    return admin.execute(
        "select provider, event_id, payload, processed_at is not null from public.provider_events"
        " order by id"
    ).fetchall()


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def test_a_valid_callback_is_recorded_without_a_user_token(
    provider_app: FastAPI, client: ApiClient, admin: Admin
) -> None:
    body, headers = signed({"task_id": "t1", "status": "done"}, msg_id="msg_1")
    response = post(client, body, headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"event_id": "msg_1", "duplicate": False, "job_event_id": None}
    assert events(admin) == [("fal", "msg_1", {"task_id": "t1", "status": "done"}, True)]


def test_the_provider_name_is_case_and_dash_insensitive(
    app: FastAPI, client: ApiClient, admin: Admin
) -> None:
    app.state.provider_secrets = {"Eleven_Labs": SECRET}
    body, headers = signed()
    response = client.post("/v1/providers/eleven-labs/callback", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert [row[0] for row in events(admin)] == ["eleven_labs"]


def test_a_callback_bound_to_its_job_appends_a_log_event(
    provider_app: FastAPI, client: ApiClient, store: Store, user_a: uuid.UUID, admin: Admin
) -> None:

    job = Jobs(store).enqueue(user_id=user_a, kind="render")
    payload = {"task_id": "t-42", "status": "succeeded"}
    body, headers = signed(payload, msg_id="msg_job")
    response = post(client, body, headers, job.id)
    assert response.status_code == 200, response.text
    job_event_id = response.json()["job_event_id"]
    assert isinstance(job_event_id, int)
    row = admin.execute(
        "select job_id, user_id, kind, state::text, message from public.job_events where id = %s",
        (job_event_id,),
    ).fetchone()
    assert row == (
        job.id,
        user_a,
        "log",
        "queued",
        "fal callback msg_job for task t-42: succeeded",
    )
    assert len(events(admin)) == 1


def test_a_callback_cannot_write_into_a_job_it_was_not_given(
    provider_app: FastAPI, client: ApiClient, store: Store, user_a: uuid.UUID, admin: Admin
) -> None:
    """A job id in the payload is not trusted, and a URL naming another job needs that job's
    token: the victim's job gets no event, whoever signs the body."""
    from pipeline.providers.callbacks import callback_token

    victim = Jobs(store).enqueue(user_id=user_a, kind="render")
    attacker = Jobs(store).enqueue(user_id=user_a, kind="render")
    body, headers = signed({"job_id": str(victim.id), "task_id": "t"}, msg_id="msg_payload")
    assert post(client, body, headers).json()["job_event_id"] is None
    stolen = callback_token(SECRET, "fal", str(attacker.id))
    for msg, query in (
        ("msg_other_token", f"job_id={victim.id}&token={stolen}"),
        ("msg_no_token", f"job_id={victim.id}"),
        ("msg_bad_id", f"job_id=nope&token={stolen}"),
    ):
        body, headers = signed({"task_id": "t"}, msg_id=msg)
        refused = client.post(f"{URL}?{query}", content=body, headers=headers)
        assert refused.status_code == 401, (query, refused.text)
    logged = admin.execute(
        "select count(*) from public.job_events where job_id = %s and kind = 'log'", (victim.id,)
    ).fetchone()
    assert logged == (0,)


def test_a_duplicate_has_no_second_effect(
    provider_app: FastAPI, client: ApiClient, store: Store, user_a: uuid.UUID, admin: Admin
) -> None:
    job = Jobs(store).enqueue(user_id=user_a, kind="render")
    body, headers = signed({"task_id": "t"}, msg_id="msg_dup")
    first = post(client, body, headers, job.id)
    again = post(client, body, headers, job.id)
    assert first.json()["duplicate"] is False
    assert again.status_code == 200, again.text
    assert again.json() == {"event_id": "msg_dup", "duplicate": True, "job_event_id": None}
    logs = admin.execute(
        "select count(*) from public.job_events where job_id = %s and kind = 'log'", (job.id,)
    ).fetchone()
    assert logs == (1,)
    assert len(events(admin)) == 1


def test_five_identical_callbacks_in_parallel_record_one(
    provider_app: FastAPI, client: ApiClient, store: Store, user_a: uuid.UUID, admin: Admin
) -> None:
    job = Jobs(store).enqueue(user_id=user_a, kind="render")
    body, headers = signed({"task_id": "t"}, msg_id="msg_par")
    with ThreadPoolExecutor(max_workers=5) as pool:
        responses = list(pool.map(lambda _: post(client, body, headers, job.id), range(5)))
    assert [r.status_code for r in responses] == [200] * 5
    assert sorted(r.json()["duplicate"] for r in responses) == [False, True, True, True, True]
    assert len(events(admin)) == 1
    logs = admin.execute(
        "select count(*) from public.job_events where job_id = %s and kind = 'log'", (job.id,)
    ).fetchone()
    assert logs == (1,)


def _without(headers: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != name}


def _rejections() -> list[tuple[str, bytes, dict[str, str], str]]:
    now = int(time.time())
    body, good = signed(msg_id="msg_x", timestamp=now)
    _, old = signed(msg_id="msg_x", timestamp=now - 330)
    _, future = signed(msg_id="msg_x", timestamp=now + 330)
    _, wrong = signed(msg_id="msg_x", timestamp=now, secret=OTHER_SECRET)
    altered = body.replace(b"t1", b"t2")
    assert altered != body
    return [
        ("missing id", body, _without(good, "webhook-id"), "missing webhook-id"),
        ("missing timestamp", body, _without(good, "webhook-timestamp"), "webhook-timestamp"),
        ("missing signature", body, _without(good, "webhook-signature"), "webhook-signature"),
        ("malformed timestamp", body, good | {"webhook-timestamp": "soon"}, "malformed"),
        ("330 s old", body, old, "old"),
        ("330 s in the future", body, future, "future"),
        ("wrong secret", body, wrong, "no matching signature"),
        ("body altered", altered, good, "no matching signature"),
        ("signature garbled", body, good | {"webhook-signature": "v1,!!!"}, "no matching"),
        ("another id, same signature", body, good | {"webhook-id": "msg_y"}, "no matching"),
    ]


@pytest.mark.parametrize("case", range(len(_rejections())))
def test_the_rejection_matrix_is_401_naming_the_reason(
    provider_app: FastAPI, client: ApiClient, admin: Admin, case: int
) -> None:
    name, body, headers, reason = _rejections()[case]
    detail = problem(post(client, body, headers), 401)["detail"]
    assert reason in detail, (name, detail)
    assert events(admin) == []


def test_a_replay_after_the_tolerance_is_rejected_even_if_once_accepted(
    provider_app: FastAPI, client: ApiClient, admin: Admin
) -> None:
    class Later:
        def now(self) -> datetime:
            return datetime.fromtimestamp(time.time() + 301, UTC)

    body, headers = signed(msg_id="msg_replay")
    assert post(client, body, headers).status_code == 200
    provider_app.state.clock = Later()
    assert "old" in problem(post(client, body, headers), 401)["detail"]
    assert len(events(admin)) == 1


def test_unknown_provider_is_404(provider_app: FastAPI, client: ApiClient, admin: Admin) -> None:
    body, headers = signed()
    problem(client.post("/v1/providers/nope/callback", content=body, headers=headers), 404)
    assert events(admin) == []


def test_a_signed_body_that_is_not_a_json_object_is_400(
    provider_app: FastAPI, client: ApiClient, admin: Admin
) -> None:
    for body in (b"not json", b"[1, 2]"):
        headers = webhook_headers(
            secrets=[SECRET], msg_id="msg_bad", timestamp=int(time.time()), body=body
        )
        problem(post(client, body, headers), 400)
    assert events(admin) == []


def test_rotated_secrets_are_both_accepted(app: FastAPI, client: ApiClient, admin: Admin) -> None:
    app.state.provider_secrets = {"fal": (OTHER_SECRET, SECRET)}
    for secret in (SECRET, OTHER_SECRET):
        body, headers = signed(secret=secret)
        assert post(client, body, headers).status_code == 200
    assert len(events(admin)) == 2


def test_provider_secrets_from_the_settings() -> None:
    env = {
        "REELFORGE_PROVIDER_SECRET_FAL": SECRET,
        "REELFORGE_PROVIDER_SECRET_ELEVEN-LABS": f"{SECRET} {OTHER_SECRET}",
        "REELFORGE_PROVIDER_SECRET_EMPTY": " ",
        "HOME": "/root",
    }
    configured = ProviderSettings.from_env(env).callback_secrets
    assert provider_secrets(configured) == {"fal": (SECRET,), "eleven_labs": (SECRET, OTHER_SECRET)}
    bad = ProviderSettings.from_env({"REELFORGE_PROVIDER_SECRET_BAD": "whsec_short"})
    with pytest.raises(ValueError, match="REELFORGE_PROVIDER_SECRET_BAD") as info:
        provider_secrets(bad.callback_secrets)
    assert "whsec_short" not in str(info.value)


def test_an_unsigned_provider_calls_back_with_the_token_in_its_url(
    provider_app: FastAPI, client: ApiClient, admin: Admin, store: Store, user_a: uuid.UUID
) -> None:
    from pipeline.providers.cache import ProviderCache
    from pipeline.providers.callbacks import StoreInbox
    from pipeline.providers.runtime import ProviderRuntime
    from pipeline.store.providers import ProviderEvents

    job = Jobs(store).enqueue(user_id=user_a, kind="render")
    runtime = ProviderRuntime(
        cache=ProviderCache(Path(tempfile.gettempdir())),
        callback_base="https://api.reelforge.example",
        job_id=str(job.id),
        callback_secrets={"fal": SECRET},
    )
    url = runtime.callback_url("fal")
    assert url is not None and url.startswith(
        "https://api.reelforge.example/v1/providers/fal/callback?"
    )
    path = url.removeprefix("https://api.reelforge.example")
    # fal's webhook body: no Standard Webhooks headers at all
    body = json.dumps(
        {
            "request_id": "req-7",
            "status": "OK",
            "payload": {"video": {"url": "https://v3.fal.media/x.mp4"}},
        }
    ).encode()
    response = client.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    assert isinstance(response.json()["job_event_id"], int)
    # redelivered: the same event, recorded once
    assert client.post(path, content=body).json()["duplicate"] is True
    # the worker waiting on req-7 finds it
    assert StoreInbox(ProviderEvents(store), job.id).payloads("fal", "req-7") == [json.loads(body)]
    assert StoreInbox(ProviderEvents(store), job.id).payloads("fal", "req-8") == []
    # another job's worker never sees it, even for the same task id
    other_job = Jobs(store).enqueue(user_id=user_a, kind="render")
    assert StoreInbox(ProviderEvents(store), other_job.id).payloads("fal", "req-7") == []
    # a token for another job, or none that matches, is refused
    other = path.replace(str(job.id), str(uuid.uuid4()))
    problem(client.post(other, content=body), 401)
    problem(client.post(path.split("&token=")[0] + "&token=forged", content=body), 401)
    assert (
        ProviderRuntime(cache=runtime.cache, callback_base="https://x", job_id="j").callback_url(
            "fal"
        )
        is None
    )
