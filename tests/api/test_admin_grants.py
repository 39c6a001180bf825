"""``POST /v1/admin/credits/grants``: only the admin token opens it (never a user's JWT), each
Idempotency-Key grants once, and errors are problems naming what is wrong. Every scenario runs
on PostgreSQL and on the in-memory repositories."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from pipeline.api.app import create_app
from pipeline.settings import BillingSettings, Settings
from pipeline.store import Repositories, Store
from pipeline.store.memory import MemoryRepositories
from tests.api.conftest import ApiClient

URL = "/v1/admin/credits/grants"
TOKEN = secrets.token_urlsafe(32)
NEXT_TOKEN = secrets.token_urlsafe(32)  # the one being rotated in


@dataclass
class Admin:
    client: ApiClient
    repos: Repositories
    new_user: Callable[[], uuid.UUID]

    def grant(
        self, body: dict[str, Any], *, key: str | None = "g-1", token: str | None = TOKEN
    ) -> httpx.Response:
        headers = {} if key is None else {"Idempotency-Key": key}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.client.post(URL, json=body, headers=headers)


def _with_tokens(settings: Settings, *tokens: str) -> Settings:
    return settings.model_copy(update={"billing": BillingSettings(admin_tokens=" ".join(tokens))})


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.integration), "memory"])
def admin(request: pytest.FixtureRequest, settings: Settings) -> Admin:
    configured = _with_tokens(settings, TOKEN, NEXT_TOKEN)
    if request.param == "memory":
        memory: MemoryRepositories = request.getfixturevalue("memory_repos")
        app = create_app(settings=configured, repositories=memory)
        return Admin(ApiClient(app), memory, memory.add_user)
    store: Store = request.getfixturevalue("store")
    app = create_app(settings=configured, store=store)
    return Admin(ApiClient(app), Repositories.postgres(store), request.getfixturevalue("make_user"))


def test_a_grant_adds_credits_once_per_key(admin: Admin) -> None:
    user = admin.new_user()
    body = {"user_id": str(user), "amount": 500, "reason": "support: failed job"}

    first = admin.grant(body)
    replay = admin.grant(body)
    rotated = admin.grant(body, key="g-2", token=NEXT_TOKEN)

    assert first.status_code == 201, first.text
    created = first.json()
    assert {k: created[k] for k in ("user_id", "credits", "balance_after", "reason")} == {
        "user_id": str(user), "credits": 500, "balance_after": 500, "reason": "support: failed job",
    }  # fmt: skip
    assert created["idempotency_key"] == "g-1"
    assert "Idempotent-Replayed" not in first.headers
    assert (replay.status_code, replay.json(), replay.headers["Idempotent-Replayed"]) == (
        201, created, "true",
    )  # fmt: skip
    assert rotated.status_code == 201 and rotated.json()["balance_after"] == 1000
    assert admin.repos.credits.balance(user_id=user) == 1000
    ledger = admin.repos.credits.ledger(user_id=user, before=None, limit=10)
    assert [(e.delta, e.idempotency_key) for e in ledger] == [
        (500, "grant:g-2"),
        (500, "grant:g-1"),
    ]


def test_concurrent_requests_with_one_key_grant_once(admin: Admin) -> None:
    user = admin.new_user()
    body = {"user_id": str(user), "amount": 40}

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: admin.grant(body, key="burst"), range(8)))

    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["ledger_id"] for r in responses}) == 1
    assert sum("Idempotent-Replayed" not in r.headers for r in responses) == 1
    assert admin.repos.credits.balance(user_id=user) == 40


def test_a_key_reused_for_another_grant_is_422(admin: Admin) -> None:
    user = admin.new_user()
    admin.grant({"user_id": str(user), "amount": 10})

    for changed in ({"amount": 11}, {"amount": 10, "reason": "other"}):
        response = admin.grant({"user_id": str(user)} | changed)
        assert response.status_code == 422
        assert response.json()["field"] == "Idempotency-Key"

    assert admin.repos.credits.balance(user_id=user) == 10


def test_user_tokens_and_wrong_or_missing_admin_tokens_are_401(
    admin: Admin, auth: Callable[[uuid.UUID], dict[str, str]]
) -> None:
    user = admin.new_user()
    body = {"user_id": str(user), "amount": 5}
    user_jwt = auth(user)["Authorization"].removeprefix("Bearer ")

    for token in (None, user_jwt, TOKEN[:-1], TOKEN + "x", "", secrets.token_urlsafe(32)):
        response = admin.grant(body, token=token)
        assert response.status_code == 401, token
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # ... and the admin token is no user's token either.
    as_user = admin.client.get("/v1/credits", headers={"Authorization": f"Bearer {TOKEN}"})
    assert as_user.status_code == 401

    assert admin.repos.credits.balance(user_id=user) == 0


@pytest.mark.parametrize(
    ("body", "key", "status", "field"),
    [
        ({"user_id": "UNKNOWN", "amount": 5}, "k", 422, "user_id"),
        ({"user_id": "USER", "amount": 0}, "k", 422, "amount"),
        ({"user_id": "USER", "amount": 10**9 + 1}, "k", 422, "amount"),
        ({"user_id": "USER", "amount": 5, "reason": ""}, "k", 422, "reason"),
        ({"user_id": "USER", "amount": 5, "extra": 1}, "k", 422, "extra"),
        ({"user_id": "not-a-uuid", "amount": 5}, "k", 422, "user_id"),
        ({"user_id": "USER", "amount": 5}, None, 400, None),
        ({"user_id": "USER", "amount": 5}, "k" * 195, 400, None),
        ({"user_id": "USER", "amount": 5}, "has space", 400, None),
    ],
)
def test_bad_grants_are_problems_and_change_nothing(
    admin: Admin, body: dict[str, Any], key: str | None, status: int, field: str | None
) -> None:
    user = admin.new_user()
    ids = {"USER": str(user), "UNKNOWN": str(uuid.uuid4())}
    body = {k: ids.get(v, v) if k == "user_id" else v for k, v in body.items()}

    response = admin.grant(body, key=key)

    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json().get("field") == field
    assert admin.repos.credits.balance(user_id=user) == 0


def test_without_an_admin_token_configured_the_route_is_off(settings: Settings) -> None:
    memory = MemoryRepositories()
    user = memory.add_user()
    client = ApiClient(create_app(settings=settings, repositories=memory))

    response = client.post(
        URL,
        json={"user_id": str(user), "amount": 5},
        headers={"Idempotency-Key": "k", "Authorization": f"Bearer {TOKEN}"},
    )

    assert response.status_code == 404
    assert "REELFORGE_ADMIN_TOKEN" in response.json()["detail"]
    assert memory.credits.balance(user_id=user) == 0
