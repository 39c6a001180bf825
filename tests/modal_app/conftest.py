"""The store fixtures (embedded PostgreSQL, a migrated clone per test) for the Modal functions,
and the harness's cloud: each function in its own process with only its secrets, sharing the
database and a Supabase-shaped blob store served over HTTP."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from pipeline.settings import ServiceSettings, Settings, StorageSettings
from pipeline.storage import BlobStore, make_store
from pipeline.storage.grant import GRANT_PURPOSE, Grant, sign_grant
from pipeline.wiring import signing_key
from tests.live import free_port, serving
from tests.modal_harness.cloud import Cloud, serving_web
from tests.modal_harness.storage_server import StorageServer
from tests.storage.storage_api import FakeStorageApi
from tests.store.conftest import *  # noqa: F403

SERVICE_KEY = "harness-service-role-key"
JWT_ISSUER = "https://harness.supabase.co/auth/v1"


@dataclass(frozen=True)
class Deployment:
    """The harness's deployment: its cloud, the API's URL, the storage behind it, and what the
    service's secret holds (to mint tokens and grants as the deployment would)."""

    cloud: Cloud
    api_url: str
    storage: FakeStorageApi
    jwt_secret: str
    settings: Settings  # the 'reelforge' secret's settings, as a container holding it reads them
    blobs: BlobStore  # the blob store, as the service sees it

    def grant(self, grant: Grant) -> str:
        return sign_grant(grant, signing_key(self.settings, GRANT_PURPOSE))


@pytest.fixture
def deployment(tmp_path: Path, db_uri: str) -> Iterator[Deployment]:
    server = StorageServer(FakeStorageApi(buckets={"reelforge"}))
    port, jwt_secret, signing = free_port(), secrets.token_urlsafe(48), secrets.token_urlsafe(48)
    api_url = f"http://127.0.0.1:{port}"
    with serving(server) as storage_url:  # type: ignore[arg-type]
        service = {
            "DATABASE_URL": db_uri, "SUPABASE_URL": storage_url,
            "SUPABASE_SERVICE_ROLE_KEY": SERVICE_KEY, "SUPABASE_JWT_SECRET": jwt_secret,
            "SUPABASE_JWT_ISSUER": JWT_ISSUER, "REELFORGE_SIGNING_SECRET": signing,
            "REELFORGE_PUBLIC_URL": api_url,
        }  # fmt: skip
        cloud = Cloud(tmp_path / "cloud", {"reelforge": service, "reelforge-providers": {}})
        settings = Settings(
            media_root=tmp_path / "unused-media",
            service=ServiceSettings(public_url=api_url, signing_secret=signing),
            storage=StorageSettings(supabase_url=storage_url, service_role_key=SERVICE_KEY),
        )  # fmt: skip
        http = httpx.Client(timeout=30)
        blobs = make_store(
            local_root=tmp_path, supabase_url=storage_url, supabase_service_role_key=SERVICE_KEY,
            http_client=http,
        )  # fmt: skip
        try:
            with serving_web(cloud.save(), port):
                yield Deployment(cloud, api_url, server.api, jwt_secret, settings, blobs)
        finally:
            cloud.kill_all()
            http.close()
