"""Files through the API: signed download links and storage grants for containers without
secrets; links start with the configured public URL, never with the request's Host."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from pipeline.api.app import create_app
from pipeline.settings import ServiceSettings, Settings
from pipeline.storage import BlobNotFound, StorageError
from pipeline.storage.grant import GRANT_PURPOSE, Grant, sign_grant
from pipeline.storage.granted import GRANT_HEADER, GrantedStore
from pipeline.store import Store
from pipeline.wiring import signing_key
from tests.api.conftest import ApiClient
from tests.live import free_port, serving

pytestmark = pytest.mark.integration
Auth = Callable[[uuid.UUID], dict[str, str]]


def _token(settings: Settings, *, write: tuple[str, ...] = ("work/j1/",), ttl: int = 600) -> str:
    grant = Grant(read=("u1/uploads/",), write=write, expires=int(time.time()) + ttl)
    return sign_grant(grant, signing_key(settings, GRANT_PURPOSE))


def test_a_grant_reads_and_writes_only_what_it_covers(
    client: ApiClient, settings: Settings, tmp_path: Path
) -> None:
    token = {GRANT_HEADER: _token(settings)}
    put = client.request("PUT", "/v1/files/work/j1/clip.mp4", content=b"mp4", headers=token | {
        "Content-Type": "video/mp4"})  # fmt: skip
    assert put.status_code == 201, put.text
    assert put.json()["size"] == 3
    assert client.get("/v1/files/work/j1/clip.mp4", headers=token).content == b"mp4"
    assert client.request("HEAD", "/v1/files/work/j1/clip.mp4", headers=token).status_code == 200
    assert client.request("HEAD", "/v1/files/work/j1/none.mp4", headers=token).status_code == 404
    for key in ("work/j2/clip.mp4", "u2/uploads/a.png", "u1/uploads/../../x"):
        refused = client.request("PUT", f"/v1/files/{key}", content=b"x", headers=token)
        assert refused.status_code in (403, 404, 422), key
    assert (
        client.request("PUT", "/v1/files/u1/uploads/a.png", content=b"x", headers=token).status_code
        == 403
    )
    assert not (settings.media_root / "work" / "j2").exists()


@pytest.mark.parametrize("case", ["expired", "forged", "missing"])
def test_a_bad_grant_is_refused(client: ApiClient, settings: Settings, case: str) -> None:
    token = _token(settings, ttl=-1) if case == "expired" else _token(settings)
    if case == "forged":
        body, mac = token.split(".")
        token = f"{body}.{mac[:-2]}AA"
    headers = {} if case == "missing" else {GRANT_HEADER: token}
    put = client.request("PUT", "/v1/files/work/j1/x.mp4", content=b"x", headers=headers)
    assert put.status_code == 403
    assert not (settings.media_root / "work").exists()
    assert client.get("/v1/files/work/j1/x.mp4").status_code == 404  # no link, no grant


def test_a_container_without_secrets_uses_the_blob_store_through_its_grant(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    settings = settings.model_copy(update={"service": ServiceSettings(public_url=public)})
    (settings.media_root / "u1" / "uploads").mkdir(parents=True)
    (settings.media_root / "u1" / "uploads" / "photo.png").write_bytes(b"png")
    with serving(create_app(settings=settings, store=store), port):
        remote = GrantedStore(public, _token(settings))
        source = tmp_path / "out.mp4"
        source.write_bytes(b"video" * 1000)
        stored = remote.put("work/j1/out.mp4", source, content_type="video/mp4")
        assert stored.size == 5000 and remote.exists("work/j1/out.mp4")
        assert remote.get("u1/uploads/photo.png", tmp_path / "p.png").read_bytes() == b"png"
        with pytest.raises(BlobNotFound):
            remote.get("work/j1/missing.mp4", tmp_path / "m")
        with pytest.raises(StorageError, match="403"):
            remote.put("work/other/out.mp4", source, content_type="video/mp4")
        with pytest.raises(StorageError):
            remote.delete("work/j1/out.mp4")
        remote.close()
    assert (settings.media_root / "work" / "j1" / "out.mp4").read_bytes() == b"video" * 1000


def test_links_start_with_the_configured_url_whatever_the_host_header(
    app: FastAPI, settings: Settings
) -> None:
    blobs = app.state.blobs
    (settings.media_root / "u1" / "j1").mkdir(parents=True)
    (settings.media_root / "u1" / "j1" / "9x16.mp4").write_bytes(b"mp4")

    async def forged() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://evil.example") as c:
            return await c.get("/health", headers={"Host": "evil.example"})

    import anyio

    assert anyio.run(forged).status_code == 200
    link = blobs.signed_url("u1/j1/9x16.mp4", expires_in=60)
    assert link.startswith("http://api.test/v1/files/u1/j1/9x16.mp4?")
    assert "evil" not in link
