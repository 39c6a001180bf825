"""The price table, one for everyone: what a render holds before it runs and what it is charged.

The API's estimate, the hold a worker takes and the charge it settles all come from here, so an
estimate a user sees is exactly the hold their job will take.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from pydantic import BaseModel, ConfigDict, Field

from pipeline.formats import Format

__all__ = [
    "BILLING_TOLERANCE_SECONDS",
    "CREDITS_PER_SECOND",
    "ESTIMATE_MARGIN_SECONDS",
    "Estimate",
    "LineItem",
    "charge_for",
    "rate",
    "video_items",
]

# Credits per started output-second, per format. A preview (360p, 15 fps) is a draft.
CREDITS_PER_SECOND: dict[str, int] = {"final": 10, "preview": 2}
# The hold covers the brief's duration plus this margin per format (QC allows ±0.1 s of drift).
ESTIMATE_MARGIN_SECONDS = 1
# Container drift within QC's tolerance is not billed: 8.04 s of output is 8 billed seconds.
BILLING_TOLERANCE_SECONDS = 0.15


def rate(*, preview: bool) -> int:
    return CREDITS_PER_SECOND["preview" if preview else "final"]


def held_seconds(duration: float) -> int:
    """Seconds one format's hold covers."""
    return math.ceil(duration) + ESTIMATE_MARGIN_SECONDS


class LineItem(BaseModel):
    """One priced part of a render."""

    model_config = ConfigDict(frozen=True)

    item: str = Field(description="what is charged, e.g. 'video 9x16' or 'providers (clips kling)'")
    quantity: int = Field(ge=0, description="output seconds held (video); 1 for providers")
    unit_credits: int = Field(ge=0, description="credits per output second (video)")
    credits: int = Field(ge=0)


class Estimate(BaseModel):
    """The credits a render holds: its job is charged what it made, at most this."""

    model_config = ConfigDict(frozen=True)

    credits: int = Field(ge=0, description="total credits the render will hold")
    items: tuple[LineItem, ...]

    @classmethod
    def of(cls, items: Iterable[LineItem]) -> Estimate:
        listed = tuple(items)
        return cls(credits=sum(i.credits for i in listed), items=listed)


def video_items(*, duration: float, formats: Sequence[Format], preview: bool) -> list[LineItem]:
    """Per format: (duration + margin) started seconds x rate."""
    seconds, unit = held_seconds(duration), rate(preview=preview)
    return [
        LineItem(item=f"video {f.value}", quantity=seconds, unit_credits=unit, credits=seconds * unit)
        for f in dict.fromkeys(formats)
    ]


def charge_for(durations: Iterable[float], *, preview: bool) -> int:
    """The charge: each output's started seconds (less the drift tolerance) x rate."""
    return sum(max(1, math.ceil(d - BILLING_TOLERANCE_SECONDS)) for d in durations) * rate(
        preview=preview
    )
