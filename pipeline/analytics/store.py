"""Importing reports into ``ad_performance``: rows joined to the user's creatives, merged and
checked against what is stored, then written through the analytics repository
(``pipeline.store.analytics``, as the user so RLS applies; creatives are recorded with their
renders by ``Jobs.record_outputs``).

An import is one transaction: every row or none. A row is kept per (source, creative, ad, period,
placement): one creative run in several ads (campaigns, ad sets) has a row per ad, and the report
adds them up. Rows of one file with the same key are summed first. Re-importing a report replaces
its keys' numbers; the same report twice changes nothing the second time.

Nothing is counted twice: an import is refused (BadReport naming the file and line, nothing
imported) when a row overlaps days already stored for the same creative and ad from the same
source in a different period (a month, then a half month or its days) or with a placement split
that covers the other (all placements against one), and when the creative already has rows from
the platform's other source for overlapping days (a Meta CSV and the Meta API: one source per
platform). Daily rows, and different placements of the same ad and period, add up as they should.
Rows in another currency (another ad account) are never added to these, so they do not conflict;
the very same key in a second currency is refused rather than overwritten. One user's imports
run one at a time, so two at once cannot both miss each other's rows.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from pipeline.analytics.importers.base import BadReport, Report, ReportRow
from pipeline.analytics.model import PerformanceRow, Source
from pipeline.store.analytics import AnalyticsRepository, PerformanceImportSession
from pipeline.store.models import StoredCreative

__all__ = [
    "ImportResult",
    "StoredCreative",
    "UnmatchedRow",
    "import_report",
    "import_rows",
    "list_performance",
]

_Key = tuple[str, str, date, date, str]  # creative, ad, period start and end, placement
_PLATFORM_SOURCES: dict[Source, tuple[Source, Source]] = {
    "meta_csv": ("meta_csv", "meta_api"),
    "meta_api": ("meta_csv", "meta_api"),
    "google_csv": ("google_csv", "google_api"),
    "google_api": ("google_csv", "google_api"),
}
_SOURCE_NAMES: dict[Source, str] = {
    "meta_csv": "Meta CSV",
    "meta_api": "Meta API",
    "google_csv": "Google Ads CSV",
    "google_api": "Google Ads API",
}


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
    imported: int = Field(description="new (creative, ad, period, placement) rows")
    updated: int = Field(description="rows already imported whose numbers changed")
    unchanged: int = Field(description="rows already imported with the same numbers")
    unmatched: tuple[UnmatchedRow, ...] = Field(description="rows naming no known creative")


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


@dataclass(frozen=True, slots=True)
class _Stored:
    """Where a stored row sits: enough to tell whether another row counts its days again."""

    source: Source
    ad_key: str
    start: date
    end: date
    placement: str
    currency: str

    @classmethod
    def of(cls, row: PerformanceRow) -> _Stored:
        return cls(
            row.source, row.ad_key, row.period_start, row.period_end, row.placement, row.currency
        )

    @property
    def key(self) -> tuple[str, str, date, date, str]:
        """The table's key, but for the user and the creative."""
        return (self.source, self.ad_key, self.start, self.end, self.placement)


class _Periods:
    """The stored rows of an import's creatives, by creative and day, with the rows the import
    has accepted so far (so a file cannot overlap itself either)."""

    def __init__(self) -> None:
        self._days: dict[tuple[str, date], list[_Stored]] = defaultdict(list)

    def add(self, creative_id: str, row: _Stored) -> None:
        day = row.start
        while day <= row.end:
            self._days[(creative_id, day)].append(row)
            day += timedelta(days=1)

    def overlapping(self, creative_id: str, start: date, end: date) -> list[_Stored]:
        found: dict[_Stored, None] = {}
        day = start
        while day <= end:
            found.update(dict.fromkeys(self._days.get((creative_id, day), ())))
            day += timedelta(days=1)
        return list(found)


def _span(start: date, end: date) -> str:
    return f"{start.isoformat()}..{end.isoformat()}"


def _placement(placement: str) -> str:
    return f"placement {placement!r}" if placement else "all placements"


def _nested(a: str, b: str) -> bool:
    """Whether two different placements count the same impressions: "" (all placements) covers
    every one, "instagram" covers "instagram:instagram reels"."""
    parts_a, parts_b = a.split(":") if a else [], b.split(":") if b else []
    n = min(len(parts_a), len(parts_b))
    return parts_a[:n] == parts_b[:n]


def _double_count(row: PerformanceRow, stored: Sequence[_Stored]) -> str | None:
    """Why ``row`` would count days already stored (``stored``: the rows of its creative from
    its platform that overlap its period), or None when it adds up with them."""
    cid = row.creative_id
    here = _span(row.period_start, row.period_end)
    ad = f" in ad {row.ad_key!r}" if row.ad_key else ""
    key = _Stored.of(row).key
    for s in stored:
        if s.key == key and s.currency != row.currency:
            return (
                f"creative {cid}{ad} already has a row for {here} in {s.currency}, and this one "
                f"is in {row.currency}: ads of two ad accounts need telling apart (export the "
                '"Campaign name" and "Ad set name" columns too)'
            )
    # Rows in another currency (another ad account) are never added to these: a report is in
    # one currency.
    stored = [s for s in stored if s.currency == row.currency]
    other = [s for s in stored if s.source != row.source]
    if other:
        return (
            f"import one source per platform: creative {cid} already has "
            f"{_SOURCE_NAMES[other[0].source]} rows for "
            f"{_span(min(s.start for s in other), max(s.end for s in other))}"
        )
    for s in stored:
        if s.ad_key != row.ad_key:
            continue  # another ad of the same creative: its numbers add up
        if (s.start, s.end) != (row.period_start, row.period_end):
            return (
                f"creative {cid}{ad} already has a row for {_span(s.start, s.end)}, which "
                f"overlaps this row's {here}; import the same ranges again (or only days not "
                "imported yet), never a range and part of it, or its days count twice"
            )
        if s.placement != row.placement and _nested(s.placement, row.placement):
            return (
                f"creative {cid}{ad} already has a row for {here} with "
                f"{_placement(s.placement)}, which counts this row's {_placement(row.placement)} "
                "too; import a period split by placement or not, never both"
            )
    return None


def _stored_periods(
    session: PerformanceImportSession, source: Source, groups: Iterable[PerformanceRow]
) -> _Periods:
    """What is stored for the rows' creatives from the import's platform over their dates."""
    rows = list(groups)
    periods = _Periods()
    if not rows:
        return periods
    found = session.stored_periods(
        ids=sorted({r.creative_id for r in rows}),
        sources=list(_PLATFORM_SOURCES[source]),
        since=min(r.period_start for r in rows),
        until=max(r.period_end for r in rows),
    )
    for f in found:
        stored = _Stored(
            f["source"], f["ad_key"], f["period_start"], f["period_end"], f["placement"],
            f["currency"],
        )  # fmt: skip
        periods.add(f["creative_id"], stored)
    return periods


def _join(
    rows: Sequence[ReportRow], known: set[str], source: Source, file: str
) -> tuple[list[tuple[int, PerformanceRow]], list[UnmatchedRow]]:
    """The rows that name a known creative, merged per key (with the line of the first), and
    the rows that name none."""
    unmatched: list[UnmatchedRow] = []
    groups: dict[_Key, list[tuple[int, PerformanceRow]]] = {}
    for row in rows:
        cid = next((c for c in row.candidates() if c in known), None)
        if cid is None:
            unmatched.append(UnmatchedRow(line=row.line, ad_name=row.ad_name))
            continue
        joined = row.joined(source, cid)
        key = (cid, joined.ad_key, joined.period_start, joined.period_end, joined.placement)
        groups.setdefault(key, []).append((row.line, joined))
    return [(group[0][0], _merge(group, file)) for group in groups.values()], unmatched


def _write(
    session: PerformanceImportSession,
    merged_rows: Sequence[tuple[int, PerformanceRow]],
    source: Source,
    file: str,
    import_id: UUID,
) -> dict[str, int]:
    """Upserts the merged rows, refusing (BadReport) the first that would count days twice;
    how many were imported, updated and unchanged."""
    periods = _stored_periods(session, source, (m for _, m in merged_rows))
    counts = {"imported": 0, "updated": 0, "unchanged": 0}
    for line, merged in merged_rows:
        stored = periods.overlapping(merged.creative_id, merged.period_start, merged.period_end)
        problem = _double_count(merged, stored)
        if problem is not None:
            raise BadReport(file, problem, line=line)
        periods.add(merged.creative_id, _Stored.of(merged))
        outcome = session.upsert(merged.model_dump(), import_id=import_id)
        counts["imported" if outcome == "inserted" else outcome] += 1
    return counts


def import_rows(
    *,
    analytics: AnalyticsRepository,
    user_id: UUID,
    rows: Sequence[ReportRow],
    source: Source,
    source_file_hash: str,
    file_name: str = "",
) -> ImportResult:
    """Joins ``rows`` to the user's creatives and upserts them, all in one transaction as the user."""
    import_id = uuid.uuid4()
    wanted = sorted({cid for row in rows for cid in row.candidates()})
    file = file_name or "report"
    with analytics.importing(user_id=user_id) as session:
        merged_rows, unmatched = _join(rows, session.known_creatives(wanted), source, file)
        counts = _write(session, merged_rows, source, file, import_id)
        summary = {
            "source": source,
            "file_name": file_name[:300],
            "file_hash": source_file_hash,
            "rows_read": len(rows),
            **counts,
            "unmatched": len(unmatched),
            "unmatched_rows": [u.model_dump() for u in unmatched],
        }
        session.record(import_id=import_id, summary=summary)
    return ImportResult(
        import_id=import_id,
        source=source,
        rows=len(rows),
        imported=counts["imported"],
        updated=counts["updated"],
        unchanged=counts["unchanged"],
        unmatched=tuple(unmatched),
    )


def import_report(*, analytics: AnalyticsRepository, user_id: UUID, report: Report) -> ImportResult:
    """Imports everything a performance source read."""
    return import_rows(
        analytics=analytics,
        user_id=user_id,
        rows=report.rows,
        source=report.source,
        source_file_hash=report.digest,
        file_name=report.name,
    )


def list_performance(*, analytics: AnalyticsRepository, user_id: UUID) -> list[PerformanceRow]:
    """The user's imported performance rows."""
    return [PerformanceRow.model_validate(r) for r in analytics.performance(user_id=user_id)]
