"""The Store: a psycopg connection pool with PostgREST-style user transactions and service transactions."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeAlias
from uuid import UUID

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from pipeline.settings import StoreSettings
from pipeline.store.connection import connect_options, is_transaction_pooler
from pipeline.store.embedded import EmbeddedServer, start_embedded
from pipeline.store.errors import StoreConfigError, StoreUnavailable, from_driver
from pipeline.store.queries import query

__all__ = ["Connection", "Store", "open_store"]

# One open transaction: what ``Store.as_user`` and ``Store.as_service`` yield, and what a
# repository method given ``conn`` runs in (so several calls commit or roll back together).
Connection: TypeAlias = psycopg.Connection[Any]
EMBEDDED_DATABASE = "reelforge"


def describe_target(conninfo: str) -> str:
    """Host, port and database of a connection string, without credentials."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError as exc:
        # libpq quotes the string, which may hold a password.
        problem = str(exc).replace(conninfo, "<url>").strip()
        raise StoreConfigError(f"the database URL is malformed: {problem}") from exc
    port = str(params.get("port") or "5432")
    if not (port.isdigit() and 0 < int(port) < 65536):
        raise StoreConfigError(f"the database URL is malformed: invalid port {port!r}")
    host = str(params.get("host") or "localhost")
    return f"{host}:{port}/{params.get('dbname') or params.get('user') or ''}"


class Store:
    """A pool of connections to one database; every unit of work is one transaction.

    ``prepared_statements`` lets psycopg prepare repeated queries: only for a server reached
    directly (the embedded one), never through a pooler. ``listen`` says whether LISTEN/NOTIFY
    reaches this session; by default, unless the connection string names Supavisor's
    transaction mode (see :func:`is_transaction_pooler`), where workers poll instead.
    """

    def __init__(
        self,
        conninfo: str,
        *,
        prepared_statements: bool = False,
        listen: bool | None = None,
        connect_timeout: float = 5.0,
        min_size: int = 1,
        max_size: int = 10,
        server: EmbeddedServer | None = None,
    ) -> None:
        self.target = describe_target(conninfo)
        self.server = server
        self.listens = not is_transaction_pooler(conninfo) if listen is None else listen
        self._conninfo = conninfo
        self._timeout = connect_timeout
        self._connect_kwargs = connect_options(
            connect_timeout, prepared_statements=prepared_statements
        )
        self.check()
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            conninfo,
            kwargs=self._connect_kwargs,
            min_size=min_size,
            max_size=max_size,
            timeout=connect_timeout,
            name="reelforge-store",
            open=False,
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
        except PoolTimeout as exc:
            self._pool.close()
            raise StoreUnavailable(f"cannot open connections to {self.target}: {exc}") from exc

    @property
    def conninfo(self) -> str:
        """The connection string (it may hold a password: never log it; see describe_target)."""
        return self._conninfo

    def check(self) -> None:
        """Connects once, so a bad URL or an unreachable host fails now with a clear message."""
        try:
            with psycopg.connect(self._conninfo, **self._connect_kwargs) as conn:
                conn.execute(query("session/ping"))
        except psycopg.Error as exc:
            raise StoreUnavailable(
                f"cannot connect to the database at {self.target}: {exc}"
            ) from exc

    def connect(self) -> psycopg.Connection[Any]:
        """A dedicated autocommit connection outside the pool (LISTEN), with the pool's options."""
        try:
            return psycopg.connect(self._conninfo, **self._connect_kwargs)
        except psycopg.Error as exc:
            raise StoreUnavailable(
                f"cannot connect to the database at {self.target}: {exc}"
            ) from exc

    @contextmanager
    def as_user(self, user_id: UUID) -> Iterator[psycopg.Connection[Any]]:
        """One transaction as the ``authenticated`` role with ``sub`` = user, exactly as PostgREST does."""
        claims = {"sub": str(user_id), "role": "authenticated"}
        with self._transaction("authenticated", claims) as conn:
            yield conn

    @contextmanager
    def as_service(self) -> Iterator[psycopg.Connection[Any]]:
        """One transaction as ``service_role`` (workers): bypasses RLS, may call the SQL functions."""
        with self._transaction("service_role", {"role": "service_role"}) as conn:
            yield conn

    @contextmanager
    def _transaction(
        self, role: str, claims: Mapping[str, str]
    ) -> Iterator[psycopg.Connection[Any]]:
        try:
            with self._pool.connection() as conn, conn.transaction():
                conn.execute(
                    query("session/set_request_role"),
                    {"role": role, "claims": json.dumps(claims)},
                )
                yield conn
        except psycopg.Error as exc:
            raise from_driver(exc) from exc
        except PoolTimeout as exc:
            raise StoreUnavailable(f"no database connection free within {self._timeout}s") from exc

    @contextmanager
    def service(self, conn: Connection | None = None) -> Iterator[Connection]:
        """The caller's transaction ``conn`` if given, else a new service transaction."""
        if conn is not None:
            yield conn
            return
        with self.as_service() as own:
            yield own

    def ping(self) -> None:
        """Runs one trivial query in a service transaction; StoreError if the database is down."""
        with self.as_service() as conn:
            conn.execute(query("session/ping"))

    def close(self) -> None:
        """Closes the pool (an embedded server stops when the process exits)."""
        self._pool.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(settings: StoreSettings, *, migrate: bool | None = None) -> Store:
    """Connects to DATABASE_URL, or starts the embedded server in REELFORGE_HOME/pg.

    ``migrate`` defaults to True for the embedded server (it is ours) and False for DATABASE_URL.
    """
    from pipeline.store.migrations import migrate as run_migrations

    server: EmbeddedServer | None = None
    if settings.embedded:
        server = start_embedded(settings.pgdata)
        conninfo = server.ensure_database(EMBEDDED_DATABASE)
    else:
        assert settings.database_url is not None
        conninfo = settings.database_url.get_secret_value().strip()
    if migrate if migrate is not None else server is not None:
        run_migrations(conninfo=conninfo, connect_timeout=settings.connect_timeout)
    return Store(
        conninfo,
        prepared_statements=server is not None,
        connect_timeout=settings.connect_timeout,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        server=server,
    )
