"""API keys: shown once, stored only as a hash, accepted by the same dependency as Supabase
tokens, revoked at once, and nobody else's to list or revoke."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

import psycopg
import pytest

from tests.api.conftest import ApiClient

pytestmark = pytest.mark.integration

Auth = Callable[[uuid.UUID], dict[str, str]]
Admin = psycopg.Connection[tuple[object, ...]]


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_key_acts_as_its_user_until_revoked(
    client: ApiClient, admin: Admin, user_a: uuid.UUID, auth: Auth, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    made = client.post("/v1/api-keys", json={"name": "ci"}, headers=auth(user_a))
    assert made.status_code == 201, made.text
    key = made.json()["key"]
    assert key.startswith("rf_live_") and len(key) == len("rf_live_") + 43
    assert made.json()["prefix"] == key[:12]

    used = client.get("/v1/credits", headers=_bearer(key))
    listed = client.get("/v1/api-keys", headers=_bearer(key)).json()["keys"]
    revoked = client.request("DELETE", f"/v1/api-keys/{made.json()['id']}", headers=auth(user_a))
    after = client.get("/v1/credits", headers=_bearer(key))

    assert used.status_code == 200, used.text
    assert [k["id"] for k in listed] == [made.json()["id"]] and "key" not in listed[0]
    assert listed[0]["last_used_at"] is not None
    assert revoked.json() == {"id": made.json()["id"], "revoked": True}
    assert after.status_code == 401
    assert after.headers["content-type"] == "application/problem+json"
    assert "revoked" in after.json()["detail"]
    # Never at rest or in a log in clear: neither the key nor its secret part.
    secret = key.removeprefix("rf_live_")
    rows = admin.execute("select to_jsonb(k)::text from public.api_keys k").fetchall()
    assert rows and all(secret not in str(r[0]) and key not in str(r[0]) for r in rows)
    assert secret not in caplog.text


def test_another_users_key_is_not_found_and_a_bad_key_is_unauthorized(
    client: ApiClient, user_a: uuid.UUID, user_b: uuid.UUID, auth: Auth
) -> None:
    made = client.post("/v1/api-keys", json={"name": "ci"}, headers=auth(user_a)).json()

    theirs = client.request("DELETE", f"/v1/api-keys/{made['id']}", headers=auth(user_b))
    listed = client.get("/v1/api-keys", headers=auth(user_b)).json()["keys"]
    forged = client.get("/v1/credits", headers=_bearer(made["key"][:-1] + "x"))
    short = client.get("/v1/credits", headers=_bearer("rf_live_short"))

    assert theirs.status_code == 404 and listed == []
    assert client.get("/v1/credits", headers=_bearer(made["key"])).status_code == 200
    assert (forged.status_code, short.status_code) == (401, 401)
    assert (
        client.request("DELETE", f"/v1/api-keys/{uuid.uuid4()}", headers=auth(user_a)).status_code
        == 404
    )


def test_a_key_has_the_same_limits_as_a_token(
    client: ApiClient, user_a: uuid.UUID, auth: Auth
) -> None:
    key = client.post("/v1/api-keys", json={"name": "ci"}, headers=auth(user_a)).json()["key"]

    too_big = client.post(
        "/v1/projects", content=b"{" + b" " * 70_000 + b"}", headers=_bearer(key) | {"content-type": "application/json"}
    )  # fmt: skip

    assert too_big.status_code == 413
