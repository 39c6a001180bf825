"""Reading a user's creatives and performance rows through the analytics repository, for reports
and recommendations (read as the user, so row-level security applies)."""

from __future__ import annotations

from uuid import UUID

from pipeline.analytics.model import PerformanceRow
from pipeline.creative import CreativeAttributes
from pipeline.store.analytics import AnalyticsRepository

__all__ = ["load_dataset"]


def load_dataset(
    analytics: AnalyticsRepository, user_id: UUID
) -> tuple[list[CreativeAttributes], list[PerformanceRow]]:
    """The user's creatives and all their imported rows, read in one transaction."""
    creatives, rows = analytics.dataset(user_id=user_id)
    return creatives, [PerformanceRow.model_validate(r) for r in rows]
