"""A whole deployment on the harness: a Supabase-shaped Storage served over HTTP, the two
Modal secrets, and the ``web`` function serving the API in its own process, over one database."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from pipeline.settings import ServiceSettings, Settings, StorageSettings
from pipeline.storage import BlobStore, make_store
from pipeline.storage.grant import GRANT_PURPOSE, Grant, sign_grant
from pipeline.wiring import signing_key
from tests.live import free_port, serving
from tests.modal_harness.cloud import Cloud, serving_web
from tests.modal_harness.storage_server import StorageServer
from tests.storage.storage_api import FakeStorageApi

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
    admin_token: str
    settings: Settings  # the 'reelforge' secret's settings, as a container holding it reads them
    blobs: BlobStore  # the blob store, as the service sees it

    def grant(self, grant: Grant) -> str:
        return sign_grant(grant, signing_key(self.settings, GRANT_PURPOSE))


def _service_secret(db_uri: str, storage_url: str, api_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": db_uri, "SUPABASE_URL": storage_url,
        "SUPABASE_SERVICE_ROLE_KEY": SERVICE_KEY, "SUPABASE_JWT_SECRET": secrets.token_urlsafe(48),
        "SUPABASE_JWT_ISSUER": JWT_ISSUER, "REELFORGE_SIGNING_SECRET": secrets.token_urlsafe(48),
        "REELFORGE_PUBLIC_URL": api_url, "REELFORGE_ADMIN_TOKEN": secrets.token_urlsafe(32),
        # a development deployment: webhook receivers on this machine are the test's
        "REELFORGE_WEBHOOKS_ALLOW_HTTP_LOCALHOST": "1",
    }  # fmt: skip


@contextmanager
def deployed(
    root: Path,
    db_uri: str,
    *,
    max_containers: int = 4,
    providers: dict[str, str] | None = None,
    routes: dict[str, str] | None = None,
) -> Iterator[Deployment]:
    """The deployment over ``db_uri`` (migrated), its files under ``root``, until the block
    ends; every process it started is killed then. ``providers``: the 'reelforge-providers'
    secret (no provider keys by default); ``routes``: provider hosts the test serves itself
    (``Cloud.routes``)."""
    server = StorageServer(FakeStorageApi(buckets={"reelforge"}))
    port = free_port()
    api_url = f"http://127.0.0.1:{port}"
    with serving(server) as storage_url:  # type: ignore[arg-type]
        service = _service_secret(db_uri, storage_url, api_url)
        cloud = Cloud(
            root / "cloud", {"reelforge": service, "reelforge-providers": providers or {}},
            max_containers=max_containers, routes=routes or {},
        )  # fmt: skip
        settings = Settings(
            media_root=root / "unused-media",
            service=ServiceSettings(public_url=api_url, signing_secret=service["REELFORGE_SIGNING_SECRET"]),
            storage=StorageSettings(supabase_url=storage_url, service_role_key=SERVICE_KEY),
        )  # fmt: skip
        http = httpx.Client(timeout=30)
        blobs = make_store(
            local_root=root, supabase_url=storage_url, supabase_service_role_key=SERVICE_KEY,
            http_client=http,
        )  # fmt: skip
        try:
            with serving_web(cloud.save(), port):
                yield Deployment(
                    cloud, api_url, server.api, service["SUPABASE_JWT_SECRET"],
                    service["REELFORGE_ADMIN_TOKEN"], settings, blobs,
                )  # fmt: skip
        finally:
            cloud.kill_all()
            http.close()
