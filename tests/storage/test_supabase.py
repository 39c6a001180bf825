"""SupabaseStore against Supabase's Storage API shapes: the exact requests supabase-py sends
and how each documented response and error body is read."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from pipeline.errors import BadInput
from pipeline.storage import BlobNotFound, StorageError
from pipeline.storage.supabase import SupabaseStore, connect_supabase
from tests.storage.conftest import SERVICE_KEY, SUPABASE_URL, Handler
from tests.storage.storage_api import NOT_FOUND, FakeStorageApi, parse_multipart, storage_error

KEY = "renders/3f1c0d2e/job-42/9x16.mp4"
Build = Callable[[Handler], SupabaseStore]


class Recorder:
    """Answers every request with one canned response and keeps the requests."""

    def __init__(self, response: httpx.Response | Exception) -> None:
        self.response = response
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if isinstance(self.response, Exception):
            raise self.response
        return self.response

    @property
    def only(self) -> httpx.Request:
        assert len(self.requests) == 1, self.requests
        return self.requests[0]


def _assert_authenticated(request: httpx.Request) -> None:
    assert request.headers["apikey"] == SERVICE_KEY
    assert request.headers["authorization"] == f"Bearer {SERVICE_KEY}"
    assert request.url.host == "abcdefghijklmnop.supabase.co"
    assert request.url.scheme == "https"


@pytest.fixture
def src(tmp_path: Path) -> Path:
    path = tmp_path / "render.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42 fake video bytes")
    return path


# Requests


def test_building_the_client_and_store_makes_no_request(supabase_store: Build) -> None:
    recorder = Recorder(httpx.Response(500))
    supabase_store(recorder)
    assert recorder.requests == []


def test_upload_posts_multipart_to_object_bucket_key_with_upsert(
    supabase_store: Build, src: Path
) -> None:
    recorder = Recorder(httpx.Response(200, json={"Key": f"media/{KEY}", "Id": "b1e2"}))
    blob = supabase_store(recorder).put(KEY, src, content_type="video/mp4")

    request = recorder.only
    _assert_authenticated(request)
    assert request.method == "POST"
    assert request.url.path == f"/storage/v1/object/media/{KEY}"
    assert request.headers["x-upsert"] == "true"
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    parts = parse_multipart(request)
    file_headers, payload = parts["file"]
    assert payload == src.read_bytes()
    assert file_headers["content-type"] == "video/mp4"
    assert 'filename="9x16.mp4"' in file_headers["content-disposition"]
    assert parts["cacheControl"][1] == b"3600"
    assert blob.size == src.stat().st_size


def test_upload_accepts_the_newer_lower_case_id(supabase_store: Build, src: Path) -> None:
    recorder = Recorder(httpx.Response(200, json={"Key": f"media/{KEY}", "id": "b1e2"}))
    assert supabase_store(recorder).put(KEY, src, content_type="video/mp4").key == KEY


def test_upload_answered_with_another_key_is_an_error(supabase_store: Build, src: Path) -> None:
    recorder = Recorder(httpx.Response(200, json={"Key": "media/elsewhere.mp4", "Id": "b1e2"}))
    with pytest.raises(StorageError, match=r"elsewhere\.mp4"):
        supabase_store(recorder).put(KEY, src, content_type="video/mp4")


def test_upload_answered_without_a_key_is_an_error(supabase_store: Build, src: Path) -> None:
    recorder = Recorder(httpx.Response(200, json={"Id": "b1e2"}))
    with pytest.raises(StorageError, match="unexpected response"):
        supabase_store(recorder).put(KEY, src, content_type="video/mp4")


def test_sign_posts_expires_in_and_returns_an_absolute_url(supabase_store: Build) -> None:
    signed = f"/object/sign/media/{KEY}?token=eyJhbGciOiJIUzI1NiJ9.e30.sig"
    recorder = Recorder(httpx.Response(200, json={"signedURL": signed}))
    url = supabase_store(recorder).signed_url(KEY, expires_in=3600)

    request = recorder.only
    _assert_authenticated(request)
    assert request.method == "POST"
    assert request.url.path == f"/storage/v1/object/sign/media/{KEY}"
    # storage3 2.34 sends the lifetime as a string; the server's schema coerces it to an integer.
    assert json.loads(request.content) == {"expiresIn": "3600"}
    assert url == f"{SUPABASE_URL}/storage/v1{signed}"


def test_sign_answered_without_signed_url_is_an_error(supabase_store: Build) -> None:
    recorder = Recorder(httpx.Response(200, json={"error": "nope"}))
    with pytest.raises(StorageError, match="unexpected response"):
        supabase_store(recorder).signed_url(KEY, expires_in=60)


def test_delete_sends_the_key_as_a_prefix_to_the_bucket(supabase_store: Build) -> None:
    recorder = Recorder(httpx.Response(200, json=[]))
    supabase_store(recorder).delete(KEY)

    request = recorder.only
    _assert_authenticated(request)
    assert request.method == "DELETE"
    assert request.url.path == "/storage/v1/object/media"
    assert json.loads(request.content) == {"prefixes": [KEY]}


def test_exists_reads_object_info(supabase_store: Build) -> None:
    recorder = Recorder(httpx.Response(200, json={"id": "b1e2", "name": KEY, "size": 3}))
    assert supabase_store(recorder).exists(KEY)

    request = recorder.only
    _assert_authenticated(request)
    assert request.method == "GET"
    assert request.url.path == f"/storage/v1/object/info/media/{KEY}"


def test_get_downloads_the_object_body_to_dest(supabase_store: Build, tmp_path: Path) -> None:
    recorder = Recorder(httpx.Response(200, content=b"video bytes"))
    out = supabase_store(recorder).get(KEY, tmp_path / "dl" / "9x16.mp4")

    request = recorder.only
    _assert_authenticated(request)
    assert request.method == "GET"
    assert request.url.path == f"/storage/v1/object/media/{KEY}"
    assert out.read_bytes() == b"video bytes"


def test_a_bad_key_is_rejected_before_any_request(supabase_store: Build, src: Path) -> None:
    recorder = Recorder(httpx.Response(200, json={}))
    store = supabase_store(recorder)
    with pytest.raises(BadInput):
        store.put("../x.mp4", src, content_type="video/mp4")
    with pytest.raises(BadInput):
        store.signed_url("a/%2e%2e/x", expires_in=60)
    assert recorder.requests == []


# Errors, in the bodies storage-api sends (HTTP 400 with the real status inside)

TOO_LARGE = {
    "statusCode": "413",
    "code": "EntityTooLarge",
    "error": "Payload too large",
    "message": "The object exceeded the maximum allowed size",
}
RLS_DENIED = {
    "statusCode": "403",
    "code": "AccessDenied",
    "error": "Unauthorized",
    "message": "new row violates row-level security policy",
}
DUPLICATE = {
    "statusCode": "409",
    "code": "KeyAlreadyExists",
    "error": "Duplicate",
    "message": "The resource already exists",
}
BAD_JWT = {
    "statusCode": "400",
    "code": "InvalidJWT",
    "error": "InvalidJWT",
    "message": "jwt malformed",
}
NO_BUCKET = {
    "statusCode": "404",
    "code": "NoSuchBucket",
    "error": "Bucket not found",
    "message": "Bucket not found",
}
LEGACY_NOT_FOUND = {"statusCode": "404", "error": "not_found", "message": "Object not found"}


@pytest.mark.parametrize("body", [NOT_FOUND, LEGACY_NOT_FOUND])
def test_object_not_found_becomes_blob_not_found(
    supabase_store: Build, tmp_path: Path, body: dict[str, str]
) -> None:
    store = supabase_store(Recorder(storage_error(body)))
    with pytest.raises(BlobNotFound, match="Object not found") as caught:
        store.get(KEY, tmp_path / "out.mp4")
    assert caught.value.key == KEY
    assert not (tmp_path / "out.mp4").exists()
    with pytest.raises(BlobNotFound):
        store.signed_url(KEY, expires_in=60)
    assert store.exists(KEY) is False


@pytest.mark.parametrize(
    ("body", "status"),
    [(TOO_LARGE, "413"), (RLS_DENIED, "403"), (DUPLICATE, "409"), (BAD_JWT, "400")],
)
def test_error_bodies_become_storage_errors_with_the_server_message(
    supabase_store: Build, src: Path, body: dict[str, str], status: str
) -> None:
    store = supabase_store(Recorder(storage_error(body)))
    with pytest.raises(StorageError) as caught:
        store.put(KEY, src, content_type="video/mp4")

    error = caught.value
    assert not isinstance(error, BlobNotFound)
    assert error.operation == "put"
    assert error.key == KEY
    assert error.status == status
    assert error.code == body["error"]
    assert body["message"] in str(error)
    assert KEY in str(error)


def test_a_missing_bucket_is_an_error_not_a_missing_object(supabase_store: Build) -> None:
    store = supabase_store(Recorder(storage_error(NO_BUCKET)))
    with pytest.raises(StorageError, match="Bucket not found") as caught:
        store.exists(KEY)
    assert not isinstance(caught.value, BlobNotFound)


def test_a_gateway_413_without_json_is_a_storage_error(supabase_store: Build, src: Path) -> None:
    html = "<html><body><h1>413 Request Entity Too Large</h1></body></html>"
    store = supabase_store(Recorder(httpx.Response(413, text=html)))
    with pytest.raises(StorageError, match="413 Request Entity Too Large") as caught:
        store.put(KEY, src, content_type="video/mp4")
    assert caught.value.status == "413"


def test_a_server_error_is_a_storage_error(supabase_store: Build) -> None:
    body = {
        "statusCode": "500",
        "code": "InternalError",
        "error": "InternalError",
        "message": "Internal server error",
    }
    with pytest.raises(StorageError, match="Internal server error") as caught:
        supabase_store(Recorder(storage_error(body))).delete(KEY)
    assert caught.value.status == "500"


@pytest.mark.parametrize(
    ("failure", "words"),
    [
        (httpx.ReadTimeout("timed out"), "timed out"),
        (httpx.ConnectTimeout("timed out"), "timed out"),
        (httpx.ConnectError("[Errno 111] Connection refused"), "cannot reach"),
        (httpx.RemoteProtocolError("peer closed connection"), "cannot reach"),
    ],
)
def test_network_failures_become_storage_errors(
    supabase_store: Build, src: Path, failure: Exception, words: str
) -> None:
    store = supabase_store(Recorder(failure))
    with pytest.raises(StorageError, match=words) as caught:
        store.put(KEY, src, content_type="video/mp4")
    assert caught.value.key == KEY
    assert isinstance(caught.value.__cause__, httpx.HTTPError)


def test_a_missing_source_is_reported_without_a_request(
    supabase_store: Build, tmp_path: Path
) -> None:
    recorder = Recorder(httpx.Response(200, json={}))
    with pytest.raises(StorageError, match="cannot read source"):
        supabase_store(recorder).put(KEY, tmp_path / "nope.mp4", content_type="video/mp4")
    assert recorder.requests == []


# Against the fake Storage API: upsert semantics end to end


def test_upsert_lets_a_render_be_replaced(supabase_store: Build, tmp_path: Path) -> None:
    api = FakeStorageApi()
    store = supabase_store(api)
    first, second = tmp_path / "a.mp4", tmp_path / "b.mp4"
    first.write_bytes(b"first")
    second.write_bytes(b"second")
    store.put(KEY, first, content_type="video/mp4")
    store.put(KEY, second, content_type="video/mp4")
    assert api.objects[("media", KEY)] == (b"second", "video/mp4")


@pytest.mark.parametrize("bucket", ["", "a/b", "../x", "bad bucket", "x" * 101])
def test_a_bad_bucket_name_is_bad_input(bucket: str) -> None:
    with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(500))) as http:
        client = connect_supabase(SUPABASE_URL, SERVICE_KEY, http_client=http)
        with pytest.raises(BadInput, match="storage bucket"):
            SupabaseStore(client, bucket)


def test_a_malformed_supabase_url_is_bad_input() -> None:
    with pytest.raises(BadInput, match="Supabase settings"):
        connect_supabase("abcdefghijklmnop.supabase.co", SERVICE_KEY)
