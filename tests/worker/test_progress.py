"""A job's progress, as stage changes and heartbeats report it, never seems to go backwards."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from uuid import uuid4

from pipeline.stages import STAGES
from pipeline.store import JobState
from pipeline.worker.control import JobControl
from pipeline.worker.lease import StageReporter


class _Jobs:
    def __init__(self) -> None:
        self.sent: list[float] = []

    def advance(self, **kwargs: Any) -> None:
        self.sent.append(kwargs["progress"])


def test_stage_changes_send_progress_as_heartbeats_round_it() -> None:
    jobs = _Jobs()
    job = SimpleNamespace(id=uuid4(), state=JobState.PLANNING)
    reporter = StageReporter(jobs, job, "w", JobControl())  # type: ignore[arg-type]
    seen: list[float] = []
    for stage in STAGES:
        reporter.started(stage)
        seen.append(reporter.progress)
        reporter.advanced(stage, 1 / 3)
        seen.append(reporter.progress)
    # The heartbeat sends round(progress, 3): the same values, so no event steps back.
    assert jobs.sent and all(p == round(p, 3) for p in jobs.sent + seen)
    assert seen == sorted(seen)
    assert round(8 / 11, 3) != 8 / 11 and round(8 / 11, 3) in jobs.sent  # compose's start
