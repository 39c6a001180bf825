"""``reelforge db migrate | status | sync-supabase``: apply the migrations, show which are
applied, and regenerate the Supabase CLI's copy of them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from pipeline.cli.common import console, fail, load_settings
from pipeline.errors import ReelforgeError

if TYPE_CHECKING:
    from pipeline.settings import StoreSettings
    from pipeline.store.models import Migration

__all__ = ["migrate_command", "status_command", "sync_supabase_command"]


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
        console.print(f"{target}: up to date", highlight=False, soft_wrap=True)
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


CheckOption = Annotated[
    bool,
    typer.Option("--check", help="Change nothing; exit 1 if supabase/migrations is out of date."),
]


def sync_supabase_command(check: CheckOption = False) -> None:
    """Write supabase/migrations (for supabase db push, db reset, Branching) from sql/migrations."""
    from pipeline.store.supabase_sync import SUPABASE_DIR, sync

    try:
        report = sync(check=check)
    except ReelforgeError as exc:
        raise fail(exc) from exc
    verb = ("would write", "would remove") if check else ("wrote", "removed")
    for name in report.written:
        console.print(f"{verb[0]} supabase/migrations/{name}", highlight=False)
    for name in report.removed:
        console.print(f"{verb[1]} supabase/migrations/{name}", highlight=False)
    if not report.changed:
        console.print(f"{SUPABASE_DIR / 'migrations'}: up to date", highlight=False, soft_wrap=True)
    elif check:
        raise typer.Exit(1)
