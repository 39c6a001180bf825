"""Where a job's render runs: in the worker's own process, or somewhere the worker hands it to
(Modal: a container without secrets). The worker keeps the lease, the credits and the record."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pipeline.claims import GenerationClaims
from pipeline.render import RenderRequest, RenderResult, render
from pipeline.settings import Settings
from pipeline.stages import Reporter
from pipeline.store import Job
from pipeline.store.providers import ProviderEventRepository
from pipeline.usage import UsageLog
from pipeline.visuals import ClipFactory
from pipeline.wiring import PortsFactory, job_runtime, ports_factory
from pipeline.worker.control import JobControl

__all__ = ["LocalRenderer", "RenderCall", "Renderer"]


@dataclass(frozen=True)
class RenderCall:
    """One attempt's render: the request (its work folder and owner set), where the outputs go,
    and what the render reports to and is stopped by."""

    request: RenderRequest
    job: Job
    out_root: Path
    reporter: Reporter
    control: JobControl
    settings: Settings
    events: ProviderEventRepository  # provider callbacks recorded for this job
    claims: GenerationClaims | None = None  # where paid generations are claimed (None: locally)
    ports: PortsFactory | None = None  # None: the composition root's
    offline: ClipFactory | None = None  # how offline scenes are drawn


class Renderer(Protocol):
    def render(self, call: RenderCall) -> tuple[RenderResult, UsageLog | None]:
        """The finished render, and the meter of what it paid providers (None: the usage log
        in the job's work folder says)."""
        ...


class LocalRenderer:
    """Renders in this process, with the job's runtime (its cache, task journal and meter in
    the job's work folder, callbacks read from the database)."""

    def render(self, call: RenderCall) -> tuple[RenderResult, UsageLog | None]:
        work_dir = call.request.work_dir
        assert work_dir is not None
        runtime = job_runtime(
            call.settings, events=call.events, job_id=call.job.id, work_dir=work_dir,
            claims=call.claims, check=call.control.check, offline=call.offline,
        )  # fmt: skip
        ports = (call.ports or ports_factory(call.settings))(call.request, runtime)
        result = render(call.request, ports=ports, out_root=call.out_root, reporter=call.reporter)
        return result, ports.meter
