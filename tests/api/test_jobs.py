"""Jobs: start one from a project, read it with outputs and cost, list with a cursor, cancel."""

from __future__ import annotations

import copy
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg.types.json import Jsonb

from pipeline.api.models import BRIEF_EXAMPLE
from pipeline.settings import Settings
from pipeline.store import (
    JobState,
    Store,
)
from pipeline.store.credits import Credits
from pipeline.store.jobs import Jobs
from tests.api.conftest import PHOTO, ApiClient, script_options

pytestmark = pytest.mark.integration

Auth = Callable[[uuid.UUID], dict[str, str]]
Admin = psycopg.Connection[tuple[object, ...]]


def make_project(
    admin: Admin, settings: Settings, user_id: uuid.UUID, *, chosen: int | None = 1
) -> uuid.UUID:
    """A scripted project whose photo is in the user's uploads (written directly: no scripting),
    and credits enough to render it."""
    admin.execute(
        "select public.safe_adjust_credits(%s, 100000, 'grant', %s)",
        (user_id, f"test-grant:{user_id}"),
    )
    folder = settings.uploads(user_id)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(PHOTO, folder / "coffee.png")
    brief = copy.deepcopy(BRIEF_EXAMPLE)
    brief["options"] = 2
    row = admin.execute(
        "insert into public.projects (user_id, name, brief, status, chosen_script, script_options)"
        " values (%s, 'Cup', %s, 'scripted', %s, %s) returning id",
        (user_id, Jsonb(brief), chosen, Jsonb(script_options(brief))),
    ).fetchone()
    assert row is not None
    project_id = row[0]
    assert isinstance(project_id, uuid.UUID)
    return project_id


def start(
    client: ApiClient,
    headers: dict[str, str],
    project_id: uuid.UUID,
    body: dict[str, Any] | None = None,
    *,
    key: str | None = None,
) -> Any:
    return client.post(
        f"/v1/projects/{project_id}/jobs",
        json=body if body is not None else {},
        headers=headers | {"Idempotency-Key": key or str(uuid.uuid4())},
    )


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def deliver(store: Store, settings: Settings, job_id: uuid.UUID, user_id: uuid.UUID) -> Path:
    """Runs the job's lifecycle as a worker would: claim, stages, one output, hold and settle."""
    claimed = Jobs(store).claim(worker="w1")
    assert claimed is not None
    assert claimed.id == job_id
    Jobs(store).advance(
        job_id=job_id,
        worker="w1",
        state=JobState.GENERATING,
        checkpoint={"stages": {"script": 0.25, "brief": 0.5}},
        progress=0.4,
    )
    Jobs(store).advance(
        job_id=job_id,
        worker="w1",
        state=JobState.COMPOSING,
        checkpoint={"stages": {"voice": 1.5}},
        progress=0.7,
    )
    key = f"{user_id}/{job_id}/ad_9x16.mp4"  # outputs are recorded by their blob key
    out = settings.media_root / key
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a video")
    with store.as_service() as conn:
        conn.execute(
            "insert into public.renders (user_id, job_id, format, path, width, height,"
            " duration_s, loudness_lufs) values (%s, %s, '9x16', %s, 1080, 1920, 15, -14)",
            (user_id, job_id, key),
        )
    Credits(store).adjust(user_id=user_id, amount=500, reason="purchase", idempotency_key="p")
    hold = Credits(store).hold(
        user_id=user_id, amount=160, job_id=job_id, idempotency_key=f"job:{job_id}"
    )
    Credits(store).settle(hold_id=hold.id, actual=150)
    Jobs(store).complete(job_id=job_id, worker="w1")
    return out


def test_start_a_job_for_a_project(
    client: ApiClient, user_a: uuid.UUID, auth: Auth, admin: Admin, settings: Settings
) -> None:
    project_id = make_project(admin, settings, user_a)
    response = start(client, auth(user_a), project_id, {"formats": ["9x16"], "preview": True})
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["state"] == "queued"
    assert job["project_id"] == str(project_id)
    assert job["outputs"] == []
    assert job["cost"] is None
    row = admin.execute("select payload, dedupe_key from public.jobs").fetchone()
    assert row is not None
    payload: Any = row[0]
    # What the worker parses: names inside the user's media folder, the chosen option.
    assert payload["brief"]["product"]["photos"] == ["uploads/coffee.png"]
    assert payload["formats"] == ["9x16"]
    assert payload["option"] == 1
    assert payload["preview"] is True
    assert str(row[1]).startswith("idem:")

    read = client.get(f"/v1/jobs/{job['id']}", headers=auth(user_a))
    assert read.status_code == 200
    assert read.json()["id"] == job["id"]


def test_start_errors(
    client: ApiClient, user_a: uuid.UUID, auth: Auth, admin: Admin, settings: Settings
) -> None:
    project_id = make_project(admin, settings, user_a)
    assert problem(start(client, auth(user_a), uuid.uuid4()), 404)
    assert problem(start(client, auth(user_a), project_id, {"option": 3}), 422)["field"] == "option"
    assert problem(start(client, auth(user_a), project_id, {"formats": []}), 422)
    assert problem(start(client, auth(user_a), project_id, {"formats": ["9x16", "9x16"]}), 422)
    assert problem(start(client, auth(user_a), project_id, {"colour": 1}), 422)["field"] == "colour"
    (settings.uploads(user_a) / "coffee.png").unlink()
    missing = problem(start(client, auth(user_a), project_id), 422)
    assert missing["field"] == "product.photos[0]"
    assert admin.execute("select count(*) from public.jobs").fetchone() == (0,)


def test_read_a_delivered_job(
    client: ApiClient,
    user_a: uuid.UUID,
    auth: Auth,
    admin: Admin,
    settings: Settings,
    store: Store,
) -> None:
    project_id = make_project(admin, settings, user_a)
    job_id = uuid.UUID(start(client, auth(user_a), project_id).json()["id"])
    out = deliver(store, settings, job_id, user_a)

    job = client.get(f"/v1/jobs/{job_id}", headers=auth(user_a)).json()
    assert job["state"] == "delivered"
    assert job["progress"] == 1
    assert job["attempts"] == 1
    assert job["error"] is None
    assert job["finished_at"] is not None
    assert job["stages"] == {"brief": 0.5, "script": 0.25, "voice": 1.5}
    assert list(job["stages"]) == ["brief", "script", "voice"]
    assert job["cost"] == {"held": 160, "status": "settled", "charged": 150}
    [output] = job["outputs"]
    assert output["format"] == "9x16"
    assert (output["width"], output["height"], output["duration_s"]) == (1080, 1920, 15)
    assert output["url_expires_at"] is not None
    url = urlsplit(output["url"])
    assert url.path == f"/v1/files/{user_a}/{job_id}/ad_9x16.mp4"
    assert "signature=" in url.query

    download = client.get(f"{url.path}?{url.query}")
    assert download.status_code == 200
    assert download.content == out.read_bytes()
    tampered = client.get(f"{url.path}?{url.query.replace('signature=', 'signature=0')}")
    assert problem(tampered, 404)


def test_another_users_job_is_not_found(
    client: ApiClient,
    user_a: uuid.UUID,
    user_b: uuid.UUID,
    auth: Auth,
    admin: Admin,
    settings: Settings,
) -> None:
    project_id = make_project(admin, settings, user_a)
    job_id = start(client, auth(user_a), project_id).json()["id"]
    assert problem(client.get(f"/v1/jobs/{job_id}", headers=auth(user_b)), 404)
    assert problem(client.get(f"/v1/jobs/{uuid.uuid4()}", headers=auth(user_a)), 404)
    assert problem(client.post(f"/v1/jobs/{job_id}/cancel", headers=auth(user_b)), 404)
    assert problem(client.get(f"/v1/jobs/{job_id}/events", headers=auth(user_b)), 404)
    assert problem(start(client, auth(user_b), project_id), 404)
    assert client.get("/v1/jobs", headers=auth(user_b)).json() == {"items": [], "next_cursor": None}
    assert problem(client.get(f"/v1/jobs/{job_id}"), 401)


def test_cancel(
    client: ApiClient, user_a: uuid.UUID, auth: Auth, admin: Admin, settings: Settings
) -> None:
    project_id = make_project(admin, settings, user_a)
    job_id = start(client, auth(user_a), project_id).json()["id"]
    canceled = client.post(f"/v1/jobs/{job_id}/cancel", headers=auth(user_a))
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["state"] == "canceled"
    again = problem(client.post(f"/v1/jobs/{job_id}/cancel", headers=auth(user_a)), 409)
    assert "canceled" in again["detail"]


def test_list_pages_cover_every_job_once_even_with_inserts(
    client: ApiClient, user_a: uuid.UUID, user_b: uuid.UUID, auth: Auth, store: Store
) -> None:
    ids = [Jobs(store).enqueue(user_id=user_a, kind="render").id for _ in range(7)]
    Jobs(store).enqueue(user_id=user_b, kind="render")
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = client.get("/v1/jobs", params=params, headers=auth(user_a))
        assert page.status_code == 200, page.text
        body = page.json()
        seen += [item["id"] for item in body["items"]]
        pages += 1
        if pages == 1:
            # A job created after the first page comes before it: later pages are unaffected.
            Jobs(store).enqueue(user_id=user_a, kind="render")
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == len(set(seen))
    assert seen == [str(i) for i in reversed(ids)]
    bad = problem(client.get("/v1/jobs", params={"cursor": "nope"}, headers=auth(user_a)), 422)
    assert bad["field"] == "cursor"


def test_openapi_documents_the_jobs_routes(client: ApiClient) -> None:
    schema = client.get("/openapi.json").json()
    create = schema["paths"]["/v1/projects/{project_id}/jobs"]["post"]
    assert create["tags"] == ["jobs"]
    assert any(p["name"] == "Idempotency-Key" and p["required"] for p in create["parameters"])
    assert "201" in create["responses"]
    assert "application/problem+json" in create["responses"]["409"]["content"]
    events = schema["paths"]["/v1/jobs/{job_id}/events"]["get"]
    assert "text/event-stream" in events["responses"]["200"]["content"]
    assert "examples" in schema["components"]["schemas"]["JobOut"]


def test_a_job_the_balance_cannot_cover_is_refused_with_402(
    client: ApiClient, user_a: uuid.UUID, auth: Auth, admin: Admin, settings: Settings
) -> None:
    project_id = make_project(admin, settings, user_a)
    admin.execute("select public.safe_adjust_credits(%s, -99990, 'correction', 'drain')", (user_a,))
    response = start(client, auth(user_a), project_id, {}, key="poor-1")
    assert response.status_code == 402, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "holds" in response.json()["detail"]
    assert admin.execute("select count(*) from public.jobs").fetchone() == (0,)


def test_a_voice_over_upload_reaches_the_worker_inside_the_users_folder(
    store: Store, user_a: uuid.UUID, auth: Auth, admin: Admin, settings: Settings,
    upload_photo: Callable[[uuid.UUID], str],
) -> None:  # fmt: skip
    from pipeline.api.app import create_app
    from pipeline.settings import ProviderSettings
    from pipeline.worker import job_request

    # A voice-over needs a transcriber for its captions: the project is refused without one.
    providers = ProviderSettings.from_env({"ELEVENLABS_API_KEY": "xi-key"})
    settings = settings.model_copy(update={"providers": providers})
    client = ApiClient(create_app(settings=settings, store=store))
    admin.execute("select public.safe_adjust_credits(%s, 100000, 'grant', 'g-vo')", (user_a,))
    upload_photo(user_a)
    (settings.uploads(user_a) / "vo.wav").write_bytes(b"RIFF....WAVE")
    brief = copy.deepcopy(BRIEF_EXAMPLE)
    brief["voice"] = {"enabled": True, "file": "vo.wav"}
    created = client.post("/v1/projects", json=brief, headers=auth(user_a))
    assert created.status_code == 201, created.text
    project_id = uuid.UUID(created.json()["id"])
    chose = client.patch(
        f"/v1/projects/{project_id}", json={"chosen_script": 1}, headers=auth(user_a)
    )
    assert chose.status_code == 200, chose.text
    response = start(client, auth(user_a), project_id, {"formats": ["9x16"]})
    assert response.status_code == 201, response.text
    row = admin.execute("select payload from public.jobs").fetchone()
    assert row is not None
    payload: Any = row[0]
    assert payload["brief"]["voice"]["file"] == "uploads/vo.wav"
    request = job_request(payload, user_dir=settings.media_root / str(user_a), settings=settings)
    assert request.brief.voice.file == settings.uploads(user_a).resolve() / "vo.wav"
