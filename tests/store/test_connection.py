"""Connecting: the embedded default, malformed URLs and unreachable databases fail fast and clearly."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.settings import StoreSettings
from pipeline.store import StoreConfigError, StoreUnavailable, migration_status, open_store
from pipeline.store.credits import Credits
from pipeline.store.database import Store

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "mysql://root:hunter2@db/app",
        "postgresql://u:hunter2@[::1/db",
        "postgres://u@h:99999/d",
    ],
)
def test_a_malformed_database_url_is_a_config_error_without_the_password(url: str) -> None:
    settings = StoreSettings(database_url=url, home=Path("/nonexistent"))

    with pytest.raises(StoreConfigError, match="the database URL is malformed") as failure:
        open_store(settings)

    assert "hunter2" not in failure.value.message


@pytest.mark.parametrize(
    "url",
    ["postgresql://u:hunter2@127.0.0.1:1/app", "postgresql://u@10.255.255.1:5432/app"],
)
def test_an_unreachable_database_fails_within_the_timeout(url: str) -> None:
    started = time.monotonic()

    with pytest.raises(StoreUnavailable, match="cannot connect to the database at") as failure:
        Store(url, connect_timeout=1)

    assert time.monotonic() - started < 5
    assert "hunter2" not in failure.value.message


def test_the_embedded_default_starts_migrates_and_is_reused(isolated_home: Path) -> None:
    settings = StoreSettings(home=isolated_home)

    with open_store(settings) as store:
        assert Credits(store).balance(user_id=uuid.uuid4()) == 0
        uri = store.server.uri("reelforge") if store.server else ""
    with open_store(settings) as again:
        assert again.server is not None
        assert again.server.pgdata == isolated_home / "pg"

    assert all(m.applied_at for m in migration_status(conninfo=uri))


def test_db_cli_migrates_then_reports_status(isolated_home: Path) -> None:
    env = {"REELFORGE_HOME": str(isolated_home), "DATABASE_URL": ""}
    runner = CliRunner()

    migrated = runner.invoke(app, ["db", "migrate"], env=env)
    again = runner.invoke(app, ["db", "migrate"], env=env)
    status = runner.invoke(app, ["db", "status"], env=env)

    assert migrated.exit_code == 0, migrated.output
    assert "applied 0001_tables" in migrated.output
    assert "up to date" in again.output
    assert status.exit_code == 0
    assert "job_queue" in status.output


def test_db_cli_names_a_malformed_url() -> None:
    result = CliRunner().invoke(app, ["db", "status"], env={"DATABASE_URL": "mysql://u:pw@h/db"})

    assert result.exit_code == 1
    assert "the database URL is malformed" in result.output
    assert "pw@" not in result.output
