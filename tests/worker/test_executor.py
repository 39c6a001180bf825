"""Local worker processes against PostgreSQL: one claim per job, SIGKILL takeover, SIGTERM release."""

from __future__ import annotations

import os
import signal
import uuid
from pathlib import Path
from typing import Any

import pytest

from pipeline.store import JobState, Store
from pipeline.store.jobs import Jobs
from pipeline.store.webhooks import Webhooks
from pipeline.webhooks import generate_secret
from pipeline.worker import LocalExecutor, ModalExecutor
from tests.worker.helpers import (
    Admin,
    assert_charged_once,
    events,
    holds,
    job_in,
    renders,
    wait_for,
)
from tests.worker.ports import GATE_ENV

ROOT = Path(__file__).resolve().parents[2]


def _executor(
    started: list[LocalExecutor],
    n: int,
    db_uri: str,
    media_root: Path,
    *,
    gate: Path | None = None,
    lease: int = 30,
    grace: float = 30.0,
) -> LocalExecutor:
    executor = LocalExecutor(
        n,
        media_root=media_root,
        conninfo=db_uri,
        lease_seconds=lease,
        poll_seconds=0.25,
        grace_seconds=grace,
        ports="tests.worker.ports:gated_ports" if gate else "tests.worker.ports:fake_ports",
        # A hosted database: the workers need the deployment's signing secret, as in production.
        env={"REELFORGE_SIGNING_SECRET": "s" * 40} | ({GATE_ENV: str(gate)} if gate else {}),
        cwd=ROOT,
    )
    started.append(executor)
    executor.start()
    return executor


def _claims(admin: Admin, job_id: uuid.UUID) -> list[str]:
    return [m for kind, _, m in events(admin, job_id) if kind == "claimed"]


def test_modal_executor_spawns_the_function_with_the_job_id() -> None:
    spawned: list[str] = []
    job_id = uuid.uuid4()
    ModalExecutor(spawned.append).submit(job_id)
    assert spawned == [str(job_id)]


@pytest.mark.integration
def test_two_workers_one_job_one_claim_and_a_clean_sigterm(
    store: Store,
    admin: Admin,
    funded: uuid.UUID,
    db_uri: str,
    media_root: Path,
    payload: dict[str, Any],
    executors: list[LocalExecutor],
) -> None:
    executor = _executor(executors, 2, db_uri, media_root)
    job = Jobs(store).enqueue(user_id=funded, kind="render", payload=payload)
    executor.submit(job.id)
    done = wait_for(job_in(store, job.id, "delivered", "failed"), 45, "the job to finish")
    assert done.state == JobState.DELIVERED, done.error
    assert len(_claims(admin, job.id)) == 1 and done.attempts == 1
    assert len(renders(admin, job.id)) == 1
    procs = list(executor.processes)
    executor.stop(timeout=15)  # SIGTERM while idle: both exit cleanly
    assert [p.returncode for p in procs] == [0, 0]
    assert executor.processes == []


@pytest.mark.integration
def test_sigkill_mid_render_another_worker_finishes_once(
    store: Store,
    admin: Admin,
    funded: uuid.UUID,
    db_uri: str,
    media_root: Path,
    payload: dict[str, Any],
    executors: list[LocalExecutor],
    tmp_path: Path,
) -> None:
    gate = tmp_path / "gate"
    lease = 2
    executor = _executor(executors, 2, db_uri, media_root, gate=gate, lease=lease)
    Webhooks(store).create_endpoint(
        secret=generate_secret(), user_id=funded, url="https://example.com/hooks", events=[]
    )
    job = Jobs(store).enqueue(user_id=funded, kind="render", payload=payload)
    running = wait_for(job_in(store, job.id, "generating"), 30, "the voice stage")
    assert running.lease_owner is not None
    victim = int(running.lease_owner.split(":")[1])
    assert victim in executor.pids
    os.kill(victim, signal.SIGKILL)
    gate.touch()
    done = wait_for(job_in(store, job.id, "delivered", "failed"), 90, "the takeover")
    assert done.state == JobState.DELIVERED, done.error
    claims = _claims(admin, job.id)
    assert len(claims) == 2 and str(victim) not in claims[1]
    assert len(renders(admin, job.id)) == 1
    assert_charged_once(admin, job.id, funded)
    user_dir = media_root / str(funded)
    assert sorted(p.name for p in user_dir.iterdir()) == sorted([str(job.id), "uploads"])
    # Two attempts, one delivery: exactly one webhook, with one webhook-id.
    hooks = admin.execute("select event_type, webhook_id from public.webhook_deliveries").fetchall()
    assert hooks == [("job.delivered", f"msg_job_{job.id.hex}_delivered")]


@pytest.mark.integration
@pytest.mark.parametrize("grace", [0.5, 30.0], ids=["released", "finished"])
def test_sigterm_mid_render_finishes_or_releases_the_job_and_the_worker_exits(
    store: Store,
    admin: Admin,
    funded: uuid.UUID,
    db_uri: str,
    media_root: Path,
    payload: dict[str, Any],
    executors: list[LocalExecutor],
    tmp_path: Path,
    grace: float,
) -> None:
    gate = tmp_path / "gate"
    executor = _executor(executors, 1, db_uri, media_root, gate=gate, grace=grace)
    job = Jobs(store).enqueue(user_id=funded, kind="render", payload=payload)
    wait_for(job_in(store, job.id, "generating"), 30, "the voice stage")
    [proc] = executor.processes
    executor.terminate()
    if grace > 1:
        gate.touch()  # the job can end within the grace period
    else:
        # Past the grace period the job is released; then let the render notice it.
        wait_for(job_in(store, job.id, "queued"), 20, "the job to be released")
        gate.touch()
    assert proc.wait(20) == 0
    after = Jobs(store).get(job_id=job.id)
    assert after is not None and after.lease_owner is None
    [(_, status, _)] = holds(admin, job.id)
    if grace > 1:
        assert after.state == JobState.DELIVERED, after.error
        assert status == "settled" and len(renders(admin, job.id)) == 1
    else:
        assert after.state == JobState.QUEUED and after.attempts == 0
        assert events(admin, job.id)[-1][0] == "retry"
        # The hold waits for the next worker, which gets it back by its key.
        assert status == "held" and renders(admin, job.id) == []
