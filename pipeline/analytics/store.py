"""The analytics tables: creatives recorded with their renders, and reports imported into
``ad_performance`` (joined to creatives, idempotently, as the user so RLS applies).

An import is one transaction: every row or none. Rows that share a key (the same creative, period
and placement, e.g. one creative run in two ad sets) are summed first. Re-importing a report
replaces its keys' numbers; the same report twice changes nothing the second time. Sources keep
their own rows: a period pulled from the Meta API and also imported from a Meta CSV is stored
twice, once per source, and a report should read one source per platform.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field

from pipeline.analytics.importers.base import BadReport, Report, ReportRow
from pipeline.analytics.model import CreativeAttributes, PerformanceRow, Source
from pipeline.store.database import Store
from pipeline.store.queries import query

__all__ = [
    "ImportResult",
    "StoredCreative",
    "UnmatchedRow",
    "import_report",
    "import_rows",
    "list_creatives",
    "list_performance",
    "record_creatives",
]

_Key = tuple[str, date, date, str]


class StoredCreative(CreativeAttributes):
    """A recorded creative: its attributes, the job and project that made it, and when."""

    job_id: UUID | None = None
    project_id: UUID | None = None
    created_at: datetime


class UnmatchedRow(BaseModel):
    """A report row that names no creative of the user (reported, never dropped silently)."""

    model_config = ConfigDict(frozen=True)

    line: int
    ad_name: str


class ImportResult(BaseModel):
    """What one import did."""

    model_config = ConfigDict(frozen=True)

    import_id: UUID
    source: Source
    rows: int = Field(description="rows read, summary rows left out")
    imported: int = Field(description="new (creative, period, placement) rows")
    updated: int = Field(description="rows already imported whose numbers changed")
    unchanged: int = Field(description="rows already imported with the same numbers")
    unmatched: tuple[UnmatchedRow, ...] = Field(description="rows naming no known creative")


def record_creatives(
    conn: psycopg.Connection[Any],
    *,
    user_id: UUID,
    job_id: UUID | None,
    project_id: UUID | None,
    creatives: Iterable[CreativeAttributes],
) -> int:
    """Upserts the creatives inside the caller's transaction; returns how many were written."""
    count = 0
    for creative in creatives:
        conn.execute(
            query("analytics_upsert_creative"),
            {
                **creative.model_dump(),
                "user_id": user_id,
                "job_id": job_id,
                "project_id": project_id,
            },
        )
        count += 1
    return count


def _merge(group: list[tuple[int, PerformanceRow]], file: str) -> PerformanceRow:
    """Rows of one key summed (the ad name of the first kept)."""
    first = group[0][1]
    rows = [row for _, row in group]
    for line, row in group:
        if row.currency != first.currency:
            raise BadReport(
                file,
                f"{row.currency} where an earlier row of creative {first.creative_id} for the "
                f"same period says {first.currency}",
                line=line,
                column="currency",
            )
    if len(rows) == 1:
        return first

    def total(values: list[int | None]) -> int | None:
        known = [v for v in values if v is not None]
        return sum(known) if known else None

    return first.model_copy(
        update={
            "impressions": sum(r.impressions for r in rows),
            "clicks": sum(r.clicks for r in rows),
            "spend": sum((r.spend for r in rows), Decimal(0)),
            "purchases": sum(r.purchases for r in rows),
            "revenue": sum((r.revenue for r in rows), Decimal(0)),
            "video_3s_plays": total([r.video_3s_plays for r in rows]),
            "thruplays": total([r.thruplays for r in rows]),
        }
    )


def import_rows(
    *,
    store: Store,
    user_id: UUID,
    rows: Sequence[ReportRow],
    source: Source,
    source_file_hash: str,
    file_name: str = "",
) -> ImportResult:
    """Joins ``rows`` to the user's creatives and upserts them, all in one transaction as the user."""
    import_id = uuid.uuid4()
    wanted = sorted({cid for row in rows for cid in row.candidates()})
    with store.as_user(user_id) as conn:
        known = {r[0] for r in conn.execute(query("analytics_known_creatives"), {"ids": wanted})}
        unmatched: list[UnmatchedRow] = []
        groups: dict[_Key, list[tuple[int, PerformanceRow]]] = {}
        for row in rows:
            cid = next((c for c in row.candidates() if c in known), None)
            if cid is None:
                unmatched.append(UnmatchedRow(line=row.line, ad_name=row.ad_name))
                continue
            joined = row.joined(source, cid)
            key = (cid, joined.period_start, joined.period_end, joined.placement)
            groups.setdefault(key, []).append((row.line, joined))
        imported = updated = unchanged = 0
        for group in groups.values():
            merged = _merge(group, file_name or "report")
            result = conn.execute(
                query("analytics_upsert_performance"),
                {**merged.model_dump(), "user_id": user_id, "import_id": import_id},
            ).fetchone()
            if result is None:
                unchanged += 1
            elif result[0]:
                imported += 1
            else:
                updated += 1
        conn.execute(
            query("analytics_insert_import"),
            {
                "id": import_id,
                "user_id": user_id,
                "source": source,
                "file_name": file_name[:300],
                "file_hash": source_file_hash,
                "rows_read": len(rows),
                "imported": imported,
                "updated": updated,
                "unchanged": unchanged,
                "unmatched": len(unmatched),
                "unmatched_rows": Jsonb([u.model_dump() for u in unmatched]),
            },
        )
    return ImportResult(
        import_id=import_id,
        source=source,
        rows=len(rows),
        imported=imported,
        updated=updated,
        unchanged=unchanged,
        unmatched=tuple(unmatched),
    )


def import_report(*, store: Store, user_id: UUID, report: Report) -> ImportResult:
    """Imports everything a performance source read."""
    return import_rows(
        store=store,
        user_id=user_id,
        rows=report.rows,
        source=report.source,
        source_file_hash=report.digest,
        file_name=report.name,
    )


def list_creatives(*, store: Store, user_id: UUID) -> list[StoredCreative]:
    """The user's creatives, newest first."""
    with store.as_user(user_id) as conn:
        return store.fetch(conn, "analytics_list_creatives", {}, StoredCreative)


def list_performance(*, store: Store, user_id: UUID) -> list[PerformanceRow]:
    """The user's imported performance rows."""
    with store.as_user(user_id) as conn:
        return store.fetch(conn, "analytics_performance", {}, PerformanceRow)
