"""The ``db`` command group: apply migrations and show their status."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from pipeline.errors import BadInput, ReelforgeError
from pipeline.store.database import EMBEDDED_DATABASE, describe_target
from pipeline.store.embedded import start_embedded
from pipeline.store.migrations import migrate, migration_status
from pipeline.store.settings import StoreSettings

__all__ = ["db_app"]

db_app = typer.Typer(
    name="db",
    help="The database: embedded by default, DATABASE_URL in production.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)


def _conninfo(settings: StoreSettings) -> tuple[str, str]:
    """The connection string and a credential-free description of it."""
    if settings.embedded:
        server = start_embedded(settings.pgdata)
        return server.ensure_database(
            EMBEDDED_DATABASE
        ), f"embedded PostgreSQL in {settings.pgdata}"
    assert settings.database_url is not None
    conninfo = settings.database_url.get_secret_value().strip()
    return conninfo, describe_target(conninfo)


def _fail(exc: ReelforgeError) -> typer.Exit:
    console.print(f"[bold red]error[/]: {exc.message}", highlight=False, soft_wrap=True)
    return typer.Exit(2 if isinstance(exc, BadInput) else 1)


@db_app.command("migrate")
def migrate_command() -> None:
    """Apply pending migrations (the Supabase compatibility script first, off Supabase)."""
    try:
        settings = StoreSettings()
        conninfo, target = _conninfo(settings)
        applied = migrate(conninfo=conninfo, connect_timeout=settings.connect_timeout)
    except ReelforgeError as exc:
        raise _fail(exc) from exc
    if not applied:
        console.print(f"{target}: up to date", highlight=False)
    for migration in applied:
        console.print(f"applied {migration.version}_{migration.name}", highlight=False)


@db_app.command("status")
def status_command() -> None:
    """Show each migration and whether it is applied."""
    try:
        settings = StoreSettings()
        conninfo, target = _conninfo(settings)
        status = migration_status(conninfo=conninfo, connect_timeout=settings.connect_timeout)
    except ReelforgeError as exc:
        raise _fail(exc) from exc
    table = Table(title=target)
    table.add_column("version")
    table.add_column("name")
    table.add_column("applied")
    for migration in status:
        applied = (
            migration.applied_at.isoformat(timespec="seconds")
            if migration.applied_at
            else "pending"
        )
        if migration.modified:
            applied += " (file changed since)"
        table.add_row(migration.version, migration.name, applied)
    Console().print(table)
    if any(m.applied_at is None for m in status):
        raise typer.Exit(3)
