"""The worker's side of a render on Modal: the spawned call is followed (its stage events
replayed once each, in order), canceled the moment the job is stopped, and what it paid
providers is fetched even when it fails."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from modal_app.media import PROGRESS, RenderTask
from modal_app.renderer import ModalRenderer
from pipeline.brief import load_brief
from pipeline.render import RenderRequest
from pipeline.settings import ServiceSettings, Settings
from pipeline.storage import LocalFolderStore
from pipeline.storage.grant import GRANT_PURPOSE, verify_grant
from pipeline.store import Job, JobState
from pipeline.store.memory import MemoryRepositories
from pipeline.wiring import signing_key
from pipeline.wiring.runtime import USAGE_LOG
from pipeline.worker.control import JobAborted, JobControl
from pipeline.worker.renderer import RenderCall

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = Settings(
    service=ServiceSettings(public_url="https://api.example.com", signing_secret="s" * 40)
)


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, ...]] = []

    def started(self, stage: str) -> None:
        self.events.append(("started", stage))

    def advanced(self, stage: str, fraction: float) -> None:
        self.events.append(("advanced", stage, str(fraction)))

    def finished(self, stage: str, seconds: float) -> None:
        self.events.append(("finished", stage))


class Handle:
    """A spawned call: ``polls`` TimeoutErrors (each running ``on_poll``), then ``outcome``."""

    def __init__(self, polls: int, outcome: Any, on_poll: Callable[[int], None]) -> None:
        self.polls, self.outcome, self.on_poll, self.canceled, self.seen = polls, outcome, on_poll, False, 0

    def get(self, timeout: float | None = None) -> Any:
        if self.seen < self.polls:
            self.on_poll(self.seen)
            self.seen += 1
            raise TimeoutError
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome

    def cancel(self) -> None:
        self.canceled = True


def _call(tmp_path: Path, control: JobControl, reporter: Recorder) -> RenderCall:
    now = datetime.now(UTC)
    job = Job(
        id=uuid.uuid4(), user_id=uuid.uuid4(), project_id=None, kind="render",
        payload={"brief": {}}, state=JobState.GENERATING, progress=0.0, attempts=1,
        max_attempts=3, run_after=now, lease_owner="w", lease_expires_at=now, error=None,
        checkpoints={}, dedupe_key=None, created_at=now, updated_at=now, finished_at=None,
    )  # fmt: skip
    request = RenderRequest(
        brief=load_brief(ROOT / "examples/espresso/brief.yaml"), work_dir=tmp_path / "work"
    )
    return RenderCall(
        request=request, job=job, out_root=tmp_path / "out", reporter=reporter, control=control,
        settings=SETTINGS, events=MemoryRepositories().providers,
    )  # fmt: skip


def _write(store: LocalFolderStore, key: str, data: Any, tmp: Path) -> None:
    source = tmp / f"upload-{uuid.uuid4().hex}"
    source.write_text(json.dumps(data), encoding="utf-8")
    store.put(key, source, content_type="application/json")


def test_progress_is_replayed_once_each_in_order(tmp_path: Path) -> None:
    store = LocalFolderStore(tmp_path / "blobs", url_secret=b"k" * 32)
    reporter, spawned = Recorder(), []
    steps = [[["started", "brief"]], [["started", "brief"], ["finished", "brief", 0.1]]]

    def spawn(task: RenderTask) -> Handle:
        spawned.append(task)

        def poll(n: int) -> None:
            _write(store, f"{task['prefix']}/{PROGRESS}", steps[min(n, 1)], tmp_path)

        return Handle(3, RuntimeError("render failed"), poll)

    renderer = ModalRenderer(spawn, blobs=store, settings=SETTINGS, poll_seconds=0)
    call = _call(tmp_path, JobControl(), reporter)
    _write(store, f"work/{call.job.id}/{USAGE_LOG}", {"paid": 1}, tmp_path)
    with pytest.raises(RuntimeError, match="render failed"):
        renderer.render(call)
    assert reporter.events == [("started", "brief"), ("finished", "brief")]
    assert (tmp_path / "work" / USAGE_LOG).is_file(), "what the render paid reaches the worker"
    [task] = spawned
    grant = verify_grant(task["grant"], signing_key(SETTINGS, GRANT_PURPOSE))
    assert grant.read[0] == f"{call.job.user_id}/uploads/", "the owner's uploads only"
    assert all(p.startswith((f"work/{call.job.id}/", "cache/")) for p in grant.write)
    assert task["api_url"] == "https://api.example.com"


def test_a_canceled_job_cancels_the_call(tmp_path: Path) -> None:
    store = LocalFolderStore(tmp_path / "blobs", url_secret=b"k" * 32)
    control = JobControl()
    handle = Handle(10, {"manifest": {}, "files": {}}, lambda n: control.abort("canceled") if n == 1 else None)
    renderer = ModalRenderer(lambda task: handle, blobs=store, settings=SETTINGS, poll_seconds=0)
    with pytest.raises(JobAborted, match="canceled"):
        renderer.render(_call(tmp_path, control, Recorder()))
    assert handle.canceled
    assert handle.seen == 2, "canceled at the first poll after the abort"
