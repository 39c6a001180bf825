"""Reading a user's creatives and performance rows from the store, for reports and
recommendations (read as the user, so row-level security applies)."""

from __future__ import annotations

from uuid import UUID

from pipeline.analytics.model import CreativeAttributes, PerformanceRow
from pipeline.store.database import Store

__all__ = ["load_dataset"]


def load_dataset(
    store: Store, user_id: UUID
) -> tuple[list[CreativeAttributes], list[PerformanceRow]]:
    """The user's creatives and all their imported rows, in one transaction."""
    params = {"user_id": user_id}
    with store.as_user(user_id) as conn:
        creatives = store.fetch(conn, "analytics_report_creatives", params, CreativeAttributes)
        rows = store.fetch(conn, "analytics_report_rows", params, PerformanceRow)
    return creatives, rows
