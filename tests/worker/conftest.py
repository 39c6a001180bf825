"""Worker fixtures: the store's per-test database, a funded user, a preview render payload."""

from __future__ import annotations

import copy
import shutil
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pipeline.store import Store
from pipeline.store.credits import Credits
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
