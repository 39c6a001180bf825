"""Webhook endpoint routes: add (secret shown once), list, delete, rotate, re-enable, deliveries."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from pipeline.api.app import create_app
from pipeline.settings import Settings
from pipeline.store import Store
from pipeline.store.webhooks import Webhooks
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.integration

Auth = Callable[[uuid.UUID], dict[str, str]]
Admin = psycopg.Connection[tuple[object, ...]]
URL = "https://example.com/hooks"


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def add(client: ApiClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post("/v1/webhooks/endpoints", json={"url": URL} | body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_create_shows_the_secret_once_and_list_never(
    client: ApiClient, user_a: uuid.UUID, auth: Auth
) -> None:
    created = add(client, auth(user_a), events=["job.delivered", "job.failed", "job.delivered"])
    assert created["secret"].startswith("whsec_")
    assert created["url"] == URL
    assert created["events"] == ["job.delivered", "job.failed"]
    assert created["enabled"] is True
    assert created["failed_deliveries_in_row"] == 0
    listed = client.get("/v1/webhooks/endpoints", headers=auth(user_a))
    assert listed.status_code == 200, listed.text
    [endpoint] = listed.json()["endpoints"]
    assert endpoint["id"] == created["id"]
    assert "secret" not in endpoint
    assert created["secret"] not in listed.text
    assert endpoint["disabled_reason"] is None
    assert endpoint["disabled_at"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://example.com/hooks"}, "url"),
        ({"url": "http://localhost:8000/hooks"}, "url"),
        ({"url": "ftp://example.com/hooks"}, "url"),
        ({"url": "example.com/hooks"}, "url"),
        ({"url": "https://user:pw@example.com/hooks"}, "url"),
        ({"url": "https:///nohost"}, "url"),
        ({"url": "https://exa mple.com/hooks"}, "url"),
        ({"url": "https://example.com/ho\u0000oks"}, "url"),
        ({"url": URL, "events": ["Job Delivered"]}, "events[0]"),
        ({"url": URL, "extra": 1}, "extra"),
        ({}, "url"),
    ],
)
def test_invalid_endpoints_are_422_naming_the_field(
    client: ApiClient, user_a: uuid.UUID, auth: Auth, body: dict[str, Any], field: str
) -> None:
    response = client.post("/v1/webhooks/endpoints", json=body, headers=auth(user_a))
    assert problem(response, 422)["field"] == field


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hooks",
        "https://[::1]/hooks",
        "https://169.254.169.254/latest",
        "https://0x7f.1/hooks",
        "https://10.1.2.3/hooks",
        "https://intranet.example/hooks",  # resolves to 10.0.0.7
        "https://split.example/hooks",  # one public answer, one internal: refused
    ],
)
def test_a_url_the_delivery_would_refuse_is_refused_at_creation(
    store: Store, settings: Settings, user_a: uuid.UUID, auth: Auth, url: str
) -> None:
    dns = {"intranet.example": ["10.0.0.7"], "split.example": ["93.184.215.14", "192.168.1.2"]}
    client = ApiClient(create_app(settings=settings, store=store, resolve=lambda h: dns[h]))

    response = client.post("/v1/webhooks/endpoints", json={"url": url}, headers=auth(user_a))

    body = problem(response, 422)
    assert body["field"] == "url" and "non-public address" in body["detail"], body
    assert client.get("/v1/webhooks/endpoints", headers=auth(user_a)).json()["endpoints"] == []


def test_a_public_or_not_yet_resolvable_host_is_accepted(
    store: Store, settings: Settings, user_a: uuid.UUID, auth: Auth
) -> None:
    def dns(host: str) -> list[str]:
        if host == "public.example":
            return ["93.184.215.14"]
        raise OSError("Name or service not known")

    client = ApiClient(create_app(settings=settings, store=store, resolve=dns))
    for url in ("https://public.example/hooks", "https://later.example/hooks"):
        assert add(client, auth(user_a), url=url)["url"] == url


def test_http_localhost_only_when_the_dev_setting_allows_it(
    store: Store, settings: Settings, user_a: uuid.UUID, auth: Auth
) -> None:
    api = settings.require_api().model_copy(update={"webhook_allow_http_localhost": True})
    client = ApiClient(create_app(settings=settings.model_copy(update={"api": api}), store=store))
    for url in ("http://localhost:8000/hooks", "http://127.0.0.1/hooks"):
        assert add(client, auth(user_a), url=url)["url"] == url
    response = client.post(
        "/v1/webhooks/endpoints", json={"url": "http://example.com/x"}, headers=auth(user_a)
    )
    assert problem(response, 422)["field"] == "url"


def test_a_token_is_required(client: ApiClient) -> None:
    problem(client.get("/v1/webhooks/endpoints"), 401)
    problem(client.post("/v1/webhooks/endpoints", json={"url": URL}), 401)


def test_rotate_returns_a_new_secret_once_with_a_grace_period(
    client: ApiClient, user_a: uuid.UUID, auth: Auth, admin: Admin
) -> None:
    created = add(client, auth(user_a))
    rotated = client.post(
        f"/v1/webhooks/endpoints/{created['id']}/rotate", headers=auth(user_a)
    ).json()
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != created["secret"]
    assert rotated["previous_secret_expires_at"] is not None
    row = admin.execute(
        "select previous_secret, previous_secret_expires_at > now() + interval '23 hours'"
        " from public.webhook_endpoints where id = %s",
        (created["id"],),
    ).fetchone()
    assert row == (created["secret"], True)
    listed = client.get("/v1/webhooks/endpoints", headers=auth(user_a))
    assert rotated["secret"] not in listed.text


def test_enable_a_disabled_endpoint(
    client: ApiClient, user_a: uuid.UUID, auth: Auth, admin: Admin
) -> None:
    created = add(client, auth(user_a))
    admin.execute(
        "update public.webhook_endpoints set enabled = false, disabled_reason = 'HTTP 410',"
        " disabled_at = now(), failed_deliveries_in_row = 5 where id = %s",
        (created["id"],),
    )
    [listed] = client.get("/v1/webhooks/endpoints", headers=auth(user_a)).json()["endpoints"]
    assert listed["enabled"] is False
    assert listed["disabled_reason"] == "HTTP 410"
    assert listed["disabled_at"] is not None
    assert listed["failed_deliveries_in_row"] == 5
    response = client.post(f"/v1/webhooks/endpoints/{created['id']}/enable", headers=auth(user_a))
    assert response.status_code == 200, response.text
    enabled = response.json()
    assert enabled["enabled"] is True
    assert enabled["disabled_reason"] is None
    assert "secret" not in enabled


def test_deliveries_show_status_attempts_and_next_attempt(
    client: ApiClient, user_a: uuid.UUID, auth: Auth, store: Store
) -> None:
    created = add(client, auth(user_a), events=["job.delivered"])
    with store.as_service() as conn:
        Webhooks(store).enqueue(
            conn=conn, user_id=user_a, event_type="job.delivered", payload={"job_id": "j1"}
        )
    response = client.get(
        f"/v1/webhooks/endpoints/{created['id']}/deliveries", headers=auth(user_a)
    )
    assert response.status_code == 200, response.text
    [delivery] = response.json()["deliveries"]
    assert delivery["endpoint_id"] == created["id"]
    assert delivery["event_type"] == "job.delivered"
    assert delivery["status"] == "pending"
    assert delivery["attempts"] == 0
    assert delivery["next_attempt_at"] is not None
    assert delivery["payload"] == {"job_id": "j1"}
    assert "user_id" not in delivery
    bad_limit = client.get(
        f"/v1/webhooks/endpoints/{created['id']}/deliveries?limit=0", headers=auth(user_a)
    )
    assert problem(bad_limit, 422)["field"] == "limit"


def test_another_users_endpoint_is_404_everywhere(
    client: ApiClient, user_a: uuid.UUID, user_b: uuid.UUID, auth: Auth
) -> None:
    created = add(client, auth(user_a))
    base = f"/v1/webhooks/endpoints/{created['id']}"
    assert client.get("/v1/webhooks/endpoints", headers=auth(user_b)).json()["endpoints"] == []
    problem(client.request("DELETE", base, headers=auth(user_b)), 404)
    problem(client.post(f"{base}/rotate", headers=auth(user_b)), 404)
    problem(client.post(f"{base}/enable", headers=auth(user_b)), 404)
    problem(client.get(f"{base}/deliveries", headers=auth(user_b)), 404)
    problem(
        client.request("DELETE", f"/v1/webhooks/endpoints/{uuid.uuid4()}", headers=auth(user_a)),
        404,
    )
    # Still there, with its secret unchanged, for its owner.
    [endpoint] = client.get("/v1/webhooks/endpoints", headers=auth(user_a)).json()["endpoints"]
    assert endpoint["previous_secret_expires_at"] is None


def test_delete_an_endpoint(client: ApiClient, user_a: uuid.UUID, auth: Auth) -> None:
    created = add(client, auth(user_a))
    response = client.request(
        "DELETE", f"/v1/webhooks/endpoints/{created['id']}", headers=auth(user_a)
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"id": created["id"], "deleted": True}
    assert client.get("/v1/webhooks/endpoints", headers=auth(user_a)).json()["endpoints"] == []
    again = client.request(
        "DELETE", f"/v1/webhooks/endpoints/{created['id']}", headers=auth(user_a)
    )
    problem(again, 404)


def test_openapi_tags_webhooks_and_providers(client: ApiClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    assert paths["/v1/webhooks/endpoints"]["post"]["tags"] == ["webhooks"]
    assert paths["/v1/webhooks/endpoints/{endpoint_id}/deliveries"]["get"]["tags"] == ["webhooks"]
    callback = paths["/v1/providers/{name}/callback"]["post"]
    assert callback["tags"] == ["providers"]
    assert "security" not in callback
    assert "secret" in schema["components"]["schemas"]["EndpointCreated"]["properties"]
    assert "secret" not in schema["components"]["schemas"]["EndpointOut"]["properties"]
