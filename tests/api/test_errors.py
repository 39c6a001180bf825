"""Problem+json for the errors no regular route produces today: 402, 409, 422 keys, 500, 503."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI

from pipeline.api.errors import IdempotencyInProgress, IdempotencyMismatch
from pipeline.errors import StageError
from pipeline.store import InsufficientCredits, StoreUnavailable
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.integration


def _raise(exc: Exception) -> Callable[[], Any]:
    def route() -> None:
        raise exc

    return route


@pytest.fixture
def stub_client(app: FastAPI) -> ApiClient:
    stubs = {
        "/stub/credits": InsufficientCredits("hold_credits", "insufficient credits: balance 1"),
        "/stub/running": IdempotencyInProgress(),
        "/stub/mismatch": IdempotencyMismatch(),
        "/stub/stage": StageError("render", "ffmpeg exited 1 in /srv/secret/path"),
        "/stub/db": StoreUnavailable("cannot connect to db.internal:5432"),
        "/stub/bug": RuntimeError("password=hunter2"),
    }
    for path, exc in stubs.items():
        app.add_api_route(path, _raise(exc), methods=["GET"])
    return ApiClient(app, raise_app_exceptions=False)


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/stub/credits", 402, None),
        ("/stub/running", 409, None),
        ("/stub/mismatch", 422, "Idempotency-Key"),
        ("/stub/stage", 500, None),
        ("/stub/db", 503, None),
        ("/stub/bug", 500, None),
    ],
)
def test_domain_errors_map_to_problems_without_internals(
    stub_client: ApiClient, path: str, status: int, field: str | None
) -> None:
    response = stub_client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body.get("field") == field
    for secret in ("/srv/secret", "hunter2", "db.internal"):
        assert secret not in response.text


def test_unknown_route_is_a_404_problem(client: ApiClient, user_a: uuid.UUID) -> None:
    response = client.get("/v1/nothing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_health_and_ready(client: ApiClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", b'{"url": "https://example.com/h"}'),
        ("application/x-www-form-urlencoded", b"url=https%3A%2F%2Fexample.com%2Fh"),
        ("multipart/form-data; boundary=x", b"--x--\r\n"),
        (None, b'{"url": "https://example.com/h"}'),
    ],
)
def test_a_body_other_than_json_on_a_json_route_is_a_415(
    memory_client: ApiClient,
    memory_repos: Any,
    token_for: Callable[..., str],
    content_type: str | None,
    body: bytes,
) -> None:
    user = memory_repos.add_user()
    headers = {"Authorization": f"Bearer {token_for(user)}"}
    if content_type is not None:
        headers["Content-Type"] = content_type

    response = memory_client.post("/v1/webhooks/endpoints", content=body, headers=headers)

    assert response.status_code == 415, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == "Content-Type"
    assert memory_repos.webhooks.endpoints(user_id=user) == []
    ok = memory_client.post(
        "/v1/webhooks/endpoints", content=body if content_type is None else b"{}",
        headers=headers | {"Content-Type": "application/json; charset=utf-8"},
    )  # fmt: skip
    assert ok.status_code in (201, 422), ok.text  # JSON goes through to the route


def test_a_405_lists_every_method_of_the_path(memory_client: ApiClient) -> None:
    response = memory_client.request("PUT", "/v1/projects")

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.headers["content-type"] == "application/problem+json"
