"""Projects over their life: listed newest first in cursor pages, and deleted with their jobs'
outputs and unshared uploads, keeping the jobs' money history; CORS for configured origins."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pipeline.api.app import create_app
from pipeline.api.models import BRIEF_EXAMPLE
from pipeline.settings import CorsSettings, Settings
from pipeline.storage import MemoryStore
from pipeline.store import Repositories, Store
from tests.api.conftest import ApiClient
from tests.api.test_uploads import upload
from tests.store.test_repository_contract import _output
from tests.upload_corpus import PHOTO, image_bytes

pytestmark = pytest.mark.integration

Auth = Callable[[uuid.UUID], dict[str, str]]
Admin = psycopg.Connection[tuple[object, ...]]


def _brief(photo: str, name: str = "Cup") -> dict[str, Any]:
    brief = copy.deepcopy(BRIEF_EXAMPLE)
    brief["options"] = 1
    brief["product"]["photos"] = [photo]
    brief["product"]["name"] = name
    return brief


def test_projects_are_listed_newest_first_in_cursor_pages(
    client: ApiClient, user_a: uuid.UUID, user_b: uuid.UUID, auth: Auth
) -> None:
    ref = upload(client, auth(user_a), "photo", "c.png", PHOTO.read_bytes()).json()["ref"]
    ids = [
        client.post("/v1/projects", json=_brief(ref, f"Cup {i}"), headers=auth(user_a)).json()["id"]
        for i in range(3)
    ]

    first = client.get("/v1/projects?limit=2", headers=auth(user_a)).json()
    rest = client.get(
        f"/v1/projects?limit=2&cursor={first['next_cursor']}", headers=auth(user_a)
    ).json()

    assert [p["id"] for p in first["items"] + rest["items"]] == ids[::-1]
    assert first["items"][0]["name"] == "Cup 2" and "brief" not in first["items"][0]
    assert rest["next_cursor"] is None
    assert client.get("/v1/projects", headers=auth(user_b)).json()["items"] == []


def test_deleting_a_project_removes_its_outputs_and_unshared_uploads_and_keeps_money_history(
    store: Store, settings: Settings, admin: Admin, user_a: uuid.UUID, user_b: uuid.UUID,
    auth: Auth, tmp_path: Path,
) -> None:  # fmt: skip
    blobs = MemoryStore()
    client = ApiClient(create_app(settings=settings, store=store, blobs=blobs))
    admin.execute("select public.safe_adjust_credits(%s, 1000, 'grant', 'g')", (user_a,))
    photo = upload(client, auth(user_a), "photo", "c.png", PHOTO.read_bytes()).json()
    shared = upload(client, auth(user_a), "logo", "l.png", image_bytes()).json()
    doomed_brief = _brief(photo["ref"]) | {
        "brand": BRIEF_EXAMPLE["brand"] | {"logo": shared["ref"]}
    }
    doomed = client.post("/v1/projects", json=doomed_brief, headers=auth(user_a)).json()
    kept_brief = _brief(photo["ref"]) | {"brand": BRIEF_EXAMPLE["brand"] | {"logo": shared["ref"]}}
    kept_brief["product"]["photos"] = [
        upload(client, auth(user_a), "photo", "d.png", image_bytes("PNG", (40, 40))).json()["ref"]
    ]
    kept = client.post("/v1/projects", json=kept_brief, headers=auth(user_a)).json()
    job = client.post(
        f"/v1/projects/{doomed['id']}/jobs", json={},
        headers=auth(user_a) | {"Idempotency-Key": str(uuid.uuid4())},
    ).json()  # fmt: skip
    repos = Repositories.postgres(store)
    held = repos.credits.hold(user_id=user_a, amount=5, job_id=uuid.UUID(job["id"]))
    prefix = f"{user_a}/{job['id']}"
    repos.jobs.record_outputs(
        user_id=user_a, job_id=uuid.UUID(job["id"]), project_id=uuid.UUID(doomed["id"]),
        outputs=[_output("9x16", "rf-eeee916")], out_dir=Path(prefix), preview=False,
    )  # fmt: skip
    for name in ("ad_9x16.mp4", "ad_9x16.png", "manifest.json"):
        blobs.put_bytes(f"{prefix}/{name}", b"x", content_type="application/octet-stream")

    running = client.request("DELETE", f"/v1/projects/{doomed['id']}", headers=auth(user_a))
    assert running.status_code == 409, running.text
    client.post(f"/v1/jobs/{job['id']}/cancel", headers=auth(user_a))
    repos.credits.settle(hold_id=held.id, actual=2)
    balance = client.get("/v1/credits", headers=auth(user_a)).json()
    assert (
        client.request("DELETE", f"/v1/projects/{doomed['id']}", headers=auth(user_b)).status_code
        == 404
    )

    deleted = client.request("DELETE", f"/v1/projects/{doomed['id']}", headers=auth(user_a))

    assert deleted.json() == {"id": doomed["id"], "deleted": True}
    assert client.get(f"/v1/projects/{doomed['id']}", headers=auth(user_a)).status_code == 404
    assert not [k for k in list(blobs.keys()) if k.startswith(prefix)]
    remaining = {u["id"] for u in client.get("/v1/uploads", headers=auth(user_a)).json()["items"]}
    assert photo["id"] not in remaining and shared["id"] in remaining  # the logo: still used
    assert not blobs.exists(f"{user_a}/uploads/{photo['sha256']}.png")
    read = client.get(f"/v1/jobs/{job['id']}", headers=auth(user_a)).json()
    assert (read["project_id"], read["outputs"], read["cost"]["charged"]) == (None, [], 2)
    assert client.get("/v1/credits", headers=auth(user_a)).json() == balance
    ledger = client.get("/v1/credits/ledger", headers=auth(user_a)).json()["items"]
    assert [e["reason"] for e in ledger] == ["hold remainder", "hold", "grant"]
    assert client.get(f"/v1/projects/{kept['id']}", headers=auth(user_a)).status_code == 200


def test_cors_preflight_allows_configured_origins_only(
    store: Store, settings: Settings, user_a: uuid.UUID, auth: Auth
) -> None:
    allowed = settings.model_copy(
        update={"cors": CorsSettings(origins=("https://app.example.com",))}
    )
    client = ApiClient(create_app(settings=allowed, store=store))
    ask = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,idempotency-key",
    }

    ok = client.request(
        "OPTIONS", "/v1/projects", headers=ask | {"Origin": "https://app.example.com"}
    )
    other = client.request(
        "OPTIONS", "/v1/projects", headers=ask | {"Origin": "https://evil.example"}
    )
    read = client.get("/v1/uploads", headers=auth(user_a) | {"Origin": "https://app.example.com"})
    refused = client.get("/v1/uploads", headers={"Origin": "https://app.example.com"})

    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "https://app.example.com"
    allowed_headers = ok.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "idempotency-key"} <= set(allowed_headers.split(", "))
    assert "access-control-allow-origin" not in other.headers
    assert read.headers["access-control-allow-origin"] == "https://app.example.com"
    # A refusal is readable by the page too.
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == "https://app.example.com"
    closed = ApiClient(create_app(settings=settings, store=store)).request(
        "OPTIONS", "/v1/projects", headers=ask | {"Origin": "https://app.example.com"}
    )
    assert "access-control-allow-origin" not in closed.headers
