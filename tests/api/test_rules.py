"""The API's rules against the in-memory repositories, with no database: what a user relies on.
Projects and jobs are private to their owner, a job is refused (and nothing queued) when the
balance cannot cover it, a start is idempotent, the job renders the script the user chose, and
a finished job cannot be canceled."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from typing import Any, cast

import httpx
import pytest

from pipeline.api import idempotency
from pipeline.api.app import create_app
from pipeline.api.models import BRIEF_EXAMPLE
from pipeline.settings import Settings
from pipeline.store import JobState, Store, StoreUnavailable
from pipeline.store.memory import MemoryRepositories
from tests.api.conftest import ApiClient

Auth = Callable[[uuid.UUID], dict[str, str]]
Upload = Callable[[uuid.UUID], str]


def _user(repos: MemoryRepositories, *, credits: int = 0) -> uuid.UUID:
    user = repos.add_user()
    if credits:
        repos.credits.adjust(
            user_id=user, amount=credits, reason="grant", idempotency_key=f"grant:{user}"
        )
    return user


def _project(client: ApiClient, headers: dict[str, str]) -> dict[str, Any]:
    """A project with two script options, written by the offline writer (the photo uploaded)."""
    brief = copy.deepcopy(BRIEF_EXAMPLE)
    brief["options"] = 2
    created = client.post("/v1/projects", json=brief, headers=headers)
    assert created.status_code == 201, created.text
    project: dict[str, Any] = created.json()
    return project


def _start(
    client: ApiClient,
    headers: dict[str, str],
    project_id: str,
    body: dict[str, Any] | None = None,
    *,
    key: str | None = None,
) -> httpx.Response:
    return client.post(
        f"/v1/projects/{project_id}/jobs",
        json=body if body is not None else {},
        headers=headers | {idempotency.HEADER: key or str(uuid.uuid4())},
    )


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def _jobs_of(repos: MemoryRepositories, user: uuid.UUID) -> list[uuid.UUID]:
    return [j.id for j in repos.jobs.page(user_id=user, before=None, limit=100)]


def test_a_project_and_its_jobs_are_a_404_to_another_user(
    memory_client: ApiClient, memory_repos: MemoryRepositories, auth: Auth, upload_photo: Upload
) -> None:
    owner, other = _user(memory_repos, credits=100_000), _user(memory_repos, credits=100_000)
    upload_photo(owner)
    upload_photo(other)
    project = _project(memory_client, auth(owner))
    job = _start(memory_client, auth(owner), project["id"]).json()
    unknown = _problem(memory_client.get(f"/v1/jobs/{uuid.uuid4()}", headers=auth(other)), 404)

    as_other = auth(other)
    refused = [
        memory_client.get(f"/v1/projects/{project['id']}", headers=as_other),
        memory_client.patch(
            f"/v1/projects/{project['id']}", json={"chosen_script": 1}, headers=as_other
        ),
        _start(memory_client, as_other, project["id"]),
        memory_client.get(f"/v1/jobs/{job['id']}", headers=as_other),
        memory_client.get(f"/v1/jobs/{job['id']}/events", headers=as_other),
        memory_client.post(f"/v1/jobs/{job['id']}/cancel", headers=as_other),
    ]
    for response in refused:
        # A 404 like an unknown id's: nothing tells the other user the project exists.
        assert _problem(response, 404)["type"] == unknown["type"], response.request.url
    assert memory_client.get("/v1/jobs", headers=as_other).json()["items"] == []
    assert _jobs_of(memory_repos, other) == []
    owners = memory_repos.jobs.get(job_id=uuid.UUID(job["id"]))
    assert owners is not None and owners.state == JobState.QUEUED
    read = memory_client.get(f"/v1/projects/{project['id']}", headers=auth(owner))
    assert read.json()["chosen_script"] is None


def test_a_job_the_balance_cannot_cover_is_a_402_and_queues_nothing(
    memory_client: ApiClient, memory_repos: MemoryRepositories, auth: Auth, upload_photo: Upload
) -> None:
    user = _user(memory_repos)
    upload_photo(user)
    project = _project(memory_client, auth(user))
    priced = memory_client.post(
        "/v1/estimates", json={"brief": project["brief"]}, headers=auth(user)
    )
    cost = priced.json()["credits"]
    assert cost > 1
    memory_repos.credits.adjust(user_id=user, amount=cost - 1, reason="grant", idempotency_key="g")

    body = _problem(_start(memory_client, auth(user), project["id"]), 402)
    assert str(cost) in body["detail"]
    assert _jobs_of(memory_repos, user) == []
    assert memory_repos.credits.balance(user_id=user) == cost - 1
    ledger = memory_repos.credits.ledger(user_id=user, before=None, limit=10)
    assert [e.reason for e in ledger] == ["grant"]

    # Exactly the estimate is enough.
    memory_repos.credits.adjust(user_id=user, amount=1, reason="grant", idempotency_key="g2")
    started = _start(memory_client, auth(user), project["id"])
    assert started.status_code == 201, started.text
    assert _jobs_of(memory_repos, user) == [uuid.UUID(started.json()["id"])]


def test_the_same_idempotency_key_replays_the_first_response_and_refuses_another_body(
    memory_client: ApiClient, memory_repos: MemoryRepositories, auth: Auth, upload_photo: Upload
) -> None:
    user = _user(memory_repos, credits=100_000)
    upload_photo(user)
    project = _project(memory_client, auth(user))
    first = _start(memory_client, auth(user), project["id"], {"preview": True}, key="k-1")
    again = _start(memory_client, auth(user), project["id"], {"preview": True}, key="k-1")
    assert first.status_code == again.status_code == 201, first.text
    assert again.content == first.content
    assert again.headers[idempotency.REPLAYED_HEADER] == "true"
    assert idempotency.REPLAYED_HEADER not in first.headers
    assert _jobs_of(memory_repos, user) == [uuid.UUID(first.json()["id"])]

    other_body = _start(memory_client, auth(user), project["id"], {"preview": False}, key="k-1")
    assert _problem(other_body, 422)["field"] == idempotency.HEADER
    assert len(_jobs_of(memory_repos, user)) == 1


def test_choosing_a_script_option_out_of_range_is_a_422_naming_chosen_script(
    memory_client: ApiClient, memory_repos: MemoryRepositories, auth: Auth, upload_photo: Upload
) -> None:
    user = _user(memory_repos)
    upload_photo(user)
    project = _project(memory_client, auth(user))
    url = f"/v1/projects/{project['id']}"

    out_of_range = memory_client.patch(url, json={"chosen_script": 3}, headers=auth(user))
    assert _problem(out_of_range, 422)["field"] == "chosen_script"
    assert memory_client.get(url, headers=auth(user)).json() == project

    last = memory_client.patch(url, json={"chosen_script": 2}, headers=auth(user))
    assert last.status_code == 200, last.text
    assert last.json()["chosen_script"] == 2


def test_starting_a_job_with_an_option_out_of_range_is_a_422_naming_option(
    memory_client: ApiClient, memory_repos: MemoryRepositories, auth: Auth, upload_photo: Upload
) -> None:
    user = _user(memory_repos, credits=100_000)
    upload_photo(user)
    project = _project(memory_client, auth(user))
    refused = _start(memory_client, auth(user), project["id"], {"option": 3})
    assert _problem(refused, 422)["field"] == "option"
    assert _jobs_of(memory_repos, user) == []


def test_the_job_payload_carries_the_script_of_the_chosen_option(
    memory_client: ApiClient, memory_repos: MemoryRepositories, auth: Auth, upload_photo: Upload
) -> None:
    user = _user(memory_repos, credits=100_000)
    upload_photo(user)
    project = _project(memory_client, auth(user))
    first, second = project["script_options"]
    assert first != second
    chosen = memory_client.patch(
        f"/v1/projects/{project['id']}", json={"chosen_script": 2}, headers=auth(user)
    )
    assert chosen.status_code == 200, chosen.text

    def payload(body: dict[str, Any]) -> dict[str, Any]:
        started = _start(memory_client, auth(user), project["id"], body)
        assert started.status_code == 201, started.text
        job = memory_repos.jobs.get(job_id=uuid.UUID(started.json()["id"]))
        assert job is not None
        return job.payload

    by_choice = payload({})
    assert (by_choice["option"], by_choice["script"]) == (2, second)
    # Files named inside the user's media folder, where the worker looks.
    assert by_choice["brief"]["product"]["photos"] == ["uploads/coffee.png"]
    by_request = payload({"option": 1})
    assert (by_request["option"], by_request["script"]) == (1, first)


def test_canceling_a_finished_job_is_a_409_and_changes_nothing(
    memory_client: ApiClient, memory_repos: MemoryRepositories, auth: Auth, upload_photo: Upload
) -> None:
    user = _user(memory_repos, credits=100_000)
    upload_photo(user)
    project = _project(memory_client, auth(user))
    delivered = _start(memory_client, auth(user), project["id"]).json()
    claimed = memory_repos.jobs.claim(worker="w1")
    assert claimed is not None and str(claimed.id) == delivered["id"]
    memory_repos.jobs.complete(job_id=claimed.id, worker="w1")

    refused = memory_client.post(f"/v1/jobs/{delivered['id']}/cancel", headers=auth(user))
    assert "delivered" in _problem(refused, 409)["detail"]
    read = memory_client.get(f"/v1/jobs/{delivered['id']}", headers=auth(user))
    assert read.json()["state"] == "delivered"

    queued = _start(memory_client, auth(user), project["id"]).json()
    canceled = memory_client.post(f"/v1/jobs/{queued['id']}/cancel", headers=auth(user))
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["state"] == "canceled"
    again = memory_client.post(f"/v1/jobs/{queued['id']}/cancel", headers=auth(user))
    assert "canceled" in _problem(again, 409)["detail"]


class _DownStore:
    """A store whose database does not answer."""

    def ping(self) -> None:
        raise StoreUnavailable("cannot connect to db.internal:5432")


def test_ready_answers_from_the_database_and_without_one_is_ready(
    settings: Settings, memory_repos: MemoryRepositories, memory_client: ApiClient
) -> None:
    assert memory_client.get("/ready").json() == {"status": "ok"}
    down = create_app(settings=settings, store=cast(Store, _DownStore()), repositories=memory_repos)
    body = _problem(ApiClient(down).get("/ready"), 503)
    assert "db.internal" not in body["detail"]


def test_ready_answers_503_while_the_readiness_check_names_a_shortfall(
    settings: Settings, memory_repos: MemoryRepositories
) -> None:
    shortfall: list[str | None] = ["1 of 2 render workers are running"]
    app = create_app(settings=settings, repositories=memory_repos, readiness=lambda: shortfall[0])
    client = ApiClient(app)
    unready = client.get("/ready")
    assert unready.headers["content-type"] == "application/problem+json"
    assert _problem(unready, 503)["detail"] == "1 of 2 render workers are running"
    assert client.get("/health").status_code == 200  # alive all along
    shortfall[0] = None
    assert client.get("/ready").json() == {"status": "ok"}


def test_an_app_needs_a_store_or_repositories(settings: Settings) -> None:
    with pytest.raises(TypeError, match="store"):
        create_app(settings=settings)
