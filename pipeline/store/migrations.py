"""The migration runner: applies sql/migrations/NNNN_name.sql in order, each in its own transaction,
and keeps the Supabase CLI's history of the same migrations in step with its own."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from pipeline.store.connection import connect_options
from pipeline.store.errors import MigrationError, StoreUnavailable
from pipeline.store.models import Migration
from pipeline.store.queries import query
from pipeline.store.sqlsplit import split_statements

__all__ = [
    "SQL_DIR",
    "SUPABASE_EPOCH",
    "MigrationFile",
    "migrate",
    "migration_files",
    "migration_status",
]

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
COMPAT = ("0000", "supabase_compat")
# Migration NNNN is the Supabase CLI's version EPOCH + NNNN seconds (0001: 20250101000001):
# a timestamp, as the CLI expects, that never changes and keeps the files' order.
SUPABASE_EPOCH = datetime(2025, 1, 1)


@dataclass(frozen=True)
class MigrationFile:
    """One migration file: version, name, text and checksum."""

    version: str
    name: str
    path: Path

    @property
    def text(self) -> str:
        return self.path.read_text("utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()

    @property
    def supabase_version(self) -> str:
        """Its version in ``supabase/migrations`` and ``supabase_migrations.schema_migrations``."""
        moment = SUPABASE_EPOCH + timedelta(seconds=int(self.version))
        return moment.strftime("%Y%m%d%H%M%S")

    @property
    def supabase_name(self) -> str:
        """Its file name in ``supabase/migrations``."""
        return f"{self.supabase_version}_{self.name}.sql"


def migration_files(migrations_dir: Path | None = None) -> list[MigrationFile]:
    """The migration files in version order; a misnamed or duplicate file is an error."""
    folder = migrations_dir or SQL_DIR / "migrations"
    if not folder.is_dir():
        raise MigrationError(str(folder), "the migrations folder does not exist")
    files: dict[str, MigrationFile] = {}
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            raise MigrationError(path.name, "name must look like 0001_lower_snake_name.sql")
        version, name = match.groups()
        if version in files or version == COMPAT[0]:
            raise MigrationError(path.name, f"version {version} is used twice or reserved")
        files[version] = MigrationFile(version=version, name=name, path=path)
    return [files[v] for v in sorted(files)]


def _connect(conninfo: str, connect_timeout: float) -> psycopg.Connection[Any]:
    # The runner repeats its own queries once per migration: without the connection options'
    # prepare_threshold=None, psycopg would prepare them by name from the sixth file on.
    try:
        return psycopg.connect(conninfo, **connect_options(connect_timeout))
    except psycopg.Error as exc:
        raise StoreUnavailable(f"cannot connect to the database to migrate: {exc}") from exc


@dataclass(frozen=True)
class _Target:
    """What the database is: a Supabase project (compat never runs there), and whether the
    Supabase CLI's history table is kept in step (on Supabase, or wherever the CLI made it)."""

    supabase: bool
    history: bool


def _prepare(conn: psycopg.Connection[Any]) -> _Target:
    """Creates reelforge's migrations table, and the CLI's on a Supabase project."""
    try:
        conn.execute(query("migrations/create_table"))
        row = conn.execute(query("migrations/is_supabase")).fetchone()
        supabase = bool(row and row[0])
        if supabase:
            # The CLI's own DDL, so that `supabase db push` finds what reelforge applied.
            conn.execute(query("migrations/supabase_history_create"))
        found = conn.execute(query("migrations/supabase_history_exists")).fetchone()
    except psycopg.Error as exc:
        raise MigrationError("schema_migrations", str(exc)) from exc
    return _Target(supabase=supabase, history=bool(found and found[0]))


def _record_supabase(conn: psycopg.Connection[Any], migration: MigrationFile) -> None:
    params = {
        "version": migration.supabase_version,
        "name": migration.name,
        "statements": split_statements(migration.text),
    }
    conn.execute(query("migrations/supabase_history_record"), params)


def _record(conn: psycopg.Connection[Any], migration: MigrationFile) -> None:
    params = {"version": migration.version, "name": migration.name, "checksum": migration.checksum}
    conn.execute(query("migrations/record"), params)


def _step(conn: psycopg.Connection[Any], migration: MigrationFile, history: bool) -> bool:
    """Inside the locked transaction: runs the migration unless either history has it."""
    if conn.execute(query("migrations/applied"), {"version": migration.version}).fetchone():
        if history:  # applied by reelforge, maybe before the CLI's table existed
            _record_supabase(conn, migration)
        return False
    if history:
        params = {"version": migration.supabase_version}
        if conn.execute(query("migrations/supabase_history_applied"), params).fetchone():
            _record(conn, migration)  # pushed by the Supabase CLI: adopted, not run again
            return False
    # Trusted files from the repository, run as a script (several statements).
    conn.execute(migration.text)
    _record(conn, migration)
    if history:
        _record_supabase(conn, migration)
    return True


def _failure(migration: MigrationFile, exc: psycopg.Error) -> MigrationError:
    detail = (exc.diag.message_primary or str(exc)).strip()
    if exc.diag.context:
        detail += f" ({exc.diag.context.strip().splitlines()[-1]})"
    return MigrationError(migration.path.name, detail)


def _apply(conn: psycopg.Connection[Any], migration: MigrationFile, history: bool) -> bool:
    """Applies one migration unless present; True if it ran. All or nothing."""
    try:
        with conn.transaction():
            conn.execute(query("migrations/lock"))
            return _step(conn, migration, history)
    except psycopg.Error as exc:
        raise _failure(migration, exc) from exc


def _apply_compat(conn: psycopg.Connection[Any], compat: MigrationFile) -> bool:
    """Applies the compatibility script when it is new or changed since it last ran: it
    mirrors what Supabase provides (roles, ``auth``), which grows, and it is idempotent."""
    try:
        with conn.transaction():
            conn.execute(query("migrations/lock"))
            row = conn.execute(query("migrations/checksum"), {"version": compat.version}).fetchone()
            if row is not None and row[0] == compat.checksum:
                return False
            conn.execute(compat.text)
            params = {"version": compat.version, "name": compat.name, "checksum": compat.checksum}
            conn.execute(query("migrations/record_again"), params)
    except psycopg.Error as exc:
        raise _failure(compat, exc) from exc
    return True


def migrate(
    *,
    conninfo: str,
    migrations_dir: Path | None = None,
    compat_file: Path | None = None,
    connect_timeout: float = 5.0,
) -> list[Migration]:
    """Applies pending migrations (and, off Supabase, the compatibility script first).

    Where the Supabase CLI's history exists (always on a Supabase project), a migration it
    already pushed is recorded as applied without running again, and every migration reelforge
    has applied is recorded there too, so either tool can follow the other.
    Returns the migrations applied by this call; a second call returns [].
    """
    files = migration_files(migrations_dir)
    applied: list[Migration] = []
    with _connect(conninfo, connect_timeout) as conn:
        target = _prepare(conn)
        if not target.supabase:
            compat = MigrationFile(*COMPAT, compat_file or SQL_DIR / "supabase_compat.sql")
            if _apply_compat(conn, compat):
                applied.append(Migration(version=compat.version, name=compat.name))
        for migration in files:
            if _apply(conn, migration, target.history):
                applied.append(Migration(version=migration.version, name=migration.name))
    return applied


def migration_status(
    *, conninfo: str, migrations_dir: Path | None = None, connect_timeout: float = 5.0
) -> list[Migration]:
    """Every migration file, with when it was applied (None if pending) and whether it changed since."""
    files = migration_files(migrations_dir)
    with _connect(conninfo, connect_timeout) as conn, conn.cursor(row_factory=dict_row) as cur:
        try:
            cur.execute(query("migrations/table_exists"))
            present = cur.fetchone()
            rows = []
            if present and present["present"]:
                cur.execute(query("migrations/list"))
                rows = cur.fetchall()
        except psycopg.Error as exc:
            raise MigrationError("schema_migrations", str(exc)) from exc
    done = {row["version"]: row for row in rows}
    status = [
        Migration(
            version=row["version"],
            name=row["name"],
            applied_at=row["applied_at"],
        )
        for row in rows
        if row["version"] == COMPAT[0]
    ]
    for file in files:
        row = done.get(file.version)
        status.append(
            Migration(
                version=file.version,
                name=file.name,
                applied_at=row["applied_at"] if row else None,
                modified=bool(row and row["checksum"] != file.checksum),
            )
        )
    return status
