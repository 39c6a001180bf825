"""What the analytics loop knows: each creative's attributes and how its ads performed.

Shared by the import side (creative identity, CSV and API importers, the database) and the
report side (statistics, recommendation, charts). Frozen, so a row read is a row kept.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pipeline.errors import BadInput

__all__ = [
    "ATTRIBUTES",
    "Attribute",
    "PerformanceRow",
    "Source",
    "currency_code",
]

Attribute = Literal["template", "duration_bucket", "palette_colour", "voice", "format", "hook"]
ATTRIBUTES: tuple[Attribute, ...] = (
    "template",
    "duration_bucket",
    "palette_colour",
    "voice",
    "format",
    "hook",
)
Source = Literal["meta_csv", "google_csv", "meta_api", "google_api"]


def currency_code(value: str | None, *, where: str = "--currency") -> str | None:
    """A currency as a person types it ("usd") as the rows store it ("USD"); None stays None.
    BadInput naming ``where`` unless it is three letters."""
    if value is None:
        return None
    code = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise BadInput(where, f"{value!r} is not a currency code (three letters, e.g. USD)")
    return code


class PerformanceRow(BaseModel):
    """One imported reporting row for one creative in one ad over one period (and placement, if
    split)."""

    model_config = ConfigDict(frozen=True)

    source: Source
    creative_id: str
    ad_name: str
    period_start: date
    period_end: date
    placement: str = ""  # "" when the report is not split by placement
    # Which ad ran the creative: one creative runs in many ads (campaigns, ad sets), and each
    # ad's rows are kept apart; a report adds them up per creative. "" when the source says not.
    ad_key: str = Field(default="", max_length=1000)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    impressions: int = Field(ge=0)
    clicks: int = Field(ge=0)  # link clicks where the source has them, else clicks
    spend: Decimal = Field(ge=0)
    purchases: int = Field(default=0, ge=0)
    revenue: Decimal = Field(default=Decimal(0), ge=0)  # purchase conversion value
    video_3s_plays: int | None = Field(default=None, ge=0)  # hook rate numerator
    thruplays: int | None = Field(default=None, ge=0)
