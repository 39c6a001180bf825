"""Worker fixtures: the store's per-test database, a funded user, a preview render payload, and
the same over in-memory repositories and blobs."""

from __future__ import annotations

import copy
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pipeline.render import Ports
from pipeline.settings import Settings, StoreSettings
from pipeline.storage import BlobStore, MemoryStore
from pipeline.store import Repositories, Store
from pipeline.store.credits import Credits
from pipeline.store.memory import ManualClock, MemoryRepositories
from pipeline.wiring import PortsFactory, blob_store, estimate
from pipeline.worker import JobContext, LocalExecutor, job_request
from tests.conftest import BASE_BRIEF, PHOTOS
from tests.store.conftest import *  # noqa: F403

Admin = psycopg.Connection[tuple[object, ...]]


@pytest.fixture
def media_root(tmp_path: Path) -> Path:
    return tmp_path / "media"


@pytest.fixture
def payload(media_root: Path, user_a: uuid.UUID) -> dict[str, Any]:
    """A preview job for user_a, its photo uploaded to their folder as the API would have it."""
    uploads = media_root / str(user_a) / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PHOTOS / "coffee.png", uploads / "coffee.png")
    brief = copy.deepcopy(BASE_BRIEF)
    brief["product"]["photos"] = ["uploads/coffee.png"]
    return {"brief": brief, "formats": ["9x16"], "preview": True}


@pytest.fixture
def funded(store: Store, user_a: uuid.UUID) -> uuid.UUID:
    Credits(store).adjust(user_id=user_a, amount=1000, reason="grant", idempotency_key="g1")
    return user_a


@pytest.fixture
def settings(tmp_path: Path, media_root: Path) -> Settings:
    """Offline settings whose media folder is ``media_root``."""
    return Settings(store=StoreSettings(home=tmp_path / "home"), media_root=media_root)


MakeContext = Callable[..., JobContext]


@pytest.fixture
def context(store: Store, settings: Settings) -> MakeContext:
    """A JobContext for a worker named ``worker`` over the test database; ``ports`` are fixed
    Ports, a factory of (request, runtime), or None for the composition root's."""

    def make(
        worker: str = "w1",
        *,
        lease_seconds: int = 60,
        ports: Ports | PortsFactory | None = None,
        settings: Settings = settings,
    ) -> JobContext:
        factory: PortsFactory | None = (
            (lambda request, runtime: ports) if isinstance(ports, Ports) else ports
        )
        return JobContext(
            repos=Repositories.postgres(store), settings=settings, blobs=blob_store(settings),
            worker=worker, lease_seconds=lease_seconds, ports=factory,
        )  # fmt: skip

    return make


def hold_of(payload: dict[str, Any], user: uuid.UUID, settings: Settings) -> int:
    """The credits a job with ``payload`` holds: the one estimate."""
    request = job_request(payload, user_dir=settings.media_root / str(user), settings=settings)
    return estimate(request, settings).credits


@pytest.fixture
def memory_repos() -> MemoryRepositories:
    """In-memory repositories, for the worker's rules without PostgreSQL; their clock moves 1 ms
    per reading, so leases run out only when a test says so."""
    return MemoryRepositories(clock=ManualClock(step=timedelta(milliseconds=1)))


@pytest.fixture
def memory_user(memory_repos: MemoryRepositories) -> uuid.UUID:
    """A user of ``memory_repos``, without credits."""
    return memory_repos.add_user()


@pytest.fixture
def memory_payload(media_root: Path, memory_user: uuid.UUID) -> dict[str, Any]:
    """``payload`` for ``memory_user``: a preview job, its photo in the user's uploads."""
    uploads = media_root / str(memory_user) / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PHOTOS / "coffee.png", uploads / "coffee.png")
    brief = copy.deepcopy(BASE_BRIEF)
    brief["product"]["photos"] = ["uploads/coffee.png"]
    return {"brief": brief, "formats": ["9x16"], "preview": True}


@pytest.fixture
def memory_blobs() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def memory_context(
    memory_repos: MemoryRepositories, settings: Settings, memory_blobs: MemoryStore
) -> MakeContext:
    """``context`` over ``memory_repos``, publishing into ``memory_blobs`` unless given
    ``blobs``."""

    def make(
        worker: str = "w1",
        *,
        lease_seconds: int = 60,
        ports: PortsFactory | None = None,
        blobs: BlobStore | None = None,
    ) -> JobContext:
        return JobContext(
            repos=memory_repos, settings=settings, blobs=blobs or memory_blobs, worker=worker,
            lease_seconds=lease_seconds, ports=ports,
        )  # fmt: skip

    return make


@pytest.fixture
def executors() -> Iterator[list[LocalExecutor]]:
    """Local executors a test starts (append them); stopped after it, 15 s at most each."""
    started: list[LocalExecutor] = []
    yield started
    for executor in started:
        executor.stop(timeout=15)
