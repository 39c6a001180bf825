"""Render workers: run claimed jobs with credits and checkpoints; local processes or Modal."""

from __future__ import annotations

from pipeline.worker.executor import Executor, LocalExecutor, ModalExecutor
from pipeline.worker.job import (
    CREDITS_PER_SECOND,
    JobAborted,
    JobControl,
    JobSpec,
    actual_cost,
    estimate_cost,
    hold_key,
    parse_payload,
    run_job,
)
from pipeline.worker.loop import Worker, worker_name

__all__ = [
    "CREDITS_PER_SECOND",
    "Executor",
    "JobAborted",
    "JobControl",
    "JobSpec",
    "LocalExecutor",
    "ModalExecutor",
    "Worker",
    "actual_cost",
    "estimate_cost",
    "hold_key",
    "parse_payload",
    "run_job",
    "worker_name",
]
