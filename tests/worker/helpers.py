"""Polling and inspection helpers for the worker tests."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from pipeline.store import Job, Store
from pipeline.store.jobs import Jobs

Admin = psycopg.Connection[tuple[object, ...]]


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    """Polls ``predicate`` until it returns something truthy, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def job_in(store: Store, job_id: uuid.UUID, *states: str) -> Callable[[], Job | None]:
    def check() -> Job | None:
        job = Jobs(store).get(job_id=job_id)
        return job if job is not None and job.state in states else None

    return check


def ledger(admin: Admin, user: uuid.UUID) -> list[tuple[Any, ...]]:
    return admin.execute(
        "select delta, reason, hold_id from public.credit_ledger where user_id = %s order by id",
        (user,),
    ).fetchall()


def balance(admin: Admin, user: uuid.UUID) -> int:
    row = admin.execute(
        "select balance from public.credit_accounts where user_id = %s", (user,)
    ).fetchone()
    assert row is not None
    return int(str(row[0]))


def renders(admin: Admin, job_id: uuid.UUID) -> list[tuple[Any, ...]]:
    return admin.execute(
        "select format, path from public.renders where job_id = %s order by format", (job_id,)
    ).fetchall()


def holds(admin: Admin, job_id: uuid.UUID) -> list[tuple[Any, ...]]:
    return admin.execute(
        "select amount, status, settled_amount from public.credit_holds where job_id = %s",
        (job_id,),
    ).fetchall()


def events(admin: Admin, job_id: uuid.UUID) -> list[tuple[Any, ...]]:
    return admin.execute(
        "select kind, state::text, message from public.job_events where job_id = %s order by id",
        (job_id,),
    ).fetchall()


def assert_charged_once(admin: Admin, job_id: uuid.UUID, user: uuid.UUID) -> None:
    """The job's one hold is settled, and the user's ledger is the grant, the hold and the rest
    of the hold returned: however many attempts, one charge."""
    [(_, status, settled)] = holds(admin, job_id)
    assert status == "settled"
    assert [r for _, r, _ in ledger(admin, user)] == ["grant", "hold", "hold remainder"]
    assert balance(admin, user) == 1000 - int(str(settled))
