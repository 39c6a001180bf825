"""Request and response bodies of the HTTP API, with the examples shown in OpenAPI."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from pipeline.brief import Brief
from pipeline.formats import Format
from pipeline.pricing import LineItem
from pipeline.script import Script
from pipeline.store import HoldStatus, JobState

__all__ = [
    "BRIEF_EXAMPLE",
    "Balance",
    "CostOut",
    "EstimateIn",
    "EstimateOut",
    "Health",
    "JobEventOut",
    "JobIn",
    "JobOut",
    "JobPage",
    "JobSummary",
    "LedgerItem",
    "LedgerPage",
    "OutputOut",
    "ProjectOut",
    "ProjectPatch",
]

BRIEF_EXAMPLE: Final[dict[str, Any]] = {
    "version": 1,
    "product": {
        "name": "Aurora Espresso Cup",
        "sku": "AUR-ESP-01",
        "description": "A double-walled porcelain espresso cup that keeps crema hot.",
        "features": ["Double-walled porcelain", "Keeps espresso hot", "Dishwasher safe"],
        "price": "24.90",
        "currency": "USD",
        "url": "https://example.com/cup",
        "photos": ["coffee.png"],
    },
    "brand": {"name": "Aurora Coffee", "tone": "warm, crafted", "locale": "en"},
    "template": "product_showcase",
    "duration": 15,
    "formats": ["9x16", "1x1"],
    "options": 3,
    "voice": {"enabled": True},
}


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class Health(_Out):
    """Liveness or readiness."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: Literal["ok"] = "ok"


class ProjectOut(_Out):
    """A project: the brief as submitted, its script options and the chosen one."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0b7e3f7e-8c1a-4f2e-9a59-3f1d2c4b5a60",
                    "name": "Aurora Espresso Cup",
                    "status": "scripted",
                    "brief": BRIEF_EXAMPLE,
                    "script_options": [],
                    "chosen_script": 1,
                    "created_at": "2026-11-21T10:00:00Z",
                    "updated_at": "2026-11-21T10:05:00Z",
                }
            ]
        }
    )

    id: UUID
    name: str
    status: str = Field(description="draft, scripted, rendering, delivered or archived")
    brief: dict[str, Any] = Field(description="the brief; photo paths relative to your uploads")
    script_options: list[Script]
    chosen_script: int | None = Field(description="the chosen option number (1-based), if any")
    created_at: datetime
    updated_at: datetime


class ProjectPatch(BaseModel):
    """Changes to a project: a JSON merge patch (RFC 7396) of the brief, and/or the chosen option.

    Changing the brief writes new script options and clears the choice, unless this request
    also sets ``chosen_script``. ``"chosen_script": null`` clears the choice.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"chosen_script": 2},
                {"brief": {"product": {"name": "Aurora Cup"}, "duration": 20}},
            ]
        },
    )

    brief: dict[str, Any] | None = Field(default=None, description="merge patch of the brief")
    chosen_script: int | None = Field(default=None, ge=1, description="an option number")


class Balance(_Out):
    """The caller's credit balance."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"credits": 120}]})

    credits: int = Field(ge=0)


class LedgerItem(_Out):
    """One entry of the append-only credit ledger."""

    id: int
    delta: int = Field(description="credits added (positive) or taken (negative)")
    balance_after: int
    reason: str
    hold_id: UUID | None
    created_at: datetime


class LedgerPage(_Out):
    """Ledger entries, newest first; pass ``next_cursor`` as ``cursor`` for the next page."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "id": 42,
                            "delta": 100,
                            "balance_after": 120,
                            "reason": "purchase",
                            "hold_id": None,
                            "created_at": "2026-11-21T10:00:00Z",
                        }
                    ],
                    "next_cursor": "NDI",
                }
            ]
        }
    )

    items: list[LedgerItem]
    next_cursor: str | None = Field(description="null on the last page")


class EstimateIn(BaseModel):
    """A brief to price, optionally for other formats than its own."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"brief": BRIEF_EXAMPLE, "formats": ["9x16"]}]},
    )

    brief: Brief
    formats: list[Format] | None = Field(
        default=None, min_length=1, description="formats to price instead of the brief's"
    )
    preview: StrictBool = Field(default=False, description="price a draft preview instead")


class EstimateOut(_Out):
    """What a render would cost, and whether the balance covers it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "credits": 3,
                    "items": [
                        {"item": "video 9x16", "quantity": 1, "unit_credits": 2, "credits": 2},
                        {"item": "voiceover", "quantity": 1, "unit_credits": 1, "credits": 1},
                    ],
                    "balance": 120,
                    "affordable": True,
                }
            ]
        }
    )

    credits: int
    items: list[LineItem]
    balance: int
    affordable: bool


_JOB_EXAMPLE: Final[dict[str, Any]] = {
    "id": "5d0c1f7a-2b1e-4a7c-9f0e-7b2d8c6a1e34",
    "project_id": "0b7e3f7e-8c1a-4f2e-9a59-3f1d2c4b5a60",
    "kind": "render",
    "state": "delivered",
    "progress": 1.0,
    "attempts": 1,
    "max_attempts": 3,
    "error": None,
    "stages": {"brief": 0.01, "script": 0.2, "voice": 1.4, "compose": 6.1},
    "outputs": [
        {
            "format": "9x16",
            "width": 1080,
            "height": 1920,
            "duration_s": 15.0,
            "loudness_lufs": -14.1,
            "url": "https://api.example.com/v1/files/u/j/ad_9x16.mp4?expires=1790000000&signature=ab12",
            "url_expires_at": "2026-11-21T11:05:00Z",
        }
    ],
    "cost": {"held": 160, "status": "settled", "charged": 150},
    "created_at": "2026-11-21T10:00:00Z",
    "updated_at": "2026-11-21T10:05:00Z",
    "finished_at": "2026-11-21T10:05:00Z",
}


class JobIn(BaseModel):
    """What to render of the project: formats (default: the brief's), script option, draft."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"formats": ["9x16", "1x1"], "option": 2}, {}]},
    )

    formats: list[Format] | None = Field(
        default=None, min_length=1, description="formats to render instead of the brief's"
    )
    option: int | None = Field(
        default=None, ge=1, description="script option (1-based); default: the project's choice"
    )
    preview: StrictBool = Field(default=False, description="a cheap low-resolution draft")

    @field_validator("formats")
    @classmethod
    def _distinct(cls, value: list[Format] | None) -> list[Format] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("lists a format twice")
        return value


class OutputOut(_Out):
    """One delivered video, with a download URL that expires."""

    format: str
    width: int
    height: int
    duration_s: float
    loudness_lufs: float | None
    url: str | None = Field(description="signed download URL; null if the file is gone")
    url_expires_at: datetime | None


class CostOut(_Out):
    """The job's credits: held when it starts, then settled at the actual cost or released."""

    held: int = Field(description="credits reserved for the job")
    status: HoldStatus
    charged: int | None = Field(description="credits taken, once settled")


class JobSummary(_Out):
    """A job in a list."""

    id: UUID
    project_id: UUID | None
    kind: str
    state: JobState
    progress: float = Field(ge=0, le=1)
    attempts: int
    error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class JobOut(JobSummary):
    """A job: its state and progress, seconds per stage, outputs and cost."""

    model_config = ConfigDict(json_schema_extra={"examples": [_JOB_EXAMPLE]})

    max_attempts: int
    stages: dict[str, float] = Field(description="seconds spent per finished stage")
    outputs: list[OutputOut]
    cost: CostOut | None = Field(description="null until the worker holds credits")


class JobPage(_Out):
    """Jobs, newest first; pass ``next_cursor`` as ``cursor`` for the next page."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {k: v for k, v in _JOB_EXAMPLE.items() if k in JobSummary.model_fields}
                    ],
                    "next_cursor": "WyIyMDI2LTExLTIxVDEwOjAwOjAwKzAwOjAwIiwgIjVkMGMiXQ",
                }
            ]
        }
    )

    items: list[JobSummary]
    next_cursor: str | None = Field(description="null on the last page")


class JobEventOut(_Out):
    """One job event, as the ``data:`` of a Server-Sent Event (its ``id:`` is ``id``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "kind": "state",
                    "state": "generating",
                    "progress": 0.36,
                    "message": None,
                    "created_at": "2026-11-21T10:01:00+00:00",
                }
            ]
        }
    )

    id: int
    kind: str = Field(description="state, progress, claimed, heartbeat, retry or log")
    state: JobState
    progress: float | None
    message: str | None
    created_at: datetime
