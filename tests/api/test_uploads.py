"""Uploads over HTTP: a file in, checked as its kind, stored once by its content and recorded;
the bad corpus refused naming the field with nothing stored; listed in pages, deleted; named by
briefs as upload:<id> (or fetched from https URLs), and fetched by the worker from the store."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from pipeline.api.app import create_app
from pipeline.api.models import BRIEF_EXAMPLE
from pipeline.download import DownloadPolicy
from pipeline.settings import Settings, UploadSettings
from pipeline.storage import MemoryStore
from pipeline.store import Store
from pipeline.worker import fetch_uploads, job_request
from tests.api.conftest import ApiClient
from tests.upload_corpus import PHOTO, bad_files, good_files, image_bytes

pytestmark = pytest.mark.integration

Auth = Callable[[uuid.UUID], dict[str, str]]
Admin = psycopg.Connection[tuple[object, ...]]


def upload(
    client: ApiClient, headers: dict[str, str], kind: str, name: str, data: bytes
) -> httpx.Response:
    return client.post(
        "/v1/uploads", data={"kind": kind}, files={"file": (name, data, "application/octet-stream")},
        headers=headers,
    )  # fmt: skip


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _brief(photo: str) -> dict[str, Any]:
    brief = copy.deepcopy(BRIEF_EXAMPLE)
    brief["options"] = 2
    brief["product"]["photos"] = [photo]
    return brief


def test_the_same_photo_uploaded_twice_is_one_upload_stored_by_its_content(
    client: ApiClient, user_a: uuid.UUID, user_b: uuid.UUID, auth: Auth, settings: Settings
) -> None:
    first = upload(client, auth(user_a), "photo", "coffee.png", PHOTO.read_bytes())
    again = upload(client, auth(user_a), "photo", "other-name.png", PHOTO.read_bytes())

    assert first.status_code == 201, first.text
    body = first.json()
    assert again.json()["id"] == body["id"]
    assert (body["kind"], body["size"], body["content_type"], body["name"]) == (
        "photo", PHOTO.stat().st_size, "image/png", "coffee.png",
    )  # fmt: skip
    assert body["ref"] == f"upload:{body['id']}"
    stored = settings.media_root / str(user_a) / "uploads" / f"{body['sha256']}.png"
    assert stored.read_bytes() == PHOTO.read_bytes()  # the local blob store: <user>/uploads/<sha>
    assert client.get("/v1/uploads", headers=auth(user_a)).json()["items"] == [body]
    assert client.get("/v1/uploads", headers=auth(user_b)).json()["items"] == []
    _problem(client.request("DELETE", f"/v1/uploads/{body['id']}", headers=auth(user_b)), 404)


@pytest.mark.parametrize(
    ("kind", "name", "data", "suffix"), good_files(), ids=lambda v: str(v)[:16]
)
def test_every_accepted_format_is_stored_under_its_content_address(
    client: ApiClient, user_a: uuid.UUID, auth: Auth, settings: Settings,
    kind: str, name: str, data: bytes, suffix: str,
) -> None:  # fmt: skip
    made = upload(client, auth(user_a), kind, name, data)

    assert made.status_code == 201, made.text
    sha = made.json()["sha256"]
    assert (settings.uploads(user_a) / f"{sha}{suffix}").read_bytes() == data


@pytest.mark.parametrize(
    ("case", "kind", "name", "data", "field", "words"),
    [
        *bad_files(),
        ("wrong kind", "video", "cup.png", PHOTO.read_bytes(), "kind", "kind"),
        ("over the cap", "logo", "logo.png", image_bytes("BMP", (200, 200)), "file", "larger"),
    ],
    ids=lambda v: str(v)[:24],
)
def test_bad_input_is_a_problem_naming_the_field_and_nothing_is_stored(
    store: Store, settings: Settings, admin: Admin, user_a: uuid.UUID, auth: Auth,
    case: str, kind: str, name: str, data: bytes, field: str, words: str,
) -> None:  # fmt: skip
    small = settings.model_copy(update={"upload_limits": UploadSettings(max_logo_bytes=4096)})
    client = ApiClient(create_app(settings=small, store=store))

    response = upload(client, auth(user_a), kind, name, data)

    assert 400 <= response.status_code < 500
    body = _problem(response, 413 if case == "over the cap" else 422)
    assert body["field"] == field
    assert words in body["detail"], body["detail"]
    assert _files(settings.media_root) == []
    assert admin.execute("select count(*) from public.uploads").fetchone() == (0,)


def test_a_missing_file_names_the_file_field(
    client: ApiClient, user_a: uuid.UUID, auth: Auth
) -> None:
    body = _problem(client.post("/v1/uploads", data={"kind": "photo"}, headers=auth(user_a)), 422)
    assert body["field"] == "file"


def test_uploads_come_in_cursor_pages_newest_first(
    client: ApiClient, user_a: uuid.UUID, auth: Auth
) -> None:
    ids = [
        upload(client, auth(user_a), "logo", f"{i}.png", image_bytes("PNG", (20 + i, 20))).json()[
            "id"
        ]
        for i in range(3)
    ]
    first = client.get("/v1/uploads?limit=2", headers=auth(user_a)).json()
    rest = client.get(f"/v1/uploads?limit=2&cursor={first['next_cursor']}", headers=auth(user_a))

    assert [u["id"] for u in first["items"] + rest.json()["items"]] == ids[::-1]
    assert rest.json()["next_cursor"] is None
    assert (
        _problem(client.get("/v1/uploads?cursor=nope", headers=auth(user_a)), 422)["field"]
        == "cursor"
    )


def test_a_brief_names_an_upload_and_the_worker_fetches_it_from_the_blob_store(
    store: Store, settings: Settings, admin: Admin, user_a: uuid.UUID, user_b: uuid.UUID, auth: Auth
) -> None:
    blobs = MemoryStore()  # not the media folder: the API and the worker must fetch
    client = ApiClient(create_app(settings=settings, store=store, blobs=blobs))
    admin.execute("select public.safe_adjust_credits(%s, 1000, 'grant', 'g')", (user_a,))
    made = upload(client, auth(user_a), "photo", "coffee.png", PHOTO.read_bytes()).json()
    project = client.post("/v1/projects", json=_brief(made["ref"]), headers=auth(user_a))
    assert project.status_code == 201, project.text
    assert project.json()["brief"]["product"]["photos"] == [made["ref"]]
    theirs = _problem(
        client.post("/v1/projects", json=_brief(made["ref"]), headers=auth(user_b)), 422
    )
    assert theirs["field"] == "product.photos[0]"

    job = client.post(
        f"/v1/projects/{project.json()['id']}/jobs", json={"formats": ["9x16"]},
        headers=auth(user_a) | {"Idempotency-Key": str(uuid.uuid4())},
    )  # fmt: skip
    assert job.status_code == 201, job.text
    row = admin.execute(
        "select payload from public.jobs where id = %s", (job.json()["id"],)
    ).fetchone()
    assert row is not None
    payload: dict[str, Any] = row[0]  # type: ignore[assignment]
    name = f"{made['sha256']}.png"
    assert payload["files"] == {f"uploads/{name}": f"{user_a}/uploads/{name}"}
    # A worker on another machine: an empty folder, the same blob store.
    elsewhere = settings.media_root.parent / "worker-media" / str(user_a)
    fetch_uploads(payload, user_dir=elsewhere, user_id=user_a, blobs=blobs)
    worker_settings = settings.model_copy(update={"media_root": elsewhere.parent})
    request = job_request(payload, user_dir=elsewhere, settings=worker_settings)
    assert request.brief.product.photos[0].read_bytes() == PHOTO.read_bytes()


def test_an_upload_a_project_uses_cannot_be_deleted_until_the_project_is(
    client: ApiClient, settings: Settings, user_a: uuid.UUID, auth: Auth
) -> None:
    made = upload(client, auth(user_a), "photo", "coffee.png", PHOTO.read_bytes()).json()
    spare = upload(client, auth(user_a), "logo", "l.png", image_bytes()).json()
    project = client.post("/v1/projects", json=_brief(made["ref"]), headers=auth(user_a)).json()

    refused = client.request("DELETE", f"/v1/uploads/{made['id']}", headers=auth(user_a))
    removed = client.request("DELETE", f"/v1/uploads/{spare['id']}", headers=auth(user_a))

    assert project["id"] in _problem(refused, 409)["detail"]
    assert removed.json() == {"id": spare["id"], "deleted": True}
    assert not (settings.uploads(user_a) / f"{spare['sha256']}.png").exists()
    assert [u["id"] for u in client.get("/v1/uploads", headers=auth(user_a)).json()["items"]] == [
        made["id"]
    ]


def test_https_photos_in_a_brief_are_fetched_through_the_ssrf_safe_downloader(
    store: Store, settings: Settings, user_a: uuid.UUID, auth: Auth
) -> None:
    served: list[str] = []

    def cdn(request: httpx.Request) -> httpx.Response:
        served.append(str(request.url))
        return httpx.Response(
            200, content=PHOTO.read_bytes(), headers={"content-type": "image/png"}
        )

    public = DownloadPolicy(
        resolve=lambda host: ["93.184.216.34"], transport=httpx.MockTransport(cdn)
    )
    client = ApiClient(create_app(settings=settings, store=store, downloads=public))

    made = client.post("/v1/projects", json=_brief("https://cdn.example.com/cup.png?v=2"),
                       headers=auth(user_a))  # fmt: skip

    assert made.status_code == 201, made.text
    [photo] = made.json()["brief"]["product"]["photos"]
    [recorded] = client.get("/v1/uploads", headers=auth(user_a)).json()["items"]
    assert photo == recorded["ref"] and recorded["name"] == "cup.png"
    # Connected to the address that was checked (pinned), asking for the same path.
    assert served == ["https://93.184.216.34/cup.png?v=2"]

    internal = DownloadPolicy(
        resolve=lambda host: ["127.0.0.1"], transport=httpx.MockTransport(cdn)
    )
    refused = ApiClient(create_app(settings=settings, store=store, downloads=internal)).post(
        "/v1/projects", json=_brief("https://metadata.example/latest"), headers=auth(user_a)
    )
    body = _problem(refused, 422)
    assert body["field"] == "product.photos[0]" and "cannot download" in body["detail"]
    assert len(served) == 1  # the internal address: no request
    plain = client.post(
        "/v1/projects", json=_brief("http://cdn.example.com/cup.png"), headers=auth(user_a)
    )
    assert "only https" in _problem(plain, 422)["detail"]
