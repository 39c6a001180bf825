"""Request and response bodies of the HTTP API, with the examples shown in OpenAPI."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from pipeline.api.pricing import LineItem
from pipeline.brief import Brief
from pipeline.formats import Format
from pipeline.script import Script

__all__ = [
    "BRIEF_EXAMPLE",
    "Balance",
    "EstimateIn",
    "EstimateOut",
    "Health",
    "LedgerItem",
    "LedgerPage",
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
    preview: bool = Field(default=False, description="price a draft preview instead")


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
