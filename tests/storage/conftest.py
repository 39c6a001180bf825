"""Fixtures for the storage tests: stores of every kind and a Supabase client on a mock transport."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from pipeline.storage import LocalFolderStore, MemoryStore
from pipeline.storage.supabase import SupabaseStore, connect_supabase
from tests.storage.storage_api import FakeStorageApi

SUPABASE_URL = "https://abcdefghijklmnop.supabase.co"
SERVICE_KEY = "service-role-key-for-tests"
SECRET = b"0123456789abcdef-test-secret"

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def supabase_store() -> Iterator[Callable[[Handler], SupabaseStore]]:
    """Build a SupabaseStore on bucket "media" whose every request goes to `handler`."""
    clients: list[httpx.Client] = []

    def build(handler: Handler) -> SupabaseStore:
        http = httpx.Client(transport=httpx.MockTransport(handler))
        clients.append(http)
        return SupabaseStore(connect_supabase(SUPABASE_URL, SERVICE_KEY, http_client=http), "media")

    yield build
    for http in clients:
        http.close()


@pytest.fixture
def local_store(tmp_path: Path) -> LocalFolderStore:
    return LocalFolderStore(tmp_path / "blobs", url_secret=SECRET)


@pytest.fixture(params=["local", "memory", "supabase"])
def any_store(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    supabase_store: Callable[[Handler], SupabaseStore],
) -> LocalFolderStore | MemoryStore | SupabaseStore:
    if request.param == "local":
        return LocalFolderStore(tmp_path / "blobs", url_secret=SECRET)
    if request.param == "memory":
        return MemoryStore()
    return supabase_store(FakeStorageApi())
