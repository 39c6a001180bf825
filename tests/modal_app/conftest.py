"""The store fixtures (embedded PostgreSQL, a migrated clone per test) for the Modal functions,
and the harness's deployment: each function in its own process with only its secrets, sharing
the database and a Supabase-shaped blob store served over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.modal_harness.deployment import JWT_ISSUER, Deployment, deployed
from tests.store.conftest import *  # noqa: F403

__all__ = ["JWT_ISSUER", "Deployment"]


@pytest.fixture
def deployment(tmp_path: Path, db_uri: str) -> Iterator[Deployment]:
    with deployed(tmp_path, db_uri) as running:
        yield running
