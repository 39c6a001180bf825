"""Worker fixtures: the store's per-test database, a funded user, a preview render payload."""

from __future__ import annotations

import copy
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from pipeline.store import Store, adjust_credits
from tests.conftest import BASE_BRIEF, PHOTOS
from tests.store.conftest import *  # noqa: F403

Admin = psycopg.Connection[tuple[object, ...]]


@pytest.fixture
def media_root(tmp_path: Path) -> Path:
    return tmp_path / "media"


@pytest.fixture
def payload() -> dict[str, Any]:
    brief = copy.deepcopy(BASE_BRIEF)
    brief["product"]["photos"] = [str(PHOTOS / "coffee.png")]
    return {"brief": brief, "formats": ["9x16"], "preview": True}


@pytest.fixture
def funded(store: Store, user_a: uuid.UUID) -> uuid.UUID:
    adjust_credits(store=store, user_id=user_a, amount=1000, reason="grant", idempotency_key="g1")
    return user_a
