"""Frozen result models for the store's rows: jobs, job events, credit holds and ledger entries."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

__all__ = ["CreditHold", "HoldStatus", "Job", "JobEvent", "JobState", "LedgerEntry", "Migration"]


class JobState(StrEnum):
    """A job's state, as the ``job_state`` enum in SQL."""

    QUEUED = "queued"
    PLANNING = "planning"
    GENERATING = "generating"
    COMPOSING = "composing"
    QC = "qc"
    AWAITING_REVIEW = "awaiting_review"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELED = "canceled"


class HoldStatus(StrEnum):
    """A credit hold's status."""

    HELD = "held"
    SETTLED = "settled"
    RELEASED = "released"


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Job(_Row):
    """A job row."""

    id: UUID
    user_id: UUID
    project_id: UUID | None
    kind: str
    payload: dict[str, Any]
    state: JobState
    progress: float
    attempts: int
    max_attempts: int
    run_after: datetime
    lease_owner: str | None
    lease_expires_at: datetime | None
    error: str | None
    checkpoints: dict[str, Any]
    dedupe_key: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class JobEvent(_Row):
    """One appended job event."""

    id: int
    job_id: UUID
    user_id: UUID
    kind: str
    state: JobState
    progress: float | None
    message: str | None
    created_at: datetime


class CreditHold(_Row):
    """Credits reserved for a job."""

    id: UUID
    user_id: UUID
    job_id: UUID | None
    amount: int
    status: HoldStatus
    settled_amount: int | None
    idempotency_key: str | None
    created_at: datetime
    resolved_at: datetime | None


class LedgerEntry(_Row):
    """One append-only credit ledger entry."""

    id: int
    user_id: UUID
    delta: int
    balance_after: int
    reason: str
    hold_id: UUID | None
    idempotency_key: str | None
    created_at: datetime


class Migration(_Row):
    """A migration file and, once applied, when."""

    version: str
    name: str
    applied_at: datetime | None = None
    modified: bool = False
