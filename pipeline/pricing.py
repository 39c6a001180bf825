"""The price table, one for everyone: what a render holds before it runs and what it is charged.

The API's estimate, the hold a worker takes and the charge it settles all come from here, so an
estimate a user sees is exactly the hold their job will take.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = [
    "BILLING_TOLERANCE_SECONDS",
    "CREDITS_PER_SECOND",
    "ESTIMATE_MARGIN_SECONDS",
    "charge_for",
    "hold_for",
    "rate",
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


def hold_for(*, duration: float, formats: int, preview: bool) -> int:
    """The hold: (duration + margin) started seconds x rate, per format."""
    return held_seconds(duration) * rate(preview=preview) * formats


def charge_for(durations: Iterable[float], *, preview: bool) -> int:
    """The charge: each output's started seconds (less the drift tolerance) x rate."""
    return sum(max(1, math.ceil(d - BILLING_TOLERANCE_SECONDS)) for d in durations) * rate(
        preview=preview
    )
