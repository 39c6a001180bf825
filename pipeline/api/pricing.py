"""The price table: credits a render will cost, from its duration, formats, options and voice."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

from pydantic import BaseModel, ConfigDict, Field

from pipeline.formats import Format

__all__ = [
    "CREDITS_PER_FORMAT_BLOCK",
    "CREDITS_PER_VOICE_BLOCK",
    "SECONDS_PER_BLOCK",
    "Estimate",
    "LineItem",
    "estimate_cost",
]

# Video is priced in started blocks of 15 s: 2 credits per block per output format.
SECONDS_PER_BLOCK: Final = 15
CREDITS_PER_FORMAT_BLOCK: Final = 2
# A voiceover is recorded once and shared by every format: 1 credit per block.
CREDITS_PER_VOICE_BLOCK: Final = 1


class LineItem(BaseModel):
    """One priced part of a render."""

    model_config = ConfigDict(frozen=True)

    item: str = Field(description="what is charged, e.g. 'video 9x16'")
    quantity: int = Field(ge=0, description="started 15-second blocks")
    unit_credits: int = Field(ge=0)
    credits: int = Field(ge=0)


class Estimate(BaseModel):
    """The credits a render will cost."""

    model_config = ConfigDict(frozen=True)

    credits: int = Field(ge=0, description="total credits the render will hold")
    items: tuple[LineItem, ...]


def estimate_cost(*, duration: float, formats: Sequence[Format], voice: bool) -> Estimate:
    """Credits for rendering ``duration`` seconds in each of ``formats``, with or without voice."""
    blocks = max(1, math.ceil(duration / SECONDS_PER_BLOCK))
    items = [
        LineItem(
            item=f"video {fmt.value}",
            quantity=blocks,
            unit_credits=CREDITS_PER_FORMAT_BLOCK,
            credits=blocks * CREDITS_PER_FORMAT_BLOCK,
        )
        for fmt in dict.fromkeys(formats)
    ]
    if voice:
        items.append(
            LineItem(
                item="voiceover",
                quantity=blocks,
                unit_credits=CREDITS_PER_VOICE_BLOCK,
                credits=blocks * CREDITS_PER_VOICE_BLOCK,
            )
        )
    return Estimate(credits=sum(i.credits for i in items), items=tuple(items))
