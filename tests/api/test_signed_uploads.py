"""Browser uploads straight to Supabase Storage: a signed URL for a staging object in the user's
folder, then completion checks the object exactly as a direct upload and records it; a refused
file leaves nothing behind. Storage is the fake Storage API in its documented shapes."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import httpx
import psycopg
import pytest

from pipeline.api.app import create_app
from pipeline.settings import Settings
from pipeline.storage.supabase import SupabaseStore, connect_supabase
from pipeline.store import Store
from tests.api.conftest import ApiClient
from tests.storage.conftest import SERVICE_KEY, SUPABASE_URL
from tests.storage.storage_api import FakeStorageApi
from tests.upload_corpus import HLS, PHOTO

pytestmark = pytest.mark.integration

Auth = Callable[[uuid.UUID], dict[str, str]]
Admin = psycopg.Connection[tuple[object, ...]]


@pytest.fixture
def storage_api() -> FakeStorageApi:
    return FakeStorageApi()


@pytest.fixture
def browser(storage_api: FakeStorageApi) -> Iterator[httpx.Client]:
    """The browser's own connection to Storage: no service key, only the signed URL."""
    with httpx.Client(transport=httpx.MockTransport(storage_api)) as http:
        yield http


@pytest.fixture
def supabase_client(
    store: Store, settings: Settings, storage_api: FakeStorageApi
) -> Iterator[ApiClient]:
    with httpx.Client(transport=httpx.MockTransport(storage_api)) as http:
        blobs = SupabaseStore(
            connect_supabase(SUPABASE_URL, SERVICE_KEY, http_client=http), "media"
        )
        yield ApiClient(create_app(settings=settings, store=store, blobs=blobs))


def _begin(client: ApiClient, headers: dict[str, str], kind: str, name: str) -> dict[str, object]:
    begun = client.post("/v1/uploads/signed", json={"kind": kind, "name": name}, headers=headers)
    assert begun.status_code == 201, begun.text
    body: dict[str, object] = begun.json()
    return body


def test_a_browser_upload_is_checked_and_recorded_at_its_content_address(
    supabase_client: ApiClient, browser: httpx.Client, storage_api: FakeStorageApi,
    user_a: uuid.UUID, user_b: uuid.UUID, auth: Auth,
) -> None:  # fmt: skip
    begun = _begin(supabase_client, auth(user_a), "photo", "coffee.png")
    assert str(begun["url"]).startswith(
        f"{SUPABASE_URL}/storage/v1/object/upload/sign/media/{user_a}/staging/"
    )
    assert f"token={begun['token']}" in str(begun["url"])
    early = supabase_client.post(str(begun["complete_url"]), headers=auth(user_a))
    assert early.status_code == 422 and early.json()["field"] == "file"  # nothing PUT yet

    put = browser.put(
        str(begun["url"]), content=PHOTO.read_bytes(), headers={"content-type": "image/png"}
    )
    assert put.status_code == 200, put.text
    assert supabase_client.post(str(begun["complete_url"]), headers=auth(user_b)).status_code == 404
    done = supabase_client.post(str(begun["complete_url"]), headers=auth(user_a))
    again = supabase_client.post(str(begun["complete_url"]), headers=auth(user_a))

    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["id"], body["kind"], body["name"]) == (begun["id"], "photo", "coffee.png")
    assert again.json() == body
    names = {name for _, name in storage_api.objects}
    assert names == {f"{user_a}/uploads/{body['sha256']}.png"}  # the staging object is gone
    direct = supabase_client.post(
        "/v1/uploads", data={"kind": "photo"}, files={"file": ("c.png", PHOTO.read_bytes())},
        headers=auth(user_a),
    )  # fmt: skip
    assert direct.json()["id"] == body["id"]  # the same bytes: the same upload


@pytest.mark.parametrize(
    ("kind", "name", "data", "words"),
    [("music", "song.wav", HLS, "HLS playlist"), ("photo", "cup.png", b"", "nothing")],
)
def test_a_refused_browser_upload_leaves_nothing_behind(
    supabase_client: ApiClient, browser: httpx.Client, storage_api: FakeStorageApi, admin: Admin,
    user_a: uuid.UUID, auth: Auth, kind: str, name: str, data: bytes, words: str,
) -> None:  # fmt: skip
    begun = _begin(supabase_client, auth(user_a), kind, name)
    if data:
        browser.put(str(begun["url"]), content=data)

    refused = supabase_client.post(str(begun["complete_url"]), headers=auth(user_a))

    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["field"] == "file" and words in refused.json()["detail"]
    if data:
        assert storage_api.objects == {}
        assert admin.execute("select count(*) from public.uploads").fetchone() == (0,)


def test_an_oversized_browser_upload_is_413_and_removed(
    store: Store, settings: Settings, storage_api: FakeStorageApi, browser: httpx.Client,
    admin: Admin, user_a: uuid.UUID, auth: Auth,
) -> None:  # fmt: skip
    from pipeline.settings import UploadSettings

    small = settings.model_copy(update={"upload_limits": UploadSettings(max_photo_bytes=2048)})
    with httpx.Client(transport=httpx.MockTransport(storage_api)) as http:
        blobs = SupabaseStore(
            connect_supabase(SUPABASE_URL, SERVICE_KEY, http_client=http), "media"
        )
        client = ApiClient(create_app(settings=small, store=store, blobs=blobs))
        begun = _begin(client, auth(user_a), "photo", "cup.png")
        assert begun["max_bytes"] == 2048
        browser.put(str(begun["url"]), content=PHOTO.read_bytes())
        refused = client.post(str(begun["complete_url"]), headers=auth(user_a))

    assert refused.status_code == 413 and refused.json()["field"] == "file"
    assert storage_api.objects == {}
    assert admin.execute("select count(*) from public.uploads").fetchone() == (0,)


def test_signed_uploads_need_supabase_storage(
    client: ApiClient, user_a: uuid.UUID, auth: Auth
) -> None:
    refused = client.post("/v1/uploads/signed", json={"kind": "photo"}, headers=auth(user_a))

    assert refused.status_code == 501
    assert "POST /v1/uploads" in refused.json()["detail"]
