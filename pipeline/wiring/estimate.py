"""The one estimate of a render: what the API shows, what job creation checks against the balance
and what the worker holds are this function's answer, so they are equal by construction."""

from __future__ import annotations

from pipeline.pricing import Estimate, LineItem, video_items
from pipeline.providers.choices import choices, provider_estimate
from pipeline.render import RenderRequest
from pipeline.settings import Settings
from pipeline.wiring.runtime import prices

__all__ = ["estimate"]


def estimate(
    request: RenderRequest, settings: Settings, *, writes_script: bool | None = None
) -> Estimate:
    """The credits ``request`` holds: each format's seconds at the render rate, plus what its
    providers are expected to cost. A request that carries its script pays no writer
    (``writes_script`` says so for a brief whose script the API will write when its project is
    created, before any job)."""
    brief, formats = request.brief, request.chosen_formats
    items = video_items(duration=brief.duration, formats=formats, preview=request.preview)
    paid = provider_estimate(
        brief, formats, settings.providers, prices(settings),
        writes_script=request.script is None if writes_script is None else writes_script,
    )  # fmt: skip
    if paid:
        used = ", ".join(
            f"{c.stage} {c.provider}"
            for c in choices(brief, settings.providers).values()
            if c.provider not in ("offline", "none") and c.stage != "transcriber"
        )
        items.append(
            LineItem(item=f"providers ({used})", quantity=1, unit_credits=paid, credits=paid)
        )
    return Estimate.of(items)
