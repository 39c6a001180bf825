"""The worker's rules against the in-memory repositories and blobs, with no database: a job is
delivered with its hold settled at the actual cost, retried with its hold kept, failed or
canceled with its hold released and nothing published, and not rendered again once all its
outputs are published. The renders are real (FFmpeg, preview, one format, 8 seconds)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline.pricing import charge_for
from pipeline.render import Ports, RenderRequest
from pipeline.settings import Settings
from pipeline.storage import MemoryStore, StoredBlob
from pipeline.store import CreditHold, HoldStatus, Job, JobState
from pipeline.store.memory import MemoryRepositories
from pipeline.voice import FakeVoice
from pipeline.wiring import Runtime
from pipeline.worker import JobControl, run_job
from pipeline.worker.control import SHUTDOWN
from tests.worker.conftest import MakeContext, hold_of
from tests.worker.helpers import wait_for
from tests.worker.ports import FailingVoice, GatedVoice

# No database, but real (preview) renders through FFmpeg.
pytestmark = pytest.mark.integration


class _Renders:
    """A ports factory that counts the renders it serves: the worker asks once per render."""

    def __init__(self, voice: Callable[[], FakeVoice] = FakeVoice) -> None:
        self.voice = voice
        self.count = 0

    def __call__(self, request: RenderRequest, runtime: Runtime) -> Ports:
        self.count += 1
        return Ports(voice=self.voice())


class _ShutdownAfterPublishing(MemoryStore):
    """Blobs in memory; the worker is told to shut down as the manifest, its last output, is
    stored: the outputs are published but the job is neither settled nor delivered."""

    def __init__(self, control: JobControl) -> None:
        super().__init__()
        self.control = control

    def put(self, key: str, source: Path, *, content_type: str) -> StoredBlob:
        stored = super().put(key, source, content_type=content_type)
        if key.endswith("/manifest.json"):
            self.control.abort(SHUTDOWN)
        return stored


def _fund(repos: MemoryRepositories, user: uuid.UUID, amount: int) -> None:
    repos.credits.adjust(user_id=user, amount=amount, reason="grant", idempotency_key="grant")


def _claim(repos: MemoryRepositories, job: Job, worker: str = "w1", lease: int = 60) -> Job:
    claimed = repos.jobs.claim(worker=worker, lease_seconds=lease)
    assert claimed is not None and claimed.id == job.id
    return claimed


def _hold(repos: MemoryRepositories, job: Job) -> CreditHold | None:
    detail = repos.jobs.detail(user_id=job.user_id, job_id=job.id)
    assert detail is not None
    return detail.hold


def _ledger(repos: MemoryRepositories, user: uuid.UUID) -> list[str]:
    """The user's ledger reasons, oldest first; the entries sum to the balance."""
    entries = repos.credits.ledger(user_id=user, before=None, limit=100)[::-1]
    assert sum(e.delta for e in entries) == repos.credits.balance(user_id=user)
    return [e.reason for e in entries]


def _state(repos: MemoryRepositories, job: Job) -> JobState | None:
    current = repos.jobs.get(job_id=job.id)
    return None if current is None else current.state


def _keys(job: Job) -> set[str]:
    prefix = f"{job.user_id}/{job.id}"
    return {f"{prefix}/9x16.mp4", f"{prefix}/9x16.png", f"{prefix}/manifest.json"}


def test_a_job_is_delivered_with_its_hold_settled_at_the_actual_cost(
    memory_repos: MemoryRepositories,
    memory_user: uuid.UUID,
    memory_payload: dict[str, Any],
    memory_blobs: MemoryStore,
    memory_context: MakeContext,
    settings: Settings,
) -> None:
    _fund(memory_repos, memory_user, 1000)
    job = memory_repos.jobs.enqueue(user_id=memory_user, kind="render", payload=memory_payload)
    done = run_job(memory_context(ports=_Renders()), _claim(memory_repos, job))
    assert done.state == JobState.DELIVERED, done.error

    [render] = memory_repos.jobs.renders(job_id=job.id)
    assert render.format == "9x16" and set(memory_blobs.keys()) == _keys(job)
    held = hold_of(memory_payload, memory_user, settings)
    actual = charge_for([render.duration_s], preview=True)
    assert 0 < actual < held
    hold = _hold(memory_repos, job)
    assert hold is not None
    assert (hold.amount, hold.status, hold.settled_amount) == (held, HoldStatus.SETTLED, actual)
    assert memory_repos.credits.balance(user_id=memory_user) == 1000 - actual
    assert _ledger(memory_repos, memory_user) == ["grant", "hold", "hold remainder"]
    assert done.checkpoints["qc"]["actual"] == actual


def test_a_failing_voice_is_retried_with_its_hold_then_fails_and_releases_it(
    memory_repos: MemoryRepositories,
    memory_user: uuid.UUID,
    memory_payload: dict[str, Any],
    memory_blobs: MemoryStore,
    memory_context: MakeContext,
    settings: Settings,
) -> None:
    _fund(memory_repos, memory_user, 1000)
    job = memory_repos.jobs.enqueue(
        user_id=memory_user, kind="render", payload=memory_payload, max_attempts=2
    )
    failing = memory_context(ports=_Renders(FailingVoice))

    first = run_job(failing, _claim(memory_repos, job))
    assert first.state == JobState.QUEUED and "voice provider is down" in (first.error or "")
    kept = _hold(memory_repos, job)
    assert kept is not None and kept.status == HoldStatus.HELD
    held = hold_of(memory_payload, memory_user, settings)
    assert memory_repos.credits.balance(user_id=memory_user) == 1000 - held

    last = run_job(failing, _claim(memory_repos, job))
    assert last.state == JobState.FAILED and last.attempts == 2
    assert "voice provider is down" in (last.error or "")
    released = _hold(memory_repos, job)
    assert released is not None and released.id == kept.id
    assert released.status == HoldStatus.RELEASED
    assert memory_repos.credits.balance(user_id=memory_user) == 1000
    assert _ledger(memory_repos, memory_user) == ["grant", "hold", "hold released"]
    assert memory_repos.jobs.renders(job_id=job.id) == [] and memory_blobs.keys() == []


def test_insufficient_credits_fail_the_job_without_retry_and_render_nothing(
    memory_repos: MemoryRepositories,
    memory_user: uuid.UUID,
    memory_payload: dict[str, Any],
    memory_blobs: MemoryStore,
    memory_context: MakeContext,
) -> None:
    _fund(memory_repos, memory_user, 5)
    job = memory_repos.jobs.enqueue(user_id=memory_user, kind="render", payload=memory_payload)
    renders = _Renders()
    after = run_job(memory_context(ports=renders), _claim(memory_repos, job))
    assert after.state == JobState.FAILED and after.attempts == 1
    assert after.error is not None and "insufficient credits" in after.error
    assert memory_repos.jobs.claim(worker="w2") is None  # not queued again
    assert renders.count == 0 and memory_blobs.keys() == []
    assert _hold(memory_repos, job) is None
    assert memory_repos.credits.balance(user_id=memory_user) == 5


def test_a_canceled_job_releases_its_hold_and_publishes_nothing(
    memory_repos: MemoryRepositories,
    memory_user: uuid.UUID,
    memory_payload: dict[str, Any],
    memory_blobs: MemoryStore,
    memory_context: MakeContext,
    media_root: Path,
    tmp_path: Path,
) -> None:
    _fund(memory_repos, memory_user, 1000)
    job = memory_repos.jobs.enqueue(user_id=memory_user, kind="render", payload=memory_payload)
    gate = tmp_path / "gate"
    ctx = memory_context(lease_seconds=2, ports=_Renders(lambda: GatedVoice(gate)))
    claimed = _claim(memory_repos, job, lease=2)
    results: list[Job] = []
    runner = threading.Thread(target=lambda: results.append(run_job(ctx, claimed)))
    runner.start()
    try:
        wait_for(lambda: _state(memory_repos, job) == JobState.GENERATING, 20, "the voice stage")
        held = _hold(memory_repos, job)
        assert held is not None and held.status == HoldStatus.HELD
        memory_repos.jobs.cancel(job_id=job.id, user_id=memory_user)
    finally:
        gate.touch()
        runner.join(30)
    assert not runner.is_alive()
    assert results[0].state == JobState.CANCELED
    released = _hold(memory_repos, job)
    assert released is not None and released.status == HoldStatus.RELEASED
    assert memory_repos.credits.balance(user_id=memory_user) == 1000
    assert _ledger(memory_repos, memory_user) == ["grant", "hold", "hold released"]
    assert memory_repos.jobs.renders(job_id=job.id) == [] and memory_blobs.keys() == []
    assert [p.name for p in (media_root / str(memory_user)).iterdir()] == ["uploads"]


@pytest.mark.parametrize(
    ("lost", "renders_made"), [(None, 1), ("9x16.mp4", 2)], ids=["all-stored", "a-file-lost"]
)
def test_a_resumed_job_is_rendered_again_only_if_a_published_output_is_missing(
    memory_repos: MemoryRepositories,
    memory_user: uuid.UUID,
    memory_payload: dict[str, Any],
    memory_context: MakeContext,
    lost: str | None,
    renders_made: int,
) -> None:
    _fund(memory_repos, memory_user, 1000)
    job = memory_repos.jobs.enqueue(user_id=memory_user, kind="render", payload=memory_payload)
    renders, control = _Renders(), JobControl()
    blobs = _ShutdownAfterPublishing(control)

    stopped = run_job(
        memory_context("w1", ports=renders, blobs=blobs), _claim(memory_repos, job), control
    )
    assert stopped.state == JobState.QUEUED and renders.count == 1
    [render] = memory_repos.jobs.renders(job_id=job.id)
    assert set(blobs.keys()) == _keys(job)
    first_hold = _hold(memory_repos, job)
    assert first_hold is not None and first_hold.status == HoldStatus.HELD
    if lost is not None:
        blobs.delete(f"{job.user_id}/{job.id}/{lost}")

    resumed = _claim(memory_repos, job, "w2")
    done = run_job(memory_context("w2", ports=renders, blobs=blobs), resumed)
    assert done.state == JobState.DELIVERED, done.error
    assert renders.count == renders_made
    assert set(blobs.keys()) == _keys(job)
    assert memory_repos.jobs.renders(job_id=job.id) == [render]  # recorded once per format
    settled = _hold(memory_repos, job)
    assert settled is not None and settled.id == first_hold.id
    actual = charge_for([render.duration_s], preview=True)
    assert (settled.status, settled.settled_amount) == (HoldStatus.SETTLED, actual)
    assert _ledger(memory_repos, memory_user) == ["grant", "hold", "hold remainder"]

