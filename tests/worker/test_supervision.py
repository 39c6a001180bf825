"""Supervised workers: a process that dies is replaced on a backoff schedule, what it started
dies with it, the pool reports when it is short; with real worker processes, a job abandoned
by a SIGKILLed worker is resumed by its replacement, charged once, one output per format."""

from __future__ import annotations

import itertools
import os
import signal
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pipeline.store import JobState, Store
from pipeline.store.jobs import Jobs
from pipeline.worker import LocalExecutor
from pipeline.worker.supervisor import Backoff, Supervisor, exit_reason
from tests.processes import children, command, running
from tests.worker.helpers import (
    Admin,
    assert_charged_once,
    events,
    job_in,
    renders,
    wait_for,
)
from tests.worker.ports import GATE_ENV

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pools() -> Iterator[list[Supervisor]]:
    started: list[Supervisor] = []
    yield started
    for pool in started:
        pool.kill()
        pool.join(10)


def _pool(
    started: list[Supervisor], script: str, *args: str, backoff: Backoff | None = None
) -> Supervisor:
    """One process running a Python ``script`` with the ready pipe's fd as its first argument."""
    pool = Supervisor(
        1, lambda fd: [sys.executable, "-c", script, str(fd), *args], backoff=backoff, tick=0.02
    )
    started.append(pool)
    pool.start()
    return pool


# Reports ready, then waits to be killed.
_STEADY = "import os, sys, time; os.write(int(sys.argv[1]), b'1'); time.sleep(120)"


def test_the_backoff_doubles_from_one_second_to_a_minute() -> None:
    backoff = Backoff()
    assert [backoff.delay(n) for n in range(1, 10)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert backoff.delay(100_000) == 60 and backoff.reset_after == 60


def test_an_exit_is_told_by_its_code_or_its_signal() -> None:
    assert exit_reason(0) == "exited with code 0"
    assert exit_reason(1) == "exited with code 1"
    assert exit_reason(-signal.SIGKILL) == "was killed by SIGKILL"
    assert exit_reason(-99) == "was killed by signal 99"


def test_a_process_that_keeps_crashing_restarts_on_the_schedule_and_never_spins(
    pools: list[Supervisor],
) -> None:
    backoff = Backoff(initial=0.2, factor=2, maximum=0.8)
    pool = _pool(pools, "raise SystemExit(3)", backoff=backoff)
    time.sleep(3.0)
    pool.kill()
    deaths = list(pool.deaths)
    # Deaths about 0.2, 0.4, 0.8, 0.8 s apart (plus start-up); without the backoff, dozens.
    assert 3 <= len(deaths) <= 6, deaths
    assert [d.returncode for d in deaths] == [3] * len(deaths)
    assert [d.in_a_row for d in deaths] == list(range(1, len(deaths) + 1))
    assert [round(d.delay, 1) for d in deaths[:4]] == [0.2, 0.4, 0.8, 0.8][: len(deaths)]
    for before, after in itertools.pairwise(deaths):
        assert after.at - before.at >= before.delay, (before, after)
    assert pool.shortfall() == "0 of 1 workers are running"  # it never reported ready


def test_a_process_that_ran_long_enough_starts_the_count_over(pools: list[Supervisor]) -> None:
    backoff = Backoff(initial=0.1, factor=10, maximum=5, reset_after=0.3)
    pool = _pool(pools, "import time; time.sleep(0.5); raise SystemExit(1)", backoff=backoff)
    wait_for(lambda: len(pool.deaths) >= 3, 20, "three deaths")
    assert [(d.in_a_row, round(d.delay, 1)) for d in pool.deaths[:3]] == [(1, 0.1)] * 3


def test_the_pool_is_short_from_a_death_until_the_replacement_reports_ready(
    pools: list[Supervisor],
) -> None:
    pool = _pool(pools, _STEADY, backoff=Backoff(initial=0.5))
    wait_for(lambda: pool.shortfall() is None, 20, "the process to report ready")
    [first] = [p.pid for p in pool.processes]
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: pool.shortfall() == "0 of 1 workers are running", 5, "the death")
    [death] = pool.deaths
    assert (death.pid, death.returncode, death.in_a_row) == (first, -signal.SIGKILL, 1)
    wait_for(lambda: pool.shortfall() is None, 20, "the replacement to report ready")
    [second] = [p.pid for p in pool.processes]
    assert second != first and pool.running == 1
    pool.terminate()
    assert pool.join(10) and pool.processes == [] and len(pool.deaths) == 1


def test_what_a_killed_process_started_dies_with_it(
    pools: list[Supervisor], tmp_path: Path
) -> None:
    pid_file = tmp_path / "grandchild"
    script = (
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen(['sleep', '120'])\n"
        "open(sys.argv[2], 'w').write(str(child.pid))\n"
        "os.write(int(sys.argv[1]), b'1'); time.sleep(120)\n"
    )
    pool = _pool(pools, script, str(pid_file), backoff=Backoff(initial=30))
    wait_for(lambda: pool.shortfall() is None, 20, "the process to report ready")
    grandchild = int(pid_file.read_text())
    [parent] = [p.pid for p in pool.processes]
    assert running(grandchild) and os.getpgid(grandchild) == parent
    os.kill(parent, signal.SIGKILL)
    wait_for(lambda: not running(grandchild), 2, "the orphaned child to die")


# -- real workers against PostgreSQL --------------------------------------------------------


def _executor(
    started: list[LocalExecutor], db_uri: str, media_root: Path, *, ports: str, gate: Path
) -> LocalExecutor:
    executor = LocalExecutor(
        1, media_root=media_root, conninfo=db_uri, lease_seconds=2, poll_seconds=0.25,
        ports=ports, env={"REELFORGE_SIGNING_SECRET": "s" * 40, GATE_ENV: str(gate)}, cwd=ROOT,
    )  # fmt: skip
    started.append(executor)
    executor.start()
    return executor


def _ffmpeg_children(pid: int) -> list[int]:
    return [c for c in children(pid) if "ffmpeg" in Path(next(iter(command(c)), "")).name]


def _lease_expiry(store: Store, admin: Admin, job_id: uuid.UUID) -> float:
    """When the job's lease runs out, on this process's monotonic clock."""
    job = Jobs(store).get(job_id=job_id)
    row = admin.execute("select now()").fetchone()
    assert job is not None and job.lease_expires_at is not None
    assert row is not None and isinstance(row[0], datetime)
    return time.monotonic() + (job.lease_expires_at - row[0].astimezone(UTC)).total_seconds()


@pytest.mark.integration
def test_a_worker_killed_mid_render_alone_is_replaced_its_ffmpeg_dies_and_its_job_resumes(
    store: Store,
    admin: Admin,
    funded: uuid.UUID,
    db_uri: str,
    media_root: Path,
    payload: dict[str, Any],
    executors: list[LocalExecutor],
    tmp_path: Path,
) -> None:
    gate = tmp_path / "gate"  # until it exists, the voice runs FFmpeg
    executor = _executor(
        executors, db_uri, media_root, ports="tests.worker.ports:encoding_ports", gate=gate
    )
    job = Jobs(store).enqueue(
        user_id=funded, kind="render", payload={**payload, "formats": ["9x16", "1x1"]}
    )
    wait_for(job_in(store, job.id, "generating"), 30, "the voice stage")
    [victim] = executor.pids
    ffmpeg = wait_for(lambda: _ffmpeg_children(victim), 20, "the worker's FFmpeg")
    assert all(os.getpgid(p) == victim for p in ffmpeg)  # in the worker's group

    os.kill(victim, signal.SIGKILL)
    killed = time.monotonic()
    expiry = _lease_expiry(store, admin, job.id)  # renewed no more
    gate.touch()
    wait_for(lambda: not any(running(p) for p in ffmpeg), 2, "the orphaned FFmpeg to die")
    ffmpeg_gone = time.monotonic() - killed
    replacement = wait_for(lambda: [p for p in executor.pids if p != victim], 20, "a new worker")
    wait_for(lambda: executor.readiness() is None, 30, "the new worker to claim jobs")
    ready = time.monotonic()
    claimed = wait_for(
        lambda: len([e for e in events(admin, job.id) if e[0] == "claimed"]) == 2, 30, "the claim"
    )
    resumed = time.monotonic()
    done = wait_for(job_in(store, job.id, "delivered", "failed"), 60, "the resumed job")
    delivered = time.monotonic()

    assert claimed and done.state == JobState.DELIVERED, done.error
    [death] = executor.deaths
    assert (death.pid, death.returncode) == (victim, -signal.SIGKILL) and replacement
    # The promise: claimed within one poll once the lease ran out and the new worker listens.
    assert resumed - max(expiry, ready) <= executor.poll_seconds + 1.0
    assert [f for f, _ in renders(admin, job.id)] == ["1x1", "9x16"]  # one output per format
    assert_charged_once(admin, job.id, funded)
    print(
        f"\nSIGKILL -> FFmpeg gone {ffmpeg_gone:.2f} s, lease out {expiry - killed:.2f} s, "
        f"replacement ready {ready - killed:.2f} s, job claimed {resumed - killed:.2f} s, "
        f"delivered {delivered - killed:.2f} s"
    )


@pytest.mark.integration
def test_a_worker_that_crashes_at_start_up_is_restarted_ever_more_slowly(
    db_uri: str, media_root: Path, executors: list[LocalExecutor], tmp_path: Path
) -> None:
    executor = _executor(
        executors, db_uri, media_root, ports="tests.worker.ports:missing", gate=tmp_path / "g"
    )
    started = time.monotonic()
    wait_for(lambda: len(executor.deaths) >= 3, 60, "three crashes")
    window = time.monotonic() - started
    deaths = executor.deaths[:3]
    assert [d.returncode for d in deaths] == [1, 1, 1]
    assert [round(d.delay) for d in deaths] == [1, 2, 4]  # the default schedule
    for before, after in itertools.pairwise(deaths):
        assert after.at - before.at >= before.delay
    assert executor.readiness() == "0 of 1 render workers are running"
    print(f"\n3 start-up crashes took {window:.1f} s: {[round(d.uptime, 2) for d in deaths]}")
