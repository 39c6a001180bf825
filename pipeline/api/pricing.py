"""Estimates in the API's shapes, priced by pipeline.pricing (the table the workers hold by)."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from pipeline.formats import Format
from pipeline.pricing import held_seconds, hold_for, rate

__all__ = ["Estimate", "LineItem", "estimate_cost"]


class LineItem(BaseModel):
    """One priced part of a render."""

    model_config = ConfigDict(frozen=True)

    item: str = Field(description="what is charged, e.g. 'video 9x16' or 'providers (clips kling)'")
    quantity: int = Field(ge=0, description="output seconds held (video); 1 for providers")
    unit_credits: int = Field(ge=0, description="credits per output second (video)")
    credits: int = Field(ge=0)


class Estimate(BaseModel):
    """The credits a render will hold (it is charged the actual seconds made, at most this)."""

    model_config = ConfigDict(frozen=True)

    credits: int = Field(ge=0, description="total credits the render will hold")
    items: tuple[LineItem, ...]


def estimate_cost(*, duration: float, formats: Sequence[Format], preview: bool = False) -> Estimate:
    """The hold for rendering ``duration`` seconds in each of ``formats`` (the worker's own price)."""
    seconds = held_seconds(duration)
    unit = rate(preview=preview)
    items = tuple(
        LineItem(
            item=f"video {fmt.value}", quantity=seconds, unit_credits=unit, credits=seconds * unit
        )
        for fmt in dict.fromkeys(formats)
    )
    total = sum(i.credits for i in items)
    assert total == hold_for(duration=duration, formats=len(items), preview=preview)
    return Estimate(credits=total, items=items)
