"""Supavisor's transaction mode: migrations and every connection through a proxy that refuses
named prepared statements and LISTEN, and workers that poll when the URL names the pooler.

The repositories' whole contract also runs through the proxy (the ``pooler`` backend of
test_repository_contract.py)."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.settings import StoreSettings
from pipeline.store import Repositories, open_store
from pipeline.store.connection import is_transaction_pooler
from pipeline.store.embedded import EmbeddedServer
from tests.store.pooler_proxy import pooler_url, running_proxy, socket_dir

from .test_migrations import NAMES

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("url", "pooler"),
    [
        ("postgresql://postgres.ref:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres", True),
        ("postgresql://postgres.ref:pw@aws-0-eu-central-1.pooler.supabase.com:5432/postgres", True),
        ("postgresql://u:pw@db.example.com:6543/app", True),
        ("host=AWS-0-US-EAST-1.POOLER.SUPABASE.COM port=5432 dbname=postgres", True),
        ("postgresql://postgres:pw@db.ref.supabase.co:5432/postgres", False),
        ("postgresql://postgres:@/reelforge?host=/tmp/pg", False),
        ("not a url", False),
    ],
)
def test_a_url_names_the_transaction_pooler_by_its_port_or_its_host(url: str, pooler: bool) -> None:
    assert is_transaction_pooler(url) is pooler


def test_the_proxy_refuses_a_named_prepared_statement(
    pg_server: EmbeddedServer, db_uri: str
) -> None:
    """The proxy is a real check: psycopg's default prepares a query run five times."""
    database = str(conninfo_to_dict(db_uri)["dbname"])
    with (
        running_proxy(socket_dir(pg_server.admin_uri)) as proxy,
        psycopg.connect(pooler_url(proxy, database), autocommit=True) as conn,
    ):
        for _ in range(5):
            conn.execute("select %s::int", (1,))
        with pytest.raises(psycopg.OperationalError):
            conn.execute("select %s::int", (1,))

    assert len(proxy.violations) == 1
    assert "named prepared statement b'_pg3_0'" in proxy.violations[0]


def test_migrations_run_through_the_transaction_pooler(
    pg_server: EmbeddedServer, new_database: Callable[[str | None], str]
) -> None:
    database = str(conninfo_to_dict(new_database(None))["dbname"])
    runner = CliRunner()
    with running_proxy(socket_dir(pg_server.admin_uri)) as proxy:
        env = {"DATABASE_URL": pooler_url(proxy, database)}
        first = runner.invoke(app, ["db", "migrate"], env=env)
        again = runner.invoke(app, ["db", "migrate"], env=env)
        status = runner.invoke(app, ["db", "status"], env=env)

    assert first.exit_code == 0, first.output
    assert [line.split("_", 1)[1] for line in first.output.split("applied ")[1:]] == [
        f"{name}\n" for name in NAMES
    ]
    assert "up to date" in again.output
    assert status.exit_code == 0, status.output
    assert proxy.violations == []
    # The runner's two parameterized queries, once per migration: named from the sixth on
    # if psycopg were left to prepare them.
    assert proxy.parses >= 2 * len(NAMES)


def test_a_worker_behind_the_pooler_polls_and_never_listens(
    pg_server: EmbeddedServer, db_uri: str
) -> None:
    database = str(conninfo_to_dict(db_uri)["dbname"])
    with running_proxy(socket_dir(pg_server.admin_uri)) as proxy:
        settings = StoreSettings(database_url=pooler_url(proxy, database))
        with open_store(settings) as store, Repositories.postgres(store).jobs.wakeups() as waits:
            heard = [waits.wait(0.01) for _ in range(3)]

    assert store.listens is False
    assert heard == [None, None, None]
    assert proxy.violations == []
