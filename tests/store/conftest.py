"""Fixtures on a real embedded PostgreSQL: one server per xdist worker, a migrated template
database, and a fresh clone of it for each test."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from pipeline.store import Repositories, Store, migrate
from pipeline.store.embedded import EmbeddedServer, start_embedded

TEMPLATE = "reelforge_template"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[EmbeddedServer]:
    # Outside pytest's numbered temp folders: another pytest session on the same machine prunes
    # those, and would delete a running server's data under it.
    root = Path(tempfile.mkdtemp(prefix="reelforge-test-pg-"))
    server = start_embedded(root / "pg")
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def template_db(pg_server: EmbeddedServer) -> str:
    migrate(conninfo=pg_server.ensure_database(TEMPLATE))
    return TEMPLATE


@pytest.fixture
def new_database(pg_server: EmbeddedServer) -> Iterator[Callable[[str | None], str]]:
    """Creates databases (cloned from a template, or empty) and drops them after the test."""
    created: list[str] = []

    def create(template: str | None) -> str:
        name = f"t_{uuid.uuid4().hex[:16]}"
        statement = sql.SQL("create database {} template {}").format(
            sql.Identifier(name), sql.Identifier(template or "template0")
        )
        with psycopg.connect(pg_server.admin_uri, autocommit=True) as conn:
            conn.execute(statement)
        created.append(name)
        return pg_server.uri(name)

    yield create
    with psycopg.connect(pg_server.admin_uri, autocommit=True) as conn:
        for name in created:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )


@pytest.fixture
def db_uri(template_db: str, new_database: Callable[[str | None], str]) -> str:
    return new_database(template_db)


@pytest.fixture
def store(db_uri: str) -> Iterator[Store]:
    with Store(db_uri, min_size=2, max_size=16) as opened:
        yield opened


@pytest.fixture
def repos(store: Store) -> Repositories:
    """The PostgreSQL repositories over the test's store."""
    return Repositories.postgres(store)


@pytest.fixture
def admin(db_uri: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A superuser connection to the test database, for setup and inspection."""
    with psycopg.connect(db_uri, autocommit=True) as conn:
        yield conn


@pytest.fixture
def make_user(admin: psycopg.Connection[tuple[object, ...]]) -> Callable[[], uuid.UUID]:
    def make() -> uuid.UUID:
        user_id = uuid.uuid4()
        admin.execute(
            "insert into auth.users (id, email) values (%s, %s)",
            (user_id, f"{user_id.hex[:8]}@example.com"),
        )
        return user_id

    return make


@pytest.fixture
def user_a(make_user: Callable[[], uuid.UUID]) -> uuid.UUID:
    return make_user()


@pytest.fixture
def user_b(make_user: Callable[[], uuid.UUID]) -> uuid.UUID:
    return make_user()


SCHEMA_FILE = Path(__file__).with_name("schema.sql")
