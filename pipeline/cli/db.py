"""``reelforge db migrate | status``: apply the migrations and show which are applied."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from pipeline.cli.common import console, fail, load_settings
from pipeline.errors import ReelforgeError

if TYPE_CHECKING:
    from pipeline.settings import StoreSettings
    from pipeline.store.models import Migration

__all__ = ["migrate_command", "status_command"]


def _conninfo(settings: StoreSettings) -> tuple[str, str]:
    """The connection string and a credential-free description of it."""
    from pipeline.store.database import EMBEDDED_DATABASE, describe_target
    from pipeline.store.embedded import start_embedded

    if settings.embedded:
        server = start_embedded(settings.pgdata)
        conninfo = server.ensure_database(EMBEDDED_DATABASE)
        return conninfo, f"embedded PostgreSQL in {settings.pgdata}"
    assert settings.database_url is not None
    conninfo = settings.database_url.get_secret_value().strip()
    return conninfo, describe_target(conninfo)


def migrate_command() -> None:
    """Apply pending migrations (the Supabase compatibility script first, off Supabase)."""
    from pipeline.store.migrations import migrate

    settings = load_settings().store
    try:
        conninfo, target = _conninfo(settings)
        applied = migrate(conninfo=conninfo, connect_timeout=settings.connect_timeout)
    except ReelforgeError as exc:
        raise fail(exc) from exc
    if not applied:
        console.print(f"{target}: up to date", highlight=False)
    for migration in applied:
        console.print(f"applied {migration.version}_{migration.name}", highlight=False)


def _applied(migration: Migration) -> str:
    applied = (
        migration.applied_at.isoformat(timespec="seconds") if migration.applied_at else "pending"
    )
    return applied + (" (file changed since)" if migration.modified else "")


def status_command() -> None:
    """Show each migration and whether it is applied; exit 3 when some are pending."""
    from pipeline.store.migrations import migration_status

    settings = load_settings().store
    try:
        conninfo, target = _conninfo(settings)
        status = migration_status(conninfo=conninfo, connect_timeout=settings.connect_timeout)
    except ReelforgeError as exc:
        raise fail(exc) from exc
    table = Table(title=target)
    for column in ("version", "name", "applied"):
        table.add_column(column)
    for migration in status:
        table.add_row(migration.version, migration.name, _applied(migration))
    Console().print(table)
    if any(m.applied_at is None for m in status):
        raise typer.Exit(3)
