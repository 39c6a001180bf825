"""The migration runner: applies sql/migrations/NNNN_name.sql in order, each in its own transaction."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from pipeline.store.connection import connect_options
from pipeline.store.errors import MigrationError, StoreUnavailable
from pipeline.store.models import Migration
from pipeline.store.queries import query

__all__ = ["SQL_DIR", "MigrationFile", "migrate", "migration_files", "migration_status"]

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
COMPAT = ("0000", "supabase_compat")


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


def _apply(conn: psycopg.Connection[Any], migration: MigrationFile) -> bool:
    """Applies one migration unless present; True if it ran. All or nothing."""
    try:
        with conn.transaction():
            conn.execute(query("migrations/lock"))
            if conn.execute(query("migrations/applied"), {"version": migration.version}).fetchone():
                return False
            # Trusted files from the repository, run as a script (several statements).
            conn.execute(migration.text)
            conn.execute(
                query("migrations/record"),
                {
                    "version": migration.version,
                    "name": migration.name,
                    "checksum": migration.checksum,
                },
            )
    except psycopg.Error as exc:
        detail = (exc.diag.message_primary or str(exc)).strip()
        if exc.diag.context:
            detail += f" ({exc.diag.context.strip().splitlines()[-1]})"
        raise MigrationError(migration.path.name, detail) from exc
    return True


def migrate(
    *,
    conninfo: str,
    migrations_dir: Path | None = None,
    compat_file: Path | None = None,
    connect_timeout: float = 5.0,
) -> list[Migration]:
    """Applies pending migrations (and, off Supabase, the compatibility script first).

    Returns the migrations applied by this call; a second call returns [].
    """
    files = migration_files(migrations_dir)
    applied: list[Migration] = []
    with _connect(conninfo, connect_timeout) as conn:
        try:
            conn.execute(query("migrations/create_table"))
            row = conn.execute(query("migrations/is_supabase")).fetchone()
        except psycopg.Error as exc:
            raise MigrationError("schema_migrations", str(exc)) from exc
        pending = list(files)
        if not (row and row[0]):
            compat = MigrationFile(*COMPAT, compat_file or SQL_DIR / "supabase_compat.sql")
            pending.insert(0, compat)
        for migration in pending:
            if _apply(conn, migration):
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
