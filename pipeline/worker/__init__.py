"""Render workers: run claimed jobs with credits and checkpoints; local processes or Modal."""

from __future__ import annotations

from pipeline.worker.control import JobAborted, JobControl
from pipeline.worker.executor import Executor, LocalExecutor, ModalExecutor
from pipeline.worker.job import JobContext, fetch_uploads, hold_key, job_request, run_job
from pipeline.worker.loop import Worker, worker_name

__all__ = [
    "Executor",
    "JobAborted",
    "JobContext",
    "JobControl",
    "LocalExecutor",
    "ModalExecutor",
    "Worker",
    "fetch_uploads",
    "hold_key",
    "job_request",
    "run_job",
    "worker_name",
]
