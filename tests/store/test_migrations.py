"""Migrations: idempotent, all-or-nothing per file, and the schema matches the checked-in dump."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from pipeline.store import MigrationError, migrate, migration_status
from pipeline.store.embedded import EmbeddedServer

from .conftest import SCHEMA_FILE

pytestmark = pytest.mark.integration

MIGRATIONS = sorted(
    (Path(__file__).resolve().parents[2] / "sql" / "migrations").glob("[0-9][0-9][0-9][0-9]_*.sql")
)
VERSIONS = ["0000", *(p.name[:4] for p in MIGRATIONS)]
NAMES = ["supabase_compat", *(p.stem[5:] for p in MIGRATIONS)]


def test_migrating_a_migrated_database_is_a_no_op(db_uri: str) -> None:
    before = migration_status(conninfo=db_uri)

    assert migrate(conninfo=db_uri) == []
    assert migration_status(conninfo=db_uri) == before
    assert [m.version for m in before] == VERSIONS
    assert all(m.applied_at is not None and not m.modified for m in before)


def test_a_fresh_database_gets_every_migration_then_none(
    new_database: Callable[[str | None], str],
) -> None:
    uri = new_database(None)

    first = migrate(conninfo=uri)
    second = migrate(conninfo=uri)

    assert [m.name for m in first] == NAMES
    assert NAMES[1:4] == ["tables", "credits", "job_queue"]
    assert second == []


def test_a_migration_failing_halfway_leaves_nothing_and_names_its_file(
    new_database: Callable[[str | None], str], tmp_path: Path
) -> None:
    uri = new_database(None)
    (tmp_path / "0001_good.sql").write_text("create table public.good (id int);\n")
    bad = tmp_path / "0002_half.sql"
    bad.write_text("create table public.half (id int);\ninsert into public.half values (1 / 0);\n")

    with pytest.raises(MigrationError, match=r"0002_half\.sql.*division by zero") as failure:
        migrate(conninfo=uri, migrations_dir=tmp_path)

    assert failure.value.file == "0002_half.sql"
    with psycopg.connect(uri) as conn:
        tables = {
            row[0]
            for row in conn.execute(
                "select relname from pg_class where relname in ('good', 'half')"
            )
        }
        versions = [
            row[0] for row in conn.execute("select version from reelforge.schema_migrations")
        ]
    assert tables == {"good"}
    assert sorted(versions) == ["0000", "0001"]

    bad.write_text("create table public.half (id int);\n")
    assert [m.name for m in migrate(conninfo=uri, migrations_dir=tmp_path)] == ["half"]


def test_a_misnamed_migration_file_is_refused(
    new_database: Callable[[str | None], str], tmp_path: Path
) -> None:
    (tmp_path / "1_bad name.sql").write_text("select 1;\n")

    with pytest.raises(MigrationError, match=r"1_bad name\.sql"):
        migrate(conninfo=new_database(None), migrations_dir=tmp_path)


def normalized_dump(server: EmbeddedServer, uri: str) -> str:
    output = subprocess.run(
        [
            str(server.bin_dir / "pg_dump"),
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            "--schema=public",
            "--schema=auth",
            "--schema=reelforge",
            "--dbname",
            uri,
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    lines = [
        line
        for line in output.splitlines()
        # Comments, session settings and pg_dump 18's random \restrict keys vary per run.
        if not re.match(r"^(--|SET |SELECT pg_catalog\.set_config|\\restrict|\\unrestrict)", line)
    ]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def test_schema_after_migrations_matches_the_checked_in_dump(
    pg_server: EmbeddedServer, db_uri: str
) -> None:
    dump = normalized_dump(pg_server, db_uri)
    if os.environ.get("REELFORGE_REGENERATE") == "1":
        SCHEMA_FILE.write_text(dump, encoding="utf-8")

    assert dump == SCHEMA_FILE.read_text(encoding="utf-8"), (
        "schema changed: review it and regenerate with REELFORGE_REGENERATE=1"
    )


def test_a_changed_compatibility_script_runs_again_once(
    new_database: Callable[[str | None], str],
) -> None:
    uri = new_database(None)
    migrate(conninfo=uri)
    with psycopg.connect(uri, autocommit=True) as conn:
        # As a database migrated before the script last changed records it.
        conn.execute(
            "update reelforge.schema_migrations set checksum = 'older' where version = '0000'"
        )

    again = migrate(conninfo=uri)
    then = migrate(conninfo=uri)

    assert [m.name for m in again] == ["supabase_compat"]
    assert then == []
    with psycopg.connect(uri) as conn:
        role = conn.execute(
            "select pg_get_userbyid(relowner) from pg_class where oid = 'auth.users'::regclass"
        ).fetchone()
    assert role == ("supabase_auth_admin",)
