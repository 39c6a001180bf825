"""Reuses the store's fixtures (a fresh migrated PostgreSQL database per test) for webhook tests."""

from __future__ import annotations

from tests.store.conftest import (  # noqa: F401
    admin,
    db_uri,
    make_user,
    new_database,
    pg_server,
    store,
    template_db,
    user_a,
    user_b,
)
