"""The store fixtures (embedded PostgreSQL, a migrated clone per test) for the Modal functions."""

from __future__ import annotations

from tests.store.conftest import *  # noqa: F403
