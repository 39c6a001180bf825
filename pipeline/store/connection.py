"""How reelforge opens PostgreSQL connections, and what a connection string says about the
server behind it. Every connection the store makes (the pool, the migration runner, the
embedded server's admin connection, the LISTEN connection) takes its options from here, so
none of them can create a named prepared statement when the target may be a pooler."""

from __future__ import annotations

from typing import Any

import psycopg

__all__ = [
    "POOLER_HOST_SUFFIX",
    "TRANSACTION_POOLER_PORT",
    "connect_options",
    "is_transaction_pooler",
]

# Supavisor, Supabase's pooler: transaction mode on 6543, session mode on 5432, both on hosts
# named ``aws-0-<region>.pooler.supabase.com``.
TRANSACTION_POOLER_PORT = 6543
POOLER_HOST_SUFFIX = ".pooler.supabase.com"


def connect_options(connect_timeout: float, *, prepared_statements: bool = False) -> dict[str, Any]:
    """The keyword arguments of ``psycopg.connect`` for one autocommit connection.

    ``prepare_threshold=None`` keeps psycopg from preparing a query it has run five times
    (it would send a Parse with a name such as ``_pg3_0``). In Supavisor's transaction mode
    the next transaction may run on another server connection, where that name is unknown;
    only unnamed statements, which live for one round trip, are safe there. Only the embedded
    server, which is never behind a pooler, may turn them on.
    """
    options: dict[str, Any] = {
        "autocommit": True,
        "connect_timeout": max(1, round(connect_timeout)),
    }
    if not prepared_statements:
        options["prepare_threshold"] = None
    return options


def _hosts_and_ports(conninfo: str) -> tuple[list[str], list[str]]:
    params = psycopg.conninfo.conninfo_to_dict(conninfo)
    hosts = [h.strip().lower() for h in str(params.get("host") or "").split(",") if h.strip()]
    ports = [p.strip() for p in str(params.get("port") or "").split(",") if p.strip()]
    return hosts, ports


def is_transaction_pooler(conninfo: str) -> bool:
    """Whether the connection string may lead to Supavisor's transaction mode: port 6543, or
    any host of Supabase's pooler (session mode on 5432 shares the host name, and telling the
    two apart is not worth a wrong guess). Through it a session does not outlive a
    transaction: LISTEN never hears a NOTIFY, and named prepared statements break.

    A malformed string is not a pooler here; connecting reports it.
    """
    try:
        hosts, ports = _hosts_and_ports(conninfo)
    except psycopg.ProgrammingError:
        return False
    if str(TRANSACTION_POOLER_PORT) in ports:
        return True
    return any(h.endswith(POOLER_HOST_SUFFIX) for h in hosts)
